//! Thread pools sized by `n_jobs`, built once per size and reused, so that a
//! call with `n_jobs = k` runs on exactly `k` threads whatever the global rayon
//! pool is, and repeated calls do not pay for thread creation.

use pyo3::exceptions::PyValueError;
use pyo3::PyResult;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

static POOLS: OnceLock<Mutex<HashMap<usize, Arc<rayon::ThreadPool>>>> = OnceLock::new();

/// The cached pool of `n_jobs` threads (`n_jobs >= 1`; the Python layer
/// resolves scikit-learn's `None` and negative values).
pub fn pool(n_jobs: usize) -> PyResult<Arc<rayon::ThreadPool>> {
    if n_jobs == 0 {
        return Err(PyValueError::new_err("n_jobs = 0 is invalid: use a positive number of threads, or -1 for all"));
    }
    let pools = POOLS.get_or_init(|| Mutex::new(HashMap::new()));
    let mut pools = pools.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(pool) = pools.get(&n_jobs) {
        return Ok(Arc::clone(pool));
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(n_jobs)
        .thread_name(|i| format!("sparsecode-{i}"))
        .build()
        .map_err(|e| PyValueError::new_err(format!("cannot start a pool of n_jobs = {n_jobs} threads: {e}")))?;
    let pool = Arc::new(pool);
    pools.insert(n_jobs, Arc::clone(&pool));
    Ok(pool)
}
