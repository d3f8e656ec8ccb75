//! Patches of 2-D images as rows of a matrix, and images rebuilt from patches
//! by overlap averaging.
//!
//! A [`PatchGrid`] fixes the geometry once: image size, patch size, stride and
//! number of channels. Patch corners run from the top-left corner in steps of
//! the stride, and the last corner of every axis is snapped to the border, so
//! that with a stride no larger than the patch every pixel is covered (the
//! stride-1 grid is scikit-learn's `extract_patches_2d`; the snapped border
//! also makes a patch the size of the image a grid of exactly one patch).
//!
//! A patch becomes one row of an `n_patches x (patch_height * patch_width *
//! channels)` matrix, its pixels in row-major order with channels innermost,
//! the layout of a NumPy `(ph, pw, c)` block flattened in C order. Patches are
//! copied straight from the image into that matrix: a random subset of `n`
//! patches costs `n` rows, never a buffer of all the patches.

use crate::{rng, validate, Error, Float, Result};
use faer::{Mat, MatMut, MatRef};
use rayon::prelude::*;

/// The geometry of the patches of an image: where each patch lies.
///
/// ```
/// use sparsecode::image::PatchGrid;
/// let image = faer::Mat::from_fn(5, 6, |i, j| (10 * i + j) as f64);
/// let grid = PatchGrid::new((5, 6), (3, 3)).unwrap();
/// assert_eq!(grid.n_patches(), 3 * 4);
/// let patches = grid.extract(image.as_ref()).unwrap();
/// assert_eq!(patches.ncols(), 9);
/// assert_eq!(patches[(5, 0)], 11.0); // patch 5 has its corner at (1, 1)
/// let rebuilt = grid.reconstruct(patches.as_ref()).unwrap();
/// assert!((rebuilt[(4, 5)] - 45.0f64).abs() < 1e-12);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatchGrid {
    image: (usize, usize),
    channels: usize,
    patch: (usize, usize),
    stride: (usize, usize),
    tops: Vec<usize>,
    lefts: Vec<usize>,
}

/// Corners along one axis: `0, stride, 2 stride, ...` up to `len - patch`,
/// with `len - patch` added when the steps miss it.
fn corners(len: usize, patch: usize, stride: usize) -> Vec<usize> {
    let last = len - patch;
    let mut out: Vec<usize> = (0..=last).step_by(stride).collect();
    if out.last() != Some(&last) {
        out.push(last);
    }
    out
}

impl PatchGrid {
    /// Every `patch`-sized patch (`(height, width)`) of a gray image of size
    /// `image` (`(height, width)`), with stride 1.
    pub fn new(image: (usize, usize), patch: (usize, usize)) -> Result<Self> {
        Self::with_stride(image, patch, (1, 1))
    }

    /// Patches of a gray image whose corners step by `stride` (`(rows,
    /// columns)`), the last corner of each axis snapped to the border. A stride
    /// larger than the patch leaves pixels uncovered (see
    /// [`PatchGrid::covers_every_pixel`]).
    pub fn with_stride(image: (usize, usize), patch: (usize, usize), stride: (usize, usize)) -> Result<Self> {
        Self::multichannel((image.0, image.1, 1), patch, stride)
    }

    /// Patches of an image with `image.2` channels, stored `height x width x
    /// channels` in C order (as NumPy and the image crates store colour
    /// images); every patch keeps all the channels.
    pub fn multichannel(image: (usize, usize, usize), patch: (usize, usize), stride: (usize, usize)) -> Result<Self> {
        let (height, width, channels) = image;
        if height == 0 || width == 0 {
            return Err(Error::Empty(format!("the image (shape {height} x {width})")));
        }
        validate::at_least_one("channels", channels)?;
        validate::at_least_one("patch height", patch.0)?;
        validate::at_least_one("patch width", patch.1)?;
        validate::at_least_one("stride (rows)", stride.0)?;
        validate::at_least_one("stride (columns)", stride.1)?;
        if patch.0 > height || patch.1 > width {
            return Err(Error::Shape(format!(
                "the patch ({} x {}) is larger than the image ({height} x {width})",
                patch.0, patch.1
            )));
        }
        Ok(Self {
            image: (height, width),
            channels,
            patch,
            stride,
            tops: corners(height, patch.0, stride.0),
            lefts: corners(width, patch.1, stride.1),
        })
    }

    /// Image size `(height, width)`.
    pub fn image_shape(&self) -> (usize, usize) {
        self.image
    }

    /// Channels per pixel.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Patch size `(height, width)`.
    pub fn patch_shape(&self) -> (usize, usize) {
        self.patch
    }

    /// Stride `(rows, columns)`.
    pub fn stride(&self) -> (usize, usize) {
        self.stride
    }

    /// Number of patches on the grid.
    pub fn n_patches(&self) -> usize {
        self.tops.len() * self.lefts.len()
    }

    /// Values per patch: `patch_height * patch_width * channels`.
    pub fn patch_len(&self) -> usize {
        self.patch.0 * self.patch.1 * self.channels
    }

    /// Top-left corner `(row, column)` of patch `index` (patches are numbered
    /// row-major over the grid). Panics if `index >= n_patches()`.
    pub fn corner(&self, index: usize) -> (usize, usize) {
        (self.tops[index / self.lefts.len()], self.lefts[index % self.lefts.len()])
    }

    /// Whether every pixel lies in at least one patch (always true when the
    /// stride is no larger than the patch).
    pub fn covers_every_pixel(&self) -> bool {
        self.stride.0 <= self.patch.0 && self.stride.1 <= self.patch.1
    }

    /// `n` distinct patch indices drawn uniformly at random for `seed`, in
    /// increasing order.
    pub fn sample_indices(&self, n: usize, seed: u64) -> Result<Vec<usize>> {
        validate::at_least_one("number of patches", n)?;
        if n > self.n_patches() {
            return Err(Error::parameter(
                "number of patches",
                n,
                format!("the grid has only {} patches", self.n_patches()),
            ));
        }
        let mut rng = rng::seeded(seed);
        let mut indices = rand::seq::index::sample(&mut rng, self.n_patches(), n).into_vec();
        indices.sort_unstable();
        Ok(indices)
    }

    /// Every patch of the gray image `image` (`height x width`), one per row.
    pub fn extract<T: Float>(&self, image: MatRef<'_, T>) -> Result<Mat<T>> {
        self.check_gray(image)?;
        Ok(self.gather((0..self.n_patches()).collect::<Vec<_>>().as_slice(), |i, j, _| image[(i, j)]))
    }

    /// The patches numbered `indices` of the gray image `image`, in the order
    /// given: row `r` is patch `indices[r]`.
    pub fn extract_subset<T: Float>(&self, image: MatRef<'_, T>, indices: &[usize]) -> Result<Mat<T>> {
        self.check_gray(image)?;
        self.check_indices(indices)?;
        Ok(self.gather(indices, |i, j, _| image[(i, j)]))
    }

    /// The patches numbered `indices` (all of them when `None`) of an image
    /// stored `height x width x channels` in C order.
    pub fn extract_multichannel<T: Float>(&self, pixels: &[T], indices: Option<&[usize]>) -> Result<Mat<T>> {
        self.check_pixels("the image", pixels.len())?;
        let all: Vec<usize>;
        let indices = match indices {
            Some(ix) => {
                self.check_indices(ix)?;
                ix
            }
            None => {
                all = (0..self.n_patches()).collect();
                &all
            }
        };
        let (w, c) = (self.image.1, self.channels);
        Ok(self.gather(indices, |i, j, ch| pixels[(i * w + j) * c + ch]))
    }

    /// Copies pixel `(i, j, channel)` of every listed patch into its row, one
    /// output column (one offset inside the patch) per parallel task.
    fn gather<T: Float>(&self, indices: &[usize], pixel: impl Fn(usize, usize, usize) -> T + Sync) -> Mat<T> {
        let mut out = Mat::zeros(indices.len(), self.patch_len());
        let corners: Vec<(usize, usize)> = indices.iter().map(|&p| self.corner(p)).collect();
        let (pw, c) = (self.patch.1, self.channels);
        out.par_col_iter_mut().enumerate().for_each(|(col, mut column)| {
            let (di, dj, ch) = (col / (pw * c), (col / c) % pw, col % c);
            for (r, &(top, left)) in corners.iter().enumerate() {
                column[r] = pixel(top + di, left + dj, ch);
            }
        });
        out
    }

    /// The gray image whose every pixel is the mean of the values the rows of
    /// `patches` (all the grid's patches, in grid order) give it. Pixels that
    /// no patch covers are zero.
    pub fn reconstruct<T: Float>(&self, patches: MatRef<'_, T>) -> Result<Mat<T>> {
        self.check_gray_patches(patches)?;
        let mut sum = OverlapSum::new(self);
        sum.add(&(0..self.n_patches()).collect::<Vec<_>>(), patches)?;
        sum.average()
    }

    /// Like [`PatchGrid::reconstruct`], with `base` (same size as the image)
    /// counted as `base_weight` extra patches covering every pixel (see
    /// [`OverlapSum::blend`]).
    pub fn reconstruct_blended<T: Float>(
        &self,
        patches: MatRef<'_, T>,
        base: MatRef<'_, T>,
        base_weight: T,
    ) -> Result<Mat<T>> {
        self.check_gray_patches(patches)?;
        let mut sum = OverlapSum::new(self);
        sum.add(&(0..self.n_patches()).collect::<Vec<_>>(), patches)?;
        sum.blend(base, base_weight)
    }

    /// Like [`PatchGrid::reconstruct`] for a multichannel grid: returns the
    /// image as `height x width x channels` values in C order.
    pub fn reconstruct_multichannel<T: Float>(&self, patches: MatRef<'_, T>) -> Result<Vec<T>> {
        self.check_patches(patches)?;
        let mut sum = OverlapSum::new(self);
        sum.add(&(0..self.n_patches()).collect::<Vec<_>>(), patches)?;
        Ok(sum.average_values(None))
    }

    fn check_gray_channels(&self) -> Result<()> {
        if self.channels != 1 {
            return Err(Error::Invalid(format!(
                "this patch grid is for images with {} channels; use the multichannel methods",
                self.channels
            )));
        }
        Ok(())
    }

    fn check_gray<T>(&self, image: MatRef<'_, T>) -> Result<()> {
        self.check_gray_channels()?;
        if (image.nrows(), image.ncols()) != self.image {
            return Err(Error::Shape(format!(
                "the image is {} x {} but the patch grid was made for {} x {}",
                image.nrows(),
                image.ncols(),
                self.image.0,
                self.image.1
            )));
        }
        Ok(())
    }

    fn check_pixels(&self, name: &str, len: usize) -> Result<()> {
        let expected = self.image.0 * self.image.1 * self.channels;
        if len != expected {
            return Err(Error::Shape(format!(
                "{name} has {len} values but the patch grid expects {} x {} x {} = {expected}",
                self.image.0, self.image.1, self.channels
            )));
        }
        Ok(())
    }

    fn check_indices(&self, indices: &[usize]) -> Result<()> {
        if let Some(&bad) = indices.iter().find(|&&p| p >= self.n_patches()) {
            return Err(Error::parameter(
                "patch index",
                bad,
                format!("the grid has {} patches (indices 0..{})", self.n_patches(), self.n_patches()),
            ));
        }
        Ok(())
    }

    fn check_gray_patches<T>(&self, patches: MatRef<'_, T>) -> Result<()> {
        self.check_gray_channels()?;
        self.check_patches(patches)
    }

    fn check_patches<T>(&self, patches: MatRef<'_, T>) -> Result<()> {
        if patches.nrows() != self.n_patches() || patches.ncols() != self.patch_len() {
            return Err(Error::Shape(format!(
                "the patches are {} x {} but the grid has {} patches of {} values",
                patches.nrows(),
                patches.ncols(),
                self.n_patches(),
                self.patch_len()
            )));
        }
        Ok(())
    }
}

/// Running per-pixel sums of patch values and counts of covering patches:
/// an image rebuilt from patches given in any number of pieces (e.g. chunks
/// of patches coded one after another, or only the patches that could be
/// coded), then averaged.
///
/// ```
/// use sparsecode::image::{OverlapSum, PatchGrid};
/// let grid = PatchGrid::new((2, 3), (2, 2)).unwrap(); // two patches
/// let mut sum = OverlapSum::new(&grid);
/// sum.add(&[1], faer::mat![[1.0, 2.0, 3.0, 4.0]].as_ref()).unwrap();
/// sum.add(&[0], faer::mat![[5.0, 6.0, 7.0, 8.0]].as_ref()).unwrap();
/// let image = sum.average().unwrap();
/// // Pixel (0, 1) is in both patches: (6 + 1) / 2.
/// assert_eq!(image[(0, 1)], 3.5);
/// assert_eq!(sum.coverage(0, 0), 1);
/// ```
#[derive(Debug, Clone)]
pub struct OverlapSum<'g, T> {
    grid: &'g PatchGrid,
    sums: Vec<T>,
    counts: Vec<u32>,
}

impl<'g, T: Float> OverlapSum<'g, T> {
    /// Empty sums for the image of `grid`.
    pub fn new(grid: &'g PatchGrid) -> Self {
        let pixels = grid.image.0 * grid.image.1;
        Self { grid, sums: vec![T::zero(); pixels * grid.channels], counts: vec![0; pixels] }
    }

    /// Adds patch `indices[r]` with the values of row `r` of `patches`.
    pub fn add(&mut self, indices: &[usize], patches: MatRef<'_, T>) -> Result<()> {
        let grid = self.grid;
        if patches.nrows() != indices.len() || patches.ncols() != grid.patch_len() {
            return Err(Error::Shape(format!(
                "{} patch indices for a {} x {} matrix of patches; the grid's patches have {} values",
                indices.len(),
                patches.nrows(),
                patches.ncols(),
                grid.patch_len()
            )));
        }
        grid.check_indices(indices)?;
        validate::finite("patches", patches)?;
        let (w, c) = (grid.image.1, grid.channels);
        let (ph, pw) = grid.patch;
        for (r, &p) in indices.iter().enumerate() {
            let (top, left) = grid.corner(p);
            for di in 0..ph {
                for dj in 0..pw {
                    let pixel = (top + di) * w + left + dj;
                    self.counts[pixel] += 1;
                    let col = (di * pw + dj) * c;
                    for ch in 0..c {
                        self.sums[pixel * c + ch] += patches[(r, col + ch)];
                    }
                }
            }
        }
        Ok(())
    }

    /// How many added patches cover pixel `(row, col)`. Panics outside the image.
    pub fn coverage(&self, row: usize, col: usize) -> u32 {
        assert!(row < self.grid.image.0 && col < self.grid.image.1, "pixel ({row}, {col}) is outside the image");
        self.counts[row * self.grid.image.1 + col]
    }

    /// The gray image of the mean value per pixel; pixels no added patch
    /// covers are zero.
    pub fn average(&self) -> Result<Mat<T>> {
        self.grid.check_gray_channels()?;
        let values = self.average_values(None);
        let w = self.grid.image.1;
        Ok(Mat::from_fn(self.grid.image.0, w, |i, j| values[i * w + j]))
    }

    /// The gray image with `base` (same size) counted as `base_weight` extra
    /// patches covering every pixel: pixel `(i, j)` becomes `(base_weight
    /// base[i, j] + sum of patch values) / (base_weight + covering patches)`.
    /// This is the closed-form image update of Elad & Aharon (IEEE TIP 2006,
    /// eq. 6) with `base` the noisy image and `base_weight` their `lambda`.
    /// Pixels no added patch covers take `base`.
    pub fn blend(&self, base: MatRef<'_, T>, base_weight: T) -> Result<Mat<T>> {
        self.grid.check_gray(base)?;
        validate::non_negative("base_weight", base_weight.as_f64())?;
        let w = self.grid.image.1;
        let base_flat: Vec<T> = (0..self.grid.image.0 * w).map(|k| base[(k / w, k % w)]).collect();
        let values = self.average_values(Some((&base_flat, base_weight)));
        Ok(Mat::from_fn(self.grid.image.0, w, |i, j| values[i * w + j]))
    }

    /// Sums over counts (blended with `base` when given), in C order.
    fn average_values(&self, base: Option<(&[T], T)>) -> Vec<T> {
        let c = self.grid.channels;
        (0..self.sums.len())
            .map(|k| {
                let count = T::of(self.counts[k / c] as f64);
                let (num, den) = match base {
                    Some((b, weight)) => (self.sums[k] + weight * b[k], count + weight),
                    None => (self.sums[k], count),
                };
                if den > T::zero() {
                    num / den
                } else {
                    // No patch covers this pixel and the base has weight zero.
                    base.map_or(T::zero(), |(b, _)| b[k])
                }
            })
            .collect()
    }
}

/// Subtracts from every row of `patches` its mean and returns the means (one
/// per row), for [`add_means`] to put back.
pub fn remove_means<T: Float>(mut patches: MatMut<'_, T>) -> Vec<T> {
    let n = patches.ncols();
    let scale = T::of(n as f64).recip();
    let mut means = vec![T::zero(); patches.nrows()];
    for j in 0..n {
        for (i, m) in means.iter_mut().enumerate() {
            *m += patches[(i, j)];
        }
    }
    for m in means.iter_mut() {
        *m *= scale;
    }
    for j in 0..n {
        for (i, &m) in means.iter().enumerate() {
            patches[(i, j)] -= m;
        }
    }
    means
}

/// Adds `means[i]` to every value of row `i` of `patches`.
pub fn add_means<T: Float>(mut patches: MatMut<'_, T>, means: &[T]) -> Result<()> {
    if means.len() != patches.nrows() {
        return Err(Error::Shape(format!("{} means for {} patches", means.len(), patches.nrows())));
    }
    for j in 0..patches.ncols() {
        for (i, &m) in means.iter().enumerate() {
            patches[(i, j)] += m;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ramp(h: usize, w: usize) -> Mat<f64> {
        Mat::from_fn(h, w, |i, j| ((i * 31 + j * 17) % 23) as f64 / 7.0 + 0.1 * i as f64)
    }

    #[test]
    fn corners_snap_to_the_border() {
        assert_eq!(corners(10, 4, 3), vec![0, 3, 6]);
        assert_eq!(corners(10, 4, 4), vec![0, 4, 6]);
        assert_eq!(corners(10, 10, 3), vec![0]);
        assert_eq!(corners(10, 3, 20), vec![0, 7]);
    }

    #[test]
    fn patch_values_are_the_image_values() {
        let image = ramp(7, 9);
        let grid = PatchGrid::with_stride((7, 9), (3, 4), (2, 3)).unwrap();
        let patches = grid.extract(image.as_ref()).unwrap();
        for p in 0..grid.n_patches() {
            let (top, left) = grid.corner(p);
            for di in 0..3 {
                for dj in 0..4 {
                    assert_eq!(patches[(p, di * 4 + dj)], image[(top + di, left + dj)]);
                }
            }
        }
    }

    #[test]
    fn multichannel_layout_is_c_order() {
        let (h, w, c) = (4, 5, 3);
        let pixels: Vec<f64> = (0..h * w * c).map(|k| k as f64).collect();
        let grid = PatchGrid::multichannel((h, w, c), (2, 2), (1, 1)).unwrap();
        let patches = grid.extract_multichannel(&pixels, None).unwrap();
        assert_eq!(patches.ncols(), 12);
        // Patch at corner (1, 2): value (di, dj, ch) is pixel (1 + di, 2 + dj, ch).
        let p = 4 + 2;
        assert_eq!(grid.corner(p), (1, 2));
        let (di, dj, ch) = (1, 1, 2);
        assert_eq!(patches[(p, (di * 2 + dj) * 3 + ch)], (((2 * w + 3) * c) + 2) as f64);
        let back = grid.reconstruct_multichannel(patches.as_ref()).unwrap();
        for (a, b) in back.iter().zip(&pixels) {
            assert!((a - b).abs() < 1e-12);
        }
    }

    #[test]
    fn means_round_trip() {
        let mut m = ramp(5, 6);
        let orig = m.clone();
        let means = remove_means(m.as_mut());
        for i in 0..5 {
            let s: f64 = (0..6).map(|j| m[(i, j)]).sum();
            assert!(s.abs() < 1e-12);
        }
        add_means(m.as_mut(), &means).unwrap();
        assert!((&m - &orig).norm_max() < 1e-12);
        assert!(add_means(m.as_mut(), &means[..2]).is_err());
    }

    #[test]
    fn blended_reconstruction_weights_the_base() {
        let grid = PatchGrid::new((3, 3), (3, 3)).unwrap();
        let patches = Mat::from_fn(1, 9, |_, _| 1.0);
        let base = Mat::from_fn(3, 3, |_, _| 4.0);
        let out = grid.reconstruct_blended(patches.as_ref(), base.as_ref(), 0.5).unwrap();
        // (0.5 * 4 + 1) / (0.5 + 1) = 2.
        assert!((out[(1, 1)] - 2.0f64).abs() < 1e-15);
    }

    #[test]
    fn uncovered_pixels_are_zero_or_the_base() {
        let grid = PatchGrid::with_stride((5, 5), (1, 1), (3, 3)).unwrap();
        assert!(!grid.covers_every_pixel());
        // Corners 0 and 3, then 4 (snapped): pixel rows/cols 1 and 2 uncovered.
        assert_eq!(grid.n_patches(), 9);
        let patches = Mat::from_fn(9, 1, |_, _| 1.0);
        let out = grid.reconstruct(patches.as_ref()).unwrap();
        assert_eq!(out[(0, 0)], 1.0);
        assert_eq!(out[(1, 1)], 0.0);
        let base = Mat::from_fn(5, 5, |_, _| 7.0);
        let out = grid.reconstruct_blended(patches.as_ref(), base.as_ref(), 0.0).unwrap();
        assert_eq!(out[(1, 1)], 7.0);
        assert_eq!(out[(4, 4)], 1.0);
    }

    #[test]
    fn bad_geometry_is_an_error() {
        assert!(matches!(PatchGrid::new((4, 4), (5, 2)), Err(Error::Shape(_))));
        assert!(matches!(PatchGrid::new((4, 4), (0, 2)), Err(Error::Parameter { .. })));
        assert!(matches!(PatchGrid::with_stride((4, 4), (2, 2), (1, 0)), Err(Error::Parameter { .. })));
        assert!(matches!(PatchGrid::new((0, 4), (1, 1)), Err(Error::Empty(_))));
        let grid = PatchGrid::new((4, 4), (2, 2)).unwrap();
        assert!(grid.extract(ramp(4, 5).as_ref()).is_err());
        assert!(grid.extract_subset(ramp(4, 4).as_ref(), &[0, 9]).is_err());
        assert!(grid.sample_indices(10, 0).is_err());
        assert!(grid.sample_indices(0, 0).is_err());
        assert!(grid.reconstruct(Mat::<f64>::zeros(9, 3).as_ref()).is_err());
        let mut bad = Mat::<f64>::zeros(9, 4);
        bad[(3, 1)] = f64::NAN;
        assert!(matches!(grid.reconstruct(bad.as_ref()), Err(Error::NonFinite { row: 3, col: 1, .. })));
    }
}
