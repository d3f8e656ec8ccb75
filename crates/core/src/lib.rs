//! # sparsecode
//!
//! Sparse coding, dictionary learning and convolutional sparse coding: the
//! computational core of the sparsecode toolkit. Pure computation: no file or
//! terminal I/O.
//!
//! Layout follows scikit-learn everywhere: signals and atoms are rows. `X` is
//! `n_samples x n_features`, a dictionary `D` is `n_atoms x n_features`, codes
//! are `n_samples x n_atoms`, and `X ~ Z D`.
//!
//! - [`encode`]: OMP, Lasso (LARS, coordinate descent, FISTA), thresholding.
//! - [`learn`]: dictionary learning (online, batch, K-SVD, MOD).
//! - [`image`]: patches, denoising and inpainting.
//! - [`conv`]: convolutional sparse coding and dictionary learning.
//! - [`analysis`]: sparseness measures, nonlinearities, differencing, PCA.
//! - [`Dictionary`]: atoms with their Gram matrix and Lipschitz constant.
//!
//! Every computation is generic over [`Float`] (`f32`, `f64`) and reports
//! errors through the one [`Error`] type.

pub mod analysis;
pub mod conv;
pub mod dictionary;
pub mod encode;
pub mod error;
pub mod float;
pub mod image;
pub mod learn;
pub mod linalg;
pub mod rng;
pub mod validate;

pub use dictionary::Dictionary;
pub use error::{Error, Result};
pub use float::Float;
