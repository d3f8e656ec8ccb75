//! The Cholesky factor of a Gram sub-matrix `G[I, I]` grown and shrunk one
//! index at a time, as Batch-OMP (Rubinstein, Zibulevsky & Elad 2008, sec. 3)
//! and LARS (Efron et al. 2004) need: adding an atom costs `O(k^2)` instead of
//! refactorising in `O(k^3)`.

use crate::Float;

/// Lower-triangular `L` with `L L^T = G[I, I]` for the active set `I`, stored
/// densely row by row with a fixed capacity so that no step allocates.
#[derive(Debug, Clone)]
pub struct GrowingCholesky<T> {
    l: Vec<T>,
    /// `1 / L[i, i]`: the solves multiply instead of dividing (a division
    /// on the critical path of each substitution step costs several times a
    /// multiplication).
    inv_diag: Vec<T>,
    cap: usize,
    len: usize,
}

impl<T: Float> GrowingCholesky<T> {
    /// An empty factor for active sets of at most `capacity` indices.
    pub fn new(capacity: usize) -> Self {
        Self { l: vec![T::zero(); capacity * capacity], inv_diag: vec![T::zero(); capacity], cap: capacity, len: 0 }
    }

    /// Number of indices in the factor.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the factor is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Maximum number of indices.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// `1 / L[i, i]`.
    pub fn inv_diagonal(&self, i: usize) -> T {
        assert!(i < self.len);
        self.inv_diag[i]
    }

    /// Empties the factor (no deallocation).
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Appends an index with `cross[j] = G[new, I[j]]` and `diag = G[new, new]`.
    /// Returns `false`, leaving the factor unchanged, when the new atom is
    /// (numerically) a linear combination of the active ones.
    #[inline]
    pub fn push(&mut self, cross: &[T], diag: T) -> bool {
        let k = self.len;
        assert!(k < self.cap, "GrowingCholesky capacity {} exceeded", self.cap);
        assert_eq!(cross.len(), k);
        // Solve L w = cross into row k.
        let mut sq = T::zero();
        for (j, &c) in cross.iter().enumerate() {
            let mut s = c;
            let row_j = &self.l[j * self.cap..j * self.cap + j];
            let row_k = &self.l[k * self.cap..k * self.cap + j];
            for (a, b) in row_j.iter().zip(row_k) {
                s -= *a * *b;
            }
            let w = s * self.inv_diag[j];
            self.l[k * self.cap + j] = w;
            sq += w * w;
        }
        self.finish_row(sq, diag)
    }

    /// Appends an index whose new row of `L`, `L^{-1} G[I, new]`, is already
    /// known (`row`), as when the caller keeps `G[:, I] L^{-T}`, whose row
    /// `new` it is; `diag = G[new, new]`. Returns `false`, leaving the factor
    /// unchanged, as [`GrowingCholesky::push`] does.
    #[inline]
    pub fn push_row(&mut self, row: &[T], diag: T) -> bool {
        let k = self.len;
        assert!(k < self.cap, "GrowingCholesky capacity {} exceeded", self.cap);
        assert_eq!(row.len(), k);
        self.l[k * self.cap..k * self.cap + k].copy_from_slice(row);
        let sq = row.iter().fold(T::zero(), |s, &w| s + w * w);
        self.finish_row(sq, diag)
    }

    /// The pivot of row `len` (its off-diagonal part is in place and has
    /// squared norm `sq`): appends it unless it is below the floor.
    #[inline]
    fn finish_row(&mut self, sq: T, diag: T) -> bool {
        let k = self.len;
        // Relative pivot floor: 1e-10, or 100 ulps where that is coarser (f32).
        let floor = T::of(1e-10).max(T::of(100.0) * T::epsilon());
        let pivot = diag - sq;
        if pivot <= floor * diag.max(T::min_positive_value()) || pivot.is_nan() {
            return false;
        }
        let d = num_traits::Float::sqrt(pivot);
        self.l[k * self.cap + k] = d;
        self.inv_diag[k] = d.recip();
        self.len = k + 1;
        true
    }

    /// Solves `L L^T x = b` in place (`b.len() == self.len()`).
    #[inline]
    pub fn solve_in_place(&self, b: &mut [T]) {
        let n = self.len;
        assert_eq!(b.len(), n);
        for i in 0..n {
            b[i] = self.forward_row(i, b[i], &b[..i]);
        }
        self.backward_in_place(b);
    }

    /// `y_i` of `L y = b` from `b_i` and the earlier `y_{<i}`.
    #[inline]
    fn forward_row(&self, i: usize, b: T, y: &[T]) -> T {
        let row = &self.l[i * self.cap..i * self.cap + i];
        (b - row.iter().zip(y).fold(T::zero(), |s, (&a, &x)| s + a * x)) * self.inv_diag[i]
    }

    /// Extends the solution `y` of `L y = b` from its first `y.len()` entries
    /// to all `self.len()` (`b.len() == self.len()`): the rows above stay
    /// valid as the factor grows, and above the removed position when an
    /// index is removed, so the forward half of a solve is paid once per row.
    #[inline]
    pub fn forward_extend(&self, y: &mut Vec<T>, b: &[T]) {
        assert_eq!(b.len(), self.len);
        assert!(y.len() <= self.len);
        for (i, &bi) in b.iter().enumerate().skip(y.len()) {
            let yi = self.forward_row(i, bi, y);
            y.push(yi);
        }
    }

    /// Solves `L^T x = y` in place (`y.len() == self.len()`).
    #[inline]
    pub fn backward_in_place(&self, b: &mut [T]) {
        let n = self.len;
        assert_eq!(b.len(), n);
        // L^T x = y by columns of L^T (rows of L): once x_i is known, remove
        // its contribution from every earlier equation, so that the inner
        // loop runs over a contiguous row.
        for i in (0..n).rev() {
            let xi = b[i] * self.inv_diag[i];
            b[i] = xi;
            let row = &self.l[i * self.cap..i * self.cap + i];
            for (bj, &a) in b[..i].iter_mut().zip(row) {
                *bj -= a * xi;
            }
        }
    }

    /// Removes the index at position `pos` of the active set, restoring a
    /// lower-triangular factor with Givens rotations in `O(k^2)`.
    pub fn remove(&mut self, pos: usize) {
        self.remove_with(pos, |_, _, _| {});
    }

    /// [`GrowingCholesky::remove`], calling `rotate(k, c, s)` for each Givens
    /// rotation of columns `(k, k + 1)` (new column `k` = `c x + s y`, new
    /// column `k + 1` = `-s x + c y`), in order: a caller that keeps
    /// `B = M L^{-T}` for some `M` with columns in the active order applies
    /// the same rotations to the columns of `B` and drops its last column to
    /// keep it equal to `M' L'^{-T}` without index `pos`.
    #[inline(always)]
    pub fn remove_with(&mut self, pos: usize, mut rotate: impl FnMut(usize, T, T)) {
        let n = self.len;
        assert!(pos < n);
        let cap = self.cap;
        // Drop row `pos`: shift the rows below it up by one.
        for i in pos..n - 1 {
            for j in 0..=i + 1 {
                self.l[i * cap + j] = self.l[(i + 1) * cap + j];
            }
        }
        // Rows pos..n-1 now have one entry above the diagonal; rotate columns
        // (k, k+1) to zero it, which keeps L L^T unchanged.
        for k in pos..n - 1 {
            let a = self.l[k * cap + k];
            let b = self.l[k * cap + k + 1];
            let r = num_traits::Float::hypot(a, b);
            if r == T::zero() {
                continue;
            }
            let (c, s) = (a / r, b / r);
            rotate(k, c, s);
            for i in k..n - 1 {
                let x = self.l[i * cap + k];
                let y = self.l[i * cap + k + 1];
                self.l[i * cap + k] = c * x + s * y;
                self.l[i * cap + k + 1] = -s * x + c * y;
            }
        }
        for k in pos..n - 1 {
            self.inv_diag[k] = self.l[k * cap + k].recip();
        }
        self.len = n - 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spd(n: usize) -> Vec<Vec<f64>> {
        // G = A A^T + I for a fixed A.
        let a: Vec<Vec<f64>> =
            (0..n).map(|i| (0..n).map(|j| ((i * 7 + j * 3) % 11) as f64 / 11.0 - 0.4).collect()).collect();
        (0..n)
            .map(|i| {
                (0..n)
                    .map(|j| (0..n).map(|k| a[i][k] * a[j][k]).sum::<f64>() + if i == j { 1.0 } else { 0.0 })
                    .collect()
            })
            .collect()
    }

    fn solve_with(ch: &GrowingCholesky<f64>, b: &[f64]) -> Vec<f64> {
        let mut x = b.to_vec();
        ch.solve_in_place(&mut x);
        x
    }

    #[test]
    fn grown_factor_solves_the_system_and_survives_removal() {
        let n = 6;
        let g = spd(n);
        let mut ch = GrowingCholesky::new(n);
        for k in 0..n {
            assert!(ch.push(&g[k][..k], g[k][k]));
        }
        let b: Vec<f64> = (0..n).map(|i| i as f64 - 2.5).collect();
        let x = solve_with(&ch, &b);
        for i in 0..n {
            let r: f64 = (0..n).map(|j| g[i][j] * x[j]).sum::<f64>() - b[i];
            assert!(r.abs() < 1e-12, "residual {r}");
        }
        // Remove index 2: the factor must now solve the 5x5 system without it.
        ch.remove(2);
        let keep = [0, 1, 3, 4, 5];
        let b2: Vec<f64> = keep.iter().map(|&i| b[i]).collect();
        let x2 = solve_with(&ch, &b2);
        for (a, &i) in keep.iter().enumerate() {
            let r: f64 = keep.iter().enumerate().map(|(c, &j)| g[i][j] * x2[c]).sum::<f64>() - b2[a];
            assert!(r.abs() < 1e-12, "residual after removal {r}");
        }
    }

    #[test]
    fn dependent_atom_is_refused() {
        // Two identical unit atoms: G = [[1, 1], [1, 1]].
        let mut ch = GrowingCholesky::<f64>::new(2);
        assert!(ch.push(&[], 1.0));
        assert!(!ch.push(&[1.0], 1.0));
        assert_eq!(ch.len(), 1);
    }
}
