//! Dictionary learning: find atoms `D` (`n_atoms x n_features`) and sparse
//! codes `Z` with `X ~ Z D`, for any sparse encoder of [`crate::encode`].
//!
//! - [`online`]: online / mini-batch learning (Mairal, Bach, Ponce & Sapiro,
//!   JMLR 2010): an [`online::OnlineLearner`] that streams mini-batches with
//!   `partial_fit`, keeps the sufficient statistics `A = Z^T Z`,
//!   `B = Z^T X`, and can be checkpointed ([`online::OnlineState`]).
//! - [`batch`]: alternating minimisation over all data: sparse coding of every
//!   sample, then one dictionary update, chosen by [`batch::DictionaryUpdate`]:
//!   block-coordinate descent on the atoms (scikit-learn's
//!   `DictionaryLearning`), MOD (Engan et al. 1999), K-SVD (Aharon et al. 2006)
//!   or approximate K-SVD (Rubinstein et al. 2008).
//! - [`init`]: the first dictionary, from data samples, an SVD or given atoms.
//! - [`synthetic`]: signals drawn from a planted dictionary, for tests and demos.
//!
//! Every learner is generic over the encoder `E: Encoder<T>`: pass
//! [`crate::encode::omp::Omp`] for l0 codes (K-SVD, MOD) or a Lasso solver (or
//! the `encode::method::Method` enum over all encoders). Codes are non-negative when the
//! encoder makes them so; the dictionary is kept non-negative with
//! `nonneg_dictionary`.
//!
//! Objective. All learners report the mean over samples of the encoder's
//! objective, `0.5 ||x - z D||^2 + penalty(z)` (the penalty is zero for l0
//! encoders). Atoms stay in the unit ball (`||d_j|| <= 1`, Mairal et al.) for
//! the block-coordinate updates and have unit norm for MOD and K-SVD.
//!
//! Long runs report to a callback `FnMut(&Progress) -> ControlFlow<()>` after
//! every iteration (batch) or mini-batch (online); returning
//! `ControlFlow::Break(())` stops the run, which then returns what it has.
//!
//! ```
//! use sparsecode::encode::omp::Omp;
//! use sparsecode::learn::{batch, synthetic};
//! let planted = synthetic::planted::<f64>(&synthetic::PlantedSpec {
//!     n_samples: 300, n_features: 12, n_atoms: 16, n_nonzero: 2, noise: 0.01, seed: 3,
//! }).unwrap();
//! let mut options = batch::BatchOptions::new(16, batch::DictionaryUpdate::Ksvd);
//! options.max_iter = 10;
//! let fitted = batch::fit(planted.x.as_ref(), &Omp::with_n_nonzero(2), &options, sparsecode::learn::silent).unwrap();
//! assert_eq!(fitted.dictionary.n_atoms(), 16);
//! assert!(fitted.objective.last().unwrap() < &fitted.objective[0]);
//! ```

pub mod atom_update;
pub mod batch;
pub mod init;
pub mod ksvd;
pub mod mod_update;
pub mod online;
pub mod synthetic;

pub use init::Init;

use crate::{validate, Dictionary, Error, Float, Result};
use faer::{Mat, MatRef};
use std::ops::ControlFlow;

/// What a learner reports after each iteration (batch) or mini-batch (online).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Progress {
    /// Iterations (batch) or mini-batch steps (online) done so far in this run, from 1.
    pub iteration: usize,
    /// The most iterations or steps this run will do.
    pub max_iter: usize,
    /// The objective after this iteration: batch learners give the mean
    /// objective over all samples; the online learner gives its smoothed
    /// (exponentially weighted) mini-batch objective.
    pub objective: f64,
    /// Relative change of the dictionary in this iteration, `||D_new - D_old||_F / ||D_old||_F`.
    pub dictionary_change: f64,
}

/// A progress callback that never stops the run.
///
/// ```
/// use sparsecode::learn::{silent, Progress};
/// let p = Progress { iteration: 1, max_iter: 5, objective: 1.0, dictionary_change: 0.1 };
/// assert!(silent(&p).is_continue());
/// ```
pub fn silent(_: &Progress) -> ControlFlow<()> {
    ControlFlow::Continue(())
}

/// The outcome of a learning run.
#[derive(Debug, Clone)]
pub struct Fitted<T: Float> {
    /// The learned atoms, one per row.
    pub dictionary: Dictionary<T>,
    /// The objective after every iteration (batch) or mini-batch step
    /// (online, smoothed), as in [`Progress::objective`].
    pub objective: Vec<f64>,
    /// Iterations (batch) or mini-batch steps (online) done.
    pub n_iter: usize,
    /// Whether the stopping tolerance was met (false when the iteration budget
    /// ran out or the callback stopped the run).
    pub converged: bool,
    /// Codes of the training samples (`n_samples x n_atoms`) consistent with
    /// the returned dictionary (batch learners); `None` for online learning.
    pub codes: Option<Mat<T>>,
}

/// Checks training data shared by every learner: at least one sample, finite
/// values, at least one atom requested, and not every row identical (such
/// data, e.g. all zeros, has nothing to learn from).
pub fn check_training_data<T: Float>(x: MatRef<'_, T>, n_atoms: usize) -> Result<()> {
    validate::at_least_one("n_atoms", n_atoms)?;
    validate::non_empty("training data X", x)?;
    validate::finite("X", x)?;
    let first = x.row(0);
    let all_identical = (1..x.nrows()).all(|i| x.row(i) == first);
    if all_identical {
        let what = if x.nrows() == 1 { "X has a single sample" } else { "all rows of X are identical" };
        let value = first[0].as_f64();
        let constant = (0..x.ncols()).all(|j| first[j].as_f64() == value);
        let detail = if constant { format!(" (every entry equals {value})") } else { String::new() };
        return Err(Error::Invalid(format!(
            "{what}{detail}: there is nothing to learn a dictionary from; remove constant data or add samples"
        )));
    }
    Ok(())
}

/// Relative Frobenius change `||new - old||_F / ||old||_F`.
pub(crate) fn relative_change<T: Float>(old: MatRef<'_, T>, new: MatRef<'_, T>) -> f64 {
    let mut diff = 0.0;
    let mut base = 0.0;
    for j in 0..old.ncols() {
        for i in 0..old.nrows() {
            let (o, n) = (old[(i, j)].as_f64(), new[(i, j)].as_f64());
            diff += (n - o) * (n - o);
            base += o * o;
        }
    }
    if base > 0.0 {
        (diff / base).sqrt()
    } else {
        diff.sqrt()
    }
}

/// Projects an atom onto the constraint set: the non-negative orthant when
/// `nonneg`, then the unit ball. Returns the norm after the orthant step.
pub(crate) fn project_atom<T: Float>(atom: &mut [T], nonneg: bool) -> T {
    if nonneg {
        for v in atom.iter_mut() {
            *v = v.max(T::zero());
        }
    }
    let norm = crate::linalg::dot(atom, atom).sqrt();
    if norm > T::one() {
        let inv = norm.recip();
        for v in atom.iter_mut() {
            *v *= inv;
        }
    }
    norm
}

/// Scales an atom to unit norm after the optional non-negative projection.
/// Returns `false` (atom untouched apart from the projection) when it is zero.
pub(crate) fn normalize_atom<T: Float>(atom: &mut [T], nonneg: bool) -> bool {
    if nonneg {
        for v in atom.iter_mut() {
            *v = v.max(T::zero());
        }
    }
    let norm = crate::linalg::dot(atom, atom).sqrt();
    if norm <= T::zero() {
        return false;
    }
    let inv = norm.recip();
    for v in atom.iter_mut() {
        *v *= inv;
    }
    true
}

/// Row `i` of `m` copied into `out`.
pub(crate) fn copy_row<T: Float>(m: MatRef<'_, T>, i: usize, out: &mut [T]) {
    for (j, o) in out.iter_mut().enumerate() {
        *o = m[(i, j)];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_data_zero_atoms_and_nan_are_refused() {
        let x = Mat::<f64>::from_fn(5, 3, |_, _| 2.0);
        let err = check_training_data(x.as_ref(), 2).unwrap_err();
        assert!(err.to_string().contains("every entry equals 2"), "{err}");
        let x = Mat::<f64>::from_fn(5, 3, |i, j| (i * 3 + j) as f64);
        assert!(matches!(check_training_data(x.as_ref(), 0), Err(Error::Parameter { name: "n_atoms", .. })));
        let mut y = x.clone();
        y[(2, 1)] = f64::NAN;
        assert!(matches!(check_training_data(y.as_ref(), 2), Err(Error::NonFinite { row: 2, col: 1, .. })));
        assert!(check_training_data(x.as_ref(), 2).is_ok());
    }

    #[test]
    fn projection_clips_then_shrinks_to_the_ball() {
        let mut a = [3.0f64, -4.0];
        assert_eq!(project_atom(&mut a, false), 5.0);
        assert!((a[0] - 0.6).abs() < 1e-15 && (a[1] + 0.8).abs() < 1e-15);
        let mut b = [0.3f64, -4.0];
        project_atom(&mut b, true);
        assert_eq!(b, [0.3, 0.0]);
    }
}
