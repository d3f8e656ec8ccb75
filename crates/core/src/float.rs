//! The floating-point types the library computes in: `f32` and `f64`.

use std::fmt::{Debug, Display, LowerExp};
use std::iter::Sum;

/// A real floating-point scalar usable everywhere in sparsecode (`f32`, `f64`).
///
/// It joins faer's [`RealField`](faer::traits::RealField) (for the dense linear
/// algebra) with [`num_traits::Float`] (for scalar maths), and adds lossless
/// conversions from and to `f64` for constants and reports.
pub trait Float:
    faer::traits::RealField + num_traits::Float + Copy + Default + Debug + Display + LowerExp + Sum + Send + Sync + 'static
{
    /// The type's name, for messages ("f32" or "f64").
    const NAME: &'static str;
    /// Converts an `f64` constant (rounding for `f32`).
    fn of(value: f64) -> Self;
    /// Converts to `f64` (exact).
    fn as_f64(self) -> f64;
}

impl Float for f32 {
    const NAME: &'static str = "f32";
    #[inline(always)]
    fn of(value: f64) -> Self {
        value as f32
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self as f64
    }
}

impl Float for f64 {
    const NAME: &'static str = "f64";
    #[inline(always)]
    fn of(value: f64) -> Self {
        value
    }
    #[inline(always)]
    fn as_f64(self) -> f64 {
        self
    }
}
