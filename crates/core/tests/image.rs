//! Integration tests of the image module: patch round trips, denoising and
//! inpainting on real and generated images.

use faer::Mat;
use sparsecode::image::{synthetic_image, PatchGrid};

fn textured(h: usize, w: usize) -> Mat<f64> {
    Mat::from_fn(h, w, |i, j| ((i * 7 + j * 13) % 11) as f64 * 0.37 + (i as f64 * 0.3).sin())
}

#[test]
fn extract_then_reconstruct_is_exact_for_every_stride() {
    let image = textured(13, 17);
    for ph in [1, 3, 5] {
        for pw in [1, 4] {
            for sy in 1..=ph {
                for sx in 1..=pw {
                    let grid = PatchGrid::with_stride((13, 17), (ph, pw), (sy, sx)).unwrap();
                    assert!(grid.covers_every_pixel());
                    let patches = grid.extract(image.as_ref()).unwrap();
                    let back = grid.reconstruct(patches.as_ref()).unwrap();
                    let err = (&back - &image).norm_max();
                    assert!(err < 1e-12, "patch {ph}x{pw} stride {sy}x{sx}: error {err}");
                }
            }
        }
    }
}

#[test]
fn patch_the_size_of_the_image_is_one_patch() {
    // scikit-learn issue 10910.
    let image = textured(6, 9);
    for stride in [(1, 1), (2, 5), (6, 9), (10, 10)] {
        let grid = PatchGrid::with_stride((6, 9), (6, 9), stride).unwrap();
        assert_eq!(grid.n_patches(), 1);
        let patches = grid.extract(image.as_ref()).unwrap();
        assert_eq!((patches.nrows(), patches.ncols()), (1, 54));
        assert_eq!(patches[(0, 2 * 9 + 4)], image[(2, 4)]);
        let back = grid.reconstruct(patches.as_ref()).unwrap();
        assert!((&back - &image).norm_max() < 1e-12);
    }
}

#[test]
fn random_subset_equals_rows_of_full_extraction() {
    let image = synthetic_image::<f64>(40, 50, 1).unwrap();
    let grid = PatchGrid::with_stride((40, 50), (8, 8), (2, 3)).unwrap();
    let all = grid.extract(image.as_ref()).unwrap();
    let indices = grid.sample_indices(57, 11).unwrap();
    assert_eq!(indices, grid.sample_indices(57, 11).unwrap());
    assert_ne!(indices, grid.sample_indices(57, 12).unwrap());
    assert!(indices.windows(2).all(|w| w[0] < w[1]));
    let subset = grid.extract_subset(image.as_ref(), &indices).unwrap();
    assert_eq!(subset.nrows(), 57);
    for (r, &p) in indices.iter().enumerate() {
        for c in 0..64 {
            assert_eq!(subset[(r, c)], all[(p, c)]);
        }
    }
}

#[test]
fn patch_larger_than_image_is_an_error() {
    let err = PatchGrid::new((5, 40), (8, 8)).unwrap_err();
    assert!(err.to_string().contains("8 x 8") && err.to_string().contains("5 x 40"), "{err}");
}
