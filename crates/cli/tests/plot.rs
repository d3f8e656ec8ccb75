//! Figures: charts render text and data, image layouts put pixels where they belong.

use ndarray::Array2;
use sparsecode_cli::io;
use sparsecode_cli::plot::{self, Series};

/// Reads a PNG back as RGB and counts the pixels that are not white.
fn inked_pixels(path: &std::path::Path) -> (u32, u32, usize) {
    let img = image::open(path).unwrap().to_rgb8();
    let inked = img.pixels().filter(|p| p.0 != [255, 255, 255]).count();
    (img.width(), img.height(), inked)
}

#[test]
fn charts_are_drawn_with_ink() {
    let dir = tempfile::tempdir().unwrap();
    let objective: Vec<f64> = (0..50).map(|i| 100.0 * 0.8f64.powi(i) + 1.0).collect();
    let other: Vec<f64> = objective.iter().map(|v| v * 2.0).collect();
    let lines = dir.path().join("lines.png");
    plot::line_plot(
        &lines,
        "Objective",
        "iteration",
        "value",
        &[Series::new("a", &objective), Series::new("b", &other)],
        true,
    )
    .unwrap();
    let (w, h, inked) = inked_pixels(&lines);
    assert_eq!((w, h), (900, 600));
    assert!(inked > 2000, "axes, labels and two lines: {inked} pixels");

    let linear = dir.path().join("linear.png");
    let x: Vec<f64> = (0..50).map(|i| i as f64 * 0.1).collect();
    plot::line_plot(&linear, "", "t", "y", &[Series::with_x("", &x, &objective)], false).unwrap();
    assert!(inked_pixels(&linear).2 > 1000);
    let mismatch = plot::line_plot(&linear, "", "t", "y", &[Series::with_x("", &x[..3], &objective)], false);
    assert!(format!("{:#}", mismatch.unwrap_err()).contains("3 x values but 50 y values"));
    let nothing = plot::line_plot(&linear, "", "t", "y", &[Series::new("", &[-1.0, 0.0])], true);
    assert!(format!("{:#}", nothing.unwrap_err()).contains("no finite positive values"));

    let hist = dir.path().join("hist.png");
    let values: Vec<f64> = (0..1000).map(|i| ((i * 37) % 101) as f64).collect();
    plot::histogram(&hist, "Histogram", "value", &values, 20).unwrap();
    assert!(inked_pixels(&hist).2 > 20_000, "twenty filled bars");
    assert!(plot::histogram(&hist, "", "", &values, 0).is_err());

    let bars = dir.path().join("bars.png");
    let labels = vec!["omp".to_string(), "lars".to_string(), "cd".to_string()];
    plot::bar_chart(&bars, "Time", "seconds", &labels, &[1.0, -0.5, 2.0]).unwrap();
    assert!(inked_pixels(&bars).2 > 20_000);
    assert!(plot::bar_chart(&bars, "", "", &labels, &[1.0]).is_err());
}

#[test]
fn atom_grid_normalises_each_atom_and_tiles_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("atoms.png");
    // Four 2x2 atoms; the second is the first scaled by 10 and shifted, so it
    // looks the same after per-atom normalisation; the fourth is constant.
    let atoms =
        faer::mat![[0.0, 1.0, 2.0, 3.0], [-5.0, 5.0, 15.0, 25.0], [3.0, 2.0, 1.0, 0.0], [4.0, 4.0, 4.0, 4.0f32],];
    plot::atom_grid(&path, atoms.as_ref(), 2, 2).unwrap();
    let img = io::read_image_gray(&path).unwrap();
    // 2 x 2 grid, each pixel zoomed 16 times, one-pixel separators.
    let (zoom, cell) = (16, 33);
    assert_eq!(img.dim(), (2 * cell + 1, 2 * cell + 1));
    let at =
        |atom: usize, y: usize, x: usize| img[((atom / 2) * cell + 1 + y * zoom, (atom % 2) * cell + 1 + x * zoom)];
    let levels = [0.0, 85.0 / 255.0, 170.0 / 255.0, 1.0];
    for (k, level) in levels.iter().enumerate() {
        assert_eq!(at(0, k / 2, k % 2), *level);
        assert_eq!(at(1, k / 2, k % 2), *level, "the same picture whatever the atom's scale");
        assert_eq!(at(2, k / 2, k % 2), levels[3 - k]);
        assert_eq!(at(3, k / 2, k % 2), 128.0 / 255.0, "a constant atom is mid-gray");
    }
    assert_eq!(img[(0, 0)], 1.0, "separators are white");
    let err = plot::atom_grid(&path, atoms.as_ref(), 3, 2).unwrap_err();
    assert!(format!("{err:#}").contains("not 3 x 2 = 6"));
}

#[test]
fn side_by_side_places_panels_left_to_right() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("panels.png");
    let dark = Array2::zeros((4, 3));
    let light = Array2::from_elem((6, 2), 0.2);
    plot::side_by_side(&path, &[dark.view(), light.view()]).unwrap();
    let img = io::read_image_gray(&path).unwrap();
    assert_eq!(img.dim(), (6, 3 + 8 + 2));
    assert_eq!(img[(3, 2)], 0.0);
    assert_eq!(img[(4, 0)], 1.0, "below a shorter panel is white");
    assert_eq!(img[(0, 5)], 1.0, "the gap is white");
    assert_eq!(img[(5, 12)], 51.0 / 255.0);
    assert!(plot::side_by_side(&path, &[]).is_err());
}
