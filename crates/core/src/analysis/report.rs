//! How well do `k` active components reconstruct the data? Error curves for
//! PCA (the top `k` principal components) and for OMP over a dictionary (`k`
//! non-zeros per signal), and a knee detector to pick the cardinality.
//!
//! Both curves report the relative error `||X - X_hat||_F / ||X||_F` against
//! the same `||X||_F` (of the data as given, not centred). PCA reconstructs
//! around the data mean, which it gets for free in addition to its `k`
//! components.

use super::pca::Pca;
use crate::encode::{encode, omp::Omp};
use crate::{validate, Dictionary, Error, Float, Result};
use faer::MatRef;

/// Relative reconstruction error as a function of the number of active
/// components.
#[derive(Debug, Clone, PartialEq)]
pub struct ErrorCurve {
    /// Number of active components (PCA components, or non-zeros per signal),
    /// increasing.
    pub n_active: Vec<usize>,
    /// `||X - X_hat||_F / ||X||_F` for each entry of `n_active`.
    pub relative_error: Vec<f64>,
}

impl ErrorCurve {
    /// The number of active components at the knee of the curve (see
    /// [`knee_index`]).
    pub fn knee(&self) -> Result<usize> {
        let x: Vec<f64> = self.n_active.iter().map(|&k| k as f64).collect();
        Ok(self.n_active[knee_index(&x, &self.relative_error)?])
    }
}

/// `||X||_F` as f64, failing for all-zero data (no relative error exists).
fn data_norm<T: Float>(x: MatRef<'_, T>) -> Result<f64> {
    let norm_sq: f64 = (0..x.ncols()).map(|j| x.col(j).iter().map(|v| v.as_f64() * v.as_f64()).sum::<f64>()).sum();
    if norm_sq == 0.0 {
        return Err(Error::Invalid("X is all zeros: a relative reconstruction error is undefined".into()));
    }
    Ok(norm_sq.sqrt())
}

/// Error curve of PCA on `x` (`n_samples x n_features`) itself for
/// `k = 1 ..= max_components` components. The residual is updated by one
/// rank-one term per component, so the whole curve costs about one
/// projection.
///
/// ```
/// use sparsecode::analysis::report::pca_error_curve;
/// let x = faer::mat![[1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 0.5], [1.0, 1.0, 1.0]];
/// let curve = pca_error_curve(x.as_ref(), 3).unwrap();
/// assert_eq!(curve.n_active, vec![1, 2, 3]);
/// assert!(curve.relative_error[2] < 1e-12); // all components: exact
/// ```
pub fn pca_error_curve<T: Float>(x: MatRef<'_, T>, max_components: usize) -> Result<ErrorCurve> {
    let pca = Pca::fit(x, Some(max_components))?;
    let norm = data_norm(x)?;
    let scores = pca.transform(x)?;
    let components = pca.components();
    let mut residual = faer::Mat::from_fn(x.nrows(), x.ncols(), |i, j| x[(i, j)] - pca.mean()[j]);
    let mut relative_error = Vec::with_capacity(max_components);
    for c in 0..max_components {
        let score = scores.col_as_slice(c);
        let mut res_sq = 0.0;
        for j in 0..x.ncols() {
            let cj = components[(c, j)];
            for (r, &s) in residual.col_as_slice_mut(j).iter_mut().zip(score) {
                *r -= s * cj;
                res_sq += r.as_f64() * r.as_f64();
            }
        }
        relative_error.push(res_sq.sqrt() / norm);
    }
    Ok(ErrorCurve { n_active: (1..=max_components).collect(), relative_error })
}

/// Error curve of OMP over `dict` for `k = 1 ..= max_nonzero` non-zeros per
/// signal (`Omp::with_n_nonzero(k)` through the batch encoder, whose
/// per-signal residual norms give the error directly). OMP may stop a signal
/// early once it is fitted exactly, so `k` is an upper bound on each code's
/// non-zeros.
///
/// ```
/// use sparsecode::analysis::report::omp_error_curve;
/// use sparsecode::Dictionary;
/// let d = Dictionary::new(faer::mat![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]).unwrap();
/// let x = faer::mat![[3.0, 0.0, 4.0]];
/// let curve = omp_error_curve(x.as_ref(), &d, 2).unwrap();
/// assert!((curve.relative_error[0] - 0.6).abs() < 1e-12); // keeps the 4
/// assert!(curve.relative_error[1] < 1e-12);
/// ```
pub fn omp_error_curve<T: Float>(x: MatRef<'_, T>, dict: &Dictionary<T>, max_nonzero: usize) -> Result<ErrorCurve> {
    validate::at_least_one("max_nonzero", max_nonzero)?;
    validate::non_empty("X", x)?;
    validate::finite("X", x)?;
    dict.check_signals("X", x.ncols())?;
    let norm = data_norm(x)?;
    let mut relative_error = Vec::with_capacity(max_nonzero);
    for k in 1..=max_nonzero {
        let coded = encode(&Omp::with_n_nonzero(k), dict, x)?;
        let res_sq: f64 = coded.reports.iter().map(|r| r.residual_norm * r.residual_norm).sum();
        relative_error.push(res_sq.sqrt() / norm);
    }
    Ok(ErrorCurve { n_active: (1..=max_nonzero).collect(), relative_error })
}

/// PCA and OMP error curves on the same data, and the OMP cardinality at the
/// knee of its curve.
#[derive(Debug, Clone, PartialEq)]
pub struct SparsityComparison {
    /// [`pca_error_curve`] for `1 ..= min(max_active, n_samples, n_features)`
    /// components (PCA has no more).
    pub pca: ErrorCurve,
    /// [`omp_error_curve`] for `1 ..= max_active` non-zeros.
    pub omp: ErrorCurve,
    /// [`ErrorCurve::knee`] of the OMP curve; `None` for fewer than three
    /// points (`max_active < 3`).
    pub omp_knee: Option<usize>,
}

/// Compares PCA with `k` components and OMP with `k` non-zeros over `dict`,
/// for `k = 1 ..= max_active`, on the rows of `x`.
pub fn compare_pca_and_omp<T: Float>(
    x: MatRef<'_, T>,
    dict: &Dictionary<T>,
    max_active: usize,
) -> Result<SparsityComparison> {
    let omp = omp_error_curve(x, dict, max_active)?;
    let pca = pca_error_curve(x, max_active.min(x.nrows()).min(x.ncols()))?;
    let omp_knee = if omp.n_active.len() >= 3 { Some(omp.knee()?) } else { None };
    Ok(SparsityComparison { pca, omp, omp_knee })
}

/// Index of the knee of the curve `(x[i], y[i])`: the point farthest from the
/// chord joining the first and the last point, after scaling both axes to
/// `[0, 1]` by their ranges (the "maximum distance to the chord" rule, also the
/// core of Satopaa et al. 2011, "Kneedle"). A straight or flat curve gives
/// index 0; ties go to the lower index. Needs at least three finite points.
///
/// ```
/// use sparsecode::analysis::report::knee_index;
/// let x = [1.0, 2.0, 3.0, 4.0, 5.0];
/// let y = [1.0, 0.3, 0.2, 0.15, 0.1];
/// assert_eq!(knee_index(&x, &y).unwrap(), 1);
/// ```
pub fn knee_index(x: &[f64], y: &[f64]) -> Result<usize> {
    if x.len() != y.len() {
        return Err(Error::Shape(format!("the curve has {} x values but {} y values", x.len(), y.len())));
    }
    if x.len() < 3 {
        return Err(Error::parameter("curve length", x.len(), "a knee needs at least 3 points"));
    }
    validate::finite_slice("x", x)?;
    validate::finite_slice("y", y)?;
    let scale = |v: &[f64]| {
        let (lo, hi) = v.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &a| (lo.min(a), hi.max(a)));
        let range = if hi > lo { hi - lo } else { 1.0 };
        v.iter().map(|&a| (a - lo) / range).collect::<Vec<f64>>()
    };
    let (xs, ys) = (scale(x), scale(y));
    let last = xs.len() - 1;
    let (dx, dy) = (xs[last] - xs[0], ys[last] - ys[0]);
    // Distance to the chord, up to the constant factor 1 / |chord|.
    let distance = |i: usize| (dy * (xs[i] - xs[0]) - dx * (ys[i] - ys[0])).abs();
    Ok((0..xs.len()).fold(0, |best, i| if distance(i) > distance(best) { i } else { best }))
}
