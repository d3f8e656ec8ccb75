//! Batch sparse coding: numpy in, numpy out, the core's batch driver between.

use crate::arrays::{float_dtype, mat_mut, mat_ref, readonly, Dtype};
use crate::{errors, threads};
use numpy::{Element, PyArray1, PyArray2, PyArrayMethods};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use sparsecode::encode::cd::CoordinateDescent;
use sparsecode::encode::fista::Fista;
use sparsecode::encode::lars::Lars;
use sparsecode::encode::lasso::ElasticNet;
use sparsecode::encode::omp::{Omp, Ormp};
use sparsecode::encode::threshold::Threshold;
use sparsecode::encode::{encode_into, encode_sparse, Encoder, SparseCodes, Start};
use sparsecode::{Dictionary, Float};

/// Codes (a dense array, or the CSR arrays `(data, indices, indptr)`), and
/// per signal the encoder's iteration count and objective value.
pub type Coded<'py> = (Bound<'py, PyAny>, Bound<'py, PyArray1<u64>>, Bound<'py, PyArray1<f64>>);

/// Codes every row of `x` over `dictionary` with `encoder` on a pool of
/// `n_jobs` threads, without the GIL, starting from `init` (warm start) when
/// given, zeros otherwise. `x` is read in place whatever its strides.
///
/// Dense output: the codes are written straight into a new C-order array.
/// Sparse output (`sparse`): the core's CSR arrays, `(data, indices,
/// indptr)` as `scipy.sparse.csr_matrix` takes them, with int32 indices
/// where they fit (scipy's own choice, so that it keeps the arrays without a
/// copy) and int64 otherwise.
pub fn encode_typed<'py, T: Float + Element, E: Encoder<T>>(
    py: Python<'py>,
    encoder: &E,
    x: &Bound<'py, PyAny>,
    dictionary: &Bound<'py, PyAny>,
    init: Option<&Bound<'py, PyAny>>,
    n_jobs: usize,
    sparse: bool,
) -> PyResult<Coded<'py>> {
    let x = readonly::<T>("X", x)?;
    let dictionary = readonly::<T>("dictionary", dictionary)?;
    let x_view = mat_ref("X", &x)?;
    let atoms = mat_ref("dictionary", &dictionary)?.to_owned();
    let pool = threads::pool(n_jobs)?;
    let init = init.map(|init| readonly::<T>("init", init)).transpose()?;
    let init_view = init.as_ref().map(|init| mat_ref("init", init)).transpose()?;
    if let Some(init_view) = init_view {
        if init_view.nrows() != x_view.nrows() || init_view.ncols() != atoms.nrows() {
            return Err(errors::to_py(sparsecode::Error::Shape(format!(
                "init is {} x {} but X has {} rows and the dictionary {} atoms",
                init_view.nrows(),
                init_view.ncols(),
                x_view.nrows(),
                atoms.nrows()
            ))));
        }
    }
    let (codes, reports) = if sparse {
        let out = py
            .detach(|| {
                pool.install(|| {
                    let dict = Dictionary::new(atoms)?;
                    encode_sparse(encoder, &dict, x_view, init_view)
                })
            })
            .map_err(errors::to_py)?;
        (csr_arrays(py, out.codes)?, out.reports)
    } else {
        let codes = PyArray2::<T>::zeros(py, [x_view.nrows(), atoms.nrows()], false);
        let mut out = codes.readwrite();
        let mut codes_view = mat_mut("codes", &mut out)?;
        let start = match init_view {
            Some(init_view) => {
                codes_view.copy_from(init_view);
                Start::Warm
            }
            None => Start::Zero,
        };
        let reports = py
            .detach(|| {
                pool.install(|| {
                    let dict = Dictionary::new(atoms)?;
                    encode_into(encoder, &dict, x_view, codes_view, start)
                })
            })
            .map_err(errors::to_py)?;
        drop(out);
        (codes.into_any(), reports)
    };
    let n_iter = PyArray1::from_iter(py, reports.iter().map(|r| r.n_iter as u64));
    let objective = PyArray1::from_iter(py, reports.iter().map(|r| r.objective));
    Ok((codes, n_iter, objective))
}

/// `(data, indices, indptr)` of `codes` as numpy arrays: the values moved,
/// the index arrays int32 when every index and the number of non-zeros fit
/// (as scipy would convert them), int64 otherwise.
fn csr_arrays<'py, T: Float + Element>(py: Python<'py>, codes: SparseCodes<T>) -> PyResult<Bound<'py, PyAny>> {
    let fits = |n: usize| i32::try_from(n).is_ok();
    let (indices, indptr) = if fits(codes.nnz()) && fits(codes.n_rows.max(codes.n_cols)) {
        let as_i32 = |v: &[usize]| v.iter().map(|&k| k as i32).collect::<Vec<i32>>();
        (
            PyArray1::from_vec(py, as_i32(&codes.indices)).into_any(),
            PyArray1::from_vec(py, as_i32(&codes.indptr)).into_any(),
        )
    } else {
        let as_i64 = |v: &[usize]| v.iter().map(|&k| k as i64).collect::<Vec<i64>>();
        (
            PyArray1::from_vec(py, as_i64(&codes.indices)).into_any(),
            PyArray1::from_vec(py, as_i64(&codes.indptr)).into_any(),
        )
    };
    let data = PyArray1::from_vec(py, codes.values).into_any();
    Ok(PyTuple::new(py, [data, indices, indptr])?.into_any())
}

/// Codes with `encoder` in the dtype of `x` (float32 or float64).
fn encode_any<'py, E: Encoder<f32> + Encoder<f64>>(
    py: Python<'py>,
    encoder: &E,
    x: &Bound<'py, PyAny>,
    dictionary: &Bound<'py, PyAny>,
    init: Option<&Bound<'py, PyAny>>,
    n_jobs: usize,
    sparse: bool,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    let (codes, n_iter, objective) = match float_dtype("X", x)? {
        Dtype::F64 => encode_typed::<f64, _>(py, encoder, x, dictionary, init, n_jobs, sparse)?,
        Dtype::F32 => encode_typed::<f32, _>(py, encoder, x, dictionary, init, n_jobs, sparse)?,
    };
    Ok((codes, n_iter.into_any(), objective.into_any()))
}

/// `encode(x, dictionary, algorithm, *, n_nonzero=None, alpha=None, l2=0.0,
/// positive=False, max_iter=1000, tol=None, init=None, n_jobs=1,
/// omp_rule="correlation", sparse_output=False)`
///
/// Codes the rows of `x` over the rows of `dictionary` (both 2-D float32 or
/// both float64 numpy arrays, any strides) and returns `(codes, n_iter,
/// objective)`: the codes (C-order, dtype of `x`; with `sparse_output` the
/// CSR arrays `(data, indices, indptr)`, one row per signal), then per signal
/// the iterations of the method and its objective `0.5 ||x - z D||^2 + penalty`.
/// The GIL is released while the core runs on `n_jobs` threads.
///
/// Algorithms (defaults are resolved by the Python layer): `omp` (at most
/// `n_nonzero` atoms and/or squared residual `alpha`), `lasso_lars`,
/// `lasso_cd`, `fista` (penalty `alpha`, elastic-net term `l2`), `lars` (the
/// LARS path stopped at `n_nonzero` atoms), `threshold` (soft, at `alpha`),
/// `hard_threshold` (at `alpha`); `positive` makes every one non-negative.
/// `omp_rule` picks OMP's next atom: `correlation` (OMP, scikit-learn's
/// codes) or `ormp` (order-recursive matching pursuit, SPAMS' `omp`; no
/// non-negative variant).
#[pyfunction]
#[pyo3(signature = (x, dictionary, algorithm, *, n_nonzero=None, alpha=None, l2=0.0, positive=false, max_iter=1000, tol=None, init=None, n_jobs=1, omp_rule="correlation", sparse_output=false))]
#[allow(clippy::too_many_arguments)]
pub fn encode<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    dictionary: &Bound<'py, PyAny>,
    algorithm: &str,
    n_nonzero: Option<usize>,
    alpha: Option<f64>,
    l2: f64,
    positive: bool,
    max_iter: usize,
    tol: Option<f64>,
    init: Option<&Bound<'py, PyAny>>,
    n_jobs: usize,
    omp_rule: &str,
    sparse_output: bool,
) -> PyResult<(Bound<'py, PyAny>, Bound<'py, PyAny>, Bound<'py, PyAny>)> {
    if algorithm != "omp" && omp_rule != "correlation" {
        return Err(PyValueError::new_err(format!("omp_rule applies to algorithm 'omp' only, not {algorithm:?}")));
    }
    let required =
        |value: Option<f64>| value.ok_or_else(|| PyValueError::new_err(format!("algorithm '{algorithm}' needs alpha")));
    let penalty = || -> PyResult<ElasticNet> { Ok(ElasticNet::lasso(required(alpha)?).with_l2(l2).nonneg(positive)) };
    match algorithm {
        "omp" => match omp_rule {
            "correlation" => encode_any(
                py,
                &Omp { n_nonzero, tolerance: alpha, nonneg: positive },
                x,
                dictionary,
                init,
                n_jobs,
                sparse_output,
            ),
            "ormp" if positive => Err(PyValueError::new_err(
                "omp_rule='ormp' has no non-negative variant: use positive=False or omp_rule='correlation'",
            )),
            "ormp" => encode_any(py, &Ormp { n_nonzero, tolerance: alpha }, x, dictionary, init, n_jobs, sparse_output),
            other => Err(PyValueError::new_err(format!("omp_rule must be 'correlation' or 'ormp', got {other:?}"))),
        },
        "lasso_lars" => encode_any(py, &Lars::new(penalty()?), x, dictionary, init, n_jobs, sparse_output),
        "lars" => {
            let n = n_nonzero.ok_or_else(|| PyValueError::new_err("algorithm 'lars' needs n_nonzero_coefs"))?;
            let lars = Lars::new(ElasticNet::lasso(0.0).with_l2(l2).nonneg(positive)).with_max_nonzero(n);
            encode_any(py, &lars, x, dictionary, init, n_jobs, sparse_output)
        }
        "lasso_cd" => {
            let cd = CoordinateDescent::new(penalty()?).with_max_iter(max_iter);
            let cd = tol.map_or(cd, |tol| cd.with_tol(tol));
            encode_any(py, &cd, x, dictionary, init, n_jobs, sparse_output)
        }
        "fista" => {
            let fista = Fista::new(penalty()?).with_max_iter(max_iter);
            let fista = tol.map_or(fista, |tol| fista.with_tol(tol));
            encode_any(py, &fista, x, dictionary, init, n_jobs, sparse_output)
        }
        "threshold" => encode_any(
            py,
            &Threshold::soft(required(alpha)?).nonneg(positive),
            x,
            dictionary,
            init,
            n_jobs,
            sparse_output,
        ),
        "hard_threshold" => encode_any(
            py,
            &Threshold::hard(required(alpha)?).nonneg(positive),
            x,
            dictionary,
            init,
            n_jobs,
            sparse_output,
        ),
        other => Err(PyValueError::new_err(format!(
            "unknown algorithm {other:?}: use one of omp, lasso_lars, lasso_cd, lars, threshold, fista, hard_threshold"
        ))),
    }
}
