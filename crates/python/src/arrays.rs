//! Zero-copy views of numpy arrays as faer matrices.
//!
//! A numpy array of any strides (C or Fortran order, slices with steps,
//! negative steps, read-only or memory-mapped buffers) is viewed in place: the
//! faer view gets numpy's data pointer and its strides converted from bytes to
//! elements. Only arrays whose strides are not whole elements (unaligned
//! records) are refused, with a message telling how to make a usable copy.

use numpy::{Element, PyArray2, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use numpy::{PyReadonlyArray2, PyReadwriteArray2};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use sparsecode::Float;

/// The element strides of a 2-D array, or an error naming `name` when a byte
/// stride is not a whole number of elements or the data is misaligned.
fn element_strides<T>(name: &str, array: &Bound<'_, PyUntypedArray>, ptr: *const T) -> PyResult<(isize, isize)> {
    let size = std::mem::size_of::<T>() as isize;
    let strides = array.strides();
    let aligned = (ptr as usize) % std::mem::align_of::<T>() == 0;
    if !aligned || strides[0] % size != 0 || strides[1] % size != 0 {
        return Err(PyValueError::new_err(format!(
            "{name} is not aligned on its {}-byte elements (strides {:?} bytes); pass np.ascontiguousarray({name})",
            size, strides
        )));
    }
    Ok((strides[0] / size, strides[1] / size))
}

fn check_non_empty(name: &str, shape: &[usize]) -> PyResult<()> {
    if shape[0] == 0 || shape[1] == 0 {
        return Err(PyValueError::new_err(format!("{name} is empty (shape {} x {})", shape[0], shape[1])));
    }
    Ok(())
}

/// A read-only faer view of `array` (no copy). Fails on an empty array.
pub fn mat_ref<'a, T: Float + Element>(
    name: &str,
    array: &'a PyReadonlyArray2<'_, T>,
) -> PyResult<faer::MatRef<'a, T>> {
    let untyped = array.as_untyped();
    check_non_empty(name, untyped.shape())?;
    let ptr = array.data() as *const T;
    let (rs, cs) = element_strides(name, untyped, ptr)?;
    let (nrows, ncols) = (untyped.shape()[0], untyped.shape()[1]);
    // SAFETY: numpy guarantees that the buffer holds `nrows x ncols` elements at
    // these (element) strides from `ptr`, checked aligned above; the readonly
    // borrow keeps the array alive and free of writers from Rust for `'a`.
    Ok(unsafe { faer::MatRef::from_raw_parts(ptr, nrows, ncols, rs, cs) })
}

/// A writable faer view of `array` (no copy). Fails on an empty array.
pub fn mat_mut<'a, T: Float + Element>(
    name: &str,
    array: &'a mut PyReadwriteArray2<'_, T>,
) -> PyResult<faer::MatMut<'a, T>> {
    let untyped = array.as_untyped();
    check_non_empty(name, untyped.shape())?;
    let ptr = array.data();
    let (rs, cs) = element_strides(name, untyped, ptr as *const T)?;
    let (nrows, ncols) = (untyped.shape()[0], untyped.shape()[1]);
    // SAFETY: as in `mat_ref`; the readwrite borrow makes this the only view.
    Ok(unsafe { faer::MatMut::from_raw_parts_mut(ptr, nrows, ncols, rs, cs) })
}

/// Which float type an input array holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dtype {
    /// `numpy.float32`.
    F32,
    /// `numpy.float64`.
    F64,
}

/// The dtype of `x`, which must be a 2-D float32 or float64 numpy array;
/// anything else is a `TypeError` naming what was given.
pub fn float_dtype(name: &str, x: &Bound<'_, PyAny>) -> PyResult<Dtype> {
    if x.cast::<PyArray2<f64>>().is_ok() {
        return Ok(Dtype::F64);
    }
    if x.cast::<PyArray2<f32>>().is_ok() {
        return Ok(Dtype::F32);
    }
    let found = match x.cast::<PyUntypedArray>() {
        Ok(a) => format!("a {}-D numpy array of dtype {}", a.ndim(), a.getattr("dtype")?.str()?),
        Err(_) => format!("an object of type {}", x.get_type().name()?),
    };
    Err(PyTypeError::new_err(format!("{name} must be a 2-D numpy array of float32 or float64, got {found}")))
}

/// `x` as a read-only 2-D array of `T`; a `TypeError` when its dtype or rank
/// differs (e.g. a float32 dictionary for float64 signals).
pub fn readonly<'py, T: Float + Element>(name: &str, x: &Bound<'py, PyAny>) -> PyResult<PyReadonlyArray2<'py, T>> {
    match x.cast::<PyArray2<T>>() {
        Ok(a) => Ok(a.try_readonly().map_err(|e| PyValueError::new_err(format!("{name}: {e}")))?),
        Err(_) => {
            let got = float_dtype(name, x)?;
            Err(PyTypeError::new_err(format!(
                "{name} must have dtype {} like the signals, got {}",
                T::NAME.replace('f', "float"),
                match got {
                    Dtype::F32 => "float32",
                    Dtype::F64 => "float64",
                }
            )))
        }
    }
}

/// A new C-order numpy array holding a copy of `m`.
pub fn to_numpy<'py, T: Float + Element>(py: Python<'py>, m: faer::MatRef<'_, T>) -> PyResult<Bound<'py, PyArray2<T>>> {
    let out = PyArray2::<T>::zeros(py, [m.nrows(), m.ncols()], false);
    if m.nrows() > 0 && m.ncols() > 0 {
        let mut rw = out.readwrite();
        mat_mut("result", &mut rw)?.copy_from(m);
    }
    Ok(out)
}
