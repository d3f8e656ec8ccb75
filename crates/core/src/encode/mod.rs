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
    check_batch(encoder, dict, x, Some(("codes", codes.as_ref())), start == Start::Warm)?;
    let blocks = drive(encoder, dict, x, codes.par_row_chunks_mut(BLOCK).map(|z| BlockOut::Dense(z, start)));
    Ok(blocks.into_iter().flat_map(|b| b.reports).collect())
}

/// Codes in compressed sparse row (CSR) form, one row per signal: row `i`
/// holds the non-zeros `values[indptr[i]..indptr[i + 1]]` at the columns
/// (atoms) `indices[indptr[i]..indptr[i + 1]]`, in increasing order. These
/// are the three arrays of `scipy.sparse.csr_matrix((values, indices,
/// indptr), shape=(n_rows, n_cols))`.
#[derive(Debug, Clone, PartialEq)]
pub struct SparseCodes<T> {
    /// Rows (signals).
    pub n_rows: usize,
    /// Columns (atoms).
    pub n_cols: usize,
    /// `n_rows + 1` offsets into `indices` and `values`, from 0 to the
    /// number of non-zeros.
    pub indptr: Vec<usize>,
    /// The column of each non-zero.
    pub indices: Vec<usize>,
    /// The value of each non-zero.
    pub values: Vec<T>,
}

impl<T: Float> SparseCodes<T> {
    /// Number of stored non-zeros.
    pub fn nnz(&self) -> usize {
        self.values.len()
    }

    /// The columns and values of the non-zeros of row `i`.
    pub fn row(&self, i: usize) -> (&[usize], &[T]) {
        let range = self.indptr[i]..self.indptr[i + 1];
        (&self.indices[range.clone()], &self.values[range])
    }

    /// The dense `n_rows x n_cols` matrix.
    pub fn to_dense(&self) -> Mat<T> {
        let mut m = Mat::zeros(self.n_rows, self.n_cols);
        for i in 0..self.n_rows {
            let (cols, vals) = self.row(i);
            for (&k, &v) in cols.iter().zip(vals) {
                m[(i, k)] = v;
            }
        }
        m
    }
}

/// Sparse codes of a batch and a report per signal.
#[derive(Debug, Clone)]
pub struct SparseEncoding<T> {
    /// `n_samples x n_atoms`, CSR.
    pub codes: SparseCodes<T>,
    /// One per sample, in order.
    pub reports: Vec<SignalReport>,
}

/// Codes every row of `x` with `encoder` into sparse (CSR) codes, starting
/// from zero or, with `init` (`n_samples x n_atoms`, dense), from those codes.
///
/// The same driver as [`encode_into`] (one block of signals at a time, each
/// coded into a small reused dense buffer whose non-zeros are then appended
/// to the CSR arrays), so the codes are exactly the non-zeros of the dense
/// result, for every encoder and any number of threads, while the memory
/// written is proportional to the non-zeros instead of `n_samples x n_atoms`.
///
/// ```
/// use sparsecode::encode::{encode, encode_sparse};
/// use sparsecode::encode::omp::Omp;
/// use sparsecode::Dictionary;
/// let d = Dictionary::new(faer::mat![[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]).unwrap();
/// let x = faer::mat![[0.0, 2.0, 0.1], [3.0, 0.0, -1.0]];
/// let sparse = encode_sparse(&Omp::with_n_nonzero(1), &d, x.as_ref(), None).unwrap();
/// assert_eq!(sparse.codes.indptr, [0, 1, 2]);
/// assert_eq!(sparse.codes.indices, [1, 0]);
/// assert_eq!(sparse.codes.values, [2.0, 3.0]);
/// let dense = encode(&Omp::with_n_nonzero(1), &d, x.as_ref()).unwrap();
/// assert!(sparse.codes.to_dense() == dense.codes);
/// assert_eq!(sparse.reports, dense.reports);
/// ```
pub fn encode_sparse<T: Float, E: Encoder<T>>(
    encoder: &E,
    dict: &Dictionary<T>,
    x: MatRef<'_, T>,
    init: Option<MatRef<'_, T>>,
) -> Result<SparseEncoding<T>> {
    check_batch(encoder, dict, x, init.map(|m| ("initial codes", m)), init.is_some())?;
    let n_blocks = x.nrows().div_ceil(BLOCK);
    let outs = (0..n_blocks).into_par_iter().map(|b| {
        let rows = b * BLOCK..(b * BLOCK + BLOCK).min(x.nrows());
        BlockOut::Sparse(init.map(|m| m.subrows(rows.start, rows.len())))
    });
    let blocks = drive(encoder, dict, x, outs);
    let nnz = blocks.iter().map(|b| b.values.len()).sum();
    let mut codes = SparseCodes {
        n_rows: x.nrows(),
        n_cols: dict.n_atoms(),
        indptr: Vec::with_capacity(x.nrows() + 1),
        indices: Vec::with_capacity(nnz),
        values: Vec::with_capacity(nnz),
    };
    let mut reports = Vec::with_capacity(x.nrows());
    codes.indptr.push(0);
    for block in blocks {
        for r in &block.reports {
            codes.indptr.push(codes.indptr.last().copied().unwrap_or(0) + r.n_nonzero);
        }
        codes.indices.extend_from_slice(&block.indices);
        codes.values.extend_from_slice(&block.values);
        reports.extend_from_slice(&block.reports);
    }
    Ok(SparseEncoding { codes, reports })
}

/// The checks shared by every entry point of the driver: a non-empty batch
/// of finite signals of the dictionary's dimension, `codes` (the output or
/// the starting codes, named) of the right shape and finite when they are a
/// starting point (`warm`), and the encoder's parameters; then the
/// dictionary's cached products the encoder reads, computed once before going
/// parallel.
fn check_batch<T: Float, E: Encoder<T>>(
    encoder: &E,
    dict: &Dictionary<T>,
    x: MatRef<'_, T>,
    codes: Option<(&str, MatRef<'_, T>)>,
    warm: bool,
) -> Result<()> {
    if x.nrows() == 0 {
        return Err(Error::Empty("the batch of signals X (0 rows)".into()));
    }
    dict.check_signals("X", x.ncols())?;
    validate::finite("X", x)?;
    if let Some((name, codes)) = codes {
        if codes.nrows() != x.nrows() || codes.ncols() != dict.n_atoms() {
            return Err(Error::Shape(format!(
                "{name} are {} x {} but X has {} rows and the dictionary {} atoms",
                codes.nrows(),
                codes.ncols(),
                x.nrows(),
                dict.n_atoms()
            )));
        }
        if warm {
            validate::finite("initial codes", codes)?;
        }
    }
    encoder.check(dict)?;
    if encoder.uses_gram() {
        dict.gram();
    }
    dict.atom_columns();
    Ok(())
}

/// Where the codes of one block of signals go.
enum BlockOut<'a, T> {
    /// Rows of a dense output; with [`Start::Warm`] the starting codes are
    /// the ones there.
    Dense(MatMut<'a, T>, Start),
    /// CSR arrays ([`BlockCodes::indices`], [`BlockCodes::values`]); the
    /// starting codes are these rows when given, else zero.
    Sparse(Option<MatRef<'a, T>>),
}

/// What the driver returns for one block.
struct BlockCodes<T> {
    reports: Vec<SignalReport>,
    /// Sparse output: the columns of the non-zeros, signal after signal.
    indices: Vec<usize>,
    /// Sparse output: their values.
    values: Vec<T>,
}

/// The parallel loop over blocks shared by the dense and sparse outputs: one
/// workspace and one set of buffers per task, blocks in order.
fn drive<'a, T: Float, E: Encoder<T>>(
    encoder: &E,
    dict: &Dictionary<T>,
    x: MatRef<'_, T>,
    outs: impl IndexedParallelIterator<Item = BlockOut<'a, T>>,
) -> Vec<BlockCodes<T>> {
    let n_atoms = dict.n_atoms();
    outs.enumerate()
        .map_init(
            || (encoder.workspace(dict), BlockBuffers::<T>::new(n_atoms, dict.n_features())),
            |(ws, buf), (b, out)| {
                let first = b * BLOCK;
                let xb = x.subrows(first, BLOCK.min(x.nrows() - first));
                encode_block(encoder, dict, xb, out, ws, buf)
            },
        )
        .collect()
}

struct BlockBuffers<T> {
    dx: Mat<T>,
    /// The codes of a block, one column per signal, when the output rows are
    /// not contiguous (column-major codes); the first column alone for sparse
    /// output.
    z: Mat<T>,
    residual: Vec<T>,
    /// Positions of the non-zeros of a code (the first ones; `n_atoms` long).
    nonzeros: Vec<usize>,
}

impl<T: Float> BlockBuffers<T> {
    fn new(n_atoms: usize, n_features: usize) -> Self {
        Self {
            dx: Mat::zeros(n_atoms, BLOCK),
            z: Mat::zeros(n_atoms, BLOCK),
            residual: vec![T::zero(); n_features],
            nonzeros: vec![0; n_atoms],
        }
    }
}

/// Independent partial sums in [`sum_of_squares`]: a fixed summation order
/// (the result does not depend on the machine or the thread count) that the
/// compiler can vectorise.
const SUM_LANES: usize = 8;

/// `sum_i v_i^2` with [`SUM_LANES`] partial sums (`v_i` goes to sum
/// `i % SUM_LANES`), in the precision `A`.
#[inline(always)]
fn sum_of_squares<T: Float, A: Float>(v: &[T], convert: impl Fn(T) -> A) -> A {
    let mut acc = [A::zero(); SUM_LANES];
    let chunks = v.chunks_exact(SUM_LANES);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (a, &x) in acc.iter_mut().zip(chunk) {
            let x = convert(x);
            *a += x * x;
        }
    }
    for (a, &x) in acc.iter_mut().zip(rest) {
        let x = convert(x);
        *a += x * x;
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
    out: BlockOut<'_, T>,
    ws: &mut E::Workspace,
    buf: &mut BlockBuffers<T>,
) -> BlockCodes<T> {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2")]
        unsafe fn avx2<T: Float, E: Encoder<T>>(
            encoder: &E,
            dict: &Dictionary<T>,
            xb: MatRef<'_, T>,
            out: BlockOut<'_, T>,
            ws: &mut E::Workspace,
            buf: &mut BlockBuffers<T>,
        ) -> BlockCodes<T> {
            encode_block_body(encoder, dict, xb, out, ws, buf)
        }
        if crate::linalg::has_avx2() {
            // SAFETY: the CPU supports AVX2.
            return unsafe { avx2(encoder, dict, xb, out, ws, buf) };
        }
    }
    encode_block_body(encoder, dict, xb, out, ws, buf)
}

/// Codes the signals `xb` into `out`: one GEMM for `D x`, then each signal
/// in turn. Dense codes are written straight into the output rows when those
/// are contiguous, else into a buffer copied out at the end; sparse codes go
/// through one reused buffer column, whose non-zeros are appended to the CSR
/// arrays.
#[inline(always)]
fn encode_block_body<T: Float, E: Encoder<T>>(
    encoder: &E,
    dict: &Dictionary<T>,
    xb: MatRef<'_, T>,
    mut out: BlockOut<'_, T>,
    ws: &mut E::Workspace,
    buf: &mut BlockBuffers<T>,
) -> BlockCodes<T> {
    let len = xb.nrows();
    let mut dx = buf.dx.as_mut().subcols_mut(0, len);
    crate::linalg::gemm(dx.as_mut(), Accum::Replace, dict.atoms(), xb.transpose(), Par::Seq);
    let direct = matches!(&out, BlockOut::Dense(z, _) if z.col_stride() == 1);
    if let BlockOut::Dense(zblock, start) = &out {
        if !direct {
            let mut z = buf.z.as_mut().subcols_mut(0, len);
            match start {
                Start::Zero => z.fill(T::zero()),
                Start::Warm => z.copy_from(zblock.as_ref().transpose()),
            }
        }
    }
    let sparse = matches!(out, BlockOut::Sparse(_));
    let columns = dict.atom_columns();
    let mut result = BlockCodes { reports: Vec::with_capacity(len), indices: Vec::new(), values: Vec::new() };
    for j in 0..len {
        let xj = xb.row(j).transpose();
        for (r, &v) in buf.residual.iter_mut().zip(xj.iter()) {
            *r = v;
        }
        let norm_sq = sum_of_squares(&buf.residual, |v| v);
        let dxj = buf.dx.col_as_slice(j);
        let zj = match &mut out {
            BlockOut::Dense(zblock, start) if direct => {
                let row = zblock.as_mut().row_mut(j).try_as_row_major_mut().expect("column stride 1").as_slice_mut();
                if *start == Start::Zero {
                    row.fill(T::zero());
                }
                row
            }
            BlockOut::Dense(..) => buf.z.col_as_slice_mut(j),
            BlockOut::Sparse(init) => {
                let col = buf.z.col_as_slice_mut(0);
                match init {
                    Some(init) => {
                        for (c, &v) in col.iter_mut().zip(init.row(j).iter()) {
                            *c = v;
                        }
                    }
                    None => col.fill(T::zero()),
                }
                col
            }
        };
        let status = encoder.encode_one(dict, &Signal { x: xj, dx: dxj, norm_sq }, zj, ws);
        // The non-zeros, without a branch per atom, then the residual
        // x - D^T z from them only.
        let slots = buf.nonzeros.as_mut_slice();
        let mut nnz = 0;
        for (k, &c) in zj.iter().enumerate() {
            slots[nnz] = k;
            nnz += usize::from(c != T::zero());
        }
        let nonzeros = &slots[..nnz];
        for &k in nonzeros {
            let c = zj[k];
            let atom = columns.col(k).try_as_col_major().expect("atom_columns() is an owned column-major Mat");
            for (r, &a) in buf.residual.iter_mut().zip(atom.as_slice()) {
                *r -= c * a;
            }
        }
        let res_sq = sum_of_squares(&buf.residual, |r| r.as_f64());
        result.reports.push(SignalReport {
            residual_norm: res_sq.sqrt(),
            objective: 0.5 * res_sq + encoder.penalty(zj).as_f64(),
            n_nonzero: nnz,
            n_iter: status.n_iter,
            converged: status.converged,
        });
        if sparse {
            result.indices.extend_from_slice(nonzeros);
            result.values.extend(nonzeros.iter().map(|&k| zj[k]));
        }
    }
    if let BlockOut::Dense(mut zblock, _) = out {
        if !direct {
            zblock.copy_from(buf.z.as_ref().subcols(0, len).transpose());
        }
    }
    result
}
