//! Differencing operators that expose change: lagged differences (temporal
//! differences at a delay), differences against a causal box-filter average of
//! the recent past, differences against a centred (symmetric) box-filter
//! average (spatial high-pass along image rows or columns), first differences.
//!
//! Every operator works on the lines of a matrix chosen by [`Axis`] (a time
//! series of frames is `n_times x n_pixels` with `Axis::Columns`; an image's
//! rows are smoothed with `Axis::Rows`), keeps only the positions where the
//! whole window fits (no boundary padding, so the lines get shorter), and runs
//! in parallel over lines. Along an axis of an N-D array (e.g. time in a video
//! `t x h x w`) use [`crate::analysis::nd::NdView::map_axis`].

use super::Axis;
use crate::{validate, Error, Float, Result};
use faer::{Mat, MatRef};
use rayon::prelude::*;

/// Whether a difference keeps its sign or only its magnitude.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sign {
    /// `a - b`.
    Signed,
    /// `|a - b|`.
    Absolute,
}

impl Sign {
    #[inline]
    fn of<T: Float>(self, d: T) -> T {
        match self {
            Sign::Signed => d,
            Sign::Absolute => d.abs(),
        }
    }
}

/// `y[t] = x[t + lag] - x[t]` along every line (`|...|` with
/// [`Sign::Absolute`]): temporal differences at delay `lag`. Lines shrink by
/// `lag`. Fails for `lag = 0` and for `lag` not shorter than the lines.
///
/// ```
/// use sparsecode::analysis::{differencing::{lagged_difference, Sign}, Axis};
/// let frames = faer::mat![[1.0, 5.0], [2.0, 3.0], [4.0, 0.0]]; // 3 times x 2 pixels
/// let d = lagged_difference(frames.as_ref(), Axis::Columns, 2, Sign::Absolute).unwrap();
/// assert_eq!(d, faer::mat![[3.0, 5.0]]);
/// ```
pub fn lagged_difference<T: Float>(m: MatRef<'_, T>, axis: Axis, lag: usize, sign: Sign) -> Result<Mat<T>> {
    validate::at_least_one("lag", lag)?;
    let len = line_length("lag", m, axis, lag, lag)?;
    Ok(map_lines(m, axis, len - lag, |x, y| {
        for (t, out) in y.iter_mut().enumerate() {
            *out = sign.of(x[t + lag] - x[t]);
        }
    }))
}

/// `y[t] = x[t + 1] - x[t]` along every line: [`lagged_difference`] at lag 1,
/// signed.
///
/// ```
/// use sparsecode::analysis::{differencing::first_difference, Axis};
/// let d = first_difference(faer::mat![[1.0, 4.0, 9.0]].as_ref(), Axis::Rows).unwrap();
/// assert_eq!(d, faer::mat![[3.0, 5.0]]);
/// ```
pub fn first_difference<T: Float>(m: MatRef<'_, T>, axis: Axis) -> Result<Mat<T>> {
    lagged_difference(m, axis, 1, Sign::Signed)
}

/// Difference of every sample from the mean of the `window` samples before
/// it: `y[t - window] = x[t] - mean(x[t - window .. t])` for
/// `t = window .. n` (the current sample is not in its own average, so
/// `window = 1` gives the first difference). Lines shrink by `window`. Fails
/// for `window = 0` and for a window not shorter than the lines.
///
/// ```
/// use sparsecode::analysis::{differencing::{causal_box_difference, Sign}, Axis};
/// let d = causal_box_difference(faer::mat![[1.0, 3.0, 8.0, 6.0]].as_ref(), Axis::Rows, 2, Sign::Signed).unwrap();
/// assert_eq!(d, faer::mat![[6.0, 0.5]]);
/// ```
pub fn causal_box_difference<T: Float>(m: MatRef<'_, T>, axis: Axis, window: usize, sign: Sign) -> Result<Mat<T>> {
    validate::at_least_one("window", window)?;
    let len = line_length("window", m, axis, window, window)?;
    let inv = 1.0 / window as f64;
    Ok(map_lines(m, axis, len - window, |x, y| {
        // Running sum of the window, in f64 so that long lines do not drift.
        let mut sum: f64 = x[..window].iter().map(|v| v.as_f64()).sum();
        for (i, out) in y.iter_mut().enumerate() {
            let t = i + window;
            *out = sign.of(x[t] - T::of(sum * inv));
            sum += x[t].as_f64() - x[i].as_f64();
        }
    }))
}

/// Difference of every sample from the mean of the centred window of
/// `2 radius + 1` samples around it (itself included):
/// `y[t - radius] = x[t] - mean(x[t - radius ..= t + radius])` for the `t`
/// where the window fits. A symmetric box high-pass: along the rows of an
/// image with `Axis::Rows`, along its columns with `Axis::Columns`. Lines
/// shrink by `2 radius`. Fails for `radius = 0` and for a window longer than
/// the lines.
///
/// ```
/// use sparsecode::analysis::{differencing::{centered_box_difference, Sign}, Axis};
/// let image = faer::mat![[0.0, 0.0, 3.0, 0.0, 0.0]];
/// let d = centered_box_difference(image.as_ref(), Axis::Rows, 1, Sign::Signed).unwrap();
/// assert_eq!(d, faer::mat![[-1.0, 2.0, -1.0]]);
/// ```
pub fn centered_box_difference<T: Float>(m: MatRef<'_, T>, axis: Axis, radius: usize, sign: Sign) -> Result<Mat<T>> {
    validate::at_least_one("radius", radius)?;
    let width = 2 * radius + 1;
    let len = line_length("radius", m, axis, radius, width - 1)?;
    let inv = 1.0 / width as f64;
    Ok(map_lines(m, axis, len + 1 - width, |x, y| {
        let mut sum: f64 = x[..width].iter().map(|v| v.as_f64()).sum();
        for (i, out) in y.iter_mut().enumerate() {
            *out = sign.of(x[i + radius] - T::of(sum * inv));
            if i + width < x.len() {
                sum += x[i + width].as_f64() - x[i].as_f64();
            }
        }
    }))
}

/// Checks `m` and returns the length of its lines, which must exceed `shrink`
/// (`parameter = value` is named in the error).
fn line_length<T: Float>(
    parameter: &'static str,
    m: MatRef<'_, T>,
    axis: Axis,
    value: usize,
    shrink: usize,
) -> Result<usize> {
    validate::non_empty("the matrix", m)?;
    validate::finite("the matrix", m)?;
    let len = match axis {
        Axis::Rows => m.ncols(),
        Axis::Columns => m.nrows(),
    };
    if shrink >= len {
        return Err(Error::parameter(
            parameter,
            value,
            format!("the window spans {} samples but the lines ({axis:?}) have only {len}", shrink + 1),
        ));
    }
    Ok(len)
}

/// Applies `kernel(line, out)` to every line of `m` along `axis`, each line
/// giving `out_len` values, in parallel over lines.
fn map_lines<T: Float>(m: MatRef<'_, T>, axis: Axis, out_len: usize, kernel: impl Fn(&[T], &mut [T]) + Sync) -> Mat<T> {
    // Work on columns: the lines of `m` along `axis` are the columns of `lines`.
    let lines = match axis {
        Axis::Columns => m,
        Axis::Rows => m.transpose(),
    };
    let mut out = Mat::<T>::zeros(out_len, lines.ncols());
    out.par_col_iter_mut().enumerate().for_each_init(
        || (Vec::with_capacity(lines.nrows()), vec![T::zero(); out_len]),
        |(x, y), (j, col)| {
            x.clear();
            x.extend(lines.col(j).iter().copied());
            kernel(x, y);
            col.iter_mut().zip(y.iter()).for_each(|(c, &v)| *c = v);
        },
    );
    match axis {
        Axis::Columns => out,
        Axis::Rows => out.transpose().to_owned(),
    }
}
