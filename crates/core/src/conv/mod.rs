//! Convolutional sparse coding (CSC) and convolutional dictionary learning (CDL).
//!
//! A signal is represented as a sum of convolutions `x ~ sum_k d_k * z_k` of
//! small filters `d_k` with sparse coefficient maps `z_k`. Every array is a
//! [`ConvArray`] (items x channels x spatial dimensions); 1-D traces, 2-D
//! images and multichannel data are all the same case.
//!
//! - [`csc`]: convolutional basis pursuit denoising with fixed filters, by
//!   ADMM in the DFT domain (Wohlberg 2016) or FISTA; circular or linear
//!   boundary; masks for missing samples and per-sample weights.
//! - [`reconstruct`]: the signal a set of maps represents.
//! - [`learn_filters`]: convolutional dictionary learning (ADMM coding;
//!   projected-FISTA or consensus-ADMM filter updates; masks, anchoring).
//! - [`OnlineCdl`]: online CDL over a stream of segments or images
//!   (frequency-domain surrogate with forgetting).
//! - [`blind_deconvolve`]: one wavelet and its sparse spike train from a 1-D trace.
//! - [`admm`]: the one ADMM template the convolutional solvers run through.
//! - [`tikhonov_split`]: the low-pass / high-pass split used before CSC of images.
//!
//! Scalars: `f32` and `f64` ([`ConvFloat`]).

pub mod admm;
mod array;
mod boundary;
mod cbpdn;
mod cdl;
mod deconv;
mod dict_update;
mod fft;
mod fista;
mod highpass;
mod online;
mod operator;

pub use admm::{AdmmOptions, AdmmReport, Balancing};
pub use array::ConvArray;
pub use boundary::Boundary;
pub use cbpdn::{csc, reconstruct, CscOptions, CscResult, Solver};
pub use cdl::{learn_filters, CdlOptions, CdlResult, FilterUpdate};
pub use deconv::{blind_deconvolve, DeconvOptions, Deconvolution};
pub use highpass::tikhonov_split;
pub use online::{OnlineCdl, OnlineCdlOptions, OnlineCdlState};

/// A [`Float`](crate::Float) that the FFT crates can transform (`f32`, `f64`).
pub trait ConvFloat: crate::Float + rustfft::FftNum {}

impl<T: crate::Float + rustfft::FftNum> ConvFloat for T {}
