//! Cyclic coordinate descent for the Lasso / elastic net on the Gram matrix,
//! with a duality-gap stop and Gap Safe screening.
//!
//! A full sweep visits the atoms in order and minimises the objective exactly
//! in one coordinate (Friedman, Hastie & Tibshirani, "Pathwise coordinate
//! optimization", Ann. Appl. Stat. 2007, eq. 9, in its covariance form):
//! `z_k <- soft(G_kk z_k - (G z - D x)_k, lambda) / (G_kk + l2)`, after which
//! the product `G z` is updated with column `k` of `G`. Nothing of size
//! `n_features` is touched. Between full sweeps the solver sweeps the non-zero
//! coordinates alone, keeping `G z` on them only, until the problem restricted
//! to them is solved (the active-set cycling of Friedman, Hastie & Tibshirani,
//! "Regularization paths for generalized linear models via coordinate
//! descent", J. Stat. Softw. 2010, sec. 2.6); `G z` is then recomputed from the
//! non-zeros and the next full sweep checks the other atoms. Before those
//! sweeps the restricted problem is tried directly, by one Cholesky solve on
//! the non-zeros with their signs fixed (see `direct_step`): on coherent,
//! ill-conditioned dictionaries cyclic sweeps need thousands of passes there.
//! `n_iter` counts both kinds of sweep (not the direct solves).
//!
//! After every full sweep the duality gap (Fercoq, Gramfort & Salmon, "Mind the
//! duality gap: safer rules for the Lasso", ICML 2015) is evaluated; the
//! solver stops when it is at most `tol * 0.5 ||x||^2`, i.e. `tol` relative to
//! the objective at `z = 0` (so `tol` means the same for signals of any
//! scale; it is raised to `64 eps` of the working precision, below which the
//! gap's own rounding dominates). With `lambda = 0` the gap is uninformative
//! and the solver stops when the KKT violation is at most
//! `tol * max_k |(D x)_k|`.
//!
//! With `screening`, the same gap gives the Gap Safe sphere test (Fercoq et al.
//! 2015, eq. 10): an atom with `|<d_k, theta>| + sqrt(2 gap) ||d_k|| < lambda`
//! for the rescaled dual point `theta` is zero at the solution; it is set to
//! zero and never visited again for this signal, and once fewer than half the
//! atoms remain `G z` is kept on those alone. The test runs after every full
//! sweep (it costs one pass over the remaining atoms, less than a sweep). It
//! pays most on warm starts.
//!
//! ```
//! use sparsecode::encode::{cd::CoordinateDescent, encode, lasso::ElasticNet};
//! use sparsecode::Dictionary;
//! let d = Dictionary::new(faer::mat![[1.0, 0.0], [0.0, 1.0]]).unwrap();
//! let out = encode(&CoordinateDescent::new(ElasticNet::lasso(1.0)), &d, faer::mat![[3.0, 0.5]].as_ref()).unwrap();
//! assert!((out.codes[(0, 0)] - 2.0f64).abs() < 1e-12);
//! assert_eq!(out.codes[(0, 1)], 0.0);
//! assert!(out.reports[0].converged);
//! ```

use super::lasso::{
    check_iterative, gap_certificate, gap_threshold, gram_col, gram_times, kkt_threshold, kkt_violation_from_gz,
    ElasticNet, GapCertificate, PenaltyScalars, Prox, DEFAULT_MAX_ITER, DEFAULT_TOL,
};
use super::{Encoder, Signal, SolveStatus};
use crate::linalg::GrowingCholesky;
use crate::{Dictionary, Float, Result};
use faer::MatRef;

/// At most this many sweeps over the non-zeros between two full sweeps.
const MAX_INNER_SWEEPS: usize = 50;

/// Sweeps over the non-zeros between two tries of the direct step (each try
/// costs about `|W| / 3` such sweeps).
const DIRECT_EVERY: usize = 10;

/// Coordinate-descent Lasso / elastic-net encoder (see the [module](self)
/// documentation). Warm-starts from the incoming code.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CoordinateDescent {
    /// The penalty.
    pub penalty: ElasticNet,
    /// Stop when the duality gap is at most `tol * 0.5 ||x||^2`.
    pub tol: f64,
    /// Maximum number of sweeps over the atoms.
    pub max_iter: usize,
    /// Gap Safe screening of atoms.
    pub screening: bool,
}

impl CoordinateDescent {
    /// Coordinate descent for `penalty` with `tol = 1e-6`, `max_iter = 1000`
    /// and screening on.
    pub fn new(penalty: ElasticNet) -> Self {
        Self { penalty, tol: DEFAULT_TOL, max_iter: DEFAULT_MAX_ITER, screening: true }
    }

    /// Sets the relative duality-gap tolerance.
    pub fn with_tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// Sets the maximum number of sweeps.
    pub fn with_max_iter(mut self, max_iter: usize) -> Self {
        self.max_iter = max_iter;
        self
    }

    /// Turns Gap Safe screening on or off.
    pub fn with_screening(mut self, screening: bool) -> Self {
        self.screening = screening;
        self
    }
}

/// Scratch memory of [`CoordinateDescent`].
#[derive(Debug)]
pub struct CdWorkspace<T> {
    /// `G z`, exact on the atoms not screened out.
    gz: Vec<T>,
    /// Atoms not screened out, in increasing order.
    remaining: Vec<usize>,
    /// Non-zero atoms screened out in the current test.
    zeroed: Vec<usize>,
    /// The non-zero atoms, swept alone between full sweeps.
    working: Vec<usize>,
    /// `1 / (G_kk + l2)` for every atom.
    inv_denominator: Vec<T>,
    /// Cholesky factor of `(G + l2 I)` on the non-zeros, for the direct step.
    chol: GrowingCholesky<T>,
    /// Cross products `G[k, W]`, then the direct step's right-hand side and
    /// solution (scratch).
    cross: Vec<T>,
    step: Vec<T>,
}

impl<T: Float> Encoder<T> for CoordinateDescent {
    type Workspace = CdWorkspace<T>;

    fn check(&self, _dict: &Dictionary<T>) -> Result<()> {
        check_iterative(&self.penalty, self.tol, self.max_iter)
    }

    fn workspace(&self, dict: &Dictionary<T>) -> CdWorkspace<T> {
        CdWorkspace {
            gz: vec![T::zero(); dict.n_atoms()],
            remaining: Vec::with_capacity(dict.n_atoms()),
            zeroed: Vec::with_capacity(dict.n_atoms()),
            working: Vec::with_capacity(dict.n_atoms()),
            inv_denominator: (0..dict.n_atoms())
                .map(|k| (dict.gram()[(k, k)] + T::of(self.penalty.l2)).recip())
                .collect(),
            chol: GrowingCholesky::new(dict.n_atoms()),
            cross: Vec::with_capacity(dict.n_atoms()),
            step: Vec::with_capacity(dict.n_atoms()),
        }
    }

    fn encode_one(
        &self,
        dict: &Dictionary<T>,
        signal: &Signal<'_, T>,
        code: &mut [T],
        ws: &mut CdWorkspace<T>,
    ) -> SolveStatus {
        let p = self.penalty.scalars::<T>();
        let gram = dict.gram();
        if p.nonneg {
            // A warm start outside the feasible set: project it first.
            code.iter_mut().filter(|v| **v < T::zero()).for_each(|v| *v = T::zero());
        }
        gram_times(gram, code, &mut ws.gz);
        ws.remaining.clear();
        ws.remaining.extend(0..code.len());
        let screening = self.screening && p.lambda > T::zero();
        let threshold = if p.lambda > T::zero() {
            gap_threshold(self.tol, signal.norm_sq)
        } else {
            kkt_threshold(self.tol, signal.dx)
        };
        // Optimality on a subset of atoms (all when `None`), with `G z` exact there.
        let certify = |code: &[T], gz: &[T], subset: Option<&[usize]>| -> (bool, GapCertificate) {
            if p.lambda == T::zero() {
                let kkt = kkt_violation_from_gz(&p, signal.dx, gz, code, subset);
                return (kkt <= threshold, GapCertificate { gap: f64::INFINITY, inv_scale: 0.0 });
            }
            let cert = gap_certificate(&p, signal.dx, gz, signal.norm_sq, code, subset);
            (cert.gap <= threshold, cert)
        };
        let mut sweeps = 0;
        while sweeps < self.max_iter {
            // A sweep over every atom not screened out, `G z` kept exact on them.
            sweeps += 1;
            let subset = screening.then_some(&ws.remaining[..]);
            let rows = update_rows(subset, code.len());
            sweep(&p, gram, &ws.inv_denominator, signal.dx, code, &ws.remaining, &mut ws.gz, rows);
            let (done, cert) = certify(code, &ws.gz, subset);
            if done {
                return SolveStatus { n_iter: sweeps, converged: true };
            }
            if screening {
                screen(&p, gram, signal.dx, cert.gap, cert.inv_scale, code, ws);
            }
            // The problem restricted to the non-zeros: solved directly when
            // the signs hold, else by sweeps over them, `G z` kept on them
            // alone.
            ws.working.clear();
            ws.working.extend(ws.remaining.iter().copied().filter(|&k| code[k] != T::zero()));
            let solved = direct_step(&p, gram, signal.dx, code, ws);
            for inner in 0..if solved { 0 } else { MAX_INNER_SWEEPS } {
                if ws.working.is_empty() || sweeps == self.max_iter {
                    break;
                }
                // The signs may have settled since the last try.
                if inner > 0 && inner % DIRECT_EVERY == 0 {
                    ws.working.retain(|&k| code[k] != T::zero());
                    if direct_step(&p, gram, signal.dx, code, ws) {
                        break;
                    }
                }
                sweeps += 1;
                sweep(&p, gram, &ws.inv_denominator, signal.dx, code, &ws.working, &mut ws.gz, Some(&ws.working));
                if certify(code, &ws.gz, Some(&ws.working)).0 {
                    break;
                }
            }
            // `G z` exact again on every atom not screened out.
            let rows = update_rows(screening.then_some(&ws.remaining[..]), code.len());
            match rows {
                Some(list) => list.iter().for_each(|&i| ws.gz[i] = T::zero()),
                None => ws.gz.fill(T::zero()),
            }
            for &k in &ws.working {
                axpy_on(code[k], gram_col(gram, k), &mut ws.gz, rows);
            }
        }
        SolveStatus { n_iter: self.max_iter, converged: false }
    }

    fn penalty(&self, code: &[T]) -> T {
        self.penalty.value(code)
    }
}

/// The exact minimiser of the problem restricted to the non-zeros `W` with
/// their signs `s` fixed: `(G + l2 I)_WW u = (D x)_W - lambda s` (the
/// active-set step of Osborne, Presnell & Turlach, "A new approach to
/// variable selection in least squares problems", IMA J. Numer. Anal. 2000).
/// Taken, and `true` returned, only when `u` keeps every sign; it then solves
/// the restricted problem exactly, where cyclic sweeps converge at a rate set
/// by the conditioning of `G_WW` (thousands of sweeps on coherent
/// dictionaries such as digit images). The next full sweep and its duality
/// gap still decide convergence, so a step taken on a wrong support only
/// costs a sweep. `false` (nothing changed) when the signs do not hold or
/// `G_WW` is numerically singular.
fn direct_step<T: Float>(
    p: &PenaltyScalars<T>,
    gram: MatRef<'_, T>,
    dx: &[T],
    code: &mut [T],
    ws: &mut CdWorkspace<T>,
) -> bool {
    ws.chol.clear();
    ws.step.clear();
    if ws.working.is_empty() || ws.working.len() > ws.chol.capacity() {
        return false;
    }
    for (a, &k) in ws.working.iter().enumerate() {
        let column = gram_col(gram, k);
        ws.cross.clear();
        ws.cross.extend(ws.working[..a].iter().map(|&i| column[i]));
        if !ws.chol.push(&ws.cross, column[k] + p.l2) {
            return false;
        }
        let sign = if code[k] > T::zero() { T::one() } else { -T::one() };
        ws.step.push(dx[k] - p.lambda * sign);
    }
    ws.chol.solve_in_place(&mut ws.step);
    if !ws.working.iter().zip(&ws.step).all(|(&k, &u)| u * code[k] > T::zero()) {
        return false;
    }
    for (&k, &u) in ws.working.iter().zip(&ws.step) {
        code[k] = u;
    }
    true
}

/// Where `G z` must be kept exact when the atoms of `subset` remain: on those
/// only (an indexed update) when they are few, else on all atoms (a
/// contiguous update, which vectorises and costs less than a long indexed one).
#[inline(always)]
fn update_rows(subset: Option<&[usize]>, n_atoms: usize) -> Option<&[usize]> {
    subset.filter(|list| 2 * list.len() < n_atoms)
}

/// One pass of exact coordinate minimisation over `atoms`, in order, keeping
/// `G z` exact on `rows` (on all atoms when `None`):
/// `z_k <- soft(G_kk z_k - (G z - D x)_k, lambda) / (G_kk + l2)`.
#[allow(clippy::too_many_arguments)]
fn sweep<T: Float>(
    p: &PenaltyScalars<T>,
    gram: MatRef<'_, T>,
    inv_denominator: &[T],
    dx: &[T],
    code: &mut [T],
    atoms: &[usize],
    gz: &mut [T],
    rows: Option<&[usize]>,
) {
    for &k in atoms {
        let old = code[k];
        let coordinate = Prox { threshold: p.lambda, scale: inv_denominator[k], nonneg: p.nonneg };
        let new = coordinate.apply(gram[(k, k)] * old - (gz[k] - dx[k]));
        if new != old {
            code[k] = new;
            axpy_on(new - old, gram_col(gram, k), gz, rows);
        }
    }
}

/// `gz += delta * column`, on the atoms of `subset` only when given.
#[inline(always)]
fn axpy_on<T: Float>(delta: T, column: &[T], gz: &mut [T], subset: Option<&[usize]>) {
    match subset {
        Some(list) => list.iter().for_each(|&i| gz[i] += delta * column[i]),
        None => gz.iter_mut().zip(column).for_each(|(g, &c)| *g += delta * c),
    }
}

/// Removes from `ws.remaining` the atoms that the Gap Safe sphere test proves
/// zero at the solution, zeroing their coefficients.
fn screen<T: Float>(
    p: &PenaltyScalars<T>,
    gram: MatRef<'_, T>,
    dx: &[T],
    gap: f64,
    inv_scale: f64,
    code: &mut [T],
    ws: &mut CdWorkspace<T>,
) {
    let lambda = p.lambda.as_f64();
    let l2 = p.l2.as_f64();
    let radius = (2.0 * gap.max(0.0)).sqrt();
    // Keep a margin for the rounding of the gap and the correlations.
    let bound = lambda * (1.0 - 1024.0 * T::epsilon().as_f64());
    let mut kept = 0;
    for idx in 0..ws.remaining.len() {
        let k = ws.remaining[idx];
        let z = code[k].as_f64();
        let corr = (dx[k].as_f64() - ws.gz[k].as_f64() - l2 * z) * inv_scale;
        let corr = if p.nonneg { corr } else { corr.abs() };
        let norm = (gram[(k, k)].as_f64() + l2).sqrt();
        if corr + radius * norm < bound {
            if code[k] != T::zero() {
                ws.zeroed.push(k);
            }
        } else {
            ws.remaining[kept] = k;
            kept += 1;
        }
    }
    ws.remaining.truncate(kept);
    // Screened atoms that were non-zero (warm starts): zero them and update
    // `G z` on the atoms that remain.
    for &k in &ws.zeroed {
        let delta = -code[k];
        code[k] = T::zero();
        axpy_on(delta, gram_col(gram, k), &mut ws.gz, Some(&ws.remaining));
    }
    ws.zeroed.clear();
}
