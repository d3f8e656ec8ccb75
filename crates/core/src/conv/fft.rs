//! Real FFT plans over the spatial dimensions of a [`ConvArray`](super::ConvArray):
//! a real-to-complex transform (realfft) along the last axis and complex
//! transforms (rustfft) along the others. Spectra are stored row-major over
//! `spatial[0] x ... x spatial[d-2] x (spatial[d-1] / 2 + 1)`.

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
    spectrum: Vec<Complex<T>>,
    line: Vec<Complex<T>>,
    work: Vec<Complex<T>>,
}

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

    /// Spectral index of frequency bin `bin` of the last axis, for each row.
    pub(crate) fn half(&self) -> usize {
        self.half
    }

    /// Fresh buffers for one thread.
    pub(crate) fn scratch(&self) -> FftScratch<T> {
        let max_line = self.dims.iter().copied().max().unwrap_or(1);
        FftScratch {
            real: vec![T::zero(); *self.dims.last().unwrap_or(&1)],
            spectrum: vec![Complex::new(T::zero(), T::zero()); self.spectrum_len],
            line: vec![Complex::new(T::zero(), T::zero()); max_line],
            work: vec![Complex::new(T::zero(), T::zero()); self.scratch_len],
        }
    }

    /// Applies the complex FFTs of every axis but the last to `spec`, in place.
    fn complex_axes(&self, spec: &mut [Complex<T>], s: &mut FftScratch<T>, inverse: bool) {
        let nd = self.dims.len();
        for a in 0..nd - 1 {
            let n = self.dims[a];
            if n == 1 {
                continue;
            }
            let stride: usize = self.dims[a + 1..nd - 1].iter().product::<usize>() * self.half;
            let outer: usize = self.dims[..a].iter().product();
            let fft = if inverse { &self.axes[a].1 } else { &self.axes[a].0 };
            let line = &mut s.line[..n];
            for o in 0..outer {
                let base = o * n * stride;
                for i in 0..stride {
                    for (j, v) in line.iter_mut().enumerate() {
                        *v = spec[base + j * stride + i];
                    }
                    fft.process_with_scratch(line, &mut s.work);
                    for (j, v) in line.iter().enumerate() {
                        spec[base + j * stride + i] = *v;
                    }
                }
            }
        }
    }

    /// The unnormalised DFT of `input` (`len` samples) into `output` (`spectrum_len`).
    pub(crate) fn forward(&self, input: &[T], output: &mut [Complex<T>], s: &mut FftScratch<T>) {
        let last = *self.dims.last().unwrap_or(&1);
        for (row_in, row_out) in input.chunks_exact(last).zip(output.chunks_exact_mut(self.half)) {
            s.real.copy_from_slice(row_in);
            // Lengths are right by construction; realfft only fails on wrong lengths.
            let _ = self.r2c.process_with_scratch(&mut s.real, row_out, &mut s.work);
        }
        self.complex_axes(output, s, false);
    }

    /// The inverse DFT, divided by `len`, of `input` (`spectrum_len`) into `output` (`len`).
    pub(crate) fn inverse(&self, input: &[Complex<T>], output: &mut [T], s: &mut FftScratch<T>) {
        let last = *self.dims.last().unwrap_or(&1);
        let mut spec = std::mem::take(&mut s.spectrum);
        spec.copy_from_slice(input);
        self.complex_axes(&mut spec, s, true);
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
        s.spectrum = spec;
    }

    /// [`FftPlan::forward`] of every consecutive block of `len` samples, in parallel.
    pub(crate) fn forward_many(&self, input: &[T], output: &mut [Complex<T>]) {
        output
            .par_chunks_exact_mut(self.spectrum_len)
            .zip(input.par_chunks_exact(self.len))
            .for_each_init(|| self.scratch(), |s, (o, i)| self.forward(i, o, s));
    }

    /// [`FftPlan::inverse`] of every consecutive spectrum, in parallel.
    pub(crate) fn inverse_many(&self, input: &[Complex<T>], output: &mut [T]) {
        output
            .par_chunks_exact_mut(self.len)
            .zip(input.par_chunks_exact(self.spectrum_len))
            .for_each_init(|| self.scratch(), |s, (o, i)| self.inverse(i, o, s));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dft_2d(x: &[f64], n0: usize, n1: usize, k0: usize, k1: usize) -> Complex<f64> {
        let mut acc = Complex::new(0.0, 0.0);
        for a in 0..n0 {
            for b in 0..n1 {
                let phase = -2.0 * std::f64::consts::PI * ((k0 * a) as f64 / n0 as f64 + (k1 * b) as f64 / n1 as f64);
                acc += Complex::new(phase.cos(), phase.sin()) * x[a * n1 + b];
            }
        }
        acc
    }

    #[test]
    fn forward_matches_direct_dft_and_inverse_round_trips() {
        for &(n0, n1) in &[(5usize, 6usize), (4, 7), (1, 9)] {
            let plan = FftPlan::<f64>::new(&[n0, n1]);
            let x: Vec<f64> = (0..n0 * n1).map(|i| ((i * 7 + 3) % 11) as f64 - 4.5).collect();
            let mut spec = vec![Complex::new(0.0, 0.0); plan.spectrum_len()];
            let mut s = plan.scratch();
            plan.forward(&x, &mut spec, &mut s);
            for k0 in 0..n0 {
                for k1 in 0..plan.half() {
                    let d = dft_2d(&x, n0, n1, k0, k1);
                    assert!((spec[k0 * plan.half() + k1] - d).norm() < 1e-9, "bin ({k0}, {k1})");
                }
            }
            let mut back = vec![0.0; n0 * n1];
            plan.inverse(&spec, &mut back, &mut s);
            for (a, b) in x.iter().zip(&back) {
                assert!((a - b).abs() < 1e-12);
            }
        }
    }
}
