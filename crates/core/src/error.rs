//! The one error type of the core library.

use thiserror::Error;

/// Everything that can go wrong in the core library. Every variant names the
/// offending input or parameter and its value, so that a message reaches a
/// user of the CLI or of Python unchanged and still makes sense.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum Error {
    /// An array has a shape that does not fit the others.
    #[error("shape mismatch: {0}")]
    Shape(String),
    /// An input array holds no data where some is needed.
    #[error("{0} is empty")]
    Empty(String),
    /// An input array holds NaN or an infinity.
    #[error("{name} contains a non-finite value ({value}) at row {row}, column {col}")]
    NonFinite {
        /// What the array is (e.g. "X", "dictionary").
        name: String,
        /// The offending value, as f64.
        value: f64,
        /// Its row.
        row: usize,
        /// Its column.
        col: usize,
    },
    /// A parameter is out of its valid range.
    #[error("invalid parameter {name} = {value}: {reason}")]
    Parameter {
        /// The parameter's name as the API spells it.
        name: &'static str,
        /// Its value, printed.
        value: String,
        /// What was expected.
        reason: String,
    },
    /// An atom (row) of a dictionary has (numerically) zero norm.
    #[error("atom {index} of the dictionary has zero norm ({norm:e}); remove it or re-initialise it")]
    ZeroNormAtom {
        /// Row index of the atom.
        index: usize,
        /// Its Euclidean norm.
        norm: f64,
    },
    /// Input that is well-formed but unusable for another reason.
    #[error("{0}")]
    Invalid(String),
}

/// Result with the core library's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Shorthand for [`Error::Parameter`].
    pub fn parameter(name: &'static str, value: impl std::fmt::Display, reason: impl Into<String>) -> Self {
        Error::Parameter { name, value: value.to_string(), reason: reason.into() }
    }
}
