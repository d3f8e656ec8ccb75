//! Images as patches: extraction and overlap-averaged reconstruction,
//! denoising and inpainting with learned patch dictionaries, PSNR, and a
//! generated test image.
//!
//! Images are gray `height x width` faer matrices (patches also handle
//! `height x width x channels` pixel buffers). Patches are rows, as every
//! signal in sparsecode.

pub mod denoise;
pub mod inpaint;
pub mod metrics;
pub mod patches;
pub mod synthetic;

pub use denoise::{denoise, denoise_with, learn_dictionary, DenoiseParams, Denoised};
pub use inpaint::{inpaint, inpaint_with, local_mean_fill, InpaintParams, Inpainted};
pub use metrics::{mse, psnr};
pub use patches::{add_means, remove_means, OverlapSum, PatchGrid};
pub use synthetic::synthetic_image;
