//! The K-SVD dictionary update (Aharon, Elad & Bruckstein, IEEE TSP 54(11)
//! 2006, sec. IV-B) and its approximate variant (Rubinstein, Zibulevsky &
//! Elad, Technion CS-2008-08, Alg. 5).

use crate::Float;
use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::svd::{self, ComputeSvdVectors};
use faer::{Mat, MatMut, Par};

/// Updates every atom in turn together with its non-zero coefficients; the
/// supports of the codes do not change.
///
/// For atom `j`, with `w` the samples whose code uses it, `g = Z[w, j]` and
/// `E = X_w - Z_w D + g d_j^T` the residual of those samples without atom `j`:
///
/// - exact (`approximate = false`): `g d_j^T <- sigma_1 u_1 v_1^T`, the best
///   rank-1 approximation of `E` (eq. 25; only `v_1` is computed, by faer's
///   SVD, then `g = E v_1`);
/// - approximate: one power step from the current coefficients,
///   `d_j <- E^T g / ||E^T g||`, `g <- E d_j`. `E` is never formed:
///   `E^T g = R_w^T g + (g^T g) d_j` and `E d = R_w d + g (d_j^T d)` from the
///   residual `R = X - Z D`.
///
/// Both give the exact minimiser over `g` for the new atom and never increase
/// `||X - Z D||_F`. `codes_t` holds one code per column (`n_atoms x
/// n_samples`); `residual` (`n_samples x n_features`) must be `X - Z D` on
/// entry and is kept so. Atoms no code uses are left unchanged.
///
/// ```
/// use sparsecode::learn::ksvd::update_ksvd;
/// // One atom used by two samples with wrong coefficients: K-SVD finds the
/// // exact rank-1 fit of x = [[2, 0], [4, 0]].
/// let x = faer::mat![[2.0, 0.0], [4.0, 0.0]];
/// let mut atoms = faer::mat![[0.6f64, 0.8]];
/// let mut codes_t = faer::mat![[1.0, 1.0]];
/// let mut residual = faer::mat![[1.4, -0.8], [3.4, -0.8]];
/// update_ksvd(&mut atoms, codes_t.as_mut(), &mut residual, false);
/// assert!(residual.as_ref().norm_max() < 1e-12);
/// assert!((atoms[(0, 0)].abs() - 1.0).abs() < 1e-12);
/// ```
pub fn update_ksvd<T: Float>(atoms: &mut Mat<T>, mut codes_t: MatMut<'_, T>, residual: &mut Mat<T>, approximate: bool) {
    let (k, p) = atoms.shape();
    let mut support = Vec::new();
    let mut g = Vec::new();
    let mut new_g = Vec::new();
    let mut old_atom = vec![T::zero(); p];
    let mut new_atom = vec![T::zero(); p];
    for j in 0..k {
        support.clear();
        g.clear();
        for (i, &c) in codes_t.as_ref().row(j).iter().enumerate() {
            if c != T::zero() {
                support.push(i);
                g.push(c);
            }
        }
        if support.is_empty() {
            continue;
        }
        super::copy_row(atoms.as_ref(), j, &mut old_atom);
        let found = if approximate {
            power_step(residual, &support, &g, &old_atom, &mut new_atom)
        } else {
            top_right_singular_vector(residual, &support, &g, &old_atom, &mut new_atom)
        };
        if !found {
            continue;
        }
        // g_new = E d_new = R_w d_new + g (d_old . d_new)
        let overlap = crate::linalg::dot(&old_atom, &new_atom);
        new_g.clear();
        for (r, &i) in support.iter().enumerate() {
            let rd = (0..p).fold(T::zero(), |s, f| s + residual[(i, f)] * new_atom[f]);
            new_g.push(rd + g[r] * overlap);
        }
        // R_w <- E - g_new d_new^T = R_w + g d_old^T - g_new d_new^T
        for (r, &i) in support.iter().enumerate() {
            for f in 0..p {
                residual[(i, f)] = residual[(i, f)] + g[r] * old_atom[f] - new_g[r] * new_atom[f];
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
fn power_step<T: Float>(residual: &Mat<T>, support: &[usize], g: &[T], old_atom: &[T], d: &mut [T]) -> bool {
    let gg = crate::linalg::dot(g, g);
    for (f, v) in d.iter_mut().enumerate() {
        *v = gg * old_atom[f];
        for (r, &i) in support.iter().enumerate() {
            *v += residual[(i, f)] * g[r];
        }
    }
    super::normalize_atom(d, false)
}

/// The top right-singular vector of `E = R_w + g d_old^T`, signed to agree
/// with `d_old`. `false` when the SVD fails to converge or `E` is zero.
fn top_right_singular_vector<T: Float>(
    residual: &Mat<T>,
    support: &[usize],
    g: &[T],
    old_atom: &[T],
    d: &mut [T],
) -> bool {
    let p = old_atom.len();
    let m = support.len();
    let e = Mat::<T>::from_fn(m, p, |r, f| residual[(support[r], f)] + g[r] * old_atom[f]);
    let size = m.min(p);
    let mut s = Diag::<T>::zeros(size);
    let mut v = Mat::<T>::zeros(p, size);
    let scratch =
        svd::svd_scratch::<T>(m, p, ComputeSvdVectors::No, ComputeSvdVectors::Thin, Par::Seq, Default::default());
    let mut mem = MemBuffer::new(scratch);
    let ok =
        svd::svd(e.as_ref(), s.as_mut(), None, Some(v.as_mut()), Par::Seq, MemStack::new(&mut mem), Default::default());
    if ok.is_err() || s.column_vector()[0] <= T::zero() {
        return false;
    }
    let sign =
        if (0..p).fold(T::zero(), |acc, f| acc + v[(f, 0)] * old_atom[f]) < T::zero() { -T::one() } else { T::one() };
    for (f, x) in d.iter_mut().enumerate() {
        *x = sign * v[(f, 0)];
    }
    true
}
