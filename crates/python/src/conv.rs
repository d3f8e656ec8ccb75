//! Convolutional sparse coding and dictionary learning. Arrays cross the
//! boundary in the core's [`ConvArray`] layout `items x channels x spatial`
//! (C order); the Python layer adds and removes the channel axis.

use crate::errors;
use crate::threads;
use num_complex::Complex;
use numpy::{Element, PyArrayDyn, PyArrayMethods, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sparsecode::conv::{
    self, AdmmOptions, Boundary, CdlOptions, ConvArray, ConvFloat, CscOptions, FilterUpdate, OnlineCdl,
    OnlineCdlOptions, OnlineCdlState, Solver,
};

fn is_dtype<T: Element>(x: &Bound<'_, PyAny>) -> bool {
    x.cast::<PyArrayDyn<T>>().is_ok()
}

/// A copy of the numpy array `x` (`items x channels x spatial...`, any
/// strides) as a [`ConvArray`].
fn conv_array<T: ConvFloat + Element>(name: &str, x: &Bound<'_, PyAny>) -> PyResult<ConvArray<T>> {
    let array = x.cast::<PyArrayDyn<T>>().map_err(|_| {
        PyTypeError::new_err(format!("{name} must be a numpy array of dtype {}", T::NAME.replace('f', "float")))
    })?;
    let readonly = array.try_readonly().map_err(|e| PyValueError::new_err(format!("{name}: {e}")))?;
    let shape = readonly.shape().to_vec();
    if shape.len() < 3 {
        return Err(PyValueError::new_err(format!(
            "{name} must have at least 3 dimensions (items, channels, spatial...), got shape {shape:?}"
        )));
    }
    let data: Vec<T> = readonly.as_array().iter().copied().collect();
    ConvArray::new(shape[0], shape[1], &shape[2..], data).map_err(errors::to_py)
}

/// `a` as a numpy array of its shape.
fn to_numpy<'py, T: ConvFloat + Element>(py: Python<'py>, a: ConvArray<T>) -> PyResult<Bound<'py, PyAny>> {
    let mut shape = vec![a.n_items(), a.n_channels()];
    shape.extend_from_slice(a.spatial());
    Ok(numpy::PyArray1::from_vec(py, a.into_data()).reshape(shape)?.into_any())
}

fn parse_boundary(boundary: &str) -> PyResult<Boundary> {
    match boundary {
        "circular" => Ok(Boundary::Circular),
        "linear" => Ok(Boundary::Linear),
        other => Err(PyValueError::new_err(format!("boundary must be 'circular' or 'linear', got {other:?}"))),
    }
}

type Coded<'py> = (Bound<'py, PyAny>, f64, usize, bool);

fn code_typed<'py, T: ConvFloat + Element>(
    py: Python<'py>,
    filters: &Bound<'py, PyAny>,
    signals: &Bound<'py, PyAny>,
    mask: Option<&Bound<'py, PyAny>>,
    options: CscOptions,
    n_jobs: usize,
) -> PyResult<Coded<'py>> {
    let filters = conv_array::<T>("filters", filters)?;
    let signals = conv_array::<T>("X", signals)?;
    let mask = mask.map(|m| conv_array::<T>("mask", m)).transpose()?;
    let pool = threads::pool(n_jobs)?;
    let out =
        py.detach(|| pool.install(|| conv::csc(&filters, &signals, mask.as_ref(), &options))).map_err(errors::to_py)?;
    Ok((to_numpy(py, out.maps)?, out.objective, out.n_iter, out.converged))
}

/// `conv_code(filters, signals, mask, lam, solver, boundary, positive, max_iter, tol, rho=None, n_jobs=1)`
///
/// Convolutional basis pursuit denoising of `signals` (`n x channels x
/// spatial`) over fixed `filters` (`k x filter_channels x filter_spatial`),
/// `mask` (the shape of `signals`, or None) weighting the data term. Returns
/// `(maps, objective, n_iter, converged)`, maps `n x n_maps x map_spatial`.
#[pyfunction]
#[pyo3(signature = (filters, signals, mask, lam, solver, boundary, positive, max_iter, tol, rho=None, n_jobs=1))]
#[allow(clippy::too_many_arguments)]
pub fn conv_code<'py>(
    py: Python<'py>,
    filters: &Bound<'py, PyAny>,
    signals: &Bound<'py, PyAny>,
    mask: Option<&Bound<'py, PyAny>>,
    lam: f64,
    solver: &str,
    boundary: &str,
    positive: bool,
    max_iter: usize,
    tol: f64,
    rho: Option<f64>,
    n_jobs: usize,
) -> PyResult<Coded<'py>> {
    let solver = match solver {
        "admm" => Solver::Admm(AdmmOptions { rho, ..AdmmOptions::default() }),
        "fista" => Solver::Fista,
        other => return Err(PyValueError::new_err(format!("solver must be 'admm' or 'fista', got {other:?}"))),
    };
    let options =
        CscOptions { lambda: lam, boundary: parse_boundary(boundary)?, non_negative: positive, max_iter, tol, solver };
    if is_dtype::<f64>(signals) {
        code_typed::<f64>(py, filters, signals, mask, options, n_jobs)
    } else if is_dtype::<f32>(signals) {
        code_typed::<f32>(py, filters, signals, mask, options, n_jobs)
    } else {
        Err(PyTypeError::new_err("X must have dtype float32 or float64"))
    }
}

fn reconstruct_typed<'py, T: ConvFloat + Element>(
    py: Python<'py>,
    filters: &Bound<'py, PyAny>,
    maps: &Bound<'py, PyAny>,
    boundary: Boundary,
    n_jobs: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let filters = conv_array::<T>("filters", filters)?;
    let maps = conv_array::<T>("maps", maps)?;
    let pool = threads::pool(n_jobs)?;
    let signals = py.detach(|| pool.install(|| conv::reconstruct(&filters, &maps, boundary))).map_err(errors::to_py)?;
    to_numpy(py, signals)
}

/// `conv_reconstruct(filters, maps, boundary, n_jobs=1)`
///
/// The signals `sum_k d_k * z_k` (`n x channels x signal_spatial`) that the
/// coefficient `maps` (`n x n_maps x map_spatial`) represent over `filters`.
#[pyfunction]
#[pyo3(signature = (filters, maps, boundary, n_jobs=1))]
pub fn conv_reconstruct<'py>(
    py: Python<'py>,
    filters: &Bound<'py, PyAny>,
    maps: &Bound<'py, PyAny>,
    boundary: &str,
    n_jobs: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let boundary = parse_boundary(boundary)?;
    if is_dtype::<f64>(maps) {
        reconstruct_typed::<f64>(py, filters, maps, boundary, n_jobs)
    } else if is_dtype::<f32>(maps) {
        reconstruct_typed::<f32>(py, filters, maps, boundary, n_jobs)
    } else {
        Err(PyTypeError::new_err("maps must have dtype float32 or float64"))
    }
}

type Learned<'py> = (Bound<'py, PyAny>, Bound<'py, PyAny>, Vec<f64>);

fn learn_typed<'py, T: ConvFloat + Element>(
    py: Python<'py>,
    signals: &Bound<'py, PyAny>,
    mask: Option<&Bound<'py, PyAny>>,
    init: Option<&Bound<'py, PyAny>>,
    options: &CdlOptions,
    n_jobs: usize,
) -> PyResult<Learned<'py>> {
    let signals = conv_array::<T>("X", signals)?;
    let mask = mask.map(|m| conv_array::<T>("mask", m)).transpose()?;
    let init = init.map(|f| conv_array::<T>("init", f)).transpose()?;
    let pool = threads::pool(n_jobs)?;
    let out = py
        .detach(|| pool.install(|| conv::learn_filters(&signals, mask.as_ref(), init.as_ref(), options)))
        .map_err(errors::to_py)?;
    Ok((to_numpy(py, out.filters)?, to_numpy(py, out.maps)?, out.objective))
}

/// `conv_learn(signals, mask, init, n_filters, filter_shape, multichannel_filters, lam, boundary, n_iter,
/// coding_iter, filter_iter, zero_mean, positive, seed, filter_update="fista", n_jobs=1)`
///
/// Learns `n_filters` filters of spatial shape `filter_shape` from `signals`
/// (`n x channels x spatial`): single-channel filters shared by every channel,
/// or with `multichannel_filters` one filter channel per signal channel.
/// Starts from `init` filters (`n_filters x filter_channels x filter_shape`)
/// or seeded windows of the signals. `filter_update` is `"fista"` (projected
/// FISTA) or `"consensus"` (consensus ADMM). Returns `(filters, maps,
/// objective per outer iteration)`.
#[pyfunction]
#[pyo3(signature = (
    signals, mask, init, n_filters, filter_shape, multichannel_filters, lam, boundary, n_iter, coding_iter,
    filter_iter, zero_mean, positive, seed, filter_update="fista", n_jobs=1
))]
#[allow(clippy::too_many_arguments)]
pub fn conv_learn<'py>(
    py: Python<'py>,
    signals: &Bound<'py, PyAny>,
    mask: Option<&Bound<'py, PyAny>>,
    init: Option<&Bound<'py, PyAny>>,
    n_filters: usize,
    filter_shape: Vec<usize>,
    multichannel_filters: bool,
    lam: f64,
    boundary: &str,
    n_iter: usize,
    coding_iter: usize,
    filter_iter: usize,
    zero_mean: bool,
    positive: bool,
    seed: u64,
    filter_update: &str,
    n_jobs: usize,
) -> PyResult<Learned<'py>> {
    let mut options = CdlOptions::new(n_filters, &filter_shape, lam);
    options.multichannel_filters = multichannel_filters;
    options.boundary = parse_boundary(boundary)?;
    options.n_iter = n_iter;
    options.coding_iter = coding_iter;
    options.filter_iter = filter_iter;
    options.zero_mean = zero_mean;
    options.non_negative = positive;
    options.seed = seed;
    options.filter_update = match filter_update {
        "fista" => FilterUpdate::Fista,
        "consensus" => FilterUpdate::consensus(),
        other => {
            return Err(PyValueError::new_err(format!("filter_update must be 'fista' or 'consensus', got {other:?}")))
        }
    };
    if is_dtype::<f64>(signals) {
        learn_typed::<f64>(py, signals, mask, init, &options, n_jobs)
    } else if is_dtype::<f32>(signals) {
        learn_typed::<f32>(py, signals, mask, init, &options, n_jobs)
    } else {
        Err(PyTypeError::new_err("X must have dtype float32 or float64"))
    }
}

/// Interleaves real and imaginary parts.
fn complex_to_real<T: ConvFloat>(v: &[Complex<T>]) -> Vec<T> {
    v.iter().flat_map(|c| [c.re, c.im]).collect()
}

fn state_to_dict<'py, T: ConvFloat + Element>(
    py: Python<'py>,
    state: OnlineCdlState<T>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("a", numpy::PyArray1::from_vec(py, complex_to_real(&state.a)))?;
    d.set_item("b", numpy::PyArray1::from_vec(py, complex_to_real(&state.b)))?;
    d.set_item("dims", state.dims)?;
    d.set_item("n_channels", state.n_channels)?;
    d.set_item("n_signals_seen", state.n_signals_seen)?;
    d.set_item("total_weight", state.total_weight)?;
    d.set_item("filters", to_numpy(py, state.filters)?)?;
    Ok(d)
}

fn state_from_dict<T: ConvFloat + Element>(d: &Bound<'_, PyDict>) -> PyResult<OnlineCdlState<T>> {
    let item = |key: &str| -> PyResult<Bound<'_, PyAny>> {
        d.get_item(key)?.ok_or_else(|| PyValueError::new_err(format!("the online state has no {key:?} entry")))
    };
    let complex = |key: &str| -> PyResult<Vec<Complex<T>>> {
        let array = item(key)?;
        let array = array.cast::<numpy::PyArray1<T>>().map_err(|_| {
            PyTypeError::new_err(format!("state entry {key:?} must be a 1-D array of the data's dtype"))
        })?;
        let values = array.try_readonly().map_err(|e| PyValueError::new_err(format!("{key}: {e}")))?;
        let values = values.as_slice().map_err(|e| PyValueError::new_err(format!("{key}: {e}")))?;
        if values.len() % 2 != 0 {
            return Err(PyValueError::new_err(format!("state entry {key:?} has an odd length")));
        }
        Ok(values.chunks_exact(2).map(|c| Complex::new(c[0], c[1])).collect())
    };
    Ok(OnlineCdlState {
        filters: conv_array::<T>("filters", &item("filters")?)?,
        dims: item("dims")?.extract()?,
        n_channels: item("n_channels")?.extract()?,
        a: complex("a")?,
        b: complex("b")?,
        n_signals_seen: item("n_signals_seen")?.extract()?,
        total_weight: item("total_weight")?.extract()?,
    })
}

type Streamed<'py> = (Bound<'py, PyDict>, Vec<f64>);

fn learn_online_typed<'py, T: ConvFloat + Element>(
    py: Python<'py>,
    signals: &Bound<'py, PyAny>,
    state: Option<&Bound<'py, PyDict>>,
    init: Option<&Bound<'py, PyAny>>,
    options: OnlineCdlOptions,
    batch_size: usize,
    n_jobs: usize,
) -> PyResult<Streamed<'py>> {
    let signals = conv_array::<T>("X", signals)?;
    let mut learner = match state {
        Some(s) => OnlineCdl::from_state(options, state_from_dict::<T>(s)?),
        None => {
            let init = init.map(|f| conv_array::<T>("init", f)).transpose()?;
            OnlineCdl::new(options, init.as_ref())
        }
    }
    .map_err(errors::to_py)?;
    let pool = threads::pool(n_jobs)?;
    let per_item = signals.n_channels() * signals.spatial_len();
    let objective = py
        .detach(|| {
            pool.install(|| {
                let mut objective = Vec::new();
                for start in (0..signals.n_items()).step_by(batch_size) {
                    let n = batch_size.min(signals.n_items() - start);
                    let data = signals.data()[start * per_item..(start + n) * per_item].to_vec();
                    let batch = ConvArray::new(n, signals.n_channels(), signals.spatial(), data)?;
                    objective.push(learner.partial_fit(&batch)?);
                }
                Ok::<_, sparsecode::Error>(objective)
            })
        })
        .map_err(errors::to_py)?;
    let state = learner.state().ok_or_else(|| PyValueError::new_err("no signal was given"))?;
    Ok((state_to_dict(py, state)?, objective))
}

/// `conv_learn_online(signals, state, init, n_filters, filter_shape, multichannel_filters, lam, coding_iter,
/// filter_iter, forget_rate, zero_mean, positive, seed, batch_size, n_jobs=1)`
///
/// Online convolutional dictionary learning (Liu et al. 2018): the items of
/// `signals` (`n x channels x spatial`, every call the same spatial shape)
/// are taken in order in batches of `batch_size`, each coded, folded into
/// the frequency-domain statistics and followed by a filter update. `state`
/// (a dict from an earlier call) continues a stream; without it the filters
/// start from `init` or seeded windows of the first batch. Returns `(state,
/// mean objective per signal of each batch under the filters before its step)`.
#[pyfunction]
#[pyo3(signature = (
    signals, state, init, n_filters, filter_shape, multichannel_filters, lam, coding_iter, filter_iter,
    forget_rate, zero_mean, positive, seed, batch_size, n_jobs=1
))]
#[allow(clippy::too_many_arguments)]
pub fn conv_learn_online<'py>(
    py: Python<'py>,
    signals: &Bound<'py, PyAny>,
    state: Option<&Bound<'py, PyDict>>,
    init: Option<&Bound<'py, PyAny>>,
    n_filters: usize,
    filter_shape: Vec<usize>,
    multichannel_filters: bool,
    lam: f64,
    coding_iter: usize,
    filter_iter: usize,
    forget_rate: f64,
    zero_mean: bool,
    positive: bool,
    seed: u64,
    batch_size: usize,
    n_jobs: usize,
) -> PyResult<Streamed<'py>> {
    if batch_size == 0 {
        return Err(PyValueError::new_err("batch_size must be at least 1"));
    }
    let mut options = OnlineCdlOptions::new(n_filters, &filter_shape, lam);
    options.multichannel_filters = multichannel_filters;
    options.coding_iter = coding_iter;
    options.filter_iter = filter_iter;
    options.forget_rate = forget_rate;
    options.zero_mean = zero_mean;
    options.non_negative = positive;
    options.seed = seed;
    if is_dtype::<f64>(signals) {
        learn_online_typed::<f64>(py, signals, state, init, options, batch_size, n_jobs)
    } else if is_dtype::<f32>(signals) {
        learn_online_typed::<f32>(py, signals, state, init, options, batch_size, n_jobs)
    } else {
        Err(PyTypeError::new_err("X must have dtype float32 or float64"))
    }
}
