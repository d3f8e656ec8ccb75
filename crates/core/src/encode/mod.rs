//! Sparse coding of signals with a fixed dictionary.
//!
//! Every encoder implements [`Encoder`]: it codes *one* signal given its
//! correlations with the atoms. The batch driver [`encode`] / [`encode_into`]
//! does everything else once for all encoders: input checks, the products
//! `D x` for a block of signals as one GEMM, the parallel loop over blocks
//! (rayon), per-signal reports. Blocks have a fixed size and each signal is
//! coded by the same sequence of operations whatever thread runs it, so the
//! result does not depend on the number of threads.
//!
//! Layout follows scikit-learn: `X` is `n_samples x n_features`, the
//! dictionary `n_atoms x n_features`, codes `n_samples x n_atoms`.
//!
//! Lambda convention (one everywhere): the Lasso encoders solve
//! `min_z 0.5 ||x - D^T z||^2 + lambda ||z||_1 (+ 0.5 l2 ||z||^2)`. This is
//! SPAMS' `lambda1` (and `lambda2` for the l2 term) and scikit-learn's
//! `sparse_encode(..., alpha=lambda)` / `SparseCoder(transform_alpha=lambda)`
//! with `lasso_lars` or `lasso_cd`; for `sklearn.linear_model.Lasso(alpha)`
//! applied to one signal of `n_features` entries, `lambda = alpha * n_features`.

pub mod cd;
pub mod fista;
pub mod lars;
pub mod lasso;
pub mod method;
pub mod omp;
pub mod threshold;

use crate::{validate, Dictionary, Error, Float, Result};
use faer::{Accum, ColRef, Mat, MatMut, MatRef, Par};
use rayon::prelude::*;

/// Signals coded together in one GEMM and one parallel task: large enough for
/// an efficient GEMM, small enough that a learning mini-batch of a few hundred
/// signals still spreads over every core. Fixed, so that the result does not
/// depend on the number of threads.
const BLOCK: usize = 64;

/// One signal as an encoder sees it.
#[derive(Debug, Clone, Copy)]
pub struct Signal<'a, T> {
    /// The signal `x` (`n_features`).
    pub x: ColRef<'a, T>,
    /// Its correlations with the atoms, `D x` (`n_atoms`).
    pub dx: &'a [T],
    /// `||x||^2`.
    pub norm_sq: T,
}

/// How an encoder's iterations ended for one signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SolveStatus {
    /// Iterations (OMP, LARS: atoms added or removed; CD: sweeps; FISTA: steps).
    pub n_iter: usize,
    /// Whether the stopping criterion was met within the iteration budget.
    pub converged: bool,
}

/// What the batch driver reports for each coded signal.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SignalReport {
    /// `||x - D^T z||_2`.
    pub residual_norm: f64,
    /// The encoder's objective, `0.5 ||x - D^T z||^2 + penalty(z)`.
    pub objective: f64,
    /// Non-zero entries of the code.
    pub n_nonzero: usize,
    /// See [`SolveStatus::n_iter`].
    pub n_iter: usize,
    /// See [`SolveStatus::converged`].
    pub converged: bool,
}

/// Codes of a batch and a report per signal.
#[derive(Debug, Clone)]
pub struct Encoding<T> {
    /// `n_samples x n_atoms`.
    pub codes: Mat<T>,
    /// One per sample, in order.
    pub reports: Vec<SignalReport>,
}

/// Where iterative encoders start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    /// From the zero code.
    Zero,
    /// From the codes already in the output matrix (warm start).
    Warm,
}

/// A method that codes one signal over a fixed dictionary.
///
/// Implementations hold only parameters; per-thread scratch memory lives in
/// [`Encoder::Workspace`], made once per task and reused for every signal.
pub trait Encoder<T: Float>: Sync {
    /// Scratch memory reused across signals.
    type Workspace: Send;

    /// Checks the parameters against the dictionary (e.g. a sparsity target
    /// larger than the number of atoms).
    fn check(&self, dict: &Dictionary<T>) -> Result<()>;

    /// Fresh scratch memory for `dict`.
    fn workspace(&self, dict: &Dictionary<T>) -> Self::Workspace;

    /// Codes `signal` into `code` (`n_atoms`). On entry `code` holds the
    /// starting point (zeros, or a warm start); encoders without a notion of
    /// starting point overwrite it.
    fn encode_one(
        &self,
        dict: &Dictionary<T>,
        signal: &Signal<'_, T>,
        code: &mut [T],
        ws: &mut Self::Workspace,
    ) -> SolveStatus;

    /// The penalty term of the objective at `code` (zero for l0 methods).
    fn penalty(&self, code: &[T]) -> T;

    /// Whether [`Encoder::encode_one`] reads `dict.gram()`; the driver then
    /// computes it once before going parallel.
    fn uses_gram(&self) -> bool {
        true
    }
}

/// Codes every row of `x` (`n_samples x n_features`) with `encoder`.
///
/// ```
/// use sparsecode::encode::{encode, Encoder};
/// use sparsecode::encode::omp::Omp;
/// use sparsecode::Dictionary;
/// let d = Dictionary::new(faer::mat![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]).unwrap();
/// let x = faer::mat![[0.0, 2.0, 0.1]];
/// let out = encode(&Omp::with_n_nonzero(1), &d, x.as_ref()).unwrap();
/// assert_eq!(out.codes[(0, 1)], 2.0);
/// assert_eq!(out.reports[0].n_nonzero, 1);
/// ```
pub fn encode<T: Float, E: Encoder<T>>(encoder: &E, dict: &Dictionary<T>, x: MatRef<'_, T>) -> Result<Encoding<T>> {
    let mut codes = Mat::zeros(x.nrows(), dict.n_atoms());
    let reports = encode_into(encoder, dict, x, codes.as_mut(), Start::Zero)?;
    Ok(Encoding { codes, reports })
}

/// Codes every row of `x` into `codes` (`n_samples x n_atoms`, any strides),
/// starting from zero or from the codes already there.
pub fn encode_into<T: Float, E: Encoder<T>>(
    encoder: &E,
    dict: &Dictionary<T>,
    x: MatRef<'_, T>,
    codes: MatMut<'_, T>,
    start: Start,
) -> Result<Vec<SignalReport>> {
    if x.nrows() == 0 {
        return Err(Error::Empty("the batch of signals X (0 rows)".into()));
    }
    dict.check_signals("X", x.ncols())?;
    validate::finite("X", x)?;
    if codes.nrows() != x.nrows() || codes.ncols() != dict.n_atoms() {
        return Err(Error::Shape(format!(
            "codes are {} x {} but X has {} rows and the dictionary {} atoms",
            codes.nrows(),
            codes.ncols(),
            x.nrows(),
            dict.n_atoms()
        )));
    }
    if start == Start::Warm {
        validate::finite("initial codes", codes.as_ref())?;
    }
    encoder.check(dict)?;
    if encoder.uses_gram() {
        dict.gram();
    }
    dict.atom_columns();
    let n_atoms = dict.n_atoms();
    let blocks: Vec<Vec<SignalReport>> = codes
        .par_row_chunks_mut(BLOCK)
        .enumerate()
        .map_init(
            || (encoder.workspace(dict), BlockBuffers::<T>::new(n_atoms, dict.n_features())),
            |(ws, buf), (b, mut zblock)| {
                let first = b * BLOCK;
                let xb = x.subrows(first, zblock.nrows());
                encode_block(encoder, dict, xb, zblock.as_mut(), start, ws, buf)
            },
        )
        .collect();
    Ok(blocks.into_iter().flatten().collect())
}

struct BlockBuffers<T> {
    dx: Mat<T>,
    /// The codes of a block, one column per signal, when the output rows are
    /// not contiguous (column-major codes).
    z: Mat<T>,
    residual: Vec<T>,
    /// Positions of the non-zeros of a code.
    nonzeros: Vec<usize>,
}

impl<T: Float> BlockBuffers<T> {
    fn new(n_atoms: usize, n_features: usize) -> Self {
        Self {
            dx: Mat::zeros(n_atoms, BLOCK),
            z: Mat::zeros(n_atoms, BLOCK),
            residual: vec![T::zero(); n_features],
            nonzeros: Vec::with_capacity(n_atoms),
        }
    }
}

/// Independent partial sums in [`sum_of_squares`]: a fixed summation order
/// (the result does not depend on the machine or the thread count) that the
/// compiler can vectorise.
const SUM_LANES: usize = 8;

/// `sum_i v_i^2` with [`SUM_LANES`] partial sums, in the precision `A`.
#[inline(always)]
fn sum_of_squares<T: Float, A: Float>(v: impl Iterator<Item = T>, convert: impl Fn(T) -> A) -> A {
    let mut acc = [A::zero(); SUM_LANES];
    for (i, x) in v.enumerate() {
        let x = convert(x);
        acc[i % SUM_LANES] += x * x;
    }
    acc.iter().fold(A::zero(), |s, &a| s + a)
}

/// [`encode_block_body`], compiled for AVX2 where the CPU has it (see
/// [`crate::linalg::has_avx2`]): the per-signal bookkeeping (norms,
/// residuals) and every encoder call the compiler inlines run on wide vectors.
fn encode_block<T: Float, E: Encoder<T>>(
    encoder: &E,
    dict: &Dictionary<T>,
    xb: MatRef<'_, T>,
    zblock: MatMut<'_, T>,
    start: Start,
    ws: &mut E::Workspace,
    buf: &mut BlockBuffers<T>,
) -> Vec<SignalReport> {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        unsafe fn avx2<T: Float, E: Encoder<T>>(
            encoder: &E,
            dict: &Dictionary<T>,
            xb: MatRef<'_, T>,
            zblock: MatMut<'_, T>,
            start: Start,
            ws: &mut E::Workspace,
            buf: &mut BlockBuffers<T>,
        ) -> Vec<SignalReport> {
            encode_block_body(encoder, dict, xb, zblock, start, ws, buf)
        }
        if crate::linalg::has_avx2() {
            // SAFETY: the CPU supports AVX2.
            return unsafe { avx2(encoder, dict, xb, zblock, start, ws, buf) };
        }
    }
    encode_block_body(encoder, dict, xb, zblock, start, ws, buf)
}

/// Codes the signals `xb` into the rows of `zblock`: one GEMM for `D x`, then
/// each signal in turn. Codes are written straight into the output rows when
/// those are contiguous, else into a buffer copied out at the end.
#[inline(always)]
fn encode_block_body<T: Float, E: Encoder<T>>(
    encoder: &E,
    dict: &Dictionary<T>,
    xb: MatRef<'_, T>,
    mut zblock: MatMut<'_, T>,
    start: Start,
    ws: &mut E::Workspace,
    buf: &mut BlockBuffers<T>,
) -> Vec<SignalReport> {
    let len = xb.nrows();
    let mut dx = buf.dx.as_mut().subcols_mut(0, len);
    crate::linalg::gemm(dx.as_mut(), Accum::Replace, dict.atoms(), xb.transpose(), Par::Seq);
    let direct = zblock.col_stride() == 1;
    if !direct {
        let mut z = buf.z.as_mut().subcols_mut(0, len);
        match start {
            Start::Zero => z.fill(T::zero()),
            Start::Warm => z.copy_from(zblock.as_ref().transpose()),
        }
    }
    let columns = dict.atom_columns();
    let mut reports = Vec::with_capacity(len);
    for j in 0..len {
        let xj = xb.row(j).transpose();
        let norm_sq = sum_of_squares(xj.iter().copied(), |v| v);
        let dxj = buf.dx.col_as_slice(j);
        let zj = if direct {
            let row = zblock.as_mut().row_mut(j).try_as_row_major_mut().expect("column stride 1").as_slice_mut();
            if start == Start::Zero {
                row.fill(T::zero());
            }
            row
        } else {
            buf.z.col_as_slice_mut(j)
        };
        let status = encoder.encode_one(dict, &Signal { x: xj, dx: dxj, norm_sq }, zj, ws);
        // Residual x - D^T z from the non-zeros only.
        buf.nonzeros.clear();
        buf.nonzeros.extend(zj.iter().enumerate().filter(|(_, &c)| c != T::zero()).map(|(k, _)| k));
        for (r, &v) in buf.residual.iter_mut().zip(xj.iter()) {
            *r = v;
        }
        for &k in &buf.nonzeros {
            let c = zj[k];
            let atom = columns.col(k).try_as_col_major().expect("atom_columns() is an owned column-major Mat");
            for (r, &a) in buf.residual.iter_mut().zip(atom.as_slice()) {
                *r -= c * a;
            }
        }
        let res_sq = sum_of_squares(buf.residual.iter().copied(), |r| r.as_f64());
        reports.push(SignalReport {
            residual_norm: res_sq.sqrt(),
            objective: 0.5 * res_sq + encoder.penalty(zj).as_f64(),
            n_nonzero: buf.nonzeros.len(),
            n_iter: status.n_iter,
            converged: status.converged,
        });
    }
    if !direct {
        zblock.copy_from(buf.z.as_ref().subcols(0, len).transpose());
    }
    reports
}
