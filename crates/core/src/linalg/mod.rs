//! Dense linear-algebra helpers over faer used across the library.

mod cholesky;

pub use cholesky::GrowingCholesky;

use crate::Float;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatMut, MatRef, Par};

/// Whether the CPU runs AVX2 (detected once, then a cached load). The
/// per-signal kernels of the encoders (sweeps over a few hundred atoms) have
/// an `#[target_feature(enable = "avx2")]` twin that calls the same
/// `#[inline(always)]` body, so that a default x86-64 build, which targets
/// SSE2 only, still runs them on 4-wide `f64` vectors. Nothing else changes:
/// no fused multiply-add is enabled and Rust never reassociates
/// floating-point sums, so both paths give bit-identical results.
#[inline(always)]
pub fn has_avx2() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        std::arch::is_x86_feature_detected!("avx2")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

/// The parallelism faer may use for large products: rayon's pool.
pub fn par() -> Par {
    Par::rayon(0)
}

/// `G = D D^T` for a dictionary with atoms in rows.
pub fn gram<T: Float>(d: MatRef<'_, T>) -> Mat<T> {
    let mut g = Mat::zeros(d.nrows(), d.nrows());
    matmul(g.as_mut(), Accum::Replace, d, d.transpose(), T::one(), par());
    g
}

/// `out = a b` (or `out += a b` with `Accum::Add`) with faer's GEMM.
pub fn gemm<T: Float>(out: MatMut<'_, T>, accum: Accum, a: MatRef<'_, T>, b: MatRef<'_, T>, par: Par) {
    matmul(out, accum, a, b, T::one(), par);
}

/// Reconstructions `Z D` (`n_samples x n_features`) of codes `Z`
/// (`n_samples x n_atoms`) over atoms `D` (`n_atoms x n_features`).
pub fn reconstruct<T: Float>(codes: MatRef<'_, T>, d: MatRef<'_, T>) -> Mat<T> {
    let mut x = Mat::zeros(codes.nrows(), d.ncols());
    matmul(x.as_mut(), Accum::Replace, codes, d, T::one(), par());
    x
}

/// Euclidean norm of each row.
pub fn row_norms<T: Float>(m: MatRef<'_, T>) -> Vec<T> {
    let mut acc = vec![T::zero(); m.nrows()];
    for j in 0..m.ncols() {
        for (i, a) in acc.iter_mut().enumerate() {
            let v = m[(i, j)];
            *a += v * v;
        }
    }
    acc.into_iter().map(num_traits::Float::sqrt).collect()
}

/// Largest eigenvalue of `m m^T` (the squared spectral norm of `m`), from a
/// symmetric eigen-decomposition of the smaller of `m m^T` and `m^T m`.
pub fn spectral_norm_sq<T: Float>(m: MatRef<'_, T>) -> T {
    let small = if m.nrows() <= m.ncols() { gram(m) } else { gram(m.transpose()) };
    match small.as_ref().self_adjoint_eigenvalues(faer::Side::Lower) {
        Ok(ev) => ev.into_iter().fold(T::zero(), |a, b| num_traits::Float::max(a, b)),
        // The eigen-solver only fails on non-finite input, which callers reject
        // first; the trace is then a safe upper bound.
        Err(_) => (0..small.nrows()).map(|i| small[(i, i)]).sum(),
    }
}

/// Dot product of two equally long slices.
#[inline]
pub fn dot<T: Float>(a: &[T], b: &[T]) -> T {
    a.iter().zip(b).fold(T::zero(), |s, (&x, &y)| s + x * y)
}
