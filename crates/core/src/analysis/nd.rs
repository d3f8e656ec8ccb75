//! N-D arrays (a video `t x h x w`, a stack of spectrograms, ...) seen as
//! batches of 2-D faer matrices, so that the 2-D measures and differencing
//! operators apply along any axis.
//!
//! An [`NdView`] borrows C-order (row-major, last index fastest) data, as a
//! `.npy` file stores it. [`NdView::lanes`] gives, for one axis, matrices whose
//! *columns* are the lanes along that axis (every 1-D slice obtained by fixing
//! all other indices), in C order of the other indices; no data is copied.
//! [`NdView::measure_axis`] and [`NdView::map_axis`] build on it.

use super::measures::{measure_lines, Measure};
use super::Axis;
use crate::{Error, Float, Result};
use faer::{Mat, MatRef};

/// A read-only, finite, non-empty N-D array in C order.
///
/// ```
/// use sparsecode::analysis::{differencing::{lagged_difference, Sign}, measures::Measure, nd::NdView, Axis};
/// // A video of 3 frames of 2 x 2 pixels.
/// let data: Vec<f64> = (0..12).map(|v| (v * v) as f64).collect();
/// let video = NdView::new(&data, &[3, 2, 2]).unwrap();
/// // Temporal differences at delay 1 of every pixel: 2 frames remain.
/// let d = video.map_axis(0, |lanes| lagged_difference(lanes, Axis::Columns, 1, Sign::Signed)).unwrap();
/// assert_eq!(d.shape, vec![2, 2, 2]);
/// assert_eq!(d.data[0], 16.0); // pixel (0, 0): 4^2 - 0^2
/// // l1 norm along x of every row of every frame.
/// let l1 = video.measure_axis(2, Measure::L1).unwrap();
/// assert_eq!(l1.shape, vec![3, 2]);
/// assert_eq!(l1.data[1], 4.0 + 9.0);
/// ```
#[derive(Debug, Clone, Copy)]
pub struct NdView<'a, T> {
    data: &'a [T],
    shape: &'a [usize],
}

/// An owned N-D array in C order, as the N-D operations return it.
#[derive(Debug, Clone, PartialEq)]
pub struct NdArray<T> {
    /// The values, last index fastest.
    pub data: Vec<T>,
    /// The extent of each axis.
    pub shape: Vec<usize>,
}

impl<T: Float> NdArray<T> {
    /// A view of this array.
    pub fn view(&self) -> NdView<'_, T> {
        NdView { data: &self.data, shape: &self.shape }
    }
}

impl<'a, T: Float> NdView<'a, T> {
    /// Views `data` as an array of `shape`. Fails unless the shape has at least
    /// one axis, no axis of extent 0, and as many entries as `data`, and
    /// unless every value is finite (the error gives the index of the first
    /// bad one).
    pub fn new(data: &'a [T], shape: &'a [usize]) -> Result<Self> {
        if shape.is_empty() || shape.contains(&0) {
            return Err(Error::Empty(format!("the array (shape {shape:?})")));
        }
        let size = shape.iter().try_fold(1usize, |a, &b| a.checked_mul(b));
        if size != Some(data.len()) {
            return Err(Error::Shape(format!("shape {shape:?} does not hold the {} values given", data.len())));
        }
        if let Some(flat) = data.iter().position(|v| !num_traits::Float::is_finite(*v)) {
            return Err(Error::Invalid(format!(
                "the array contains a non-finite value ({}) at index {:?}",
                data[flat],
                unravel(flat, shape)
            )));
        }
        Ok(Self { data, shape })
    }

    /// The extent of each axis.
    pub fn shape(&self) -> &'a [usize] {
        self.shape
    }

    /// The values in C order.
    pub fn data(&self) -> &'a [T] {
        self.data
    }

    /// Matrices whose columns are all the lanes along `axis`, in C order of the
    /// other indices: one `shape[axis] x prod(shape[axis+1..])` matrix per
    /// index of the axes before `axis`, or a single matrix when `axis` is the
    /// last axis. Fails if `axis` is out of range.
    pub fn lanes(&self, axis: usize) -> Result<Vec<MatRef<'a, T>>> {
        let (outer, len, inner) = self.split(axis)?;
        if inner == 1 {
            return Ok(vec![MatRef::from_column_major_slice(self.data, len, outer)]);
        }
        Ok(self.data.chunks_exact(len * inner).map(|block| MatRef::from_row_major_slice(block, len, inner)).collect())
    }

    /// `measure` of every lane along `axis`: an array of the shape with `axis`
    /// removed (shape `[]` with one value for a 1-D array).
    pub fn measure_axis(&self, axis: usize, measure: Measure) -> Result<NdArray<f64>> {
        let mut data = Vec::new();
        for block in self.lanes(axis)? {
            data.extend(measure_lines(block, Axis::Columns, measure)?);
        }
        let shape = self.shape.iter().enumerate().filter(|&(i, _)| i != axis).map(|(_, &s)| s).collect();
        Ok(NdArray { data, shape })
    }

    /// Applies `op` to every lane along `axis`. `op` receives matrices from
    /// [`NdView::lanes`] and must return, for each, a matrix with one column
    /// per input column (the transformed lanes), with the same number of rows
    /// for every call; that number becomes the new extent of `axis`. Any
    /// column-wise operator fits, e.g. `|m| lagged_difference(m, Axis::Columns,
    /// tau, sign)`.
    pub fn map_axis(&self, axis: usize, op: impl Fn(MatRef<'a, T>) -> Result<Mat<T>>) -> Result<NdArray<T>> {
        let (outer, _, inner) = self.split(axis)?;
        let blocks = self.lanes(axis)?;
        let single = blocks.len() == 1 && inner == 1;
        let mut new_len = None;
        let mut data = Vec::new();
        for (b, block) in blocks.into_iter().enumerate() {
            let out = op(block)?;
            if out.ncols() != block.ncols() || new_len.is_some_and(|l| l != out.nrows()) {
                return Err(Error::Shape(format!(
                    "the lane operation turned {} lanes into {} x {}; expected {} columns and {} rows",
                    block.ncols(),
                    out.nrows(),
                    out.ncols(),
                    block.ncols(),
                    new_len.unwrap_or(out.nrows())
                )));
            }
            let len = *new_len.get_or_insert(out.nrows());
            if data.is_empty() {
                data = vec![T::zero(); outer * len * inner];
            }
            for c in 0..out.ncols() {
                let (o, r) = if single { (c, 0) } else { (b, c) };
                for i in 0..len {
                    data[(o * len + i) * inner + r] = out[(i, c)];
                }
            }
        }
        let mut shape = self.shape.to_vec();
        shape[axis] = new_len.unwrap_or(0);
        if shape[axis] == 0 {
            return Err(Error::Empty(format!("the result of the lane operation along axis {axis}")));
        }
        Ok(NdArray { data, shape })
    }

    /// `(product of extents before axis, extent of axis, product after)`.
    fn split(&self, axis: usize) -> Result<(usize, usize, usize)> {
        if axis >= self.shape.len() {
            return Err(Error::parameter(
                "axis",
                axis,
                format!("the array has {} axes (shape {:?})", self.shape.len(), self.shape),
            ));
        }
        let outer = self.shape[..axis].iter().product();
        let inner = self.shape[axis + 1..].iter().product();
        Ok((outer, self.shape[axis], inner))
    }
}

/// The multi-index of flat position `flat` in a C-order array of `shape`.
fn unravel(mut flat: usize, shape: &[usize]) -> Vec<usize> {
    let mut index = vec![0; shape.len()];
    for (i, &s) in shape.iter().enumerate().rev() {
        index[i] = flat % s;
        flat /= s;
    }
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lanes_are_the_slices_along_each_axis() {
        let data: Vec<f64> = (0..24).map(f64::from).collect();
        let shape = [2, 3, 4];
        let view = NdView::new(&data, &shape).unwrap();
        let at = |i: usize, j: usize, k: usize| data[(i * 3 + j) * 4 + k];
        for axis in 0..3 {
            let blocks = view.lanes(axis).unwrap();
            let mut lane_id = 0;
            let others: Vec<usize> = (0..3).filter(|&a| a != axis).collect();
            for block in &blocks {
                assert_eq!(block.nrows(), shape[axis]);
                for c in 0..block.ncols() {
                    let fixed = (lane_id / shape[others[1]], lane_id % shape[others[1]]);
                    for p in 0..shape[axis] {
                        let mut idx = [0; 3];
                        idx[axis] = p;
                        idx[others[0]] = fixed.0;
                        idx[others[1]] = fixed.1;
                        assert_eq!(block[(p, c)], at(idx[0], idx[1], idx[2]));
                    }
                    lane_id += 1;
                }
            }
            assert_eq!(lane_id, 24 / shape[axis]);
        }
    }

    #[test]
    fn bad_arrays_are_rejected_with_their_index() {
        let mut data = vec![0.0f32; 12];
        assert!(matches!(NdView::new(&data, &[3, 5]), Err(Error::Shape(_))));
        assert!(matches!(NdView::new(&data, &[12, 0]), Err(Error::Empty(_))));
        data[7] = f32::NAN;
        let err = NdView::new(&data, &[3, 2, 2]).unwrap_err().to_string();
        assert!(err.contains("[1, 1, 1]"), "{err}");
        data[7] = 0.0;
        let view = NdView::new(&data, &[3, 2, 2]).unwrap();
        assert!(matches!(view.lanes(3), Err(Error::Parameter { name: "axis", .. })));
    }
}
