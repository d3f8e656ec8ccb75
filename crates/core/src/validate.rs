//! Checks of user input shared by every entry point: shapes, finiteness, ranges.

use crate::{Error, Float, Result};
use faer::MatRef;

/// Fails unless every entry of `m` is finite, naming the first bad entry (in
/// column-major order). A matrix with contiguous rows or columns (a batch of
/// signals) is first checked in memory order, in vector-friendly runs; only
/// a failure, or other strides, pays for the entry-by-entry search.
pub fn finite<T: Float>(name: &str, m: MatRef<'_, T>) -> Result<()> {
    let run = |v: &[T]| v.iter().fold(true, |ok, x| ok & num_traits::Float::is_finite(*x));
    let checked = if let Some(rows) = m.try_as_row_major() {
        (0..m.nrows()).all(|i| run(rows.row(i).as_slice()))
    } else if let Some(cols) = m.try_as_col_major() {
        (0..m.ncols()).all(|j| run(cols.col(j).as_slice()))
    } else {
        false
    };
    if checked {
        return Ok(());
    }
    for j in 0..m.ncols() {
        for i in 0..m.nrows() {
            let v = m[(i, j)];
            if !num_traits::Float::is_finite(v) {
                return Err(Error::NonFinite { name: name.to_string(), value: v.as_f64(), row: i, col: j });
            }
        }
    }
    Ok(())
}

/// Fails unless every value of `values` is finite.
pub fn finite_slice<T: Float>(name: &str, values: &[T]) -> Result<()> {
    match values.iter().position(|v| !num_traits::Float::is_finite(*v)) {
        None => Ok(()),
        Some(i) => Err(Error::NonFinite { name: name.to_string(), value: values[i].as_f64(), row: i, col: 0 }),
    }
}

/// Fails if `m` has no rows or no columns.
pub fn non_empty<T>(name: &str, m: MatRef<'_, T>) -> Result<()> {
    if m.nrows() == 0 || m.ncols() == 0 {
        return Err(Error::Empty(format!("{name} (shape {} x {})", m.nrows(), m.ncols())));
    }
    Ok(())
}

/// Fails unless `value` is finite and `>= 0`.
pub fn non_negative(name: &'static str, value: f64) -> Result<()> {
    if !(value.is_finite() && value >= 0.0) {
        return Err(Error::parameter(name, value, "must be finite and >= 0"));
    }
    Ok(())
}

/// Fails unless `value` is finite and `> 0`.
pub fn positive(name: &'static str, value: f64) -> Result<()> {
    if !(value.is_finite() && value > 0.0) {
        return Err(Error::parameter(name, value, "must be finite and > 0"));
    }
    Ok(())
}

/// Fails unless `value >= 1`.
pub fn at_least_one(name: &'static str, value: usize) -> Result<()> {
    if value == 0 {
        return Err(Error::parameter(name, value, "must be at least 1"));
    }
    Ok(())
}
