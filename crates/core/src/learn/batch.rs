//! Batch dictionary learning by alternating minimisation: code every sample
//! with the current dictionary, then update the dictionary for those codes,
//! until the objective stops decreasing.
//!
//! The dictionary step is one of [`DictionaryUpdate`]: block-coordinate
//! descent on the atoms from the statistics `A = Z^T Z`, `B = Z^T X` (as
//! scikit-learn's `DictionaryLearning`, Mairal et al. 2010 Alg. 2), MOD
//! (Engan, Aase & Husoy 1999), K-SVD (Aharon, Elad & Bruckstein 2006) or
//! approximate K-SVD (Rubinstein, Zibulevsky & Elad 2008).
//!
//! Monotone by construction: after coding, each sample keeps whichever of its
//! new and previous codes has the lower objective under the current
//! dictionary (greedy encoders such as OMP are not exact minimisers, so a new
//! code can be worse), and every dictionary update is a descent step for
//! fixed codes. So the recorded objective never increases. Atoms that no code
//! uses are replaced by the worst-represented samples (largest residual),
//! which leaves the objective unchanged. The one exception is the optional
//! clearing of near-duplicate atoms ([`BatchOptions::clear_coherent_atoms`],
//! on by default), which trades a rise of the objective in the iterations
//! where it fires for escaping poor local minima.

use super::atom_update::update_atoms;
use super::init::{initial_dictionary, Init};
use super::{check_training_data, copy_row, ksvd, mod_update, normalize_atom, relative_change, Fitted, Progress};
use crate::encode::{encode_into, Encoder, Start};
use crate::linalg::{gemm, par};
use crate::{validate, Dictionary, Error, Float, Result};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef};
use std::ops::ControlFlow;

/// The dictionary step of batch learning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DictionaryUpdate {
    /// One block-coordinate pass over the atoms from `A = Z^T Z`,
    /// `B = Z^T X`, atoms in the unit ball ([`update_atoms`]). Works with any
    /// encoder and with non-negative dictionaries.
    BlockCoordinate,
    /// Method of optimal directions: `D = (Z^T Z)^-1 Z^T X`, then unit-norm
    /// atoms with the codes rescaled to match ([`mod_update::update_mod`]).
    /// Meant for l0 encoders (OMP): rescaling the codes changes a penalty, so
    /// with a Lasso encoder the objective may rise.
    Mod,
    /// K-SVD: each atom and its non-zero coefficients from the best rank-1
    /// approximation (SVD) of the residual restricted to the samples using it
    /// ([`ksvd::update_ksvd`]). Meant for l0 encoders (OMP): the updated
    /// coefficients ignore any penalty and sign constraint of the encoder.
    Ksvd,
    /// Approximate K-SVD: one power-iteration step instead of the SVD, the
    /// restricted residual never formed ([`ksvd::update_ksvd`]).
    ApproxKsvd,
}

/// Absolute cosine above which [`BatchOptions::clear_coherent_atoms`] replaces an atom.
const CLEARING_COHERENCE: f64 = 0.99;

/// Options of [`fit`].
#[derive(Debug, Clone, PartialEq)]
pub struct BatchOptions<T> {
    /// Atoms to learn (>= 1).
    pub n_atoms: usize,
    /// The dictionary step.
    pub update: DictionaryUpdate,
    /// The first dictionary.
    pub init: Init<T>,
    /// Iterations (coding + update) at most.
    pub max_iter: usize,
    /// Stop when an iteration lowers the objective by at most `tol` times its
    /// value.
    pub tol: f64,
    /// Keep the atoms non-negative (block-coordinate update only).
    pub nonneg_dictionary: bool,
    /// After each dictionary step, also replace every atom whose absolute
    /// cosine with another atom exceeds 0.99 by a worst-represented sample,
    /// dropping its codes (Rubinstein's K-SVD toolbox). This escapes the
    /// local minima where two atoms learn the same direction, but the
    /// objective may rise in the iterations where it fires; without it the
    /// objective never increases.
    pub clear_coherent_atoms: bool,
    /// Seed of the random initialisation.
    pub seed: u64,
}

impl<T> BatchOptions<T> {
    /// Defaults: samples as first atoms, at most 50 iterations, `tol` 1e-6,
    /// signed atoms, coherent atoms cleared, seed 0.
    pub fn new(n_atoms: usize, update: DictionaryUpdate) -> Self {
        Self {
            n_atoms,
            update,
            init: Init::Samples,
            max_iter: 50,
            tol: 1e-6,
            nonneg_dictionary: false,
            clear_coherent_atoms: true,
            seed: 0,
        }
    }
}

/// Learns a dictionary of `options.n_atoms` atoms from `x`
/// (`n_samples x n_features`) with `encoder`; see the module docs.
///
/// The returned objective holds, per iteration, the mean over samples of
/// `0.5 ||x - z D||^2 + penalty(z)` after the dictionary step; the returned
/// codes are those of the last iteration, consistent with the dictionary.
///
/// ```
/// use sparsecode::encode::omp::Omp;
/// use sparsecode::learn::batch::{fit, BatchOptions, DictionaryUpdate};
/// use sparsecode::learn::{silent, synthetic};
/// let p = synthetic::planted::<f64>(&synthetic::PlantedSpec {
///     n_samples: 200, n_features: 10, n_atoms: 12, n_nonzero: 2, noise: 0.01, seed: 2,
/// }).unwrap();
/// let mut options = BatchOptions::new(12, DictionaryUpdate::Mod);
/// options.max_iter = 5;
/// let fitted = fit(p.x.as_ref(), &Omp::with_n_nonzero(2), &options, silent).unwrap();
/// assert!(fitted.objective.windows(2).all(|w| w[1] <= w[0] * (1.0 + 1e-10)));
/// assert_eq!(fitted.codes.unwrap().nrows(), 200);
/// ```
pub fn fit<T: Float, E: Encoder<T>>(
    x: MatRef<'_, T>,
    encoder: &E,
    options: &BatchOptions<T>,
    mut progress: impl FnMut(&Progress) -> ControlFlow<()>,
) -> Result<Fitted<T>> {
    check_training_data(x, options.n_atoms)?;
    validate::at_least_one("max_iter", options.max_iter)?;
    validate::non_negative("tol", options.tol)?;
    if options.nonneg_dictionary && options.update != DictionaryUpdate::BlockCoordinate {
        return Err(Error::parameter(
            "nonneg_dictionary",
            true,
            format!("is supported by the BlockCoordinate update only, not by {:?}", options.update),
        ));
    }
    let mut atoms = initial_dictionary(x, options.n_atoms, &options.init, options.nonneg_dictionary, options.seed)?;
    let mut dictionary = Dictionary::new(atoms.clone())?;
    encoder.check(&dictionary)?;

    let (n, k) = (x.nrows(), options.n_atoms);
    // Codes stored transposed: column i is the code of sample i, contiguous.
    let mut codes_t = Mat::<T>::zeros(k, n);
    let mut trial_t = Mat::<T>::zeros(k, n);
    // Residuals stored transposed too: column i is the residual of sample i.
    let mut residual_t = Mat::<T>::zeros(x.ncols(), n);
    // Objective of every sample's kept code; the zero code first.
    let mut sample_objective: Vec<f64> =
        (0..n).map(|i| 0.5 * (0..x.ncols()).map(|f| x[(i, f)].as_f64().powi(2)).sum::<f64>()).collect();
    let mut objective = Vec::with_capacity(options.max_iter);
    let mut converged = false;

    for iteration in 1..=options.max_iter {
        trial_t.as_mut().copy_from(codes_t.as_ref());
        let reports = encode_into(encoder, &dictionary, x, trial_t.as_mut().transpose_mut(), Start::Warm)?;
        for (i, report) in reports.iter().enumerate() {
            if report.objective <= sample_objective[i] {
                codes_t.col_mut(i).copy_from(trial_t.col(i));
            }
        }

        let old = atoms.clone();
        match options.update {
            DictionaryUpdate::BlockCoordinate => {
                let mut a = Mat::<T>::zeros(k, k);
                let mut b = Mat::<T>::zeros(k, x.ncols());
                gemm(a.as_mut(), Accum::Replace, codes_t.as_ref(), codes_t.transpose(), par());
                gemm(b.as_mut(), Accum::Replace, codes_t.as_ref(), x, par());
                let mean_usage = (0..k).map(|j| a[(j, j)]).fold(T::zero(), |s, v| s + v) / T::of(k as f64);
                update_atoms(
                    atoms.as_mut(),
                    a.as_ref(),
                    b.as_ref(),
                    options.nonneg_dictionary,
                    mean_usage * T::epsilon(),
                );
            }
            DictionaryUpdate::Mod => mod_update::update_mod(&mut atoms, codes_t.as_mut(), x),
            DictionaryUpdate::Ksvd | DictionaryUpdate::ApproxKsvd => {
                residual_into(&mut residual_t, x, codes_t.as_ref(), atoms.as_ref());
                let approximate = options.update == DictionaryUpdate::ApproxKsvd;
                ksvd::update_ksvd(&mut atoms, codes_t.as_mut(), &mut residual_t, approximate);
            }
        }

        residual_into(&mut residual_t, x, codes_t.as_ref(), atoms.as_ref());
        let coherence = options.clear_coherent_atoms.then_some(CLEARING_COHERENCE);
        let cleared =
            replace_atoms(&mut atoms, codes_t.as_mut(), &mut residual_t, x, options.nonneg_dictionary, coherence);
        for (i, obj) in sample_objective.iter_mut().enumerate() {
            let r = residual_t.col(i);
            let res_sq: f64 = r.iter().map(|v| v.as_f64() * v.as_f64()).sum();
            *obj = 0.5 * res_sq + encoder.penalty(codes_t.col_as_slice(i)).as_f64();
        }
        dictionary = Dictionary::new(atoms.clone())?;

        let value = sample_objective.iter().sum::<f64>() / n as f64;
        let previous = objective.last().copied();
        objective.push(value);
        converged = match previous {
            Some(prev) => cleared == 0 && prev - value <= options.tol * prev.abs(),
            None => value == 0.0,
        };
        let report = Progress {
            iteration,
            max_iter: options.max_iter,
            objective: value,
            dictionary_change: relative_change(old.as_ref(), atoms.as_ref()),
        };
        if converged || progress(&report).is_break() {
            break;
        }
    }
    Ok(Fitted {
        dictionary,
        n_iter: objective.len(),
        objective,
        converged,
        codes: Some(codes_t.transpose().to_owned()),
    })
}

/// `residual_t = x^T - atoms^T codes_t` (`n_features x n_samples`: column
/// `i` is the residual of sample `i`, contiguous). Sparse codes (OMP's few
/// atoms per sample) subtract only their atoms, `nnz x n_features` work
/// instead of the dense product's `n_atoms x n_features x n_samples`.
pub(crate) fn residual_into<T: Float>(
    residual_t: &mut Mat<T>,
    x: MatRef<'_, T>,
    codes_t: MatRef<'_, T>,
    atoms: MatRef<'_, T>,
) {
    residual_t.as_mut().copy_from(x.transpose());
    let (k, n) = codes_t.shape();
    let nnz = (0..n).map(|i| codes_t.col(i).iter().filter(|&&c| c != T::zero()).count()).sum::<usize>();
    // Scalar updates against a vectorised GEMM: about 8x per flop.
    if 8 * nnz >= k * n {
        matmul(residual_t.as_mut(), Accum::Add, atoms.transpose(), codes_t, -T::one(), par());
        return;
    }
    // Atom j as the contiguous column j.
    let columns = atoms.transpose().to_owned();
    for i in 0..n {
        let code = codes_t.col(i);
        let r = residual_t.col_as_slice_mut(i);
        for j in 0..k {
            let c = code[j];
            if c != T::zero() {
                for (v, &d) in r.iter_mut().zip(columns.col_as_slice(j)) {
                    *v -= c * d;
                }
            }
        }
    }
}

/// Replaces atoms by the worst-represented samples (largest residual norm,
/// each used once), normalised: every atom that no code uses (the objective
/// does not change) and, with `coherence` set, every atom whose absolute
/// cosine with another atom exceeds it (its codes are set to zero and the
/// residual updated, so the objective may rise). The clearing step of
/// Rubinstein's K-SVD toolbox (`cleardict`, threshold 0.99). Returns how many
/// used atoms were cleared.
fn replace_atoms<T: Float>(
    atoms: &mut Mat<T>,
    mut codes_t: MatMut<'_, T>,
    residual_t: &mut Mat<T>,
    x: MatRef<'_, T>,
    nonneg: bool,
    coherence: Option<f64>,
) -> usize {
    let (k, p) = atoms.shape();
    let squared: Vec<T> =
        (0..x.nrows()).map(|i| crate::linalg::dot(residual_t.col_as_slice(i), residual_t.col_as_slice(i))).collect();
    let mut worst: Vec<usize> = (0..x.nrows()).collect();
    worst.sort_by(|&a, &b| squared[b].partial_cmp(&squared[a]).unwrap_or(std::cmp::Ordering::Equal));
    let mut candidates = worst.into_iter();
    let mut row = vec![T::zero(); p];
    let mut atom = vec![T::zero(); p];
    let mut other = vec![T::zero(); p];
    let mut cleared = 0;
    for j in 0..k {
        let unused = codes_t.as_ref().row(j).iter().all(|&c| c == T::zero());
        let duplicate = !unused
            && coherence.is_some_and(|limit| {
                copy_row(atoms.as_ref(), j, &mut atom);
                let own = crate::linalg::dot(&atom, &atom).sqrt();
                (0..k).filter(|&i| i != j).any(|i| {
                    copy_row(atoms.as_ref(), i, &mut other);
                    let cos = crate::linalg::dot(&atom, &other) / (own * crate::linalg::dot(&other, &other).sqrt());
                    cos.abs().as_f64() > limit
                })
            });
        if !(unused || duplicate) {
            continue;
        }
        let found = candidates.by_ref().any(|i| {
            copy_row(x, i, &mut row);
            normalize_atom(&mut row, nonneg)
        });
        if !found {
            break;
        }
        if duplicate {
            cleared += 1;
            // Drop the atom's contribution: r_i += z_ij d_j.
            for i in 0..codes_t.ncols() {
                let c = codes_t[(j, i)];
                if c != T::zero() {
                    for f in 0..p {
                        residual_t[(f, i)] += c * atoms[(j, f)];
                    }
                    codes_t[(j, i)] = T::zero();
                }
            }
        }
        for (f, &v) in row.iter().enumerate() {
            atoms[(j, f)] = v;
        }
    }
    cleared
}
