//! Image quality metrics.

use crate::{validate, Error, Float, Result};
use faer::MatRef;

/// Mean squared difference between two images of the same size.
pub fn mse<T: Float>(reference: MatRef<'_, T>, estimate: MatRef<'_, T>) -> Result<f64> {
    if (reference.nrows(), reference.ncols()) != (estimate.nrows(), estimate.ncols()) {
        return Err(Error::Shape(format!(
            "the reference image is {} x {} but the estimate is {} x {}",
            reference.nrows(),
            reference.ncols(),
            estimate.nrows(),
            estimate.ncols()
        )));
    }
    validate::non_empty("the reference image", reference)?;
    validate::finite("the reference image", reference)?;
    validate::finite("the estimate", estimate)?;
    let mut sum = 0.0;
    for j in 0..reference.ncols() {
        for i in 0..reference.nrows() {
            let d = reference[(i, j)].as_f64() - estimate[(i, j)].as_f64();
            sum += d * d;
        }
    }
    Ok(sum / (reference.nrows() * reference.ncols()) as f64)
}

/// Peak signal-to-noise ratio in decibels, `10 log10(peak^2 / MSE)`, where
/// `peak` is the intensity range (1 for images in `[0, 1]`, 255 for 8-bit).
/// Identical images give `f64::INFINITY`.
///
/// ```
/// use sparsecode::image::psnr;
/// let clean = faer::Mat::from_fn(4, 4, |i, j| (i + j) as f64 / 6.0);
/// let off = faer::Mat::from_fn(4, 4, |i, j| clean[(i, j)] + 0.1);
/// assert!((psnr(clean.as_ref(), off.as_ref(), 1.0).unwrap() - 20.0).abs() < 1e-9);
/// ```
pub fn psnr<T: Float>(reference: MatRef<'_, T>, estimate: MatRef<'_, T>, peak: f64) -> Result<f64> {
    validate::positive("peak", peak)?;
    let mse = mse(reference, estimate)?;
    Ok(10.0 * (peak * peak / mse).log10())
}

#[cfg(test)]
mod tests {
    use super::*;
    use faer::Mat;

    #[test]
    fn psnr_closed_form() {
        let a = Mat::<f32>::zeros(2, 2);
        let mut b = Mat::<f32>::zeros(2, 2);
        b[(0, 0)] = 2.0; // MSE = 4 / 4 = 1.
        assert!((psnr(a.as_ref(), b.as_ref(), 255.0).unwrap() - 20.0 * 255f64.log10()).abs() < 1e-9);
        assert_eq!(psnr(a.as_ref(), a.as_ref(), 1.0).unwrap(), f64::INFINITY);
    }

    #[test]
    fn psnr_rejects_bad_input() {
        let a = Mat::<f64>::zeros(2, 2);
        assert!(matches!(psnr(a.as_ref(), Mat::<f64>::zeros(2, 3).as_ref(), 1.0), Err(Error::Shape(_))));
        assert!(matches!(psnr(a.as_ref(), a.as_ref(), 0.0), Err(Error::Parameter { .. })));
        let mut b = a.clone();
        b[(1, 0)] = f64::INFINITY;
        assert!(matches!(psnr(a.as_ref(), b.as_ref(), 1.0), Err(Error::NonFinite { .. })));
        assert!(matches!(psnr(Mat::<f64>::zeros(0, 0).as_ref(), Mat::zeros(0, 0).as_ref(), 1.0), Err(Error::Empty(_))));
    }
}
