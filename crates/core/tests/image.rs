//! Integration tests of the image module: patch round trips, denoising and
//! inpainting on real and generated images.

use faer::Mat;
use rand::Rng;
use rand_distr::{Distribution, Normal};
use sparsecode::image::{
    denoise, inpaint, local_mean_fill, psnr, synthetic_image, DenoiseParams, InpaintParams, PatchGrid,
};

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

const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data");

/// The 256 x 256 camera crop in [0, 1], or `None` (with a note) when the
/// shared data folder is absent.
fn camera() -> Option<Mat<f64>> {
    let path = format!("{DATA}/images/crops/camera_256.npy");
    if !std::path::Path::new(&path).exists() {
        println!("skipping: {path} not found");
        return None;
    }
    let array: ndarray::Array2<f64> = ndarray_npy::read_npy(&path).expect("camera_256.npy is a 2-D float64 array");
    Some(Mat::from_fn(array.nrows(), array.ncols(), |i, j| array[[i, j]]))
}

#[test]
fn denoising_the_camera_image_gains_at_least_8_db_at_sigma_25() {
    let Some(clean) = camera() else { return };
    let sigma = 25.0 / 255.0;
    let mut rng = sparsecode::rng::seeded(2006);
    let normal = Normal::new(0.0, sigma).unwrap();
    let noisy = Mat::from_fn(256, 256, |i, j| clean[(i, j)] + normal.sample(&mut rng));
    // Fewer atoms and training patches than the defaults keep the test fast.
    let params = DenoiseParams { n_atoms: 64, n_train: 4000, ..DenoiseParams::new(sigma) };
    let out = denoise(noisy.as_ref(), &params, sparsecode::learn::silent).unwrap();
    let before = psnr(clean.as_ref(), noisy.as_ref(), 1.0).unwrap();
    let after = psnr(clean.as_ref(), out.image.as_ref(), 1.0).unwrap();
    println!("camera, sigma 25/255: {before:.2} dB -> {after:.2} dB");
    assert!((before - 20.17).abs() < 0.1, "noisy PSNR {before}");
    assert!(after >= before + 8.0, "{before:.2} dB -> {after:.2} dB");
}

#[test]
fn inpainting_half_the_camera_pixels_beats_the_local_mean() {
    let Some(camera) = camera() else { return };
    let clean = camera.as_ref().submatrix(64, 64, 128, 128).to_owned();
    let mut rng = sparsecode::rng::seeded(2008);
    let observed = Mat::from_fn(128, 128, |_, _| rng.random_bool(0.5));
    let mut damaged = clean.clone();
    for j in 0..128 {
        for i in 0..128 {
            if !observed[(i, j)] {
                damaged[(i, j)] = f64::NAN;
            }
        }
    }
    let params = InpaintParams { n_atoms: 64, n_train: 4000, ..InpaintParams::default() };
    let out = inpaint(damaged.as_ref(), observed.as_ref(), &params, sparsecode::learn::silent).unwrap();
    let naive = local_mean_fill(damaged.as_ref(), observed.as_ref()).unwrap();
    let p_naive = psnr(clean.as_ref(), naive.as_ref(), 1.0).unwrap();
    let p_out = psnr(clean.as_ref(), out.image.as_ref(), 1.0).unwrap();
    println!("camera centre, 50% missing: local mean {p_naive:.2} dB, inpainted {p_out:.2} dB");
    assert!(p_out >= p_naive + 1.5, "local mean {p_naive:.2} dB, inpainted {p_out:.2} dB");
    for j in 0..128 {
        for i in 0..128 {
            if observed[(i, j)] {
                assert_eq!(out.image[(i, j)], clean[(i, j)]);
            }
        }
    }
}
