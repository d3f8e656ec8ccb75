//! Blind deconvolution of 1-D traces: learn one wavelet `w` and a sparse
//! spike train `r` with `trace ~ w * r` — convolutional dictionary learning
//! ([`learn_filters`]) with a single zero-mean filter, linear boundary and anchoring,
//! the sparse-spike model of seismic reflectivity (e.g. Repetti et al. 2015,
//! "Euclid in a taxicab", IEEE SPL, for the blind sparse formulation).

use super::array::ConvArray;
use super::boundary::Boundary;
use super::cdl::{learn_filters, CdlOptions, FilterUpdate};
use super::ConvFloat;
use crate::{validate, Error, Result};

/// Options of [`blind_deconvolve`].
#[derive(Debug, Clone, PartialEq)]
pub struct DeconvOptions {
    /// Wavelet length in samples (at most the trace length).
    pub wavelet_len: usize,
    /// l1 weight on the spikes, for the trace scaled to unit RMS.
    pub lambda: f64,
    /// Outer iterations of the learning.
    pub n_iter: usize,
    /// Seed of the initial wavelet.
    pub seed: u64,
}

impl DeconvOptions {
    /// A wavelet of `wavelet_len` samples, `lambda = 0.1`, 200 iterations.
    pub fn new(wavelet_len: usize) -> Self {
        Self { wavelet_len, lambda: 0.1, n_iter: 200, seed: 0 }
    }
}

/// A learned wavelet and spike train.
#[derive(Debug, Clone, PartialEq)]
pub struct Deconvolution<T> {
    /// The wavelet (zero mean, unit norm, its energy centred in its support).
    pub wavelet: Vec<T>,
    /// One value per trace sample: the amplitude (in the trace's units) of the
    /// wavelet *centred* at that sample (centre `(wavelet_len - 1) / 2`).
    pub spikes: Vec<T>,
    /// The learning objective after each iteration (for the trace scaled to unit RMS).
    pub objective: Vec<f64>,
}

/// Learns a wavelet and sparse spikes from one trace.
///
/// ```
/// use sparsecode::conv::{blind_deconvolve, DeconvOptions};
/// let wavelet = [-0.3f64, 1.0, -0.3];
/// let mut trace = vec![0.0f64; 200];
/// for (p, a) in [(20usize, 1.0), (70, -0.7), (120, 0.9), (170, 0.6)] {
///     for (j, w) in wavelet.iter().enumerate() { trace[p + j - 1] += a * w; }
/// }
/// let mut options = DeconvOptions::new(5);
/// options.lambda = 0.05;
/// let out = blind_deconvolve(&trace, &options).unwrap();
/// let peak = out.spikes.iter().enumerate().max_by(|a, b| a.1.abs().total_cmp(&b.1.abs())).unwrap().0;
/// assert!(peak.abs_diff(20) <= 1, "largest spike at {peak}");
/// ```
pub fn blind_deconvolve<T: ConvFloat>(trace: &[T], options: &DeconvOptions) -> Result<Deconvolution<T>> {
    let n = trace.len();
    if n == 0 {
        return Err(Error::Empty("the trace".into()));
    }
    validate::finite_slice("trace", trace)?;
    validate::at_least_one("wavelet_len", options.wavelet_len)?;
    if options.wavelet_len > n {
        return Err(Error::parameter(
            "wavelet_len",
            options.wavelet_len,
            format!("must not exceed the trace length {n}"),
        ));
    }
    let mean = trace.iter().map(|v| v.as_f64()).sum::<f64>() / n as f64;
    let rms = (trace.iter().map(|v| (v.as_f64() - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
    if rms == 0.0 {
        return Err(Error::Invalid("the trace is constant: there is nothing to deconvolve".into()));
    }
    let scaled: Vec<T> = trace.iter().map(|v| T::of((v.as_f64() - mean) / rms)).collect();
    let signals = ConvArray::new(1, 1, &[n], scaled)?;
    let mut cdl = CdlOptions::new(1, &[options.wavelet_len], options.lambda);
    cdl.boundary = Boundary::Linear;
    // A seismic wavelet carries no DC: a zero-mean wavelet leaves slow drift
    // unexplained instead of buying it with dense spikes.
    cdl.zero_mean = true;
    // The spikes are indexed by the wavelet's centre: keep its energy there.
    cdl.anchor = true;
    // One short trace: accurate inner solves cost little, and the tests and
    // examples of this function were tuned with them.
    cdl.coding_iter = 10;
    cdl.filter_iter = 10;
    cdl.filter_update = FilterUpdate::Fista;
    cdl.n_iter = options.n_iter;
    cdl.seed = options.seed;
    let learned = learn_filters(&signals, None, None, &cdl)?;
    let l = options.wavelet_len;
    let centre = (l - 1) / 2;
    let maps = learned.maps.data();
    let padded = n + l - 1;
    // Map entry m is the wavelet starting at position m (m < n) or m - padded (m >= n).
    let spikes = (0..n)
        .map(|t| {
            let start = t as isize - centre as isize;
            let m = if start >= 0 { start as usize } else { (start + padded as isize) as usize };
            T::of(maps[m].as_f64() * rms)
        })
        .collect();
    Ok(Deconvolution { wavelet: learned.filters.into_data(), spikes, objective: learned.objective })
}
