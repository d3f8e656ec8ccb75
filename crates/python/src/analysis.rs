//! Sparsity analysis: sparseness measures along the rows of a matrix,
//! elementwise sparsifying nonlinearities, differencing operators along rows,
//! the OMP error curve and its knee. The Python layer moves the axis of
//! interest of an N-D array last and flattens the others into rows, so that
//! these 2-D kernels serve every axis.

use crate::arrays::{float_dtype, mat_ref, readonly, to_numpy, Dtype};
use crate::errors;
use crate::threads;
use numpy::{Element, PyArray1, PyArrayMethods, PyReadonlyArray1};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use sparsecode::analysis::differencing::{self, Sign};
use sparsecode::analysis::measures::{measure_lines, Measure};
use sparsecode::analysis::nonlinear::Nonlinearity;
use sparsecode::analysis::report::{knee_index, omp_error_curve};
use sparsecode::analysis::Axis;
use sparsecode::{Dictionary, Float};

fn parse_measure(name: &str, tolerance: f64) -> PyResult<Measure> {
    Ok(match name {
        "l0" => Measure::L0 { tolerance },
        "l1" => Measure::L1,
        "kurtosis" => Measure::Kurtosis,
        "excess_kurtosis" => Measure::ExcessKurtosis,
        "hoyer" => Measure::Hoyer,
        "gini" => Measure::Gini,
        other => {
            return Err(PyValueError::new_err(format!(
                "measure must be one of 'l0', 'l1', 'kurtosis', 'excess_kurtosis', 'hoyer', 'gini', got {other:?}"
            )))
        }
    })
}

fn measure_typed<'py, T: Float + Element>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    measure: Measure,
    n_jobs: usize,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let x = readonly::<T>("x", x)?;
    let view = mat_ref("x", &x)?;
    let pool = threads::pool(n_jobs)?;
    let values = py.detach(|| pool.install(|| measure_lines(view, Axis::Rows, measure))).map_err(errors::to_py)?;
    Ok(PyArray1::from_vec(py, values))
}

/// `measure_rows(x, measure, tolerance=0.0, n_jobs=1)`
///
/// The sparseness `measure` (`'l0'`, `'l1'`, `'kurtosis'`,
/// `'excess_kurtosis'`, `'hoyer'`, `'gini'`) of every row of the 2-D float
/// array `x`, as float64. `tolerance` is the l0 count's zero threshold.
#[pyfunction]
#[pyo3(signature = (x, measure, tolerance=0.0, n_jobs=1))]
pub fn measure_rows<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    measure: &str,
    tolerance: f64,
    n_jobs: usize,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let measure = parse_measure(measure, tolerance)?;
    match float_dtype("x", x)? {
        Dtype::F64 => measure_typed::<f64>(py, x, measure, n_jobs),
        Dtype::F32 => measure_typed::<f32>(py, x, measure, n_jobs),
    }
}

fn apply_typed<'py, T: Float + Element>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    nonlinearity: Nonlinearity,
) -> PyResult<Bound<'py, PyAny>> {
    let x: PyReadonlyArray1<'py, T> =
        x.cast::<PyArray1<T>>()?.try_readonly().map_err(|e| PyValueError::new_err(e.to_string()))?;
    let values = x.as_slice().map_err(|_| PyValueError::new_err("x must be C-contiguous (np.ascontiguousarray)"))?;
    let out = py.detach(|| nonlinearity.apply(values)).map_err(errors::to_py)?;
    Ok(PyArray1::from_vec(py, out).into_any())
}

/// `apply_nonlinearity(x, name, parameter)`
///
/// The elementwise nonlinearity `name` applied to a copy of the contiguous
/// 1-D float array `x`: `'relu'` (`max(x - parameter, 0)`),
/// `'soft_threshold'`, `'hard_threshold'` (threshold `parameter`) or
/// `'top_fraction'` (keeps the `ceil(parameter * n)` largest magnitudes).
#[pyfunction]
pub fn apply_nonlinearity<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    name: &str,
    parameter: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let nonlinearity = match name {
        "relu" => Nonlinearity::Relu { theta: parameter },
        "soft_threshold" => Nonlinearity::SoftThreshold { threshold: parameter },
        "hard_threshold" => Nonlinearity::HardThreshold { threshold: parameter },
        "top_fraction" => Nonlinearity::TopFraction { fraction: parameter },
        other => {
            return Err(PyValueError::new_err(format!(
                "nonlinearity must be one of 'relu', 'soft_threshold', 'hard_threshold', 'top_fraction', got {other:?}"
            )))
        }
    };
    if x.cast::<PyArray1<f64>>().is_ok() {
        apply_typed::<f64>(py, x, nonlinearity)
    } else if x.cast::<PyArray1<f32>>().is_ok() {
        apply_typed::<f32>(py, x, nonlinearity)
    } else {
        Err(PyTypeError::new_err("x must be a 1-D numpy array of float32 or float64"))
    }
}

/// Which differencing operator, and its size parameter.
#[derive(Clone, Copy)]
enum Difference {
    Lagged(usize),
    CausalBox(usize),
    CenteredBox(usize),
}

fn difference_typed<'py, T: Float + Element>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    difference: Difference,
    sign: Sign,
    n_jobs: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let x = readonly::<T>("x", x)?;
    let view = mat_ref("x", &x)?;
    let pool = threads::pool(n_jobs)?;
    let out = py
        .detach(|| {
            pool.install(|| match difference {
                Difference::Lagged(lag) => differencing::lagged_difference(view, Axis::Rows, lag, sign),
                Difference::CausalBox(window) => differencing::causal_box_difference(view, Axis::Rows, window, sign),
                Difference::CenteredBox(radius) => {
                    differencing::centered_box_difference(view, Axis::Rows, radius, sign)
                }
            })
        })
        .map_err(errors::to_py)?;
    Ok(to_numpy(py, out.as_ref())?.into_any())
}

/// `difference_rows(x, kind, size, absolute=False, n_jobs=1)`
///
/// A differencing operator along every row of the 2-D float array `x`:
/// `kind = 'lagged'` (`x[t + size] - x[t]`), `'causal_box'` (`x[t]` minus the
/// mean of the `size` samples before it) or `'centered_box'` (`x[t]` minus the
/// mean of the `2 size + 1` samples centred on it). Rows get shorter by
/// `size` (`2 size` for `'centered_box'`); `absolute` takes magnitudes.
#[pyfunction]
#[pyo3(signature = (x, kind, size, absolute=false, n_jobs=1))]
pub fn difference_rows<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    kind: &str,
    size: usize,
    absolute: bool,
    n_jobs: usize,
) -> PyResult<Bound<'py, PyAny>> {
    let difference = match kind {
        "lagged" => Difference::Lagged(size),
        "causal_box" => Difference::CausalBox(size),
        "centered_box" => Difference::CenteredBox(size),
        other => {
            return Err(PyValueError::new_err(format!(
                "difference kind must be 'lagged', 'causal_box' or 'centered_box', got {other:?}"
            )))
        }
    };
    let sign = if absolute { Sign::Absolute } else { Sign::Signed };
    match float_dtype("x", x)? {
        Dtype::F64 => difference_typed::<f64>(py, x, difference, sign, n_jobs),
        Dtype::F32 => difference_typed::<f32>(py, x, difference, sign, n_jobs),
    }
}

fn omp_curve_typed<'py, T: Float + Element>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    dictionary: &Bound<'py, PyAny>,
    max_nonzero: usize,
    n_jobs: usize,
) -> PyResult<Vec<f64>> {
    let x = readonly::<T>("X", x)?;
    let dictionary = readonly::<T>("dictionary", dictionary)?;
    let (view, atoms) = (mat_ref("X", &x)?, mat_ref("dictionary", &dictionary)?);
    let pool = threads::pool(n_jobs)?;
    let curve = py
        .detach(|| pool.install(|| omp_error_curve(view, &Dictionary::from_ref(atoms)?, max_nonzero)))
        .map_err(errors::to_py)?;
    Ok(curve.relative_error)
}

/// `omp_error_curve(X, dictionary, max_nonzero, n_jobs=1)`
///
/// `||X - X_hat||_F / ||X||_F` for OMP codes of `k = 1 ..= max_nonzero`
/// non-zeros per signal over `dictionary` (float64 array of `max_nonzero`
/// values).
#[pyfunction]
#[pyo3(name = "omp_error_curve", signature = (x, dictionary, max_nonzero, n_jobs=1))]
pub fn omp_curve<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    dictionary: &Bound<'py, PyAny>,
    max_nonzero: usize,
    n_jobs: usize,
) -> PyResult<Bound<'py, PyArray1<f64>>> {
    let errors = match float_dtype("X", x)? {
        Dtype::F64 => omp_curve_typed::<f64>(py, x, dictionary, max_nonzero, n_jobs)?,
        Dtype::F32 => omp_curve_typed::<f32>(py, x, dictionary, max_nonzero, n_jobs)?,
    };
    Ok(PyArray1::from_vec(py, errors))
}

/// `knee(x, y)`
///
/// The index of the point of the curve `(x, y)` farthest from the chord
/// between its end points, both axes scaled to `[0, 1]`.
#[pyfunction]
pub fn knee(x: Vec<f64>, y: Vec<f64>) -> PyResult<usize> {
    knee_index(&x, &y).map_err(errors::to_py)
}
