//! The dictionary update from sufficient statistics by block-coordinate
//! descent over the atoms (Mairal, Bach, Ponce & Sapiro, JMLR 2010, Alg. 2),
//! shared by the online learner and the batch learner's
//! [`DictionaryUpdate::BlockCoordinate`](super::batch::DictionaryUpdate::BlockCoordinate).

use super::project_atom;
use crate::linalg::gemm;
use crate::Float;
use faer::{Accum, Mat, MatMut, MatRef, Par};

/// One pass of block-coordinate descent over the atoms of `d`
/// (`n_atoms x n_features`) on
/// `f(D) = 0.5 <D D^T, A> - <B, D>` (which is `0.5 ||X - Z D||^2` up to a
/// constant when `A = Z^T Z` and `B = Z^T X`), over atoms in the unit ball (and
/// the non-negative orthant when `nonneg`):
///
/// `d_j <- proj(d_j + (b_j - a_j^T D) / A_jj)` (Alg. 2, in rows),
///
/// the exact minimiser over atom `j` with the others fixed, so `f` never
/// increases. Atoms with `A_jj <= dead_below` (unused by the codes) or whose
/// update projects to zero are left unchanged and returned, for the caller to
/// resample.
///
/// ```
/// use sparsecode::learn::atom_update::update_atoms;
/// // One sample x = (0, 2) coded by z = 1 on a single atom: the update moves the
/// // atom to x / ||x|| (projected onto the unit ball).
/// let mut d = faer::mat![[1.0, 0.0]];
/// let a = faer::mat![[1.0]];
/// let b = faer::mat![[0.0, 2.0]];
/// let dead = update_atoms(d.as_mut(), a.as_ref(), b.as_ref(), false, 0.0);
/// assert!(dead.is_empty());
/// assert_eq!(d, faer::mat![[0.0, 1.0]]);
/// ```
pub fn update_atoms<T: Float>(
    mut d: MatMut<'_, T>,
    a: MatRef<'_, T>,
    b: MatRef<'_, T>,
    nonneg: bool,
    dead_below: T,
) -> Vec<usize> {
    let (n_atoms, n_features) = d.shape();
    debug_assert_eq!(a.shape(), (n_atoms, n_atoms));
    debug_assert_eq!(b.shape(), (n_atoms, n_features));
    let mut dead = Vec::new();
    let mut atom = vec![T::zero(); n_features];
    let mut combination = Mat::<T>::zeros(n_features, 1);
    for j in 0..n_atoms {
        let ajj = a[(j, j)];
        if ajj <= dead_below.max(T::zero()) {
            dead.push(j);
            continue;
        }
        let inv = ajj.recip();
        // D^T a_j (a_j: column j of A, = row j as A is symmetric), with the
        // atoms updated so far (Gauss-Seidel), as one matrix-vector product.
        gemm(combination.as_mut(), Accum::Replace, d.as_ref().transpose(), a.subcols(j, 1), Par::Seq);
        for (f, u) in atom.iter_mut().enumerate() {
            *u = d[(j, f)] + (b[(j, f)] - combination[(f, 0)]) * inv;
        }
        let norm = project_atom(&mut atom, nonneg);
        if norm <= T::epsilon() {
            dead.push(j);
            continue;
        }
        for (f, &u) in atom.iter().enumerate() {
            d[(j, f)] = u;
        }
    }
    dead
}

#[cfg(test)]
mod tests {
    use super::*;

    fn objective(d: &Mat<f64>, x: &Mat<f64>, z: &Mat<f64>) -> f64 {
        let mut zd = Mat::zeros(x.nrows(), x.ncols());
        gemm(zd.as_mut(), Accum::Replace, z.as_ref(), d.as_ref(), Par::Seq);
        let mut sum = 0.0;
        for j in 0..x.ncols() {
            for i in 0..x.nrows() {
                sum += (x[(i, j)] - zd[(i, j)]).powi(2);
            }
        }
        0.5 * sum
    }

    #[test]
    fn each_atom_becomes_the_constrained_minimiser_and_the_objective_drops() {
        let x = Mat::<f64>::from_fn(20, 5, |i, j| (((i * 7 + j * 11) % 13) as f64 - 6.0) / 3.0);
        let z = Mat::<f64>::from_fn(20, 3, |i, j| if (i + j) % 3 == 0 { 1.0 + (i % 4) as f64 * 0.5 } else { 0.0 });
        let mut d = Mat::<f64>::from_fn(3, 5, |i, j| if i == j { 1.0 } else { 0.1 });
        let mut a = Mat::zeros(3, 3);
        gemm(a.as_mut(), Accum::Replace, z.transpose(), z.as_ref(), Par::Seq);
        let mut b = Mat::zeros(3, 5);
        gemm(b.as_mut(), Accum::Replace, z.transpose(), x.as_ref(), Par::Seq);
        let before = objective(&d, &x, &z);
        let dead = update_atoms(d.as_mut(), a.as_ref(), b.as_ref(), false, 0.0);
        assert!(dead.is_empty());
        let after = objective(&d, &x, &z);
        assert!(after < before, "{after} !< {before}");
        // After the pass, the last atom is optimal with the others fixed: no
        // feasible perturbation of it lowers the objective.
        for f in 0..5 {
            for step in [1e-4, -1e-4] {
                let mut p = d.clone();
                p[(2, f)] += step;
                let norm: f64 = (0..5).map(|c| p[(2, c)] * p[(2, c)]).sum::<f64>().sqrt();
                for c in 0..5 {
                    p[(2, c)] /= norm.max(1.0);
                }
                assert!(objective(&p, &x, &z) >= after - 1e-12);
            }
        }
    }

    #[test]
    fn unused_atoms_are_reported_and_nonneg_atoms_stay_nonneg() {
        let a = faer::mat![[2.0, 0.0], [0.0, 0.0]];
        let b = faer::mat![[-1.0, 3.0], [0.0, 0.0]];
        let mut d = faer::mat![[0.0, 1.0], [1.0, 0.0]];
        let dead = update_atoms(d.as_mut(), a.as_ref(), b.as_ref(), true, 1e-12);
        assert_eq!(dead, vec![1]);
        assert_eq!(d, faer::mat![[0.0, 1.0], [1.0, 0.0]]);
    }
}
