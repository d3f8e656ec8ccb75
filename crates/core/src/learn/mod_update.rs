//! The MOD dictionary update (method of optimal directions; Engan, Aase &
//! Husoy, ICASSP 1999, eq. 8): for fixed codes the least-squares dictionary
//! `D = (Z^T Z)^-1 Z^T X` (in rows; `X Z^T (Z Z^T)^-1` in the paper's columns).

use crate::linalg::gemm;
use crate::Float;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::cholesky::llt;
use faer::{Accum, Mat, MatMut, MatRef, Par};

/// Replaces the atoms used by the codes with the least-squares dictionary for
/// the codes `codes_t` (`n_atoms x n_samples`, one code per column) and the
/// data `x` (`n_samples x n_features`), then scales every atom to unit norm
/// and its codes by the inverse factor, so that `Z D` is the least-squares
/// fit. Atoms no code uses are left unchanged (the batch learner replaces
/// them).
///
/// `Z^T Z` is restricted to the used atoms and solved by Cholesky; if it is
/// singular (linearly dependent code columns: a pivot below 16 machine epsilons
/// of the mean diagonal), a ridge of `1e-10` times its
/// mean diagonal is added, growing 100-fold until the factorisation succeeds.
///
/// ```
/// use sparsecode::learn::mod_update::update_mod;
/// // Two samples, each coded by one atom with coefficient 2: the atoms become
/// // the normalised samples and the codes their norms.
/// let x = faer::mat![[3.0, 4.0], [0.0, -1.0]];
/// let mut codes_t = faer::mat![[2.0, 0.0], [0.0, 2.0]];
/// let mut atoms = faer::mat![[1.0, 0.0], [0.0, 1.0]];
/// update_mod(&mut atoms, codes_t.as_mut(), x.as_ref());
/// assert!((atoms[(0, 0)] - 0.6f64).abs() < 1e-12 && (atoms[(1, 1)] + 1.0).abs() < 1e-12);
/// assert!((codes_t[(0, 0)] - 5.0f64).abs() < 1e-12 && (codes_t[(1, 1)] - 1.0).abs() < 1e-12);
/// ```
pub fn update_mod<T: Float>(atoms: &mut Mat<T>, mut codes_t: MatMut<'_, T>, x: MatRef<'_, T>) {
    let k = atoms.nrows();
    let p = atoms.ncols();
    let mut a = Mat::<T>::zeros(k, k);
    let mut b = Mat::<T>::zeros(k, p);
    gemm(a.as_mut(), Accum::Replace, codes_t.as_ref(), codes_t.as_ref().transpose(), crate::linalg::par());
    gemm(b.as_mut(), Accum::Replace, codes_t.as_ref(), x, crate::linalg::par());
    let used: Vec<usize> = (0..k).filter(|&j| a[(j, j)] > T::zero()).collect();
    if used.is_empty() {
        return;
    }
    let u = used.len();
    let a_used = Mat::<T>::from_fn(u, u, |r, c| a[(used[r], used[c])]);
    let mut solution = Mat::<T>::from_fn(u, p, |r, f| b[(used[r], f)]);
    let mean_diag = (0..u).map(|r| a_used[(r, r)]).fold(T::zero(), |s, v| s + v) / T::of(u as f64);
    let mut ridge = T::zero();
    let factor = loop {
        let mut l = a_used.clone();
        for r in 0..u {
            l[(r, r)] += ridge;
        }
        // A pivot below machine precision (relative) means a numerically
        // singular system, whose solution would be rounding noise.
        let floor = mean_diag * T::epsilon() * T::of(16.0);
        if cholesky_in_place(l.as_mut()) && (0..u).all(|r| l[(r, r)] * l[(r, r)] > floor) {
            break l;
        }
        ridge = if ridge == T::zero() { mean_diag * T::of(1e-10) } else { ridge * T::of(100.0) };
    };
    let mut mem = MemBuffer::new(llt::solve::solve_in_place_scratch::<T>(u, p, Par::Seq));
    llt::solve::solve_in_place(factor.as_ref(), solution.as_mut(), Par::Seq, MemStack::new(&mut mem));

    for (r, &j) in used.iter().enumerate() {
        let norm = (0..p).map(|f| solution[(r, f)] * solution[(r, f)]).fold(T::zero(), |s, v| s + v).sqrt();
        if norm > T::zero() {
            let inv = norm.recip();
            for f in 0..p {
                atoms[(j, f)] = solution[(r, f)] * inv;
            }
            for i in 0..codes_t.ncols() {
                codes_t[(j, i)] *= norm;
            }
        } else {
            // The least-squares atom is zero: it contributes nothing, so drop
            // its codes and keep the old atom for the unused-atom rule.
            codes_t.as_mut().row_mut(j).fill(T::zero());
        }
    }
}

/// Cholesky factorisation `A = L L^T` in place (lower triangle), sequential so
/// that results do not depend on the thread count. `false` if `A` is not
/// (numerically) positive definite.
fn cholesky_in_place<T: Float>(a: MatMut<'_, T>) -> bool {
    let n = a.nrows();
    let mut mem = MemBuffer::new(llt::factor::cholesky_in_place_scratch::<T>(n, Par::Seq, Default::default()));
    llt::factor::cholesky_in_place(a, Default::default(), Par::Seq, MemStack::new(&mut mem), Default::default()).is_ok()
}
