//! Image patches: extraction (all patches, or a random subset) and
//! reconstruction by averaging overlaps, for gray (`h x w`) and multichannel
//! (`h x w x c`) images.

use crate::arrays::{mat_ref, readonly, to_numpy};
use crate::errors;
use numpy::{Element, PyArray1, PyArrayDyn, PyArrayMethods, PyUntypedArray, PyUntypedArrayMethods};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use sparsecode::image::PatchGrid;
use sparsecode::Float;

fn is_dtype<T: Element>(x: &Bound<'_, PyAny>) -> bool {
    x.cast::<PyArrayDyn<T>>().is_ok()
}

fn extract_typed<'py, T: Float + Element>(
    py: Python<'py>,
    image: &Bound<'py, PyAny>,
    patch: (usize, usize),
    max_patches: Option<usize>,
    seed: u64,
) -> PyResult<Bound<'py, PyAny>> {
    let ndim = image.cast::<PyUntypedArray>()?.ndim();
    let patches = if ndim == 2 {
        let image = readonly::<T>("image", image)?;
        let view = mat_ref("image", &image)?;
        py.detach(|| {
            let grid = PatchGrid::new((view.nrows(), view.ncols()), patch)?;
            match max_patches {
                Some(n) => grid.extract_subset(view, &grid.sample_indices(n, seed)?),
                None => grid.extract(view),
            }
        })
    } else {
        let array = image.cast::<PyArrayDyn<T>>()?.try_readonly().map_err(|e| PyValueError::new_err(e.to_string()))?;
        let shape = array.shape().to_vec();
        let pixels = array
            .as_slice()
            .map_err(|_| PyValueError::new_err("a multichannel image must be C-contiguous (np.ascontiguousarray)"))?;
        py.detach(|| {
            let grid = PatchGrid::multichannel((shape[0], shape[1], shape[2]), patch, (1, 1))?;
            match max_patches {
                Some(n) => grid.extract_multichannel(pixels, Some(&grid.sample_indices(n, seed)?)),
                None => grid.extract_multichannel(pixels, None),
            }
        })
    }
    .map_err(errors::to_py)?;
    Ok(to_numpy(py, patches.as_ref())?.into_any())
}

/// `extract_patches(image, patch, max_patches=None, seed=0)`
///
/// Every `patch = (height, width)` patch of `image` (2-D gray, any strides,
/// or 3-D `h x w x c` C-contiguous; float32 or float64), one per row, in
/// row-major order of their top-left corners, each flattened in C order
/// (`height * width * c` values). With `max_patches`, that many distinct
/// patches drawn at random for `seed`, in the same order.
#[pyfunction]
#[pyo3(signature = (image, patch, max_patches=None, seed=0))]
pub fn extract_patches<'py>(
    py: Python<'py>,
    image: &Bound<'py, PyAny>,
    patch: (usize, usize),
    max_patches: Option<usize>,
    seed: u64,
) -> PyResult<Bound<'py, PyAny>> {
    let ndim = image.cast::<PyUntypedArray>().map_err(|_| PyTypeError::new_err("image must be a numpy array"))?.ndim();
    if ndim != 2 && ndim != 3 {
        return Err(PyValueError::new_err(format!(
            "image must be 2-D (height, width) or 3-D (height, width, channels), got {ndim} dimensions"
        )));
    }
    if is_dtype::<f64>(image) {
        extract_typed::<f64>(py, image, patch, max_patches, seed)
    } else if is_dtype::<f32>(image) {
        extract_typed::<f32>(py, image, patch, max_patches, seed)
    } else {
        Err(PyTypeError::new_err("image must have dtype float32 or float64"))
    }
}

fn reconstruct_typed<'py, T: Float + Element>(
    py: Python<'py>,
    patches: &Bound<'py, PyAny>,
    image: (usize, usize, usize),
    patch: (usize, usize),
) -> PyResult<Bound<'py, PyAny>> {
    let patches = readonly::<T>("patches", patches)?;
    let view = mat_ref("patches", &patches)?;
    let pixels = py
        .detach(|| PatchGrid::multichannel(image, patch, (1, 1))?.reconstruct_multichannel(view))
        .map_err(errors::to_py)?;
    Ok(PyArray1::from_vec(py, pixels).into_any())
}

/// `reconstruct_patches(patches, image, patch)`
///
/// The image (`image = (height, width, channels)`, returned flat in C order)
/// whose every pixel is the mean of the values that the patches (rows of
/// `patches`, all of the image's `patch`-sized patches in the order of
/// `extract_patches`) give it.
#[pyfunction]
pub fn reconstruct_patches<'py>(
    py: Python<'py>,
    patches: &Bound<'py, PyAny>,
    image: (usize, usize, usize),
    patch: (usize, usize),
) -> PyResult<Bound<'py, PyAny>> {
    if is_dtype::<f64>(patches) {
        reconstruct_typed::<f64>(py, patches, image, patch)
    } else {
        reconstruct_typed::<f32>(py, patches, image, patch)
    }
}
