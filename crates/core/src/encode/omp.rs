//! Orthogonal Matching Pursuit (OMP) by Batch-OMP, and its non-negative variant.
//!
//! OMP (Pati, Rezaiifar & Krishnaprasad 1993) codes a signal greedily: pick the
//! atom most correlated with the residual, re-fit the selected atoms by least
//! squares, repeat. Batch-OMP (Rubinstein, Zibulevsky & Elad, "Efficient
//! implementation of the K-SVD algorithm using Batch Orthogonal Matching
//! Pursuit", Technion CS-2008-08, 2008, Alg. 2; error-constrained Alg. 3) never
//! forms the residual: from `alpha0 = D x` (one GEMM per block of signals, done
//! by the batch driver) and the Gram matrix `G = D D^T` (once per dictionary)
//! it keeps the correlations of the residual with every atom and grows the
//! Cholesky factor `L` of `G[I, I]` one row per selected atom. A signal costs
//! `O(K k^2 + k^3)` after `D x`, for `K` atoms and `k` selected ones, instead
//! of `O(k n K)`.
//!
//! We run it in its Gram–Schmidt form, which is a Cholesky factorisation of
//! `G` pivoted by the selection rule. With `Q = D_I^T L^{-T}` the orthonormal
//! basis of the selected atoms, keep `V = G[:, I] L^{-T}` (column `i` holds
//! `<q_i, d_j>` for every atom `j`) and `t = Q^T x`. Selecting atom `s`:
//! row `s` of `V` is the new row of `L` (`L[k, i] = <q_i, d_s>`, pivot
//! `L[k, k]^2 = G[s, s] - sum_i L[k, i]^2`), `t_k = c_s / L[k, k]` with `c`
//! the residual correlations, and one sweep over the atoms computes the new
//! column `v_k = (G[:, s] - V L[k, :]^T) / L[k, k]`, updates
//! `c <- c - t_k v_k` (the residual loses its component along `q_k`) and picks
//! the next atom. The residual energy is `||x||^2 - ||t||^2` and the
//! least-squares code `L^{-T} t` is solved once, after the last selection.
//! The arithmetic is Batch-OMP's (`K k` multiply-adds at step `k`), done in
//! one pass over the atoms per step, a few atoms at a time in vector
//! registers (the new column, the update and the next selection) instead of
//! a matrix-vector product, a triangular solve and a separate scan per step. The loops run
//! on AVX2 where the CPU has it ([`crate::linalg::has_avx2`]).
//!
//! The same sweep also gives the energy of each atom outside the span of the
//! selected ones, `G[j, j] - ||P_I d_j||^2` (subtract `v_k[j]^2`), which is
//! what order-recursive matching pursuit ([`Ormp`]) selects by.
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
use crate::linalg::{has_avx2, GrowingCholesky};
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

/// Order-recursive matching pursuit (ORMP, also "optimized OMP"): OMP with a
/// selection rule that looks one least-squares fit ahead.
///
/// OMP picks the atom most correlated with the residual,
/// `argmax_j |<r, d_j>| / ||d_j||`. ORMP (Chen, Billings & Luo, "Orthogonal
/// least squares methods and their application to non-linear system
/// identification", Int. J. Control 50(5), 1989, eq. 26; Natarajan 1995,
/// "Sparse approximate solutions to linear systems", SIAM J. Comput. 24(2))
/// picks the atom whose addition lowers the least-squares residual the most:
/// `argmax_j <r, d_j>^2 / ||d_j - P_I d_j||^2`, the squared correlation
/// divided by the energy of the atom outside the span of the selected ones.
/// It costs the same as Batch-OMP here (the sweep of the Gram–Schmidt form
/// updates both terms, see the [module](self) docs), usually reaches a lower
/// residual with the same number of atoms, and is what SPAMS' `omp` computes.
/// The codes are the least-squares fit on the selected atoms, as with OMP.
///
/// Stopping rules are [`Omp`]'s (`n_nonzero`, `tolerance`, both or neither,
/// exact fit, numerically dependent atoms; an atom whose energy outside the
/// span is below `1e-10 ||d_j||^2` is never selected). There is no
/// non-negative variant.
///
/// ```
/// use sparsecode::encode::{encode, omp::{Omp, Ormp}};
/// use sparsecode::Dictionary;
/// // Both pick atom 0 first; the residual is then (0, 1, 1). OMP takes atom 2,
/// // the most correlated with it; ORMP takes atom 1, less correlated but
/// // mostly along atom 0, which with atom 0 spans x.
/// let d = Dictionary::normalized(faer::mat![[1.0, 0.0, 0.0], [0.8, 0.3, 0.3], [0.0, 1.0, 0.0]]).unwrap();
/// let x = faer::mat![[6.0, 1.0, 1.0]];
/// let omp = encode(&Omp::with_n_nonzero(2), &d, x.as_ref()).unwrap();
/// let ormp = encode(&Ormp::with_n_nonzero(2), &d, x.as_ref()).unwrap();
/// assert!((omp.reports[0].residual_norm - 1.0).abs() < 1e-12);
/// assert!(ormp.reports[0].residual_norm < 1e-12);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Ormp {
    /// Maximum number of non-zero coefficients per signal, as [`Omp::n_nonzero`].
    pub n_nonzero: Option<usize>,
    /// Bound on `||x - D^T z||^2`, as [`Omp::tolerance`].
    pub tolerance: Option<f64>,
}

impl Ormp {
    /// ORMP with at most `n_nonzero` atoms per signal.
    pub fn with_n_nonzero(n_nonzero: usize) -> Self {
        Self { n_nonzero: Some(n_nonzero), tolerance: None }
    }

    /// ORMP that stops once `||x - D^T z||^2 <= tolerance`.
    pub fn with_tolerance(tolerance: f64) -> Self {
        Self { n_nonzero: None, tolerance: Some(tolerance) }
    }

    /// OMP with the same stopping rules.
    fn stopping(&self) -> Omp {
        Omp { n_nonzero: self.n_nonzero, tolerance: self.tolerance, nonneg: false }
    }
}

/// Scratch memory of [`Omp`] and [`Ormp`] for one thread, sized once per
/// dictionary: coding a signal allocates nothing.
#[derive(Debug, Clone)]
pub struct OmpWorkspace<T> {
    /// Correlations of the residual with every atom.
    alpha: Vec<T>,
    /// `1 / ||d_k||`, to select by normalised correlation.
    inv_norms: Vec<T>,
    /// `inv_norms` with zeros at the selected atoms, which takes them out of
    /// the selection (Gram–Schmidt pursuit; restored after each signal).
    weights: Vec<T>,
    /// `G[j, j] - ||P_I d_j||^2`, the energy of each atom outside the span of
    /// the selected ones (ORMP only).
    outside: Vec<T>,
    /// `G[j, j]`, the starting value of `outside` (ORMP only).
    diag: Vec<T>,
    /// `1e-10 G[j, j]` (or 100 ulps in `f32`): atoms with less energy outside
    /// the span are numerically dependent on the selected ones; infinite at
    /// the selected atoms, which takes them out of ORMP's selection (ORMP
    /// only; restored after each signal).
    outside_floor: Vec<T>,
    /// `V = G[:, I] L^{-T}`, `n_atoms x capacity`, column by column.
    basis: Vec<T>,
    /// `L`, row-major `capacity x capacity` (Gram–Schmidt pursuit).
    tri: Vec<T>,
    /// `t = Q^T x`, the signal's coordinates in the orthonormal basis.
    proj: Vec<T>,
    /// Cholesky factor of `G[I, I]` for the non-negative pursuit; its
    /// capacity is the most atoms a signal can hold (budget and rank).
    chol: GrowingCholesky<T>,
    /// `I`, in order of selection.
    support: Vec<usize>,
    /// Least-squares coefficients on `I`.
    gamma: Vec<T>,
    /// `G[:, I]`, copied column by column as atoms are selected, so that the
    /// correlation update of the non-negative pursuit is one matrix-vector
    /// product.
    selected_gram: Mat<T>,
    /// `G[new, I]` for a Cholesky update.
    cross: Vec<T>,
    /// Non-negative OMP: the last feasible coefficients on `I`.
    feasible: Vec<T>,
    /// The most atoms a signal may use ([`Omp::atom_budget`]).
    budget: usize,
}

impl<T: Float> OmpWorkspace<T> {
    /// Scratch memory for `omp` over `dict` (the non-negative pursuit's
    /// buffers only when `omp.nonneg`, the Gram–Schmidt ones otherwise).
    fn new(omp: &Omp, dict: &Dictionary<T>) -> Self {
        let (n_atoms, n_features) = (dict.n_atoms(), dict.n_features());
        let budget = omp.atom_budget(n_atoms, n_features);
        let capacity = budget.min(n_features);
        let (gs, nn) = if omp.nonneg { (0, capacity) } else { (capacity, 0) };
        let inv_norms: Vec<T> = dict.norms().iter().map(|n| n.recip()).collect();
        let diag: Vec<T> = (0..n_atoms).map(|j| dict.gram()[(j, j)]).collect();
        OmpWorkspace {
            alpha: vec![T::zero(); n_atoms],
            weights: inv_norms.clone(),
            inv_norms,
            outside_floor: diag.iter().map(|&g| outside_floor(g)).collect(),
            outside: diag.clone(),
            diag,
            basis: vec![T::zero(); n_atoms * gs],
            tri: vec![T::zero(); gs * gs],
            proj: vec![T::zero(); gs],
            chol: GrowingCholesky::new(nn),
            support: vec![0; capacity],
            gamma: vec![T::zero(); capacity],
            selected_gram: Mat::zeros(n_atoms, nn),
            cross: vec![T::zero(); nn],
            feasible: vec![T::zero(); nn],
            budget,
        }
    }
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
        check_stopping("n_nonzero", self.n_nonzero, self.tolerance, dict.n_atoms())
    }

    fn workspace(&self, dict: &Dictionary<T>) -> Self::Workspace {
        OmpWorkspace::new(self, dict)
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
        let outcome = if self.nonneg {
            ws.nonneg_pursuit(gram, signal, tolerance)
        } else {
            gram_schmidt_pursuit::<T, false>(ws, gram, signal, tolerance)
        };
        ws.write_code(&outcome, code)
    }

    fn penalty(&self, _code: &[T]) -> T {
        T::zero()
    }
}

impl<T: Float> Encoder<T> for Ormp {
    type Workspace = OmpWorkspace<T>;

    fn check(&self, dict: &Dictionary<T>) -> Result<()> {
        check_stopping("n_nonzero", self.n_nonzero, self.tolerance, dict.n_atoms())
    }

    fn workspace(&self, dict: &Dictionary<T>) -> Self::Workspace {
        OmpWorkspace::new(&self.stopping(), dict)
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
        let outcome = gram_schmidt_pursuit::<T, true>(ws, gram, signal, tolerance);
        ws.write_code(&outcome, code)
    }

    fn penalty(&self, _code: &[T]) -> T {
        T::zero()
    }
}

/// [`OmpWorkspace::pursuit`], compiled for AVX2 where the CPU has it (see
/// [`has_avx2`]).
fn gram_schmidt_pursuit<T: Float, const ORMP: bool>(
    ws: &mut OmpWorkspace<T>,
    gram: GramRef<'_, T>,
    signal: &Signal<'_, T>,
    tolerance: Option<T>,
) -> Outcome {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        unsafe fn avx2<T: Float, const ORMP: bool>(
            ws: &mut OmpWorkspace<T>,
            gram: GramRef<'_, T>,
            signal: &Signal<'_, T>,
            tolerance: Option<T>,
        ) -> Outcome {
            ws.pursuit::<ORMP>(gram, signal, tolerance)
        }
        if has_avx2() {
            // SAFETY: the CPU supports AVX2.
            return unsafe { avx2::<T, ORMP>(ws, gram, signal, tolerance) };
        }
    }
    ws.pursuit::<ORMP>(gram, signal, tolerance)
}

/// Checks the stopping parameters shared by [`Omp`] and [`Ormp`].
fn check_stopping(name: &'static str, n_nonzero: Option<usize>, tolerance: Option<f64>, n_atoms: usize) -> Result<()> {
    if let Some(k) = n_nonzero {
        validate::at_least_one(name, k)?;
        if k > n_atoms {
            return Err(Error::parameter(
                name,
                k,
                format!("cannot exceed the number of atoms in the dictionary ({n_atoms})"),
            ));
        }
    }
    if let Some(tol) = tolerance {
        validate::non_negative("tolerance", tol)?;
    }
    Ok(())
}

/// Relative pivot floor of the Cholesky factor: 1e-10, or 100 ulps where
/// that is coarser (`f32`); the same as [`GrowingCholesky::push`].
fn pivot_floor<T: Float>() -> T {
    T::of(1e-10).max(T::of(100.0) * T::epsilon())
}

/// ORMP's floor on the energy of atom `j` outside the span, from `G[j, j]`.
fn outside_floor<T: Float>(diag: T) -> T {
    pivot_floor::<T>() * diag
}

type GramRef<'a, T> = MatRef<'a, T, usize, usize, ContiguousFwd>;

impl<T: Float> OmpWorkspace<T> {
    /// Writes the code found by the last pursuit into `code` (dense).
    fn write_code(&self, outcome: &Outcome, code: &mut [T]) -> SolveStatus {
        code.fill(T::zero());
        for (&k, &g) in self.support[..outcome.n_active].iter().zip(&self.gamma[..outcome.n_active]) {
            code[k] = g;
        }
        SolveStatus { n_iter: outcome.n_iter, converged: outcome.converged }
    }

    /// Batch-OMP (Rubinstein et al. 2008, Alg. 2 and 3) in its Gram–Schmidt
    /// form (see the [module](self) docs) for one signal, selecting by
    /// correlation (OMP) or, with `ORMP`, by the residual after the re-fit;
    /// leaves the support in `support[..n]` and its coefficients in
    /// `gamma[..n]`.
    #[inline(always)]
    fn pursuit<const ORMP: bool>(
        &mut self,
        gram: GramRef<'_, T>,
        signal: &Signal<'_, T>,
        tolerance: Option<T>,
    ) -> Outcome {
        let n_atoms = self.alpha.len();
        let capacity = self.support.len();
        let min_corr = exact_fit_correlation(signal.norm_sq);
        let floor = pivot_floor::<T>();
        self.alpha.copy_from_slice(signal.dx);
        if ORMP {
            self.outside.copy_from_slice(&self.diag);
        }
        // The first atom: every atom is wholly outside the empty span, so
        // both rules reduce to the largest normalised correlation.
        let mut next = first_atom(&self.alpha, &self.weights, min_corr);
        let mut residual_sq = signal.norm_sq;
        let mut n = 0;
        let converged = loop {
            if tolerance.is_some_and(|tol| residual_sq <= tol) || n == self.budget || n == capacity {
                break true;
            }
            let Some(s) = next else {
                break true;
            };
            // Row n of L: <q_i, d_s> = V[s, i], and the pivot.
            let row = &mut self.tri[n * capacity..n * capacity + n + 1];
            let mut sq = T::zero();
            for (i, l) in row[..n].iter_mut().enumerate() {
                *l = self.basis[i * n_atoms + s];
                sq += *l * *l;
            }
            let diag = gram.col(s).as_slice()[s];
            let pivot = diag - sq;
            if pivot.is_nan() || pivot <= floor * diag.max(T::min_positive_value()) {
                // Numerically a combination of the selected atoms.
                break false;
            }
            let l_nn = num_traits::Float::sqrt(pivot);
            row[n] = l_nn;
            let t = self.alpha[s] / l_nn;
            self.proj[n] = t;
            residual_sq = (residual_sq - t * t).max(T::zero());
            self.support[n] = s;
            self.weights[s] = T::zero();
            if ORMP {
                self.outside_floor[s] = T::infinity();
            }
            n += 1;
            let more = n < self.budget && n < capacity && !tolerance.is_some_and(|tol| residual_sq <= tol);
            if !more {
                break true;
            }
            let (prev, cur) = self.basis.split_at_mut((n - 1) * n_atoms);
            let sweep =
                Sweep { g_col: gram.col(s).as_slice(), prev, row: &row[..n - 1], inv_pivot: l_nn.recip(), t, min_corr };
            next = sweep.run::<ORMP>(
                &mut cur[..n_atoms],
                &mut self.alpha,
                &self.weights,
                &mut self.outside,
                &self.outside_floor,
            );
        };
        // gamma = L^{-T} t by back substitution.
        for i in (0..n).rev() {
            let mut acc = self.proj[i];
            for m in i + 1..n {
                acc -= self.tri[m * capacity + i] * self.gamma[m];
            }
            self.gamma[i] = acc / self.tri[i * capacity + i];
        }
        for &s in &self.support[..n] {
            self.weights[s] = self.inv_norms[s];
            if ORMP {
                self.outside_floor[s] = outside_floor(self.diag[s]);
            }
        }
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

/// One step of the Gram–Schmidt pursuit over every atom `j`: the new basis
/// column `v[j] = (G[j, s] - sum_i L[k, i] V[j, i]) / L[k, k]`, the residual
/// correlation `c[j] -= t v[j]`, for ORMP the energy outside the span
/// `e[j] -= v[j]^2`, and the selection of the next atom.
struct Sweep<'a, T> {
    /// `G[:, s]` for the atom just selected.
    g_col: &'a [T],
    /// The basis columns so far, `V[:, ..k]`, column after column.
    prev: &'a [T],
    /// `L[k, ..k]`.
    row: &'a [T],
    /// `1 / L[k, k]`.
    inv_pivot: T,
    /// `t_k = <q_k, x>`.
    t: T,
    /// See [`exact_fit_correlation`].
    min_corr: T,
}

impl<T: Float> Sweep<'_, T> {
    /// Runs the sweep (see [`Sweep`]), writing `v` and updating `corr` (and
    /// `outside` for ORMP); returns the next atom: the largest
    /// `|c_j| weights_j` (OMP) or `c_j^2 / e_j` (ORMP) among the atoms with
    /// `|c_j| weights_j > min_corr` (and, for ORMP, `e_j` above its floor),
    /// the first on ties.
    ///
    /// One pass over the atoms in chunks of [`LANES`]: the new column of a
    /// chunk is summed in registers (the same sums in the same order as atom
    /// by atom), then updated, and each lane keeps its own running best, so
    /// that the compiler vectorises the selection too. ORMP ranks every atom
    /// above its floor (selected atoms have an infinite floor) and checks
    /// the correlation threshold on the winner only; in the rare case that
    /// it fails (a nearly exact fit), a second scan applies the threshold to
    /// every atom, so the result is the same as filtering first.
    #[inline(always)]
    fn run<const ORMP: bool>(
        &self,
        v: &mut [T],
        corr: &mut [T],
        weights: &[T],
        outside: &mut [T],
        outside_floor: &[T],
    ) -> Option<usize> {
        let n_atoms = v.len();
        let mut best = Lanes::new(if ORMP { T::zero() } else { self.min_corr });
        let body = n_atoms - n_atoms % LANES;
        // Column i of V starts at i * n_atoms (offsets computed once: no
        // division per chunk to count the columns).
        let prev = &self.prev[..self.row.len() * n_atoms];
        for base in (0..body).step_by(LANES) {
            let chunk = base..base + LANES;
            let mut acc: [T; LANES] = lanes(&self.g_col[chunk.clone()]);
            let mut start = base;
            for &l in self.row {
                let p: [T; LANES] = lanes(&prev[start..start + LANES]);
                for q in 0..LANES {
                    acc[q] -= l * p[q];
                }
                start += n_atoms;
            }
            let v_out: &mut [T; LANES] = (&mut v[chunk.clone()]).try_into().expect("a chunk of LANES");
            let c_io: &mut [T; LANES] = (&mut corr[chunk.clone()]).try_into().expect("a chunk of LANES");
            let mut vj = [T::zero(); LANES];
            let mut c = [T::zero(); LANES];
            for q in 0..LANES {
                vj[q] = acc[q] * self.inv_pivot;
                c[q] = c_io[q] - self.t * vj[q];
            }
            *v_out = vj;
            *c_io = c;
            if ORMP {
                let e_io: &mut [T; LANES] = (&mut outside[chunk.clone()]).try_into().expect("a chunk of LANES");
                let floor: [T; LANES] = lanes(&outside_floor[chunk]);
                let mut e = [T::zero(); LANES];
                for q in 0..LANES {
                    e[q] = e_io[q] - vj[q] * vj[q];
                }
                *e_io = e;
                best.offer_ratio(&c, &e, &floor);
            } else {
                best.offer(&c, &lanes(&weights[chunk]));
            }
        }
        for j in body..n_atoms {
            let mut acc = self.g_col[j];
            for (i, &l) in self.row.iter().enumerate() {
                acc -= l * prev[i * n_atoms + j];
            }
            let vj = acc * self.inv_pivot;
            v[j] = vj;
            let c = corr[j] - self.t * vj;
            corr[j] = c;
            let q = j % LANES;
            if ORMP {
                let e = outside[j] - vj * vj;
                outside[j] = e;
                let num = c * c;
                if e > outside_floor[j] && num * best.den[q] > best.num[q] * e {
                    (best.num[q], best.den[q], best.arg[q]) = (num, e, T::of(j as f64));
                }
            } else {
                let score = c.abs() * weights[j];
                if score > best.num[q] {
                    (best.num[q], best.arg[q]) = (score, T::of(j as f64));
                }
            }
        }
        let winner = best.winner();
        match winner {
            Some(w) if ORMP && corr[w].abs() * weights[w] <= self.min_corr => {
                ratio_above_threshold(corr, weights, outside, outside_floor, self.min_corr)
            }
            _ => winner,
        }
    }
}

/// ORMP's selection with the correlation threshold on every atom: the
/// largest `c_j^2 / e_j` among the atoms with `|c_j| weights_j > min_corr` and
/// `e_j > floor_j`, the first on ties (the fallback of [`Sweep::run`]).
#[cold]
fn ratio_above_threshold<T: Float>(
    corr: &[T],
    weights: &[T],
    outside: &[T],
    floor: &[T],
    min_corr: T,
) -> Option<usize> {
    let mut best = Lanes::new(T::zero());
    for (j, (((&c, &w), &e), &f)) in corr.iter().zip(weights).zip(outside).zip(floor).enumerate() {
        let (num, q) = (c * c, j % LANES);
        if c.abs() * w > min_corr && e > f && num * best.den[q] > best.num[q] * e {
            (best.num[q], best.den[q], best.arg[q]) = (num, e, T::of(j as f64));
        }
    }
    best.winner()
}

/// The atom with the largest `|c_j| weights_j` above `min_corr` (the first on
/// ties): [`select`] by the lanes of a sweep, inlined into the pursuit.
#[inline(always)]
fn first_atom<T: Float>(corr: &[T], weights: &[T], min_corr: T) -> Option<usize> {
    let mut best = Lanes::new(min_corr);
    let body = corr.len() - corr.len() % LANES;
    for base in (0..body).step_by(LANES) {
        best.offer(&lanes(&corr[base..base + LANES]), &lanes(&weights[base..base + LANES]));
    }
    for j in body..corr.len() {
        let (score, q) = (corr[j].abs() * weights[j], j % LANES);
        if score > best.num[q] {
            (best.num[q], best.arg[q]) = (score, T::of(j as f64));
        }
    }
    best.winner()
}

/// `LANES` consecutive values as an array (the slice has exactly that length).
#[inline(always)]
fn lanes<T: Float>(slice: &[T]) -> [T; LANES] {
    slice.try_into().expect("a chunk of LANES")
}

/// Running best of each lane of a sweep: the score `num / den` (OMP: `den`
/// stays 1) and its atom, as a float so that every update is one vector
/// blend (exact: Gram-based coding never has anywhere near `2^24` atoms);
/// `-1`: none yet.
struct Lanes<T> {
    num: [T; LANES],
    den: [T; LANES],
    arg: [T; LANES],
    /// The atoms of the next chunk offered, `base, base + 1, ...`: one
    /// vector add per chunk instead of a conversion from the integer index.
    next: [T; LANES],
}

impl<T: Float> Lanes<T> {
    /// No atom yet; scores must beat `start` (OMP: the exact-fit threshold,
    /// ORMP: zero, the threshold being applied to the correlation).
    #[inline(always)]
    fn new(start: T) -> Self {
        Self {
            num: [start; LANES],
            den: [T::one(); LANES],
            arg: [-T::one(); LANES],
            next: std::array::from_fn(|q| T::of(q as f64)),
        }
    }

    /// Moves `next` to the following chunk.
    #[inline(always)]
    fn advance(&mut self) {
        for q in 0..LANES {
            self.next[q] += T::of(LANES as f64);
        }
    }

    /// OMP: the atoms `next` with scores `|c_q| w_q`; then the next chunk.
    #[inline(always)]
    fn offer(&mut self, c: &[T; LANES], w: &[T; LANES]) {
        let (mut num, mut arg) = (self.num, self.arg);
        for q in 0..LANES {
            let score = c[q].abs() * w[q];
            let better = score > num[q];
            num[q] = if better { score } else { num[q] };
            arg[q] = if better { self.next[q] } else { arg[q] };
        }
        (self.num, self.arg) = (num, arg);
        self.advance();
    }

    /// ORMP: the atoms `next` with scores `c_q^2 / e_q`, candidates when
    /// `e_q > floor_q`; then the next chunk.
    #[inline(always)]
    fn offer_ratio(&mut self, c: &[T; LANES], e: &[T; LANES], floor: &[T; LANES]) {
        let (mut num, mut den, mut arg) = (self.num, self.den, self.arg);
        for q in 0..LANES {
            let sq = c[q] * c[q];
            let better = (e[q] > floor[q]) & (sq * den[q] > num[q] * e[q]);
            num[q] = if better { sq } else { num[q] };
            den[q] = if better { e[q] } else { den[q] };
            arg[q] = if better { self.next[q] } else { arg[q] };
        }
        (self.num, self.den, self.arg) = (num, den, arg);
        self.advance();
    }

    /// The best atom over the lanes, the smallest index on ties.
    fn winner(&self) -> Option<usize> {
        let mut winner: Option<usize> = None;
        for l in 0..LANES {
            let k = self.arg[l];
            if k < T::zero() {
                continue;
            }
            let beats = |w: usize| {
                let lhs = self.num[l] * self.den[w];
                let rhs = self.num[w] * self.den[l];
                lhs > rhs || (lhs == rhs && k < self.arg[w])
            };
            if winner.is_none_or(beats) {
                winner = Some(l);
            }
        }
        winner.map(|l| self.arg[l].as_f64() as usize)
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
