//! Real FFT plans over the spatial dimensions of a [`ConvArray`](super::ConvArray):
//! a real-to-complex transform (realfft) along the last axis and complex
//! transforms (rustfft) along the others. Spectra are stored row-major over
//! `spatial[0] x ... x spatial[d-2] x (spatial[d-1] / 2 + 1)`; code outside
//! this module uses them pointwise over frequencies or through
//! [`FftPlan::frequency`].

use super::ConvFloat;
use num_complex::Complex;
use rayon::prelude::*;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};
use std::sync::Arc;

/// A complex FFT plan of rustfft.
type ComplexFft<T> = Arc<dyn rustfft::Fft<T>>;

/// Forward and inverse multidimensional real FFTs for one spatial shape.
pub(crate) struct FftPlan<T: ConvFloat> {
    dims: Vec<usize>,
    half: usize,
    len: usize,
    spectrum_len: usize,
    r2c: Arc<dyn RealToComplex<T>>,
    c2r: Arc<dyn ComplexToReal<T>>,
    /// Forward and inverse complex FFTs for each axis but the last.
    axes: Vec<(ComplexFft<T>, ComplexFft<T>)>,
    scratch_len: usize,
}

/// Per-thread buffers of an [`FftPlan`].
pub(crate) struct FftScratch<T> {
    real: Vec<T>,
    /// A copy of the input of [`FftPlan::inverse`], allocated on first use.
    spectrum: Vec<Complex<T>>,
    /// A tile of lines of one axis, gathered contiguously.
    tile: Vec<Complex<T>>,
    work: Vec<Complex<T>>,
}

/// Bytes of the lines of one axis that the complex transforms gather at
/// once: one cache line, so that the strided walk down an axis reads and
/// writes whole cache lines and the few lines of the tile do not compete for
/// the same cache set (they lie a power of two apart for power-of-two sizes).
const TILE_BYTES: usize = 64;

impl<T: ConvFloat> FftPlan<T> {
    /// Plans the transforms for the spatial shape `dims` (non-empty, no zero).
    pub(crate) fn new(dims: &[usize]) -> Self {
        let last = *dims.last().expect("spatial shape has at least one dimension");
        let mut real_planner = RealFftPlanner::<T>::new();
        let r2c = real_planner.plan_fft_forward(last);
        let c2r = real_planner.plan_fft_inverse(last);
        let mut planner = rustfft::FftPlanner::<T>::new();
        let axes: Vec<_> = dims[..dims.len() - 1]
            .iter()
            .map(|&n| (planner.plan_fft_forward(n), planner.plan_fft_inverse(n)))
            .collect();
        let mut scratch_len = r2c.get_scratch_len().max(c2r.get_scratch_len());
        for (f, i) in &axes {
            scratch_len = scratch_len.max(f.get_inplace_scratch_len()).max(i.get_inplace_scratch_len());
        }
        let half = last / 2 + 1;
        let len = dims.iter().product();
        let spectrum_len = dims[..dims.len() - 1].iter().product::<usize>() * half;
        Self { dims: dims.to_vec(), half, len, spectrum_len, r2c, c2r, axes, scratch_len }
    }

    /// Number of real samples.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Number of complex coefficients of a spectrum.
    pub(crate) fn spectrum_len(&self) -> usize {
        self.spectrum_len
    }

    /// The frequency index along each axis (`out`, one per spatial dimension;
    /// the last axis's in `0..spatial[d-1] / 2 + 1`) of spectral entry `i`.
    pub(crate) fn frequency(&self, i: usize, out: &mut [usize]) {
        let nd = self.dims.len();
        out[nd - 1] = i % self.half;
        let mut rest = i / self.half;
        for a in (0..nd - 1).rev() {
            out[a] = rest % self.dims[a];
            rest /= self.dims[a];
        }
    }

    /// Lines per tile of the complex transforms.
    fn tile(&self) -> usize {
        (TILE_BYTES / std::mem::size_of::<Complex<T>>()).max(1)
    }

    /// Fresh buffers for one thread.
    pub(crate) fn scratch(&self) -> FftScratch<T> {
        let max_line = self.dims.iter().copied().max().unwrap_or(1);
        FftScratch {
            real: vec![T::zero(); *self.dims.last().unwrap_or(&1)],
            spectrum: Vec::new(),
            tile: vec![Complex::new(T::zero(), T::zero()); self.tile() * max_line],
            work: vec![Complex::new(T::zero(), T::zero()); self.scratch_len],
        }
    }

    /// Applies the complex FFTs of every axis but the last to `spec`, in place,
    /// a tile of neighbouring lines at a time gathered into a contiguous buffer.
    fn complex_axes(&self, spec: &mut [Complex<T>], s: &mut FftScratch<T>, inverse: bool) {
        let nd = self.dims.len();
        for a in 0..nd - 1 {
            let n = self.dims[a];
            if n == 1 {
                continue;
            }
            let stride: usize = self.dims[a + 1..nd - 1].iter().product::<usize>() * self.half;
            let fft = if inverse { &self.axes[a].1 } else { &self.axes[a].0 };
            let tile_lines = self.tile();
            for block in spec.chunks_exact_mut(n * stride) {
                let mut i = 0;
                while i < stride {
                    let width = tile_lines.min(stride - i);
                    let tile = &mut s.tile[..width * n];
                    for (j, row) in block.chunks_exact(stride).enumerate() {
                        for (t, v) in row[i..i + width].iter().enumerate() {
                            tile[t * n + j] = *v;
                        }
                    }
                    fft.process_with_scratch(tile, &mut s.work);
                    for (j, row) in block.chunks_exact_mut(stride).enumerate() {
                        for (t, v) in row[i..i + width].iter_mut().enumerate() {
                            *v = tile[t * n + j];
                        }
                    }
                    i += width;
                }
            }
        }
    }

    /// The unnormalised DFT of `input` (`len` samples) into `output` (`spectrum_len`).
    pub(crate) fn forward(&self, input: &[T], output: &mut [Complex<T>], s: &mut FftScratch<T>) {
        self.forward_from(output, s, |start, row| row.copy_from_slice(&input[start..start + row.len()]));
    }

    /// The unnormalised DFT of the array whose rows (lines of the last axis)
    /// `fill(start, row)` writes, `start` being the row's first flat index: the
    /// input can be formed on the fly, row by row, without a pass over memory.
    fn forward_from(&self, output: &mut [Complex<T>], s: &mut FftScratch<T>, fill: impl Fn(usize, &mut [T])) {
        let last = self.dims[self.dims.len() - 1];
        for (r, row_out) in output.chunks_exact_mut(self.half).enumerate() {
            fill(r * last, &mut s.real);
            // Lengths are right by construction; realfft only fails on wrong lengths.
            let _ = self.r2c.process_with_scratch(&mut s.real, row_out, &mut s.work);
        }
        self.complex_axes(output, s, false);
    }

    /// The inverse DFT, divided by `len`, of `input` (`spectrum_len`) into `output` (`len`).
    pub(crate) fn inverse(&self, input: &[Complex<T>], output: &mut [T], s: &mut FftScratch<T>) {
        let mut spec = std::mem::take(&mut s.spectrum);
        spec.clear();
        spec.extend_from_slice(input);
        self.inverse_in_place(&mut spec, output, s);
        s.spectrum = spec;
    }

    /// [`FftPlan::inverse`] that uses `spec` as its work space (it is overwritten).
    pub(crate) fn inverse_in_place(&self, spec: &mut [Complex<T>], output: &mut [T], s: &mut FftScratch<T>) {
        let last = self.dims[self.dims.len() - 1];
        self.complex_axes(spec, s, true);
        let scale = T::one() / T::of(self.len as f64);
        for (row_in, row_out) in spec.chunks_exact_mut(self.half).zip(output.chunks_exact_mut(last)) {
            // The rows of the spectrum of a real array have real DC and Nyquist
            // bins; rounding leaves a tiny imaginary part that the c2r ignores.
            row_in[0].im = T::zero();
            if last % 2 == 0 {
                row_in[self.half - 1].im = T::zero();
            }
            let _ = self.c2r.process_with_scratch(row_in, row_out, &mut s.work);
            for v in row_out.iter_mut() {
                *v *= scale;
            }
        }
    }

    /// [`FftPlan::forward`] of every consecutive block of `len` samples, in parallel.
    pub(crate) fn forward_many(&self, input: &[T], output: &mut [Complex<T>]) {
        self.forward_many_from(output, |start, row| row.copy_from_slice(&input[start..start + row.len()]));
    }

    /// [`FftPlan::forward_many`] of the arrays whose rows `fill(start, row)`
    /// writes, `start` being the flat index of the row's first sample in the
    /// concatenated input (see [`FftPlan::forward_from`]).
    pub(crate) fn forward_many_from(&self, output: &mut [Complex<T>], fill: impl Fn(usize, &mut [T]) + Sync) {
        output.par_chunks_exact_mut(self.spectrum_len).enumerate().for_each_init(
            || self.scratch(),
            |s, (item, o)| self.forward_from(o, s, |start, row| fill(item * self.len + start, row)),
        );
    }

    /// [`FftPlan::inverse`] of every consecutive spectrum, in parallel.
    pub(crate) fn inverse_many(&self, input: &[Complex<T>], output: &mut [T]) {
        output
            .par_chunks_exact_mut(self.len)
            .zip(input.par_chunks_exact(self.spectrum_len))
            .for_each_init(|| self.scratch(), |s, (o, i)| self.inverse(i, o, s));
    }

    /// [`FftPlan::inverse_in_place`] of every consecutive spectrum, in parallel
    /// (`spec` is overwritten).
    pub(crate) fn inverse_many_in_place(&self, spec: &mut [Complex<T>], output: &mut [T]) {
        output
            .par_chunks_exact_mut(self.len)
            .zip(spec.par_chunks_exact_mut(self.spectrum_len))
            .for_each_init(|| self.scratch(), |s, (o, i)| self.inverse_in_place(i, o, s));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The DFT of the row-major array `x` of shape `dims` at frequency `k`.
    fn dft(x: &[f64], dims: &[usize], k: &[usize]) -> Complex<f64> {
        let mut acc = Complex::new(0.0, 0.0);
        for (i, v) in x.iter().enumerate() {
            let (mut rest, mut phase) = (i, 0.0);
            for a in (0..dims.len()).rev() {
                phase += (k[a] * (rest % dims[a])) as f64 / dims[a] as f64;
                rest /= dims[a];
            }
            let angle = -2.0 * std::f64::consts::PI * phase;
            acc += Complex::new(angle.cos(), angle.sin()) * v;
        }
        acc
    }

    #[test]
    fn forward_matches_direct_dft_and_inverse_round_trips() {
        let shapes: [&[usize]; 7] = [&[5, 6], &[4, 7], &[1, 9], &[10], &[9, 3], &[3, 4, 5], &[2, 1, 6]];
        for dims in shapes {
            let plan = FftPlan::<f64>::new(dims);
            let n = plan.len();
            let x: Vec<f64> = (0..n).map(|i| ((i * 7 + 3) % 11) as f64 - 4.5).collect();
            let mut spec = vec![Complex::new(0.0, 0.0); plan.spectrum_len()];
            let mut s = plan.scratch();
            plan.forward(&x, &mut spec, &mut s);
            let mut k = vec![0; dims.len()];
            let mut seen = std::collections::HashSet::new();
            for (i, v) in spec.iter().enumerate() {
                plan.frequency(i, &mut k);
                assert!(k[dims.len() - 1] <= dims[dims.len() - 1] / 2 && seen.insert(k.clone()));
                assert!((v - dft(&x, dims, &k)).norm() < 1e-9, "shape {dims:?}, bin {k:?}");
            }
            let mut back = vec![0.0; n];
            plan.inverse(&spec, &mut back, &mut s);
            for (a, b) in x.iter().zip(&back) {
                assert!((a - b).abs() < 1e-12, "shape {dims:?}");
            }
        }
    }
}
