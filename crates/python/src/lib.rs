//! `sparsecode._sparsecode`: the compiled half of the Python package
//! `sparsecode`. Thin bindings of the core library: numpy arrays are viewed in
//! place, the GIL is released while the core computes on a thread pool of
//! `n_jobs` threads, and core errors become `ValueError`s with the core's
//! message. The scikit-learn-style estimators are pure Python over this module.

mod analysis;
mod arrays;
mod conv;
mod encode;
mod errors;
mod learn;
mod patches;
mod threads;

use pyo3::prelude::*;

/// The extension module.
#[pymodule]
fn _sparsecode(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(analysis::measure_rows, m)?)?;
    m.add_function(wrap_pyfunction!(analysis::apply_nonlinearity, m)?)?;
    m.add_function(wrap_pyfunction!(analysis::difference_rows, m)?)?;
    m.add_function(wrap_pyfunction!(analysis::omp_curve, m)?)?;
    m.add_function(wrap_pyfunction!(analysis::knee, m)?)?;
    m.add_function(wrap_pyfunction!(conv::conv_code, m)?)?;
    m.add_function(wrap_pyfunction!(conv::conv_reconstruct, m)?)?;
    m.add_function(wrap_pyfunction!(conv::conv_learn, m)?)?;
    m.add_function(wrap_pyfunction!(conv::conv_learn_online, m)?)?;
    m.add_function(wrap_pyfunction!(encode::encode, m)?)?;
    m.add_function(wrap_pyfunction!(learn::learn_batch, m)?)?;
    m.add_function(wrap_pyfunction!(learn::learn_online, m)?)?;
    m.add_function(wrap_pyfunction!(patches::extract_patches, m)?)?;
    m.add_function(wrap_pyfunction!(patches::reconstruct_patches, m)?)?;
    Ok(())
}
