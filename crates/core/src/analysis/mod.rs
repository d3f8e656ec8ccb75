//! Sparsity analysis: how sparse are signals and codes, what do simple
//! nonlinearities and differencing do to that sparseness, and how does a
//! sparse code over a dictionary compare with a PCA baseline.
//!
//! - [`measures`]: l0 count, l1 norm, kurtosis, Hoyer sparseness, Gini index,
//!   along the rows or columns of a matrix ([`Axis`]), plus population and
//!   lifetime sparsity of a code matrix.
//! - [`nonlinear`]: ReLU with a threshold, soft and hard thresholding.
//! - [`differencing`]: lagged differences, differences against a causal or a
//!   centred box-filter average, first differences.
//! - [`nd`]: a read-only N-D view (e.g. a video `t x h x w`) whose lanes along
//!   any axis become the columns of faer matrices, so that every 2-D operation
//!   above applies along any axis of an N-D array.
//! - [`pca`]: principal component analysis by a thin SVD.
//! - [`report`]: reconstruction error against the number of active
//!   components for PCA and for OMP over a dictionary, and a knee detector.
//!
//! Conventions shared by the module:
//! - Input with NaN or an infinity is an error naming its position.
//! - Empty input is an error.
//! - A measure that is mathematically undefined for a particular vector
//!   (kurtosis of a constant vector, Hoyer sparseness or Gini index of the
//!   zero vector, Hoyer sparseness of a vector of one entry) is `NaN`, so that
//!   one dead unit does not void the measure of all the others. Every such case
//!   is listed in the measure's documentation.
//! - Statistics are accumulated and returned in `f64` whatever the element
//!   type, so that `f32` data of millions of samples keeps its precision.

//! ```
//! use sparsecode::analysis::{differencing, measures, nonlinear, Axis};
//! // A slow ramp with two steps: its first difference is sparse, and soft
//! // thresholding the difference removes the ramp's constant slope.
//! let step = |t: usize| match t {
//!     0..40 => 0.0,
//!     40..70 => 1.0,
//!     _ => -1.0,
//! };
//! let x: Vec<f64> = (0..100).map(|t| 0.01 * t as f64 + step(t)).collect();
//! let column = faer::MatRef::from_column_major_slice(&x, x.len(), 1);
//! let d = differencing::first_difference(column, Axis::Columns).unwrap();
//! let d: Vec<f64> = (0..d.nrows()).map(|t| d[(t, 0)]).collect();
//! let sparse = nonlinear::soft_threshold(&d, 0.02).unwrap();
//! assert_eq!(measures::l0_count(&sparse, 0.0).unwrap(), 2);
//! assert!(measures::hoyer(&sparse).unwrap() > measures::hoyer(&x).unwrap());
//! ```

pub mod differencing;
pub mod measures;
pub mod nd;
pub mod nonlinear;
pub mod pca;
pub mod report;

/// Which lines of a matrix an operation works on.
///
/// `Rows` treats every row as one vector (scikit-learn's layout, where a row is
/// a signal, or in a code matrix the activity of all units at one time);
/// `Columns` treats every column as one vector (one feature, or one unit over
/// time). A measure along `Rows` gives one value per row; a differencing
/// operation along `Rows` shortens every row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Axis {
    /// Each row is one vector.
    Rows,
    /// Each column is one vector.
    Columns,
}
