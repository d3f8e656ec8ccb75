//! Denoising with a dictionary learned on the noisy image's own patches:
//! Elad & Aharon, "Image denoising via sparse and redundant representations
//! over learned dictionaries", IEEE TIP 15(12), 2006.
//!
//! 1. Learn: a random subset of the noisy image's patches, each with its mean
//!    removed (constant patches dropped: they carry no structure), trains a
//!    dictionary by online learning ([`crate::learn::online`]), every patch
//!    coded by error-constrained OMP.
//! 2. Code: every patch of the grid, mean removed, is coded by OMP until its
//!    squared residual is at most `(gain sigma)^2 n` (eq. 4 of the paper with
//!    `C = gain = 1.15`, `n` pixels per patch; our [`Omp`] bounds the
//!    *squared* residual). A constant patch is within the tolerance with no
//!    atom at all: it is coded as zero and comes back as its mean.
//! 3. Average: each pixel becomes the weighted mean of the noisy pixel
//!    (weight `lambda`) and of the denoised patches covering it (weight 1
//!    each), the closed form of eq. 6 ([`OverlapSum::blend`]).

use super::patches::{add_means, remove_means, OverlapSum, PatchGrid};
use crate::encode::{encode, omp::Omp};
use crate::learn::online::{OnlineLearner, OnlineParams, OnlineSchedule};
use crate::learn::{Fitted, Init, Progress};
use crate::{linalg, validate, Dictionary, Error, Float, Result};
use faer::{Mat, MatRef};
use std::ops::ControlFlow;

/// Patches coded together before their values are added into the image, so
/// that memory stays bounded whatever the image size.
const CHUNK: usize = 8192;

/// Parameters of [`denoise`]. [`DenoiseParams::new`] gives the paper's
/// choices for a noise level.
#[derive(Debug, Clone, PartialEq)]
pub struct DenoiseParams {
    /// Standard deviation of the additive white Gaussian noise, in the
    /// image's units (`> 0`).
    pub sigma: f64,
    /// Intensity range of the image: 1 for images in `[0, 1]`, 255 for 8-bit
    /// values. Only sets the default `noisy_weight`.
    pub peak: f64,
    /// Patch size `(height, width)`.
    pub patch: (usize, usize),
    /// Stride of the patches that are coded and averaged (the paper uses 1).
    pub stride: (usize, usize),
    /// Atoms of the learned dictionary.
    pub n_atoms: usize,
    /// Random patches (of the stride-1 grid) to learn from, at most all of them.
    pub n_train: usize,
    /// Mini-batches and epochs of the online learner.
    pub schedule: OnlineSchedule,
    /// `C` of the residual tolerance `(C sigma)^2 n`.
    pub gain: f64,
    /// Most atoms per patch (`None`: half the pixels of a patch).
    pub max_nonzero: Option<usize>,
    /// `lambda`, the weight of the noisy image against each patch estimate
    /// covering a pixel (`None`: the paper's `30 / sigma_255`, with
    /// `sigma_255 = 255 sigma / peak` the noise level on an 8-bit scale).
    pub noisy_weight: Option<f64>,
    /// Seed of the training subset and of the learner.
    pub seed: u64,
}

impl DenoiseParams {
    /// The paper's settings for noise level `sigma` on images in `[0, 1]`:
    /// 8x8 patches at stride 1, 256 atoms learned from 20 000 patches (two
    /// epochs of mini-batches of 256), `C = 1.15`, default `lambda`.
    pub fn new(sigma: f64) -> Self {
        Self {
            sigma,
            peak: 1.0,
            patch: (8, 8),
            stride: (1, 1),
            n_atoms: 256,
            n_train: 20_000,
            schedule: OnlineSchedule { batch_size: 256, max_epochs: 2, ..OnlineSchedule::default() },
            gain: 1.15,
            max_nonzero: None,
            noisy_weight: None,
            seed: 0,
        }
    }

    /// `(gain sigma)^2 n`: the bound on the squared residual of a patch of `n` pixels.
    pub fn tolerance(&self) -> f64 {
        (self.gain * self.sigma).powi(2) * (self.patch.0 * self.patch.1) as f64
    }

    /// `lambda` as used (see [`DenoiseParams::noisy_weight`]).
    pub fn lambda(&self) -> f64 {
        self.noisy_weight.unwrap_or(30.0 / (255.0 * self.sigma / self.peak))
    }

    /// The encoder of both learning and denoising.
    pub fn encoder(&self) -> Omp {
        let patch_len = self.patch.0 * self.patch.1;
        let cap = self.max_nonzero.unwrap_or((patch_len / 2).max(1)).min(self.n_atoms);
        Omp { n_nonzero: Some(cap), tolerance: Some(self.tolerance()), nonneg: false }
    }

    fn check(&self) -> Result<()> {
        validate::positive("sigma", self.sigma)?;
        validate::positive("peak", self.peak)?;
        validate::positive("gain", self.gain)?;
        validate::at_least_one("n_atoms", self.n_atoms)?;
        validate::at_least_one("n_train", self.n_train)?;
        if let Some(k) = self.max_nonzero {
            validate::at_least_one("max_nonzero", k)?;
        }
        if let Some(lambda) = self.noisy_weight {
            validate::non_negative("noisy_weight", lambda)?;
        }
        Ok(())
    }
}

/// The outcome of [`denoise`].
#[derive(Debug, Clone)]
pub struct Denoised<T: Float> {
    /// The denoised image.
    pub image: Mat<T>,
    /// The learned dictionary (atoms are mean-free patches, one per row) with
    /// the learner's objective history.
    pub fitted: Fitted<T>,
    /// Mean number of atoms per coded patch.
    pub mean_nonzero: f64,
}

/// Denoises the gray image `noisy` (`height x width`): learns a dictionary on
/// its patches ([`learn_dictionary`]), then codes and averages every patch
/// ([`denoise_with`]). `progress` sees every learning step and may stop
/// learning early (denoising then uses the dictionary learned so far).
///
/// ```
/// use sparsecode::image::{denoise, psnr, synthetic_image, DenoiseParams};
/// use rand_distr::{Distribution, Normal};
/// let clean = synthetic_image::<f64>(48, 48, 0).unwrap();
/// let mut rng = sparsecode::rng::seeded(1);
/// let noise = Normal::new(0.0, 0.1).unwrap();
/// let noisy = faer::Mat::from_fn(48, 48, |i, j| clean[(i, j)] + noise.sample(&mut rng));
/// let mut params = DenoiseParams::new(0.1);
/// params.n_atoms = 32;
/// params.n_train = 1000;
/// let out = denoise(noisy.as_ref(), &params, sparsecode::learn::silent).unwrap();
/// let before = psnr(clean.as_ref(), noisy.as_ref(), 1.0).unwrap();
/// let after = psnr(clean.as_ref(), out.image.as_ref(), 1.0).unwrap();
/// assert!(after > before + 3.0, "{before} -> {after}");
/// ```
pub fn denoise<T: Float>(
    noisy: MatRef<'_, T>,
    params: &DenoiseParams,
    progress: impl FnMut(&Progress) -> ControlFlow<()>,
) -> Result<Denoised<T>> {
    let fitted = learn_dictionary(noisy, params, progress)?;
    let (image, mean_nonzero) = code_and_average(noisy, &fitted.dictionary, params)?;
    Ok(Denoised { image, fitted, mean_nonzero })
}

/// Learns a dictionary of `params.n_atoms` atoms from `params.n_train` random
/// mean-removed, non-constant patches of `image` (step 1 of [`denoise`]).
pub fn learn_dictionary<T: Float>(
    image: MatRef<'_, T>,
    params: &DenoiseParams,
    progress: impl FnMut(&Progress) -> ControlFlow<()>,
) -> Result<Fitted<T>> {
    params.check()?;
    check_image("the noisy image", image)?;
    let train = training_patches(image, params.patch, params.n_train, params.n_atoms, params.seed)?;
    learn_from_patches(train.as_ref(), params.n_atoms, params.encoder(), &params.schedule, params.seed, progress)
}

/// Denoises `noisy` with a given dictionary of mean-free patches (steps 2 and
/// 3 of [`denoise`]).
pub fn denoise_with<T: Float>(
    noisy: MatRef<'_, T>,
    dictionary: &Dictionary<T>,
    params: &DenoiseParams,
) -> Result<Mat<T>> {
    Ok(code_and_average(noisy, dictionary, params)?.0)
}

fn code_and_average<T: Float>(
    noisy: MatRef<'_, T>,
    dictionary: &Dictionary<T>,
    params: &DenoiseParams,
) -> Result<(Mat<T>, f64)> {
    params.check()?;
    check_image("the noisy image", noisy)?;
    let grid = PatchGrid::with_stride((noisy.nrows(), noisy.ncols()), params.patch, params.stride)?;
    dictionary.check_signals("the patches", grid.patch_len())?;
    let encoder =
        Omp { n_nonzero: params.encoder().n_nonzero.map(|k| k.min(dictionary.n_atoms())), ..params.encoder() };
    let mut sum = OverlapSum::new(&grid);
    let mut total_nonzero = 0usize;
    let all: Vec<usize> = (0..grid.n_patches()).collect();
    for indices in all.chunks(CHUNK) {
        let mut patches = grid.extract_subset(noisy, indices)?;
        let means = remove_means(patches.as_mut());
        let coded = encode(&encoder, dictionary, patches.as_ref())?;
        total_nonzero += coded.reports.iter().map(|r| r.n_nonzero).sum::<usize>();
        let mut estimates = linalg::reconstruct(coded.codes.as_ref(), dictionary.atoms());
        add_means(estimates.as_mut(), &means)?;
        sum.add(indices, estimates.as_ref())?;
    }
    let image = sum.blend(noisy, T::of(params.lambda()))?;
    Ok((image, total_nonzero as f64 / grid.n_patches() as f64))
}

/// Fails unless `image` is non-empty and finite.
pub(crate) fn check_image<T: Float>(name: &str, image: MatRef<'_, T>) -> Result<()> {
    validate::non_empty(name, image)?;
    validate::finite(name, image)
}

/// Up to `n_train` random patches of the stride-1 grid of `image`, means
/// removed, constant patches dropped. Fails when fewer than `n_atoms` are
/// left, naming both counts.
pub(crate) fn training_patches<T: Float>(
    image: MatRef<'_, T>,
    patch: (usize, usize),
    n_train: usize,
    n_atoms: usize,
    seed: u64,
) -> Result<Mat<T>> {
    let grid = PatchGrid::new((image.nrows(), image.ncols()), patch)?;
    let indices = grid.sample_indices(n_train.min(grid.n_patches()), seed)?;
    let mut patches = grid.extract_subset(image, &indices)?;
    let means = remove_means(patches.as_mut());
    let varying: Vec<usize> = (0..patches.nrows()).filter(|&r| !is_flat(patches.as_ref(), r, means[r])).collect();
    if varying.len() < n_atoms {
        return Err(Error::Invalid(format!(
            "only {} of the {} training patches of {} x {} pixels are not constant, fewer than the {n_atoms} atoms \
             to learn: use fewer atoms, smaller patches or a larger image",
            varying.len(),
            patches.nrows(),
            patch.0,
            patch.1
        )));
    }
    Ok(Mat::from_fn(varying.len(), patches.ncols(), |r, c| patches[(varying[r], c)]))
}

/// Whether row `r` of mean-removed patches is constant up to rounding of its
/// mean `mean`.
fn is_flat<T: Float>(patches: MatRef<'_, T>, r: usize, mean: T) -> bool {
    let bound = T::of(16.0) * T::epsilon() * mean.abs().max(T::min_positive_value());
    (0..patches.ncols()).all(|c| patches[(r, c)].abs() <= bound)
}

/// Online learning of `n_atoms` atoms from `train`, initialised with random
/// training patches.
pub(crate) fn learn_from_patches<T: Float>(
    train: MatRef<'_, T>,
    n_atoms: usize,
    encoder: Omp,
    schedule: &OnlineSchedule,
    seed: u64,
    progress: impl FnMut(&Progress) -> ControlFlow<()>,
) -> Result<Fitted<T>> {
    let params = OnlineParams { seed, ..OnlineParams::default() };
    let mut learner = OnlineLearner::from_data(encoder, train, n_atoms, &Init::Samples, params)?;
    learner.fit(train, schedule, progress)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{psnr, synthetic_image};
    use rand_distr::{Distribution, Normal};

    fn noisy_copy(clean: &Mat<f64>, sigma: f64, seed: u64) -> Mat<f64> {
        let mut rng = crate::rng::seeded(seed);
        let normal = Normal::new(0.0, sigma).unwrap();
        Mat::from_fn(clean.nrows(), clean.ncols(), |i, j| clean[(i, j)] + normal.sample(&mut rng))
    }

    fn small_params(sigma: f64) -> DenoiseParams {
        DenoiseParams { n_atoms: 48, n_train: 3000, ..DenoiseParams::new(sigma) }
    }

    #[test]
    fn tolerance_and_lambda_follow_the_paper() {
        let p = DenoiseParams::new(25.0 / 255.0);
        assert!((p.tolerance() - (1.15f64 * 25.0 / 255.0).powi(2) * 64.0).abs() < 1e-15);
        assert!((p.lambda() - 30.0 / 25.0).abs() < 1e-12);
        let p8 = DenoiseParams { sigma: 25.0, peak: 255.0, ..p };
        assert!((p8.lambda() - 1.2).abs() < 1e-12);
        assert_eq!(p8.encoder().n_nonzero, Some(32));
    }

    #[test]
    fn denoising_a_synthetic_image_gains_psnr() {
        let clean = synthetic_image::<f64>(64, 64, 2).unwrap();
        let noisy = noisy_copy(&clean, 0.1, 3);
        let params = small_params(0.1);
        let out = denoise(noisy.as_ref(), &params, crate::learn::silent).unwrap();
        let before = psnr(clean.as_ref(), noisy.as_ref(), 1.0).unwrap();
        let after = psnr(clean.as_ref(), out.image.as_ref(), 1.0).unwrap();
        assert!(after > before + 5.0, "{before:.2} dB -> {after:.2} dB");
        assert!(out.mean_nonzero > 0.3 && out.mean_nonzero < 8.0, "{}", out.mean_nonzero);
        // Deterministic.
        let again = denoise(noisy.as_ref(), &params, crate::learn::silent).unwrap();
        assert_eq!(out.image, again.image);
    }

    #[test]
    fn constant_patches_come_back_as_their_mean() {
        // A two-level image: most 8x8 patches are constant; learning skips
        // them, coding leaves them at their mean, so the flat areas are exact.
        let image = Mat::from_fn(32, 32, |i, j| if i + j < 30 { 0.25 } else { 0.75 });
        let params = DenoiseParams { n_atoms: 4, n_train: 10_000, ..DenoiseParams::new(0.01) };
        let train = training_patches(image.as_ref(), (8, 8), 10_000, 4, 0).unwrap();
        let grid = PatchGrid::new((32, 32), (8, 8)).unwrap();
        let constant = (0..grid.n_patches())
            .filter(|&p| {
                let (t, l) = grid.corner(p);
                (t + l + 14 < 30) || (t + l >= 30)
            })
            .count();
        assert_eq!(train.nrows(), grid.n_patches() - constant);
        let out = denoise(image.as_ref(), &params, crate::learn::silent).unwrap();
        assert_eq!(out.image[(0, 0)], 0.25);
        assert_eq!(out.image[(31, 31)], 0.75);
        // Only the edge patches are approximated (4 atoms for every position of the edge).
        assert!(psnr(image.as_ref(), out.image.as_ref(), 1.0).unwrap() > 28.0);
    }

    #[test]
    fn bad_input_is_refused() {
        let image = synthetic_image::<f64>(32, 32, 0).unwrap();
        let silent = crate::learn::silent;
        let err = denoise(image.as_ref(), &DenoiseParams::new(0.0), silent).unwrap_err();
        assert!(matches!(err, Error::Parameter { name: "sigma", .. }), "{err}");
        let big = DenoiseParams { patch: (40, 8), ..DenoiseParams::new(0.1) };
        assert!(matches!(denoise(image.as_ref(), &big, silent), Err(Error::Shape(_))));
        let flat = Mat::from_fn(16, 16, |_, _| 0.5f64);
        let err = denoise(flat.as_ref(), &small_params(0.1), silent).unwrap_err();
        assert!(err.to_string().contains("only 0 of the 81 training patches"), "{err}");
        let mut nan = image.clone();
        nan[(3, 4)] = f64::NAN;
        assert!(matches!(
            denoise(nan.as_ref(), &small_params(0.1), silent),
            Err(Error::NonFinite { row: 3, col: 4, .. })
        ));
        let wrong = Dictionary::new(Mat::<f64>::identity(16, 16)).unwrap();
        assert!(matches!(denoise_with(image.as_ref(), &wrong, &small_params(0.1)), Err(Error::Shape(_))));
    }
}
