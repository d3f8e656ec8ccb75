//! Principal component analysis, the dense baseline against which sparse codes
//! are compared.
//!
//! Pearson (1901) / Hotelling (1933), computed as in scikit-learn's `PCA`: the
//! thin SVD `X_c = U S V^T` of the column-centred data gives the components
//! (rows of `V^T`) and the explained variances `S^2 / (n_samples - 1)`.

use crate::linalg::{gemm, par};
use crate::{validate, Error, Float, Result};
use faer::{Accum, Mat, MatRef};

/// A fitted PCA: mean, orthonormal components, explained variances.
///
/// ```
/// use sparsecode::analysis::pca::Pca;
/// // Points on the line y = 2x: one component explains everything.
/// let x = faer::mat![[0.0f64, 0.0], [1.0, 2.0], [2.0, 4.0], [3.0, 6.0]];
/// let pca = Pca::fit(x.as_ref(), Some(1)).unwrap();
/// assert!((pca.explained_variance_ratio()[0] - 1.0).abs() < 1e-12);
/// let back = pca.inverse_transform(pca.transform(x.as_ref()).unwrap().as_ref()).unwrap();
/// assert!((back[(3, 1)] - 6.0f64).abs() < 1e-12);
/// ```
#[derive(Debug, Clone)]
pub struct Pca<T: Float> {
    mean: Vec<T>,
    components: Mat<T>,
    singular_values: Vec<T>,
    explained_variance: Vec<T>,
    explained_variance_ratio: Vec<T>,
    n_samples: usize,
}

impl<T: Float> Pca<T> {
    /// Fits the first `n_components` principal components of `x`
    /// (`n_samples x n_features`); `None` keeps all
    /// `min(n_samples, n_features)`. Needs at least two samples.
    ///
    /// Each component's sign is fixed so that its entry of largest magnitude
    /// is positive, which makes the result deterministic.
    pub fn fit(x: MatRef<'_, T>, n_components: Option<usize>) -> Result<Self> {
        validate::non_empty("X", x)?;
        validate::finite("X", x)?;
        let (n, f) = (x.nrows(), x.ncols());
        if n < 2 {
            return Err(Error::parameter("n_samples", n, "PCA needs at least 2 samples (rows of X)"));
        }
        let rank_bound = n.min(f);
        let k = n_components.unwrap_or(rank_bound);
        if k == 0 || k > rank_bound {
            return Err(Error::parameter(
                "n_components",
                k,
                format!("must be in 1..={rank_bound} (min of n_samples {n} and n_features {f})"),
            ));
        }
        let mean: Vec<T> = (0..f).map(|j| T::of(x.col(j).iter().map(|v| v.as_f64()).sum::<f64>() / n as f64)).collect();
        let centred = Mat::from_fn(n, f, |i, j| x[(i, j)] - mean[j]);
        let svd = centred
            .thin_svd()
            .map_err(|_| Error::Invalid(format!("the SVD of the centred {n} x {f} data did not converge")))?;
        let s = svd.S().column_vector();
        let v = svd.V();
        let mut components = Mat::from_fn(k, f, |c, j| v[(j, c)]);
        for c in 0..k {
            let row = components.row(c);
            let pivot = (0..f).fold(0, |best, j| if row[j].abs() > row[best].abs() { j } else { best });
            if row[pivot] < T::zero() {
                components.row_mut(c).iter_mut().for_each(|e| *e = -*e);
            }
        }
        let singular_values: Vec<T> = (0..k).map(|c| s[c]).collect();
        let total: f64 = (0..s.nrows()).map(|c| s[c].as_f64() * s[c].as_f64()).sum();
        let explained_variance = singular_values.iter().map(|&sv| sv * sv / T::of((n - 1) as f64)).collect();
        // Undefined (NaN) for constant data, whose total variance is zero.
        let explained_variance_ratio = singular_values
            .iter()
            .map(|&sv| if total > 0.0 { T::of(sv.as_f64() * sv.as_f64() / total) } else { T::nan() })
            .collect();
        Ok(Self { mean, components, singular_values, explained_variance, explained_variance_ratio, n_samples: n })
    }

    /// The per-feature mean removed before projecting (`n_features`).
    pub fn mean(&self) -> &[T] {
        &self.mean
    }

    /// The principal axes, one per row (`n_components x n_features`),
    /// orthonormal, by decreasing explained variance.
    pub fn components(&self) -> MatRef<'_, T> {
        self.components.as_ref()
    }

    /// Number of components kept.
    pub fn n_components(&self) -> usize {
        self.components.nrows()
    }

    /// Number of samples the PCA was fitted on.
    pub fn n_samples(&self) -> usize {
        self.n_samples
    }

    /// Singular values of the centred data for the kept components.
    pub fn singular_values(&self) -> &[T] {
        &self.singular_values
    }

    /// Variance along each component: `singular_value^2 / (n_samples - 1)`.
    pub fn explained_variance(&self) -> &[T] {
        &self.explained_variance
    }

    /// Share of the total variance along each component (`NaN` when the
    /// data are constant).
    pub fn explained_variance_ratio(&self) -> &[T] {
        &self.explained_variance_ratio
    }

    /// Scores `(X - mean) C_k^T` (`n_samples x k`) on the first `k`
    /// components.
    pub fn transform_top(&self, x: MatRef<'_, T>, k: usize) -> Result<Mat<T>> {
        self.check_k(k)?;
        validate::non_empty("X", x)?;
        validate::finite("X", x)?;
        if x.ncols() != self.mean.len() {
            return Err(Error::Shape(format!(
                "X has {} features per row but the PCA was fitted on {}",
                x.ncols(),
                self.mean.len()
            )));
        }
        let centred = Mat::from_fn(x.nrows(), x.ncols(), |i, j| x[(i, j)] - self.mean[j]);
        let mut scores = Mat::zeros(x.nrows(), k);
        gemm(
            scores.as_mut(),
            Accum::Replace,
            centred.as_ref(),
            self.components.as_ref().subrows(0, k).transpose(),
            par(),
        );
        Ok(scores)
    }

    /// Scores on all kept components (`n_samples x n_components`).
    pub fn transform(&self, x: MatRef<'_, T>) -> Result<Mat<T>> {
        self.transform_top(x, self.n_components())
    }

    /// Data `Z C_k + mean` (`n_samples x n_features`) from scores `z` on the
    /// first `k = z.ncols()` components.
    pub fn inverse_transform(&self, z: MatRef<'_, T>) -> Result<Mat<T>> {
        self.check_k(z.ncols())?;
        validate::non_empty("scores", z)?;
        validate::finite("scores", z)?;
        let mut x = Mat::from_fn(z.nrows(), self.mean.len(), |_, j| self.mean[j]);
        gemm(x.as_mut(), Accum::Add, z, self.components.as_ref().subrows(0, z.ncols()), par());
        Ok(x)
    }

    /// The projection of `x` onto the first `k` components, back in the data
    /// space: `inverse_transform(transform_top(x, k))`.
    pub fn reconstruct(&self, x: MatRef<'_, T>, k: usize) -> Result<Mat<T>> {
        self.inverse_transform(self.transform_top(x, k)?.as_ref())
    }

    fn check_k(&self, k: usize) -> Result<()> {
        if k == 0 || k > self.n_components() {
            return Err(Error::parameter(
                "k",
                k,
                format!("the number of components used must be in 1..={}", self.n_components()),
            ));
        }
        Ok(())
    }
}
