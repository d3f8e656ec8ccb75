//! Core errors as Python exceptions.

use pyo3::exceptions::PyValueError;
use pyo3::PyErr;

/// Converts a core [`sparsecode::Error`] into a Python `ValueError` carrying
/// the core's message unchanged: every variant describes bad input (a shape,
/// a value, a parameter), which is what `ValueError` means in numpy and
/// scikit-learn.
pub fn to_py(error: sparsecode::Error) -> PyErr {
    PyValueError::new_err(error.to_string())
}
