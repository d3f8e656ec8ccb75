//! Dictionary learning bindings: batch learning (block-coordinate, K-SVD,
//! approximate K-SVD, MOD) and online learning, whose whole state goes to and
//! from Python as a dict of numpy arrays and numbers, so that estimators
//! pickle and `partial_fit` resumes exactly.

use crate::arrays::{float_dtype, mat_ref, readonly, to_numpy, Dtype};
use crate::{errors, threads};
use numpy::Element;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyDict;
use sparsecode::encode::cd::CoordinateDescent;
use sparsecode::encode::lars::Lars;
use sparsecode::encode::lasso::ElasticNet;
use sparsecode::encode::omp::Omp;
use sparsecode::encode::Encoder;
use sparsecode::learn::batch::{self, BatchOptions, DictionaryUpdate};
use sparsecode::learn::online::{OnlineLearner, OnlineParams, OnlineSchedule, OnlineState};
use sparsecode::learn::{Init, Progress};
use sparsecode::Float;
use std::ops::ControlFlow;

/// The encoder used while learning.
struct CodeSpec {
    algorithm: String,
    n_nonzero: Option<usize>,
    alpha: f64,
    positive: bool,
    max_iter: usize,
}

/// Work that needs a concrete encoder type (the learners are generic over it).
trait EncoderTask {
    type Output;
    fn run<E: Encoder<f32> + Encoder<f64> + Clone + Send>(self, encoder: E) -> PyResult<Self::Output>;
}

/// Runs `task` with the encoder `spec` names: `omp` (l0, `n_nonzero` atoms),
/// `lars` or `cd` (Lasso with penalty `alpha`).
fn with_encoder<V: EncoderTask>(spec: &CodeSpec, task: V) -> PyResult<V::Output> {
    let penalty = ElasticNet::lasso(spec.alpha).nonneg(spec.positive);
    match spec.algorithm.as_str() {
        "omp" => task.run(Omp { n_nonzero: spec.n_nonzero, tolerance: None, nonneg: spec.positive }),
        "lars" => task.run(Lars::new(penalty)),
        "cd" => task.run(CoordinateDescent::new(penalty).with_max_iter(spec.max_iter)),
        other => Err(PyValueError::new_err(format!("unknown fit_algorithm {other:?}: use one of 'lars', 'cd', 'omp'"))),
    }
}

/// The first dictionary: the given atoms, else an SVD of the data or random samples.
fn initial<T: Float + Element>(dict_init: Option<&Bound<'_, PyAny>>, svd: bool) -> PyResult<Init<T>> {
    Ok(match dict_init {
        Some(d) => Init::Given(mat_ref("dict_init", &readonly::<T>("dict_init", d)?)?.to_owned()),
        None if svd => Init::Svd,
        None => Init::Samples,
    })
}

/// Calls the Python `callback` with the progress as a dict; stops the run when
/// it returns `False` or raises (the exception is kept in `failure`).
fn report(callback: Option<&Py<PyAny>>, progress: &Progress, failure: &mut Option<PyErr>) -> ControlFlow<()> {
    let Some(callback) = callback else { return ControlFlow::Continue(()) };
    Python::attach(|py| {
        let info = PyDict::new(py);
        let result = info
            .set_item("iteration", progress.iteration)
            .and_then(|_| info.set_item("max_iter", progress.max_iter))
            .and_then(|_| info.set_item("objective", progress.objective))
            .and_then(|_| info.set_item("dictionary_change", progress.dictionary_change))
            .and_then(|_| callback.call1(py, (info,)));
        match result {
            Ok(answer) if matches!(answer.extract::<bool>(py), Ok(false)) => ControlFlow::Break(()),
            Ok(_) => ControlFlow::Continue(()),
            Err(error) => {
                *failure = Some(error);
                ControlFlow::Break(())
            }
        }
    })
}

struct BatchTask<'a, 'py> {
    py: Python<'py>,
    x: &'a Bound<'py, PyAny>,
    n_atoms: usize,
    update: DictionaryUpdate,
    max_iter: usize,
    tol: f64,
    positive_dict: bool,
    dict_init: Option<&'a Bound<'py, PyAny>>,
    svd_init: bool,
    seed: u64,
    n_jobs: usize,
    callback: Option<Py<PyAny>>,
}

/// Dictionary, codes, objective per iteration, iterations, converged.
type BatchOutput<'py> = (Bound<'py, PyAny>, Bound<'py, PyAny>, Vec<f64>, usize, bool);

impl<'py> BatchTask<'_, 'py> {
    fn typed<T: Float + Element, E: Encoder<T>>(self, encoder: E) -> PyResult<BatchOutput<'py>> {
        let x = readonly::<T>("X", self.x)?;
        let x_view = mat_ref("X", &x)?;
        let mut options = BatchOptions::new(self.n_atoms, self.update);
        options.init = initial::<T>(self.dict_init, self.svd_init)?;
        options.max_iter = self.max_iter;
        options.tol = self.tol;
        options.nonneg_dictionary = self.positive_dict;
        options.seed = self.seed;
        let pool = threads::pool(self.n_jobs)?;
        let callback = self.callback.as_ref();
        let mut failure = None;
        let fitted = self
            .py
            .detach(|| pool.install(|| batch::fit(x_view, &encoder, &options, |p| report(callback, p, &mut failure))));
        if let Some(error) = failure {
            return Err(error);
        }
        let fitted = fitted.map_err(errors::to_py)?;
        let dictionary = to_numpy(self.py, fitted.dictionary.atoms())?.into_any();
        let codes = match &fitted.codes {
            Some(codes) => to_numpy(self.py, codes.as_ref())?.into_any(),
            None => self.py.None().into_bound(self.py),
        };
        Ok((dictionary, codes, fitted.objective, fitted.n_iter, fitted.converged))
    }
}

impl<'py> EncoderTask for BatchTask<'_, 'py> {
    type Output = BatchOutput<'py>;
    fn run<E: Encoder<f32> + Encoder<f64> + Clone + Send>(self, encoder: E) -> PyResult<Self::Output> {
        match float_dtype("X", self.x)? {
            Dtype::F64 => self.typed::<f64, E>(encoder),
            Dtype::F32 => self.typed::<f32, E>(encoder),
        }
    }
}

/// `learn_batch(x, n_atoms, update, fit_algorithm, *, n_nonzero=None, alpha=1.0,
/// positive_code=False, code_max_iter=1000, max_iter=50, tol=1e-6,
/// positive_dict=False, dict_init=None, svd_init=True, seed=0, n_jobs=1,
/// callback=None)`
///
/// Batch dictionary learning over all rows of `x`: `update` is `bcd`
/// (block-coordinate, scikit-learn's `DictionaryLearning`), `mod`, `ksvd` or
/// `approx_ksvd`. Returns `(dictionary, codes, objective, n_iter, converged)`.
/// `callback(info)` is called after every iteration with a dict (`iteration`,
/// `max_iter`, `objective`, `dictionary_change`); returning `False` stops.
#[pyfunction]
#[pyo3(signature = (x, n_atoms, update, fit_algorithm, *, n_nonzero=None, alpha=1.0, positive_code=false,
    code_max_iter=1000, max_iter=50, tol=1e-6, positive_dict=false, dict_init=None, svd_init=true, seed=0,
    n_jobs=1, callback=None))]
#[allow(clippy::too_many_arguments)]
pub fn learn_batch<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    n_atoms: usize,
    update: &str,
    fit_algorithm: &str,
    n_nonzero: Option<usize>,
    alpha: f64,
    positive_code: bool,
    code_max_iter: usize,
    max_iter: usize,
    tol: f64,
    positive_dict: bool,
    dict_init: Option<&Bound<'py, PyAny>>,
    svd_init: bool,
    seed: u64,
    n_jobs: usize,
    callback: Option<Py<PyAny>>,
) -> PyResult<BatchOutput<'py>> {
    let update = match update {
        "bcd" => DictionaryUpdate::BlockCoordinate,
        "mod" => DictionaryUpdate::Mod,
        "ksvd" => DictionaryUpdate::Ksvd,
        "approx_ksvd" => DictionaryUpdate::ApproxKsvd,
        other => {
            return Err(PyValueError::new_err(format!(
                "unknown dictionary update {other:?}: use one of 'bcd', 'mod', 'ksvd', 'approx_ksvd'"
            )))
        }
    };
    let spec = CodeSpec {
        algorithm: fit_algorithm.to_string(),
        n_nonzero,
        alpha,
        positive: positive_code,
        max_iter: code_max_iter,
    };
    let task =
        BatchTask { py, x, n_atoms, update, max_iter, tol, positive_dict, dict_init, svd_init, seed, n_jobs, callback };
    with_encoder(&spec, task)
}

/// The online learner's state as a Python dict (see [`OnlineState`]).
fn state_to_dict<'py, T: Float + Element>(py: Python<'py>, state: &OnlineState<T>) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("dictionary", to_numpy(py, state.dictionary.as_ref())?)?;
    d.set_item("a", to_numpy(py, state.a.as_ref())?)?;
    d.set_item("b", to_numpy(py, state.b.as_ref())?)?;
    d.set_item("n_samples_seen", state.n_samples_seen)?;
    d.set_item("total_weight", state.total_weight)?;
    d.set_item("n_steps", state.n_steps)?;
    d.set_item("smoothed_objective", state.smoothed_objective)?;
    Ok(d)
}

fn state_from_dict<T: Float + Element>(d: &Bound<'_, PyDict>, params: OnlineParams) -> PyResult<OnlineState<T>> {
    let item = |key: &str| -> PyResult<Bound<'_, PyAny>> {
        d.get_item(key)?.ok_or_else(|| PyValueError::new_err(format!("the online state has no {key:?} entry")))
    };
    let matrix = |key: &str| -> PyResult<faer::Mat<T>> {
        let array = item(key)?;
        let array = readonly::<T>(key, &array)?;
        Ok(mat_ref(key, &array)?.to_owned())
    };
    Ok(OnlineState {
        params,
        dictionary: matrix("dictionary")?,
        a: matrix("a")?,
        b: matrix("b")?,
        n_samples_seen: item("n_samples_seen")?.extract()?,
        total_weight: item("total_weight")?.extract()?,
        n_steps: item("n_steps")?.extract()?,
        smoothed_objective: item("smoothed_objective")?.extract()?,
    })
}

struct OnlineTask<'a, 'py> {
    py: Python<'py>,
    x: &'a Bound<'py, PyAny>,
    n_atoms: usize,
    params: OnlineParams,
    state: Option<&'a Bound<'py, PyDict>>,
    dict_init: Option<&'a Bound<'py, PyAny>>,
    svd_init: bool,
    schedule: Option<OnlineSchedule>,
    n_jobs: usize,
    callback: Option<Py<PyAny>>,
}

/// State, objective per step of this call, steps of this call, converged.
type OnlineOutput<'py> = (Bound<'py, PyDict>, Vec<f64>, usize, bool);

impl<'py> OnlineTask<'_, 'py> {
    fn typed<T: Float + Element, E: Encoder<T> + Send>(self, encoder: E) -> PyResult<OnlineOutput<'py>> {
        let x = readonly::<T>("X", self.x)?;
        let x_view = mat_ref("X", &x)?;
        let mut learner = match self.state {
            Some(state) => OnlineLearner::from_state(encoder, state_from_dict::<T>(state, self.params)?),
            None => {
                let init = initial::<T>(self.dict_init, self.svd_init)?;
                OnlineLearner::from_data(encoder, x_view, self.n_atoms, &init, self.params)
            }
        }
        .map_err(errors::to_py)?;
        let pool = threads::pool(self.n_jobs)?;
        let callback = self.callback.as_ref();
        let mut failure = None;
        let schedule = self.schedule;
        let outcome = self.py.detach(|| {
            pool.install(|| match &schedule {
                Some(schedule) => learner
                    .fit(x_view, schedule, |p| report(callback, p, &mut failure))
                    .map(|fitted| (fitted.objective, fitted.n_iter, fitted.converged)),
                None => learner.partial_fit(x_view).map(|step| (vec![step.smoothed_objective], 1, false)),
            })
        });
        if let Some(error) = failure {
            return Err(error);
        }
        let (objective, n_steps, converged) = outcome.map_err(errors::to_py)?;
        Ok((state_to_dict(self.py, &learner.state())?, objective, n_steps, converged))
    }
}

impl<'py> EncoderTask for OnlineTask<'_, 'py> {
    type Output = OnlineOutput<'py>;
    fn run<E: Encoder<f32> + Encoder<f64> + Clone + Send>(self, encoder: E) -> PyResult<Self::Output> {
        match float_dtype("X", self.x)? {
            Dtype::F64 => self.typed::<f64, E>(encoder),
            Dtype::F32 => self.typed::<f32, E>(encoder),
        }
    }
}

/// `learn_online(x, n_atoms, fit_algorithm, *, state=None, epochs=None,
/// batch_size=256, tol=1e-3, max_no_improvement=10, shuffle=True,
/// n_nonzero=None, alpha=1.0, positive_code=False, code_max_iter=1000,
/// forget_rate=4.0, positive_dict=False, dict_init=None, svd_init=True,
/// seed=0, n_jobs=1, callback=None)`
///
/// Online dictionary learning (Mairal et al. 2010). With `epochs`, a full run
/// over `x` in mini-batches (stopping early on `tol`/`max_no_improvement`);
/// without, one `partial_fit` step on `x` as a single mini-batch. `state` (a
/// dict returned by an earlier call) resumes a run; without it the first
/// dictionary comes from `dict_init` or from `x`. Returns `(state,
/// objective, n_steps, converged)` for this call.
#[pyfunction]
#[pyo3(signature = (x, n_atoms, fit_algorithm, *, state=None, epochs=None, batch_size=256, tol=1e-3,
    max_no_improvement=10, shuffle=true, n_nonzero=None, alpha=1.0, positive_code=false, code_max_iter=1000,
    forget_rate=4.0, positive_dict=false, dict_init=None, svd_init=true, seed=0, n_jobs=1, callback=None))]
#[allow(clippy::too_many_arguments)]
pub fn learn_online<'py>(
    py: Python<'py>,
    x: &Bound<'py, PyAny>,
    n_atoms: usize,
    fit_algorithm: &str,
    state: Option<&Bound<'py, PyDict>>,
    epochs: Option<usize>,
    batch_size: usize,
    tol: f64,
    max_no_improvement: usize,
    shuffle: bool,
    n_nonzero: Option<usize>,
    alpha: f64,
    positive_code: bool,
    code_max_iter: usize,
    forget_rate: f64,
    positive_dict: bool,
    dict_init: Option<&Bound<'py, PyAny>>,
    svd_init: bool,
    seed: u64,
    n_jobs: usize,
    callback: Option<Py<PyAny>>,
) -> PyResult<OnlineOutput<'py>> {
    let spec = CodeSpec {
        algorithm: fit_algorithm.to_string(),
        n_nonzero,
        alpha,
        positive: positive_code,
        max_iter: code_max_iter,
    };
    let params = OnlineParams { forget_rate, nonneg_dictionary: positive_dict, seed, ..OnlineParams::default() };
    let schedule = epochs.map(|max_epochs| OnlineSchedule { batch_size, max_epochs, tol, max_no_improvement, shuffle });
    let task = OnlineTask { py, x, n_atoms, params, state, dict_init, svd_init, schedule, n_jobs, callback };
    with_encoder(&spec, task)
}
