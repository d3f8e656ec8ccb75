//! Inpainting: filling missing pixels from the observed ones with a patch
//! dictionary (the masked sparse coding of Mairal, Elad & Sapiro, "Sparse
//! representation for color image restoration", IEEE TIP 17(1), 2008, sec.
//! IV-C: each patch is coded on its observed pixels only, with the atoms
//! restricted to those pixels).
//!
//! For every patch with at least one observed pixel:
//! 1. remove the mean of its observed pixels;
//! 2. restrict every atom to the observed pixels, remove its mean there (the
//!    patch mean is unknown, so the constant is projected out of both sides)
//!    and renormalise it to unit norm there (atoms with almost nothing left
//!    are left out);
//! 3. code the observed values by OMP over the restricted atoms, until the
//!    squared residual is at most `tolerance^2` per observed pixel or
//!    `max_nonzero` atoms are used;
//! 4. rebuild the whole patch with the *full* atoms (codes divided by the
//!    restricted norms), its constant chosen so that the observed pixels
//!    keep their mean. A patch `m + sum_j b_j d_j` with few enough atoms is
//!    then recovered exactly, mean included.
//!
//! Missing pixels become the average of the rebuilt patches covering them;
//! observed pixels are kept as they are.
//!
//! Learning. The dictionary is learned on *complete* patches of a filled-in
//! image, not on the masked data: first the naive [`local_mean_fill`], then,
//! for each further round, the previous round's inpainted image.

use super::denoise::{learn_from_patches, training_patches};
use super::patches::{OverlapSum, PatchGrid};
use crate::encode::omp::Omp;
use crate::encode::{Encoder, Signal};
use crate::learn::online::OnlineSchedule;
use crate::learn::{Fitted, Progress};
use crate::{linalg, validate, Dictionary, Error, Float, Result};
use faer::{ColRef, Mat, MatRef};
use rayon::prelude::*;
use std::ops::ControlFlow;

/// Patches coded in parallel before their estimates are added into the image.
const CHUNK: usize = 4096;

/// An atom whose centred restriction to the observed pixels has a norm below
/// this fraction of its full norm is left out of the patch's dictionary.
const MIN_RESTRICTED_NORM: f64 = 1e-3;

/// Parameters of [`inpaint`]; [`InpaintParams::default`] suits images in `[0, 1]`.
#[derive(Debug, Clone, PartialEq)]
pub struct InpaintParams {
    /// Patch size `(height, width)`.
    pub patch: (usize, usize),
    /// Stride of the coded patches.
    pub stride: (usize, usize),
    /// Atoms of the learned dictionary.
    pub n_atoms: usize,
    /// Random patches to learn from in each round.
    pub n_train: usize,
    /// Mini-batches and epochs of the online learner.
    pub schedule: OnlineSchedule,
    /// Most atoms per patch.
    pub max_nonzero: usize,
    /// Target residual per observed pixel (root mean square, image units):
    /// OMP stops once the squared residual is at most `tolerance^2` times the
    /// number of observed pixels of the patch. Set it to the noise level of
    /// the observed pixels.
    pub tolerance: f64,
    /// Rounds of learning then inpainting (`>= 1`); round `r > 1` learns on
    /// the image inpainted in round `r - 1`.
    pub rounds: usize,
    /// Seed of the training subsets and of the learner.
    pub seed: u64,
}

impl Default for InpaintParams {
    /// 8x8 patches at stride 1, 256 atoms learned from 20 000 patches (two
    /// epochs), at most 8 atoms per patch, tolerance 0.01, one round (a
    /// second round, learning on the first round's result, gained under 0.05 dB
    /// on the camera crop with half its pixels missing).
    fn default() -> Self {
        Self {
            patch: (8, 8),
            stride: (1, 1),
            n_atoms: 256,
            n_train: 20_000,
            schedule: OnlineSchedule { batch_size: 256, max_epochs: 2, ..OnlineSchedule::default() },
            max_nonzero: 8,
            tolerance: 0.01,
            rounds: 1,
            seed: 0,
        }
    }
}

impl InpaintParams {
    fn check(&self) -> Result<()> {
        validate::at_least_one("n_atoms", self.n_atoms)?;
        validate::at_least_one("n_train", self.n_train)?;
        validate::at_least_one("max_nonzero", self.max_nonzero)?;
        validate::non_negative("tolerance", self.tolerance)?;
        validate::at_least_one("rounds", self.rounds)
    }

    /// The encoder used to learn on complete patches.
    fn learning_encoder(&self) -> Omp {
        let patch_len = (self.patch.0 * self.patch.1) as f64;
        Omp {
            n_nonzero: Some(self.max_nonzero.min(self.n_atoms)),
            tolerance: Some(self.tolerance * self.tolerance * patch_len),
            nonneg: false,
        }
    }
}

/// The outcome of [`inpaint`].
#[derive(Debug, Clone)]
pub struct Inpainted<T: Float> {
    /// The image with its missing pixels filled.
    pub image: Mat<T>,
    /// The dictionary of the last round, with its objective history.
    pub fitted: Fitted<T>,
}

/// Checks an image and its mask of observed pixels: same shape, at least one
/// observed pixel, finite values where observed. Returns the number observed.
fn check_masked<T: Float>(image: MatRef<'_, T>, observed: MatRef<'_, bool>) -> Result<usize> {
    validate::non_empty("the image", image)?;
    if (observed.nrows(), observed.ncols()) != (image.nrows(), image.ncols()) {
        return Err(Error::Shape(format!(
            "the mask is {} x {} but the image is {} x {}",
            observed.nrows(),
            observed.ncols(),
            image.nrows(),
            image.ncols()
        )));
    }
    let mut n_observed = 0;
    for j in 0..image.ncols() {
        for i in 0..image.nrows() {
            if observed[(i, j)] {
                n_observed += 1;
                let v = image[(i, j)];
                if !v.is_finite() {
                    return Err(Error::NonFinite { name: "the image".into(), value: v.as_f64(), row: i, col: j });
                }
            }
        }
    }
    if n_observed == 0 {
        return Err(Error::Invalid(format!(
            "the mask marks none of the {} x {} pixels as known: there is nothing to inpaint from",
            image.nrows(),
            image.ncols()
        )));
    }
    Ok(n_observed)
}

/// The naive fill: every missing pixel becomes the mean of the observed
/// pixels in the smallest square window around it (radius 1, 2, ...) that
/// holds any; observed pixels are kept. `observed[(i, j)]` is true where
/// pixel `(i, j)` is known; values at missing pixels are ignored (they may be
/// NaN).
///
/// ```
/// use sparsecode::image::local_mean_fill;
/// let image = faer::mat![[1.0, f64::NAN, 3.0], [1.0, 2.0, 3.0]];
/// let observed = faer::Mat::from_fn(2, 3, |i, j| (i, j) != (0, 1));
/// let filled = local_mean_fill(image.as_ref(), observed.as_ref()).unwrap();
/// assert_eq!(filled[(0, 1)], 2.0);
/// ```
pub fn local_mean_fill<T: Float>(image: MatRef<'_, T>, observed: MatRef<'_, bool>) -> Result<Mat<T>> {
    check_masked(image, observed)?;
    let (h, w) = (image.nrows(), image.ncols());
    // Summed-area tables of observed values and of observed counts.
    let mut sums = vec![0.0f64; (h + 1) * (w + 1)];
    let mut counts = vec![0u64; (h + 1) * (w + 1)];
    for i in 0..h {
        for j in 0..w {
            let (v, c) = if observed[(i, j)] { (image[(i, j)].as_f64(), 1) } else { (0.0, 0) };
            let k = (i + 1) * (w + 1) + j + 1;
            sums[k] = v + sums[k - 1] + sums[k - (w + 1)] - sums[k - (w + 1) - 1];
            counts[k] = c + counts[k - 1] + counts[k - (w + 1)] - counts[k - (w + 1) - 1];
        }
    }
    let window = |i0: usize, j0: usize, i1: usize, j1: usize| {
        let at = |i: usize, j: usize| i * (w + 1) + j;
        let s = sums[at(i1, j1)] - sums[at(i0, j1)] - sums[at(i1, j0)] + sums[at(i0, j0)];
        let c = counts[at(i1, j1)] + counts[at(i0, j0)] - counts[at(i0, j1)] - counts[at(i1, j0)];
        (s, c)
    };
    Ok(Mat::from_fn(h, w, |i, j| {
        if observed[(i, j)] {
            return image[(i, j)];
        }
        let mut r = 1;
        loop {
            let (s, c) = window(i.saturating_sub(r), j.saturating_sub(r), (i + r + 1).min(h), (j + r + 1).min(w));
            if c > 0 {
                return T::of(s / c as f64);
            }
            r += 1;
        }
    }))
}

/// Inpaints the gray image `image` where `observed` is false: learns a
/// dictionary on a filled-in copy and codes every patch on its observed
/// pixels (module docs), for `params.rounds` rounds. Values at missing pixels
/// are ignored (they may be NaN). `progress` sees every learning step.
///
/// ```
/// use sparsecode::image::{inpaint, psnr, synthetic_image, InpaintParams};
/// let clean = synthetic_image::<f64>(40, 40, 0).unwrap();
/// let observed = faer::Mat::from_fn(40, 40, |i, j| (i * 7 + j * 3) % 5 != 0);
/// let params = InpaintParams { n_atoms: 24, n_train: 800, rounds: 1, ..InpaintParams::default() };
/// let out = inpaint(clean.as_ref(), observed.as_ref(), &params, sparsecode::learn::silent).unwrap();
/// assert_eq!(out.image[(0, 1)], clean[(0, 1)]); // observed pixels are kept
/// assert!(psnr(clean.as_ref(), out.image.as_ref(), 1.0).unwrap() > 25.0);
/// ```
pub fn inpaint<T: Float>(
    image: MatRef<'_, T>,
    observed: MatRef<'_, bool>,
    params: &InpaintParams,
    mut progress: impl FnMut(&Progress) -> ControlFlow<()>,
) -> Result<Inpainted<T>> {
    params.check()?;
    check_masked(image, observed)?;
    let mut estimate = local_mean_fill(image, observed)?;
    let mut fitted = None;
    for round in 0..params.rounds {
        let seed = params.seed.wrapping_add(round as u64);
        let train = training_patches(estimate.as_ref(), params.patch, params.n_train, params.n_atoms, seed)?;
        let learned = learn_from_patches(
            train.as_ref(),
            params.n_atoms,
            params.learning_encoder(),
            &params.schedule,
            seed,
            &mut progress,
        )?;
        estimate = inpaint_with(image, observed, &learned.dictionary, params)?;
        fitted = Some(learned);
    }
    let fitted = fitted.ok_or_else(|| Error::parameter("rounds", 0, "must be at least 1"))?;
    Ok(Inpainted { image: estimate, fitted })
}

/// Inpaints `image` where `observed` is false with a given dictionary of
/// mean-free patches (`n_atoms x (patch height * width)`), coding each patch
/// on its observed pixels (module docs). Pixels that no patch with an
/// observed pixel covers (possible only with a stride larger than the patch
/// or very sparse masks) take the [`local_mean_fill`] value.
pub fn inpaint_with<T: Float>(
    image: MatRef<'_, T>,
    observed: MatRef<'_, bool>,
    dictionary: &Dictionary<T>,
    params: &InpaintParams,
) -> Result<Mat<T>> {
    params.check()?;
    check_masked(image, observed)?;
    let grid = PatchGrid::with_stride((image.nrows(), image.ncols()), params.patch, params.stride)?;
    dictionary.check_signals("the patches", grid.patch_len())?;
    // Missing pixels read as zero, so that NaN placeholders never reach a product.
    let zeroed =
        Mat::from_fn(image.nrows(), image.ncols(), |i, j| if observed[(i, j)] { image[(i, j)] } else { T::zero() });
    let mask = Mat::from_fn(image.nrows(), image.ncols(), |i, j| if observed[(i, j)] { T::one() } else { T::zero() });
    let atoms = AtomRows::new(dictionary);
    let mut sum = OverlapSum::new(&grid);
    let all: Vec<usize> = (0..grid.n_patches()).collect();
    for indices in all.chunks(CHUNK) {
        let values = grid.extract_subset(zeroed.as_ref(), indices)?;
        let masks = grid.extract_subset(mask.as_ref(), indices)?;
        let estimates: Vec<Option<Vec<T>>> = (0..indices.len())
            .into_par_iter()
            .map(|r| {
                let row = |m: MatRef<'_, T>| (0..m.ncols()).map(|c| m[(r, c)]).collect::<Vec<T>>();
                let seen: Vec<usize> =
                    row(masks.as_ref()).iter().enumerate().filter(|(_, &v)| v > T::zero()).map(|(c, _)| c).collect();
                code_masked_patch(&atoms, row(values.as_ref()), &seen, params)
            })
            .collect::<Result<_>>()?;
        let coded: Vec<usize> = (0..indices.len()).filter(|&r| estimates[r].is_some()).collect();
        let rows: Vec<&Vec<T>> = estimates.iter().flatten().collect();
        let block = Mat::from_fn(rows.len(), grid.patch_len(), |r, c| rows[r][c]);
        let patch_ids: Vec<usize> = coded.iter().map(|&r| indices[r]).collect();
        sum.add(&patch_ids, block.as_ref())?;
    }
    let averaged = sum.average()?;
    let fallback = local_mean_fill(image, observed)?;
    Ok(Mat::from_fn(image.nrows(), image.ncols(), |i, j| {
        if observed[(i, j)] {
            image[(i, j)]
        } else if sum.coverage(i, j) > 0 {
            averaged[(i, j)]
        } else {
            fallback[(i, j)]
        }
    }))
}

/// The atoms of a dictionary, each contiguous, for the per-patch gathers.
struct AtomRows<T> {
    values: Vec<T>,
    n_features: usize,
    norms: Vec<T>,
}

impl<T: Float> AtomRows<T> {
    fn new(dictionary: &Dictionary<T>) -> Self {
        let (k, n) = (dictionary.n_atoms(), dictionary.n_features());
        let atoms = dictionary.atoms();
        let values = (0..k * n).map(|i| atoms[(i / n, i % n)]).collect();
        Self { values, n_features: n, norms: dictionary.norms().to_vec() }
    }

    fn atom(&self, k: usize) -> &[T] {
        &self.values[k * self.n_features..(k + 1) * self.n_features]
    }

    fn n_atoms(&self) -> usize {
        self.norms.len()
    }
}

/// Steps 1-4 of the module docs for the patch `values` (missing entries
/// zero) whose pixels `seen` are observed. `None` when none is.
fn code_masked_patch<T: Float>(
    atoms: &AtomRows<T>,
    values: Vec<T>,
    seen: &[usize],
    params: &InpaintParams,
) -> Result<Option<Vec<T>>> {
    if seen.is_empty() {
        return Ok(None);
    }
    let n_seen = T::of(seen.len() as f64);
    let mean = seen.iter().map(|&c| values[c]).fold(T::zero(), |s, v| s + v) / n_seen;
    let x: Vec<T> = seen.iter().map(|&c| values[c] - mean).collect();
    // Each atom restricted to the observed pixels and centred there, then
    // scaled to unit norm: kept atoms with their mean and norm there.
    let mut restricted: Vec<T> = Vec::with_capacity(atoms.n_atoms() * seen.len());
    let mut kept: Vec<(usize, T, T)> = Vec::with_capacity(atoms.n_atoms());
    let mut centred = vec![T::zero(); seen.len()];
    for k in 0..atoms.n_atoms() {
        let atom = atoms.atom(k);
        for (v, &c) in centred.iter_mut().zip(seen) {
            *v = atom[c];
        }
        let m = centred.iter().fold(T::zero(), |s, &v| s + v) / n_seen;
        centred.iter_mut().for_each(|v| *v -= m);
        let norm = linalg::dot(&centred, &centred).sqrt();
        if norm.as_f64() > MIN_RESTRICTED_NORM * atoms.norms[k].as_f64() {
            let inv = norm.recip();
            restricted.extend(centred.iter().map(|&v| v * inv));
            kept.push((k, m, norm));
        }
    }
    let mut estimate = vec![mean; values.len()];
    if kept.is_empty() {
        return Ok(Some(estimate));
    }
    let len = seen.len();
    let dict = Dictionary::new(Mat::from_fn(kept.len(), len, |a, b| restricted[a * len + b]))?;
    let encoder = Omp {
        n_nonzero: Some(params.max_nonzero.min(kept.len())),
        tolerance: Some(params.tolerance * params.tolerance * len as f64),
        nonneg: false,
    };
    encoder.check(&dict)?;
    let dx: Vec<T> = (0..kept.len()).map(|a| linalg::dot(&restricted[a * len..(a + 1) * len], &x)).collect();
    let norm_sq = linalg::dot(&x, &x);
    let mut code = vec![T::zero(); kept.len()];
    let mut workspace = encoder.workspace(&dict);
    encoder.encode_one(&dict, &Signal { x: ColRef::from_slice(&x), dx: &dx, norm_sq }, &mut code, &mut workspace);
    // x_obs = mean + sum_a z_a (d_a,obs - m_a) / norm_a, so the whole patch is
    // mean + sum_a w_a (d_a - m_a) with w_a = z_a / norm_a.
    for (a, &z) in code.iter().enumerate() {
        if z != T::zero() {
            let (k, m, norm) = kept[a];
            let weight = z / norm;
            for (e, &d) in estimate.iter_mut().zip(atoms.atom(k)) {
                *e += weight * (d - m);
            }
        }
    }
    Ok(Some(estimate))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image::{psnr, synthetic_image};

    #[test]
    fn local_mean_fill_uses_the_nearest_window_with_data() {
        let image = faer::mat![[1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 5.0]];
        let observed = Mat::from_fn(2, 4, |i, j| (i, j) == (0, 0) || (i, j) == (1, 3));
        let f = local_mean_fill(image.as_ref(), observed.as_ref()).unwrap();
        assert_eq!(f[(1, 1)], 1.0); // radius 1 holds (0, 0) only
        assert_eq!(f[(0, 2)], 5.0); // radius 1 holds (1, 3) only
        assert_eq!(f[(1, 0)], 1.0);
        let far = Mat::from_fn(1, 7, |_, j| if j == 0 { 2.0 } else { f64::NAN });
        let obs = Mat::from_fn(1, 7, |_, j| j == 0);
        assert_eq!(local_mean_fill(far.as_ref(), obs.as_ref()).unwrap()[(0, 6)], 2.0);
    }

    #[test]
    fn a_patch_in_the_span_of_its_atoms_is_recovered_exactly() {
        // Two orthonormal mean-free atoms on 2x2 patches; the one patch is a
        // constant plus a combination of them, with one of four pixels missing.
        let atoms = faer::mat![[0.5, -0.5, 0.5, -0.5], [0.5, 0.5, -0.5, -0.5]];
        let dict = Dictionary::new(atoms.clone()).unwrap();
        let truth = Mat::from_fn(2, 2, |i, j| 3.0 + 0.8 * atoms[(0, 2 * i + j)] - 0.4 * atoms[(1, 2 * i + j)]);
        let mut image = truth.clone();
        image[(1, 1)] = f64::NAN;
        let observed = Mat::from_fn(2, 2, |i, j| (i, j) != (1, 1));
        let params = InpaintParams { patch: (2, 2), max_nonzero: 2, tolerance: 0.0, ..InpaintParams::default() };
        let out = inpaint_with(image.as_ref(), observed.as_ref(), &dict, &params).unwrap();
        assert!((out[(1, 1)] - truth[(1, 1)]).abs() < 1e-12, "{} vs {}", out[(1, 1)], truth[(1, 1)]);
        assert_eq!(out[(0, 0)], truth[(0, 0)]);
    }

    #[test]
    fn inpainting_beats_the_local_mean() {
        let clean = synthetic_image::<f64>(64, 64, 5).unwrap();
        let mut rng = crate::rng::seeded(9);
        let observed = Mat::from_fn(64, 64, |_, _| rand::Rng::random_bool(&mut rng, 0.5));
        let params = InpaintParams { n_atoms: 48, n_train: 3000, ..InpaintParams::default() };
        let out = inpaint(clean.as_ref(), observed.as_ref(), &params, crate::learn::silent).unwrap();
        let naive = local_mean_fill(clean.as_ref(), observed.as_ref()).unwrap();
        let p_naive = psnr(clean.as_ref(), naive.as_ref(), 1.0).unwrap();
        let p_out = psnr(clean.as_ref(), out.image.as_ref(), 1.0).unwrap();
        assert!(p_out > p_naive + 1.0, "naive {p_naive:.2} dB, inpainted {p_out:.2} dB");
    }

    #[test]
    fn bad_masks_are_refused() {
        let image = synthetic_image::<f64>(16, 16, 0).unwrap();
        let none = Mat::from_fn(16, 16, |_, _| false);
        let err = inpaint(image.as_ref(), none.as_ref(), &InpaintParams::default(), crate::learn::silent).unwrap_err();
        assert!(err.to_string().contains("none of the 16 x 16 pixels"), "{err}");
        let wrong = Mat::from_fn(16, 15, |_, _| true);
        assert!(matches!(local_mean_fill(image.as_ref(), wrong.as_ref()), Err(Error::Shape(_))));
        let mut nan = image.clone();
        nan[(2, 2)] = f64::NAN;
        let all = Mat::from_fn(16, 16, |_, _| true);
        assert!(matches!(local_mean_fill(nan.as_ref(), all.as_ref()), Err(Error::NonFinite { row: 2, col: 2, .. })));
        let zero_rounds = InpaintParams { rounds: 0, ..InpaintParams::default() };
        assert!(matches!(
            inpaint(image.as_ref(), all.as_ref(), &zero_rounds, crate::learn::silent),
            Err(Error::Parameter { name: "rounds", .. })
        ));
    }
}
