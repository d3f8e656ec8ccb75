//! The K-SVD dictionary update (Aharon, Elad & Bruckstein, IEEE TSP 54(11)
//! 2006, sec. IV-B) and its approximate variant (Rubinstein, Zibulevsky &
//! Elad, Technion CS-2008-08, Alg. 5).

use crate::Float;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, Par, Side};

/// Updates every atom in turn together with its non-zero coefficients; the
/// supports of the codes do not change.
///
/// For atom `j`, with `w` the samples whose code uses it, `g = Z[w, j]` and
/// `E = X_w - Z_w D + g d_j^T` the residual of those samples without atom `j`:
///
/// - exact (`approximate = false`): `g d_j^T <- sigma_1 u_1 v_1^T`, the best
///   rank-1 approximation of `E` (eq. 25; only `v_1` is computed, as the top
///   eigenvector of `E^T E`, then `g = E v_1`);
/// - approximate: one power step from the current coefficients,
///   `d_j <- E^T g / ||E^T g||`, `g <- E d_j`. `E` is never formed:
///   `E^T g = R_w^T g + (g^T g) d_j` and `E d = R_w d + g (d_j^T d)` from the
///   residual `R = X - Z D`.
///
/// Both give the exact minimiser over `g` for the new atom and never increase
/// `||X - Z D||_F`. `codes_t` holds one code per column (`n_atoms x
/// n_samples`); `residual_t` (`n_features x n_samples`, one residual per
/// column, so that the rows of `R_w` are contiguous) must be `(X - Z D)^T` on
/// entry and is kept so. Atoms no code uses are left unchanged.
///
/// ```
/// use sparsecode::learn::ksvd::update_ksvd;
/// // One atom used by two samples with wrong coefficients: K-SVD finds the
/// // exact rank-1 fit of x = [[2, 0], [4, 0]].
/// let x = faer::mat![[2.0, 0.0], [4.0, 0.0]];
/// let mut atoms = faer::mat![[0.6f64, 0.8]];
/// let mut codes_t = faer::mat![[1.0, 1.0]];
/// let mut residual_t = faer::mat![[1.4, 3.4], [-0.8, -0.8]];
/// update_ksvd(&mut atoms, codes_t.as_mut(), &mut residual_t, false);
/// assert!(residual_t.as_ref().norm_max() < 1e-12);
/// assert!((atoms[(0, 0)].abs() - 1.0).abs() < 1e-12);
/// ```
pub fn update_ksvd<T: Float>(
    atoms: &mut Mat<T>,
    mut codes_t: MatMut<'_, T>,
    residual_t: &mut Mat<T>,
    approximate: bool,
) {
    let (k, p) = atoms.shape();
    // The samples using each atom, from one pass down the contiguous columns
    // of `codes_t` (its rows are strided). Supports do not change, and row `j`
    // changes only while atom `j` is updated.
    let mut users: Vec<Vec<usize>> = vec![Vec::new(); k];
    for i in 0..codes_t.ncols() {
        let code = codes_t.as_ref().col(i);
        for (j, atom_users) in users.iter_mut().enumerate() {
            if code[j] != T::zero() {
                atom_users.push(i);
            }
        }
    }
    let mut g = Vec::new();
    let mut new_g = Vec::new();
    let mut old_atom = vec![T::zero(); p];
    let mut new_atom = vec![T::zero(); p];
    for (j, support) in users.iter().enumerate() {
        if support.is_empty() {
            continue;
        }
        g.clear();
        g.extend(support.iter().map(|&i| codes_t[(j, i)]));
        let support = support.as_slice();
        super::copy_row(atoms.as_ref(), j, &mut old_atom);
        let found = if approximate {
            power_step(residual_t, support, &g, &old_atom, &mut new_atom)
        } else {
            top_right_singular_vector(residual_t, support, &g, &old_atom, &mut new_atom)
        };
        if !found {
            continue;
        }
        // g_new = E d_new = R_w d_new + g (d_old . d_new)
        let overlap = crate::linalg::dot(&old_atom, &new_atom);
        new_g.clear();
        for (r, &i) in support.iter().enumerate() {
            new_g.push(crate::linalg::dot(residual_t.col_as_slice(i), &new_atom) + g[r] * overlap);
        }
        // R_w <- E - g_new d_new^T = R_w + g d_old^T - g_new d_new^T
        for (r, &i) in support.iter().enumerate() {
            let (old_g, g_new) = (g[r], new_g[r]);
            for ((e, &o), &n) in residual_t.col_as_slice_mut(i).iter_mut().zip(&old_atom).zip(&new_atom) {
                *e = *e + old_g * o - g_new * n;
            }
            codes_t[(j, i)] = new_g[r];
        }
        for (f, &v) in new_atom.iter().enumerate() {
            atoms[(j, f)] = v;
        }
    }
}

/// `d = E^T g / ||E^T g||` with `E^T g = R_w^T g + (g^T g) d_old`. `false`
/// when `E^T g` vanishes.
fn power_step<T: Float>(residual_t: &Mat<T>, support: &[usize], g: &[T], old_atom: &[T], d: &mut [T]) -> bool {
    let gg = crate::linalg::dot(g, g);
    for (v, &o) in d.iter_mut().zip(old_atom) {
        *v = gg * o;
    }
    for (&i, &gr) in support.iter().zip(g) {
        for (v, &e) in d.iter_mut().zip(residual_t.col_as_slice(i)) {
            *v += e * gr;
        }
    }
    super::normalize_atom(d, false)
}

/// The top right-singular vector of `E = R_w + g d_old^T`, signed to agree
/// with `d_old`: the top eigenvector of the `n_features x n_features` matrix
/// `E^T E`, which costs `m p^2` for the `m` samples using the atom instead of
/// an SVD of the `m x p` matrix `E`. `false` when the eigen-solver fails or
/// `E` is zero.
fn top_right_singular_vector<T: Float>(
    residual_t: &Mat<T>,
    support: &[usize],
    g: &[T],
    old_atom: &[T],
    d: &mut [T],
) -> bool {
    let p = old_atom.len();
    // E^T, one sample per (contiguous) column.
    let e_t = Mat::<T>::from_fn(p, support.len(), |f, r| residual_t[(f, support[r])] + g[r] * old_atom[f]);
    let mut gram = Mat::<T>::zeros(p, p);
    matmul(gram.as_mut(), Accum::Replace, e_t.as_ref(), e_t.transpose(), T::one(), Par::Seq);
    let Ok(eigen) = gram.as_ref().self_adjoint_eigen(Side::Lower) else { return false };
    let values = eigen.S().column_vector();
    let top = (0..p).fold(0, |best, i| if values[i] > values[best] { i } else { best });
    if values[top] <= T::zero() {
        return false;
    }
    let v = eigen.U().col(top);
    let sign = if (0..p).fold(T::zero(), |acc, f| acc + v[f] * old_atom[f]) < T::zero() { -T::one() } else { T::one() };
    for (f, x) in d.iter_mut().enumerate() {
        *x = sign * v[f];
    }
    true
}
