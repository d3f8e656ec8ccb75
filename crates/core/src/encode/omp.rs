//! Orthogonal Matching Pursuit (OMP) by Batch-OMP, and its non-negative variant.
//!
//! OMP (Pati, Rezaiifar & Krishnaprasad 1993) codes a signal greedily: pick the
//! atom most correlated with the residual, re-fit the selected atoms by least
//! squares, repeat. Batch-OMP (Rubinstein, Zibulevsky & Elad, "Efficient
//! implementation of the K-SVD algorithm using Batch Orthogonal Matching
//! Pursuit", Technion CS-2008-08, 2008, Alg. 2; error-constrained Alg. 3) never
//! forms the residual. From `alpha0 = D x` (one GEMM per block of signals, done
//! by the batch driver) and the Gram matrix `G = D D^T` (once per dictionary)
//! it keeps the correlations of the residual with every atom as
//! `alpha = alpha0 - G[:, I] gamma_I`, grows the Cholesky factor of `G[I, I]`
//! by one row per selected atom ([`GrowingCholesky`]), solves
//! `G[I, I] gamma_I = alpha0_I`, and tracks the residual energy by the scalar
//! `||x - D^T z||^2 = ||x||^2 - alpha0_I^T gamma_I` (exact for a
//! least-squares fit). A signal costs `O(K k^2 + k^3)` after `D x`, for `K`
//! atoms and `k` selected ones, instead of `O(k n K)`.
//!
//! ```
//! use sparsecode::encode::{encode, omp::Omp};
//! use sparsecode::Dictionary;
//! let d = Dictionary::new(faer::mat![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.6, 0.8, 0.0]]).unwrap();
//! // x = 3 * atom 2 + 0.5 * e3: one atom explains most of it.
//! let x = faer::mat![[1.8, 2.4, 0.5]];
//! let out = encode(&Omp::with_n_nonzero(1), &d, x.as_ref()).unwrap();
//! assert!((out.codes[(0, 2)] - 3.0f64).abs() < 1e-12);
//! assert!((out.reports[0].residual_norm - 0.5).abs() < 1e-12);
//! // Stop instead once ||x - D^T z||^2 <= 0.3: still one atom.
//! let out = encode(&Omp::with_tolerance(0.3), &d, x.as_ref()).unwrap();
//! assert_eq!(out.reports[0].n_nonzero, 1);
//! ```

use super::{Encoder, Signal, SolveStatus};
use crate::linalg::GrowingCholesky;
use crate::{validate, Dictionary, Error, Float, Result};
use faer::linalg::matmul::matmul;
use faer::{Accum, ColMut, ColRef, ContiguousFwd, Mat, MatRef, Par};

/// Orthogonal Matching Pursuit, by Batch-OMP (see the [module](self) docs).
///
/// Stopping rules:
/// - `n_nonzero = Some(k)`: at most `k` atoms per signal.
/// - `tolerance = Some(tol)`: stop as soon as the squared residual norm
///   `||x - D^T z||^2 <= tol` (scikit-learn's `tol`); no atom at all when
///   `||x||^2 <= tol` already.
/// - both: stop at whichever is met first. (scikit-learn's `orthogonal_mp`
///   instead lets `tol` override `n_nonzero_coefs`; to get that, leave
///   `n_nonzero` unset.)
/// - neither ([`Default`]): scikit-learn's default of
///   `max(1, n_features / 10)` atoms (at most the number of atoms).
///
/// In every case the pursuit also stops early, with the code found so far,
/// when the residual is (numerically) orthogonal to every atom (exact fit:
/// correlation below `sqrt(eps) ||x||`, `eps` the machine epsilon of `T`),
/// when the best atom is numerically a combination of the selected ones (the
/// Cholesky update refuses it; the report then says not converged), or when
/// `n_features` atoms are selected (they span the signal space). Hence
/// `n_nonzero > n_features` is allowed for over-complete dictionaries.
///
/// `nonneg = true` gives non-negative OMP: only positive correlations are
/// selected and the least-squares re-fit is replaced by the Lawson–Hanson
/// active-set step (Lawson & Hanson 1974, "Solving Least Squares Problems",
/// ch. 23, Alg. NNLS, steps 6–11): when the unconstrained fit on the selected
/// atoms has a non-positive coefficient, move from the last non-negative code
/// towards it until the first coefficient reaches zero, drop that atom (a
/// Givens downdate of the Cholesky factor) and re-fit. Every code returned is
/// then the non-negative least-squares solution on its own support, and with
/// an unbounded budget (`n_nonzero = n_atoms`, `tolerance = 0`) the pursuit
/// is exactly Lawson–Hanson NNLS over the whole dictionary. A dropped atom
/// may be selected again later; the number of selections is capped at three
/// times the support budget (the report then says not converged).
///
/// ```
/// use sparsecode::encode::{encode, omp::Omp};
/// use sparsecode::Dictionary;
/// let d = Dictionary::new(faer::mat![[1.0, 0.0], [0.0, 1.0]]).unwrap();
/// let x = faer::mat![[2.0, -1.0]];
/// let plain = encode(&Omp::with_n_nonzero(2), &d, x.as_ref()).unwrap();
/// assert_eq!(plain.codes[(0, 1)], -1.0);
/// let nonneg = encode(&Omp::with_n_nonzero(2).nonneg(true), &d, x.as_ref()).unwrap();
/// assert_eq!((nonneg.codes[(0, 0)], nonneg.codes[(0, 1)]), (2.0, 0.0));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Omp {
    /// Maximum number of non-zero coefficients per signal (`>= 1`, at most
    /// the number of atoms).
    pub n_nonzero: Option<usize>,
    /// Bound on the squared residual norm `||x - D^T z||^2` (finite, `>= 0`).
    pub tolerance: Option<f64>,
    /// Whether the codes must be non-negative.
    pub nonneg: bool,
}

impl Omp {
    /// OMP with at most `n_nonzero` atoms per signal.
    pub fn with_n_nonzero(n_nonzero: usize) -> Self {
        Self { n_nonzero: Some(n_nonzero), ..Self::default() }
    }

    /// OMP that stops once `||x - D^T z||^2 <= tolerance`.
    pub fn with_tolerance(tolerance: f64) -> Self {
        Self { tolerance: Some(tolerance), ..Self::default() }
    }

    /// The same pursuit with codes constrained to be non-negative (or not).
    pub fn nonneg(self, nonneg: bool) -> Self {
        Self { nonneg, ..self }
    }

    /// The most atoms a signal may use over a dictionary of `n_atoms` atoms of
    /// dimension `n_features`, before the rank limit: `n_nonzero`, else all
    /// atoms when a tolerance is set, else `max(1, n_features / 10)`.
    pub fn atom_budget(&self, n_atoms: usize, n_features: usize) -> usize {
        match (self.n_nonzero, self.tolerance) {
            (Some(k), _) => k,
            (None, Some(_)) => n_atoms,
            (None, None) => (n_features / 10).max(1),
        }
        .min(n_atoms)
    }
}

/// Scratch memory of [`Omp`] for one thread, sized once per dictionary: coding
/// a signal allocates nothing.
#[derive(Debug, Clone)]
pub struct OmpWorkspace<T> {
    /// Correlations of the residual with every atom.
    alpha: Vec<T>,
    /// `1 / ||d_k||`, to select by normalised correlation.
    inv_norms: Vec<T>,
    /// Cholesky factor of `G[I, I]`; its capacity is the most atoms a signal
    /// can hold (budget and rank).
    chol: GrowingCholesky<T>,
    /// `I`, in order of selection.
    support: Vec<usize>,
    /// Least-squares coefficients on `I`.
    gamma: Vec<T>,
    /// `G[:, I]`, copied column by column as atoms are selected, so that the
    /// correlation update is one matrix-vector product.
    selected_gram: Mat<T>,
    /// `G[new, I]` for a Cholesky update.
    cross: Vec<T>,
    /// Non-negative OMP: the last feasible coefficients on `I`.
    feasible: Vec<T>,
    /// The most atoms a signal may use ([`Omp::atom_budget`]).
    budget: usize,
}

/// How a pursuit ended, before it is turned into a [`SolveStatus`].
struct Outcome {
    n_active: usize,
    n_iter: usize,
    converged: bool,
}

impl<T: Float> Encoder<T> for Omp {
    type Workspace = OmpWorkspace<T>;

    fn check(&self, dict: &Dictionary<T>) -> Result<()> {
        if let Some(k) = self.n_nonzero {
            validate::at_least_one("n_nonzero", k)?;
            if k > dict.n_atoms() {
                return Err(Error::parameter(
                    "n_nonzero",
                    k,
                    format!("cannot exceed the number of atoms in the dictionary ({})", dict.n_atoms()),
                ));
            }
        }
        if let Some(tol) = self.tolerance {
            validate::non_negative("tolerance", tol)?;
        }
        Ok(())
    }

    fn workspace(&self, dict: &Dictionary<T>) -> Self::Workspace {
        let budget = self.atom_budget(dict.n_atoms(), dict.n_features());
        let capacity = budget.min(dict.n_features());
        OmpWorkspace {
            alpha: vec![T::zero(); dict.n_atoms()],
            inv_norms: dict.norms().iter().map(|n| n.recip()).collect(),
            chol: GrowingCholesky::new(capacity),
            support: vec![0; capacity],
            gamma: vec![T::zero(); capacity],
            selected_gram: Mat::zeros(dict.n_atoms(), capacity),
            cross: vec![T::zero(); capacity],
            feasible: vec![T::zero(); capacity],
            budget,
        }
    }

    fn encode_one(
        &self,
        dict: &Dictionary<T>,
        signal: &Signal<'_, T>,
        code: &mut [T],
        ws: &mut Self::Workspace,
    ) -> SolveStatus {
        let gram = dict.gram().try_as_col_major().expect("the Gram matrix is an owned, column-major faer Mat");
        let tolerance = self.tolerance.map(T::of);
        let outcome =
            if self.nonneg { ws.nonneg_pursuit(gram, signal, tolerance) } else { ws.pursuit(gram, signal, tolerance) };
        code.fill(T::zero());
        for (&k, &g) in ws.support[..outcome.n_active].iter().zip(&ws.gamma[..outcome.n_active]) {
            code[k] = g;
        }
        SolveStatus { n_iter: outcome.n_iter, converged: outcome.converged }
    }

    fn penalty(&self, _code: &[T]) -> T {
        T::zero()
    }
}

type GramRef<'a, T> = MatRef<'a, T, usize, usize, ContiguousFwd>;

impl<T: Float> OmpWorkspace<T> {
    /// Batch-OMP (Rubinstein et al. 2008, Alg. 2 and 3) for one signal; leaves
    /// the support in `support[..n]` and its coefficients in `gamma[..n]`.
    fn pursuit(&mut self, gram: GramRef<'_, T>, signal: &Signal<'_, T>, tolerance: Option<T>) -> Outcome {
        let alpha0 = signal.dx;
        let min_corr = exact_fit_correlation(signal.norm_sq);
        self.chol.clear();
        self.alpha.copy_from_slice(alpha0);
        let mut residual_sq = signal.norm_sq;
        let mut n = 0;
        let converged = loop {
            if tolerance.is_some_and(|tol| residual_sq <= tol) || n == self.budget || n == self.chol.capacity() {
                break true;
            }
            let Some(k) = select(&self.alpha, &self.inv_norms, min_corr, false) else {
                break true;
            };
            if !self.push_atom(gram, k) {
                break false;
            }
            n += 1;
            residual_sq = self.fit(alpha0, signal.norm_sq);
        };
        Outcome { n_active: n, n_iter: n, converged }
    }

    /// Non-negative Batch-OMP with the Lawson–Hanson active-set step (see
    /// [`Omp`]); leaves the support in `support[..n]` and its positive
    /// coefficients in `gamma[..n]`.
    fn nonneg_pursuit(&mut self, gram: GramRef<'_, T>, signal: &Signal<'_, T>, tolerance: Option<T>) -> Outcome {
        let alpha0 = signal.dx;
        let min_corr = exact_fit_correlation(signal.norm_sq);
        let max_selections = 3 * self.chol.capacity();
        self.chol.clear();
        self.alpha.copy_from_slice(alpha0);
        let mut residual_sq = signal.norm_sq;
        let (mut selections, mut removals) = (0, 0);
        let converged = loop {
            let n = self.chol.len();
            if tolerance.is_some_and(|tol| residual_sq <= tol) || n == self.budget || n == self.chol.capacity() {
                break true;
            }
            if selections == max_selections {
                break false;
            }
            let Some(k) = select(&self.alpha, &self.inv_norms, min_corr, true) else {
                break true;
            };
            if !self.push_atom(gram, k) {
                break false;
            }
            selections += 1;
            self.feasible[n] = T::zero();
            self.solve(alpha0);
            // Lawson–Hanson inner loop: restore feasibility.
            let mut stalled = false;
            while let Some((step, blocking)) = self.feasible_step() {
                if step == T::zero() && self.support[blocking] == k {
                    // The new atom's coefficient came out non-positive, which
                    // exact arithmetic rules out: rounding has the last word.
                    stalled = true;
                }
                let n_active = self.chol.len();
                for (f, &g) in self.feasible[..n_active].iter_mut().zip(&self.gamma[..n_active]) {
                    *f = *f + step * (g - *f);
                }
                self.feasible[blocking] = T::zero();
                for pos in (0..n_active).rev() {
                    if self.feasible[pos] <= T::zero() {
                        self.remove_atom(pos);
                        removals += 1;
                    }
                }
                self.solve(alpha0);
            }
            if stalled {
                // Dropping the new atom restored the previous fit: its
                // correlations and residual are still current.
                break false;
            }
            let n = self.chol.len();
            self.feasible[..n].copy_from_slice(&self.gamma[..n]);
            residual_sq = self.refresh(alpha0, signal.norm_sq);
        };
        Outcome { n_active: self.chol.len(), n_iter: selections + removals, converged }
    }

    /// Appends atom `k` to the support and the Cholesky factor; `false` (and
    /// nothing changed) when `k` is numerically dependent on the support.
    fn push_atom(&mut self, gram: GramRef<'_, T>, k: usize) -> bool {
        let n = self.chol.len();
        let col_k = gram.col(k).as_slice();
        for (c, &i) in self.cross[..n].iter_mut().zip(&self.support[..n]) {
            *c = col_k[i];
        }
        if !self.chol.push(&self.cross[..n], col_k[k]) {
            return false;
        }
        self.support[n] = k;
        self.selected_gram.col_as_slice_mut(n).copy_from_slice(col_k);
        true
    }

    /// Removes the atom at position `pos` of the support.
    fn remove_atom(&mut self, pos: usize) {
        let n = self.chol.len();
        self.chol.remove(pos);
        self.support.copy_within(pos + 1..n, pos);
        for j in pos..n - 1 {
            let (left, right) = self.selected_gram.as_mut().split_at_col_mut(j + 1);
            left.col_mut(j).copy_from(right.col(0));
        }
        self.feasible.copy_within(pos + 1..n, pos);
    }

    /// `gamma_I = G[I, I]^{-1} alpha0_I`.
    fn solve(&mut self, alpha0: &[T]) {
        let n = self.chol.len();
        for (g, &i) in self.gamma[..n].iter_mut().zip(&self.support[..n]) {
            *g = alpha0[i];
        }
        self.chol.solve_in_place(&mut self.gamma[..n]);
    }

    /// Least-squares fit on the support, then [`OmpWorkspace::refresh`].
    fn fit(&mut self, alpha0: &[T], norm_sq: T) -> T {
        self.solve(alpha0);
        self.refresh(alpha0, norm_sq)
    }

    /// With `gamma` the least-squares fit on the support: sets the residual
    /// correlations `alpha = alpha0 - G[:, I] gamma_I` (zero on the support,
    /// where they vanish in exact arithmetic, so that no atom is selected
    /// twice) and returns the residual energy `||x||^2 - alpha0_I^T gamma_I`.
    fn refresh(&mut self, alpha0: &[T], norm_sq: T) -> T {
        let n = self.chol.len();
        let (support, gamma) = (&self.support[..n], &self.gamma[..n]);
        self.alpha.copy_from_slice(alpha0);
        matmul(
            ColMut::from_slice_mut(&mut self.alpha).as_mat_mut(),
            Accum::Add,
            self.selected_gram.as_ref().subcols(0, n),
            ColRef::from_slice(gamma).as_mat(),
            -T::one(),
            Par::Seq,
        );
        let mut explained = T::zero();
        for (&i, &g) in support.iter().zip(gamma) {
            self.alpha[i] = T::zero();
            explained += alpha0[i] * g;
        }
        (norm_sq - explained).max(T::zero())
    }

    /// Lawson–Hanson step length: when some least-squares coefficient is not
    /// positive, the largest `t` in `[0, 1]` keeping
    /// `feasible + t (gamma - feasible)` non-negative, and the position that
    /// blocks it.
    fn feasible_step(&self) -> Option<(T, usize)> {
        let n = self.chol.len();
        let mut blocking: Option<(T, usize)> = None;
        for (pos, (&f, &g)) in self.feasible[..n].iter().zip(&self.gamma[..n]).enumerate() {
            if g <= T::zero() {
                let t = if f > T::zero() { f / (f - g) } else { T::zero() };
                if blocking.is_none_or(|(best, _)| t < best) {
                    blocking = Some((t, pos));
                }
            }
        }
        blocking
    }
}

/// Correlations at or below this mean the residual is numerically orthogonal
/// to the atom: `sqrt(eps) ||x||`.
fn exact_fit_correlation<T: Float>(norm_sq: T) -> T {
    (norm_sq * T::epsilon()).sqrt()
}

/// Independent running maxima in [`select`], so that the scan is not one long
/// dependency chain (and can be vectorised).
const LANES: usize = 8;

/// The atom with the largest normalised correlation `|alpha_k| / ||d_k||`
/// (`alpha_k / ||d_k||` when `positive_only`) above `min_corr`; the first on
/// ties.
#[inline]
fn select<T: Float>(alpha: &[T], inv_norms: &[T], min_corr: T, positive_only: bool) -> Option<usize> {
    let corr = |a: T, w: T| if positive_only { a * w } else { a.abs() * w };
    let mut best = [min_corr; LANES];
    let mut arg = [usize::MAX; LANES];
    for (c, (a, w)) in alpha.chunks_exact(LANES).zip(inv_norms.chunks_exact(LANES)).enumerate() {
        for l in 0..LANES {
            let v = corr(a[l], w[l]);
            let better = v > best[l];
            best[l] = if better { v } else { best[l] };
            arg[l] = if better { c * LANES + l } else { arg[l] };
        }
    }
    // Leftover atoms go to the lane of their index modulo LANES, after every
    // earlier atom of that lane, so each lane keeps its first maximum.
    for k in alpha.len() - alpha.len() % LANES..alpha.len() {
        let v = corr(alpha[k], inv_norms[k]);
        if v > best[k % LANES] {
            best[k % LANES] = v;
            arg[k % LANES] = k;
        }
    }
    let mut winner: Option<(T, usize)> = None;
    for (&v, &k) in best.iter().zip(&arg) {
        if k != usize::MAX && winner.is_none_or(|(bv, bk)| v > bv || (v == bv && k < bk)) {
            winner = Some((v, k));
        }
    }
    winner.map(|(_, k)| k)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The plain sequential scan `select` must agree with.
    fn first_max(alpha: &[f64], inv_norms: &[f64], min_corr: f64, positive_only: bool) -> Option<usize> {
        let mut best = (min_corr, None);
        for (k, (&a, &w)) in alpha.iter().zip(inv_norms).enumerate() {
            let corr = if positive_only { a * w } else { a.abs() * w };
            if corr > best.0 {
                best = (corr, Some(k));
            }
        }
        best.1
    }

    #[test]
    fn lane_scan_selects_the_first_maximum() {
        // Values from a small set so that ties are frequent; lengths cover
        // whole chunks, leftovers and fewer atoms than lanes.
        let mut state = 7u64;
        for len in [1, 3, 8, 13, 16, 29, 64, 100] {
            for _ in 0..50 {
                let mut draw = || {
                    state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    ((state >> 33) % 7) as f64 - 3.0
                };
                let alpha: Vec<f64> = (0..len).map(|_| draw()).collect();
                // Weights 0.5, 1 and 2 make equal products from unequal values.
                let inv_norms: Vec<f64> = (0..len).map(|_| 2f64.powi((draw() as i32).rem_euclid(3) - 1)).collect();
                for positive_only in [false, true] {
                    for min_corr in [0.0, 1.5, 5.0] {
                        assert_eq!(
                            select(&alpha, &inv_norms, min_corr, positive_only),
                            first_max(&alpha, &inv_norms, min_corr, positive_only),
                            "{alpha:?}, positive_only {positive_only}, min_corr {min_corr}"
                        );
                    }
                }
            }
        }
    }
}
