//! A generated gray test image with the structures that patch dictionaries
//! learn atoms for: smooth shading, straight and curved edges, oriented
//! stripes, a checkerboard, a random texture and a thin line.

use crate::{rng, Error, Float, Result};
use faer::Mat;
use rand::Rng;
use std::f64::consts::PI;

/// Smallest side [`synthetic_image`] accepts: below it the shapes are lost.
pub const MIN_SYNTHETIC_SIDE: usize = 16;

/// A `height x width` image with values in `[0, 1]`: a shaded background, a
/// square of stripes at 30 degrees, a textured quadrant (a sum of sinusoids
/// with orientations and periods drawn for `seed`) holding a dark triangle, a
/// shaded bright disk, a thin diagonal line beside it and a checkerboard. Stripe and
/// checker periods are in pixels (7 and 8), so 8x8 patches see whole periods
/// at every size.
///
/// ```
/// use sparsecode::image::synthetic_image;
/// let img = synthetic_image::<f64>(64, 96, 0).unwrap();
/// assert_eq!((img.nrows(), img.ncols()), (64, 96));
/// assert!(img.col_iter().all(|c| c.iter().all(|&v| (0.0..=1.0).contains(&v))));
/// ```
pub fn synthetic_image<T: Float>(height: usize, width: usize, seed: u64) -> Result<Mat<T>> {
    if height < MIN_SYNTHETIC_SIDE || width < MIN_SYNTHETIC_SIDE {
        return Err(Error::parameter(
            "image size",
            format!("{height} x {width}"),
            format!("both sides must be at least {MIN_SYNTHETIC_SIDE}"),
        ));
    }
    let mut rng = rng::seeded(seed);
    // (frequency along x, along y, phase): periods of 3 to 12 pixels.
    let waves: Vec<(f64, f64, f64)> = (0..6)
        .map(|_| {
            let angle = rng.random::<f64>() * PI;
            let period = 3.0 + 9.0 * rng.random::<f64>();
            let phase = 2.0 * PI * rng.random::<f64>();
            (angle.cos() * 2.0 * PI / period, angle.sin() * 2.0 * PI / period, phase)
        })
        .collect();
    let stripe_angle = PI / 6.0;
    let (h, w) = (height as f64, width as f64);
    Ok(Mat::from_fn(height, width, |i, j| {
        let (y, x) = (i as f64, j as f64);
        let (v, u) = (y / h, x / w);
        let mut value = 0.35 + 0.25 * u * v + 0.05 * (2.0 * PI * 1.5 * u).sin();
        if u < 0.5 && v >= 0.5 {
            let texture: f64 = waves.iter().map(|&(fx, fy, ph)| (fx * x + fy * y + ph).sin()).sum();
            value = 0.5 + 0.06 * texture;
        }
        if (0.05..0.45).contains(&u) && (0.05..0.45).contains(&v) {
            value = 0.5 + 0.35 * (2.0 * PI * (x * stripe_angle.cos() + y * stripe_angle.sin()) / 7.0).sin();
        }
        if inside_triangle((u, v), (0.1, 0.92), (0.45, 0.92), (0.275, 0.58)) {
            value = 0.1;
        }
        let r = ((u - 0.72).powi(2) + (v - 0.28).powi(2)).sqrt();
        if r < 0.18 {
            value = 0.9 - 0.6 * r;
        }
        if (0.56..0.95).contains(&u) && (0.6..0.95).contains(&v) {
            value = if ((i / 8) + (j / 8)) % 2 == 0 { 0.25 } else { 0.75 };
        }
        if ((u + v - 1.0).abs() * w.min(h)) < 1.0 && u > 0.5 && v < 0.5 && r >= 0.18 {
            value = 0.95;
        }
        T::of(value.clamp(0.0, 1.0))
    }))
}

/// Whether `p` lies inside the triangle `a b c` (same side of every edge).
fn inside_triangle(p: (f64, f64), a: (f64, f64), b: (f64, f64), c: (f64, f64)) -> bool {
    let side = |s: (f64, f64), t: (f64, f64)| (t.0 - s.0) * (p.1 - s.1) - (t.1 - s.1) * (p.0 - s.0);
    let (d1, d2, d3) = (side(a, b), side(b, c), side(c, a));
    (d1 >= 0.0 && d2 >= 0.0 && d3 >= 0.0) || (d1 <= 0.0 && d2 <= 0.0 && d3 <= 0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_structured_and_in_range() {
        let a = synthetic_image::<f64>(128, 128, 3).unwrap();
        let b = synthetic_image::<f64>(128, 128, 3).unwrap();
        let c = synthetic_image::<f64>(128, 128, 4).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, c);
        // The checkerboard and the triangle hold their exact values.
        assert_eq!(a[(100, 100)], 0.25);
        assert_eq!(a[(100, 104)], 0.75);
        assert_eq!(a[(110, 35)], 0.1);
        // Plenty of contrast: the standard deviation is far from zero.
        let n = (128 * 128) as f64;
        let mean: f64 = a.col_iter().flat_map(|c| c.iter().copied().collect::<Vec<_>>()).sum::<f64>() / n;
        let var: f64 =
            a.col_iter().flat_map(|c| c.iter().map(|&v| (v - mean).powi(2)).collect::<Vec<_>>()).sum::<f64>() / n;
        assert!(var.sqrt() > 0.15, "std {}", var.sqrt());
        assert!(synthetic_image::<f32>(8, 64, 0).is_err());
    }
}
