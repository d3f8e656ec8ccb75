//! The elastic-net penalty and the maths every Lasso solver shares.
//!
//! The problem, for one signal `x` and a dictionary `D` (atoms in rows), is
//!
//! `min_z 0.5 ||x - D^T z||^2 + lambda ||z||_1 + 0.5 l2 ||z||^2`, optionally with `z >= 0`.
//!
//! Following skglm (Bertrand et al., NeurIPS 2022), a solver is the composition
//! of a quadratic datafit, which only needs `D x`, the Gram matrix `G = D D^T`
//! and `||x||^2`, and this penalty, which contributes its value and its
//! proximal operator. The optimality certificates are shared as well: the
//! duality gap with a rescaled dual point (Fercoq, Gramfort & Salmon, ICML
//! 2015, sec. 2) and the violation of the KKT conditions.
//!
//! ```
//! use sparsecode::encode::lasso::{duality_gap, kkt_violation, ElasticNet};
//! use sparsecode::Dictionary;
//! // Orthonormal atoms: the Lasso solution is the soft-thresholded correlation.
//! let d = Dictionary::new(faer::mat![[1.0, 0.0], [0.0, 1.0]]).unwrap();
//! let (dx, norm_sq) = ([3.0, -0.5], 9.25);
//! let penalty = ElasticNet::lasso(1.0);
//! let z = [2.0, 0.0];
//! assert!(kkt_violation(&penalty, d.gram(), &dx, &z).unwrap() < 1e-15);
//! assert!(duality_gap(&penalty, d.gram(), &dx, norm_sq, &z).unwrap().abs() < 1e-12);
//! ```

use crate::{validate, Error, Float, Result};
use faer::MatRef;

/// The elastic-net penalty `lambda ||z||_1 + 0.5 l2 ||z||^2`, optionally with
/// the constraint `z >= 0`.
///
/// `lambda` follows SPAMS' `lambda1` (see the module [`crate::encode`] for the
/// mapping to scikit-learn's `alpha`), `l2` SPAMS' `lambda2`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ElasticNet {
    /// Weight of the l1 norm (`>= 0`).
    pub lambda: f64,
    /// Weight of the squared l2 norm, halved (`>= 0`).
    pub l2: f64,
    /// Whether codes are constrained to be non-negative.
    pub nonneg: bool,
}

impl ElasticNet {
    /// The plain Lasso penalty `lambda ||z||_1`.
    pub fn lasso(lambda: f64) -> Self {
        Self { lambda, l2: 0.0, nonneg: false }
    }

    /// Sets the weight of `0.5 ||z||^2`.
    pub fn with_l2(mut self, l2: f64) -> Self {
        self.l2 = l2;
        self
    }

    /// Sets the non-negativity constraint.
    pub fn nonneg(mut self, nonneg: bool) -> Self {
        self.nonneg = nonneg;
        self
    }

    /// Fails with [`Error::Parameter`] when `lambda` or `l2` is negative or not finite.
    pub fn validate(&self) -> Result<()> {
        validate::non_negative("lambda", self.lambda)?;
        validate::non_negative("l2", self.l2)
    }

    /// `lambda ||z||_1 + 0.5 l2 ||z||^2` (no check of the sign constraint).
    pub fn value<T: Float>(&self, code: &[T]) -> T {
        self.scalars::<T>().value(code)
    }

    /// The penalty's constants converted once to the working precision.
    pub(crate) fn scalars<T: Float>(&self) -> PenaltyScalars<T> {
        PenaltyScalars { lambda: T::of(self.lambda), l2: T::of(self.l2), nonneg: self.nonneg }
    }
}

/// [`ElasticNet`] in the working precision, as the inner loops use it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PenaltyScalars<T> {
    pub lambda: T,
    pub l2: T,
    pub nonneg: bool,
}

impl<T: Float> PenaltyScalars<T> {
    pub fn value(&self, code: &[T]) -> T {
        let (l1, sq) = code.iter().fold((T::zero(), T::zero()), |(a, b), &v| (a + v.abs(), b + v * v));
        self.lambda * l1 + T::of(0.5) * self.l2 * sq
    }

    /// The proximal operator of `step * penalty`:
    /// `argmin_z (z - v)^2 / (2 step) + lambda |z| + 0.5 l2 z^2 (+ z >= 0)`,
    /// which is `soft(v, step lambda) / (1 + step l2)`, clipped at 0 when non-negative.
    pub fn prox(&self, step: T) -> Prox<T> {
        Prox { threshold: step * self.lambda, scale: (T::one() + step * self.l2).recip(), nonneg: self.nonneg }
    }
}

/// A proximal operator of the elastic net with its constants computed once:
/// `v -> scale * soft(v, threshold)` (clipped at 0 when non-negative). Also
/// the exact coordinate minimiser `soft(u, lambda) / (G_kk + l2)`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prox<T> {
    pub threshold: T,
    pub scale: T,
    pub nonneg: bool,
}

impl<T: Float> Prox<T> {
    #[inline(always)]
    pub fn apply(&self, v: T) -> T {
        let t = self.threshold;
        if v > t {
            (v - t) * self.scale
        } else if v < -t && !self.nonneg {
            (v + t) * self.scale
        } else {
            T::zero()
        }
    }
}

/// Column `k` of the (symmetric) Gram matrix as a slice.
#[inline(always)]
pub(crate) fn gram_col<T: Float>(gram: MatRef<'_, T>, k: usize) -> &[T] {
    gram.col(k).try_as_col_major().expect("the Gram matrix is stored column-major").as_slice()
}

/// `out = G z` from the non-zeros of `z`.
pub(crate) fn gram_times<T: Float>(gram: MatRef<'_, T>, code: &[T], out: &mut [T]) {
    out.fill(T::zero());
    for (k, &c) in code.iter().enumerate() {
        if c != T::zero() {
            for (o, &g) in out.iter_mut().zip(gram_col(gram, k)) {
                *o += c * g;
            }
        }
    }
}

/// The duality gap and the dual point it certifies, on a subset of atoms.
#[derive(Debug, Clone, Copy)]
pub(crate) struct GapCertificate {
    /// Primal objective minus dual objective (`>= 0` up to rounding).
    pub gap: f64,
    /// `1 / s`, the factor that made the residual dual-feasible: `theta = r / s`.
    pub inv_scale: f64,
}

/// The duality gap from `D x`, `G z` and `z`, over the atoms in `atoms`
/// (every other coordinate of `z` must be zero), or over all atoms when `atoms`
/// is `None`.
///
/// The elastic net is a Lasso with atoms `[d_k, sqrt(l2) e_k]` and signal `[x, 0]`,
/// whose dual is `max_theta 0.5||x||^2 - 0.5||x - theta||^2` subject to
/// `|<d_k, theta>| <= lambda` (`<= lambda` only, when `z >= 0`). The residual
/// `r`, with `<d_k, r> = (D x - G z - l2 z)_k`, scaled by
/// `s = max(1, max_k |<d_k, r>| / lambda)` is dual feasible (Fercoq et al. 2015,
/// eq. 6) and gives the gap `P(z) - D(r / s)`; only `<x, r> = ||x||^2 - <z, D x>`
/// and `||r||^2 = ||x||^2 - 2 <z, D x> + <z, G z> + l2 ||z||^2` are needed.
pub(crate) fn gap_certificate<T: Float>(
    penalty: &PenaltyScalars<T>,
    dx: &[T],
    gz: &[T],
    norm_sq: T,
    code: &[T],
    atoms: Option<&[usize]>,
) -> GapCertificate {
    let n = code.len();
    let (dx, gz) = (&dx[..n], &gz[..n]);
    // Largest correlation with the residual (one pass, in the working
    // precision: a maximum rounds nothing), then the terms that involve the
    // non-zeros of z (in f64).
    let mut max_corr = T::zero();
    let mut z_terms = ZTerms::default();
    let mut visit = |k: usize| {
        let z = code[k];
        let corr = dx[k] - gz[k] - penalty.l2 * z;
        let score = if penalty.nonneg { corr } else { corr.abs() };
        if score > max_corr {
            max_corr = score;
        }
        if z != T::zero() {
            z_terms.add(z.as_f64(), dx[k].as_f64(), gz[k].as_f64());
        }
    };
    match atoms {
        Some(list) => list.iter().for_each(|&k| visit(k)),
        None => (0..n).for_each(visit),
    }
    let ZTerms { z_dx, z_gz, l1, sq, negative } = z_terms;
    let lambda = penalty.lambda.as_f64();
    let l2 = penalty.l2.as_f64();
    let max_corr = if negative && penalty.nonneg { f64::INFINITY } else { max_corr.as_f64() };
    if max_corr == f64::INFINITY {
        // A negative entry under the z >= 0 constraint: the primal is +inf.
        return GapCertificate { gap: f64::INFINITY, inv_scale: 0.0 };
    }
    let norm_sq = norm_sq.as_f64();
    let x_r = norm_sq - z_dx;
    let r_sq = (norm_sq - 2.0 * z_dx + z_gz + l2 * sq).max(0.0);
    let primal = 0.5 * r_sq + lambda * l1;
    let inv_scale = if max_corr <= lambda {
        1.0
    } else if lambda > 0.0 {
        lambda / max_corr
    } else {
        0.0
    };
    let dual = x_r * inv_scale - 0.5 * r_sq * inv_scale * inv_scale;
    GapCertificate { gap: primal - dual, inv_scale }
}

/// The sums over the non-zeros of a code that the duality gap needs.
#[derive(Default)]
struct ZTerms {
    z_dx: f64,
    z_gz: f64,
    l1: f64,
    sq: f64,
    negative: bool,
}

impl ZTerms {
    #[inline(always)]
    fn add(&mut self, z: f64, dx: f64, gz: f64) {
        self.z_dx += z * dx;
        self.z_gz += z * gz;
        self.l1 += z.abs();
        self.sq += z * z;
        self.negative |= z < 0.0;
    }
}

/// Largest distance, over atoms, between minus the gradient of the smooth part
/// `g = G z - D x + l2 z` and the subdifferential of `lambda |z_k|` (with the
/// sign constraint): `|g_k + lambda sign(z_k)|` for `z_k != 0`,
/// `max(|g_k| - lambda, 0)` for `z_k = 0` (`max(-g_k - lambda, 0)` when
/// `z >= 0`), over the atoms in `atoms` (all when `None`). Zero exactly at
/// the solution; in units of correlations.
pub(crate) fn kkt_violation_from_gz<T: Float>(
    penalty: &PenaltyScalars<T>,
    dx: &[T],
    gz: &[T],
    code: &[T],
    atoms: Option<&[usize]>,
) -> f64 {
    let lambda = penalty.lambda.as_f64();
    let l2 = penalty.l2.as_f64();
    let violation = |k: usize| {
        let z = code[k].as_f64();
        let g = gz[k].as_f64() - dx[k].as_f64() + l2 * z;
        if z > 0.0 {
            (g + lambda).abs()
        } else if z < 0.0 {
            if penalty.nonneg {
                f64::INFINITY
            } else {
                (g - lambda).abs()
            }
        } else if penalty.nonneg {
            (-g - lambda).max(0.0)
        } else {
            (g.abs() - lambda).max(0.0)
        }
    };
    match atoms {
        Some(list) => list.iter().map(|&k| violation(k)).fold(0.0, f64::max),
        None => (0..code.len()).map(violation).fold(0.0, f64::max),
    }
}

/// Checks the lengths shared by [`duality_gap`] and [`kkt_violation`].
fn check_lengths<T: Float>(gram: MatRef<'_, T>, dx: &[T], code: &[T]) -> Result<()> {
    let n = gram.nrows();
    if gram.ncols() != n || dx.len() != n || code.len() != n {
        return Err(Error::Shape(format!(
            "the Gram matrix is {} x {}, D x has {} entries and the code {}; all must match the number of atoms",
            gram.nrows(),
            gram.ncols(),
            dx.len(),
            code.len()
        )));
    }
    Ok(())
}

/// The duality gap of `code` for the signal with correlations `dx = D x` and
/// squared norm `norm_sq = ||x||^2`, over a dictionary with Gram matrix `gram`:
/// `P(z) - D(theta)` with the residual rescaled into the dual feasible set
/// (Fercoq, Gramfort & Salmon 2015). Non-negative (up to rounding), zero
/// exactly at the solution, and an upper bound on `P(z) - min P`; `+inf` when
/// `penalty.nonneg` and `code` has a negative entry. With `lambda = 0` the dual
/// feasible set is `{theta : D theta = 0}` and the gap is the whole objective.
///
/// Fails with [`Error::Shape`] when the lengths do not match the Gram matrix.
pub fn duality_gap<T: Float>(
    penalty: &ElasticNet,
    gram: MatRef<'_, T>,
    dx: &[T],
    norm_sq: T,
    code: &[T],
) -> Result<f64> {
    check_lengths(gram, dx, code)?;
    let mut gz = vec![T::zero(); code.len()];
    gram_times(gram, code, &mut gz);
    Ok(gap_certificate(&penalty.scalars(), dx, &gz, norm_sq, code, None).gap)
}

/// The largest violation of the optimality (KKT) conditions by `code`, in
/// units of correlations: with `g = G z - D x + l2 z`, the distance of `-g_k`
/// from `lambda` times the subdifferential of `|z_k|` (one-sided when
/// `z >= 0`). Zero exactly at the solution; `+inf` for a negative entry
/// under the sign constraint.
///
/// Fails with [`Error::Shape`] when the lengths do not match the Gram matrix.
pub fn kkt_violation<T: Float>(penalty: &ElasticNet, gram: MatRef<'_, T>, dx: &[T], code: &[T]) -> Result<f64> {
    check_lengths(gram, dx, code)?;
    let mut gz = vec![T::zero(); code.len()];
    gram_times(gram, code, &mut gz);
    Ok(kkt_violation_from_gz(&penalty.scalars(), dx, &gz, code, None))
}

/// The stopping threshold on the duality gap shared by coordinate descent and
/// FISTA: `tol` relative to `0.5 ||x||^2` (the objective at `z = 0`), with
/// `tol` raised to `64 eps` of the working precision, below which the rounding
/// of the gap itself dominates.
pub(crate) fn gap_threshold<T: Float>(tol: f64, norm_sq: T) -> f64 {
    tol.max(64.0 * T::epsilon().as_f64()) * 0.5 * norm_sq.as_f64()
}

/// With `lambda = 0` the gap cannot certify anything short of a perfect fit;
/// the iterative solvers then stop when the KKT violation is at most
/// `tol * max_k |(D x)_k|` instead.
pub(crate) fn kkt_threshold<T: Float>(tol: f64, dx: &[T]) -> f64 {
    let scale = dx.iter().fold(0.0f64, |m, &v| m.max(v.as_f64().abs()));
    tol.max(64.0 * T::epsilon().as_f64()) * scale
}

/// Checks the parameters shared by the iterative solvers.
pub(crate) fn check_iterative(penalty: &ElasticNet, tol: f64, max_iter: usize) -> Result<()> {
    penalty.validate()?;
    validate::positive("tol", tol)?;
    validate::at_least_one("max_iter", max_iter)
}

/// The relative-gap tolerance the iterative solvers default to.
pub const DEFAULT_TOL: f64 = 1e-6;

/// The iteration budget the iterative solvers default to.
pub const DEFAULT_MAX_ITER: usize = 1000;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Dictionary;

    #[test]
    fn prox_is_the_scalar_minimiser() {
        let p = ElasticNet::lasso(0.7).with_l2(0.3).scalars::<f64>();
        let step = 0.5;
        for &v in &[-2.0, -0.2, 0.0, 0.3, 1.9] {
            let z = p.prox(step).apply(v);
            // Brute-force minimum on a fine grid.
            let f = |u: f64| (u - v).powi(2) / (2.0 * step) + 0.7 * u.abs() + 0.15 * u * u;
            let best = (-40_000..=40_000).map(|i| i as f64 * 1e-4).fold(f64::NAN, |b, u| {
                if f(u) < f(b) || b.is_nan() {
                    u
                } else {
                    b
                }
            });
            assert!((z - best).abs() < 2e-4, "prox({v}) = {z}, grid minimum at {best}");
        }
        let nn = ElasticNet::lasso(0.7).nonneg(true).scalars::<f64>();
        assert_eq!(nn.prox(1.0).apply(-3.0), 0.0);
        assert!((nn.prox(1.0).apply(3.0) - 2.3).abs() < 1e-15);
    }

    #[test]
    fn gap_and_kkt_on_an_orthonormal_dictionary() {
        // With orthonormal atoms the elastic net solution is soft(D x, lambda) / (1 + l2).
        let d = Dictionary::new(faer::mat![[0.6, 0.8, 0.0], [-0.8, 0.6, 0.0], [0.0, 0.0, 1.0]]).unwrap();
        let x = [1.0, -2.0, 0.25];
        let dx: Vec<f64> = (0..3).map(|k| (0..3).map(|f| d.atoms()[(k, f)] * x[f]).sum()).collect();
        let norm_sq: f64 = x.iter().map(|v| v * v).sum();
        let pen = ElasticNet::lasso(0.5).with_l2(0.2);
        let z: Vec<f64> = dx.iter().map(|&c| c.signum() * (c.abs() - 0.5).max(0.0) / 1.2).collect();
        assert!(kkt_violation(&pen, d.gram(), &dx, &z).unwrap() < 1e-14);
        assert!(duality_gap(&pen, d.gram(), &dx, norm_sq, &z).unwrap().abs() < 1e-13);
        // Away from the solution both are positive, and the gap bounds the suboptimality.
        let off: Vec<f64> = z.iter().map(|v| v + 0.1).collect();
        assert!(kkt_violation(&pen, d.gram(), &dx, &off).unwrap() > 0.05);
        let objective = |c: &[f64]| {
            let r: f64 = (0..3).map(|f| (x[f] - (0..3).map(|k| c[k] * d.atoms()[(k, f)]).sum::<f64>()).powi(2)).sum();
            0.5 * r + pen.value(c)
        };
        let gap = duality_gap(&pen, d.gram(), &dx, norm_sq, &off).unwrap();
        assert!(gap >= objective(&off) - objective(&z) - 1e-14, "gap {gap}");
        // A negative entry under the sign constraint is infeasible.
        let nn = pen.nonneg(true);
        assert_eq!(duality_gap(&nn, d.gram(), &dx, norm_sq, &[-1.0, 0.0, 0.0]).unwrap(), f64::INFINITY);
        assert!(duality_gap(&pen, d.gram(), &dx, norm_sq, &[0.0, 0.0]).is_err());
    }

    #[test]
    fn negative_or_non_finite_parameters_are_rejected() {
        let err = ElasticNet::lasso(-0.5).validate().unwrap_err();
        assert!(matches!(err, Error::Parameter { name: "lambda", ref value, .. } if value == "-0.5"), "{err}");
        assert!(matches!(
            ElasticNet::lasso(1.0).with_l2(f64::NAN).validate(),
            Err(Error::Parameter { name: "l2", .. })
        ));
        assert!(ElasticNet::lasso(0.0).validate().is_ok());
    }
}
