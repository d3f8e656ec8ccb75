//! The Tikhonov low-pass / high-pass split applied to images before CSC
//! (as in SPORCO's `tikhonov_filter` and CBPDN examples): the low-pass part
//! `l` minimises `0.5 ||l - x||^2 + 0.5 lambda sum_a ||grad_a l||^2`, solved in
//! the DFT domain as `L(f) = X(f) / (1 + lambda sum_a (2 - 2 cos(2 pi f_a / n_a)))`
//! on a domain padded symmetrically (`pad` samples per side, at most the
//! signal size) to avoid wrap-around at the edges; the high-pass part is `x - l`.

use super::array::ConvArray;
use super::fft::FftPlan;
use super::operator::czero;
use super::ConvFloat;
use crate::{validate, Result};

/// Samples of symmetric padding per side and axis.
const PAD: usize = 16;

/// Splits every channel of `signals` into `(low, high)` with `low + high = signals`.
///
/// ```
/// use sparsecode::conv::{tikhonov_split, ConvArray};
/// let x: Vec<f64> = (0..64).map(|i| (i as f64 * 0.1).sin() + if i % 2 == 0 { 0.5 } else { -0.5 }).collect();
/// let signals = ConvArray::new(1, 1, &[64], x.clone()).unwrap();
/// let (low, high) = tikhonov_split(&signals, 5.0).unwrap();
/// // The alternating component goes to the high-pass part.
/// assert!((high.data()[30] - 0.5).abs() < 0.1);
/// assert!((low.data()[30] + high.data()[30] - x[30]).abs() < 1e-12);
/// ```
pub fn tikhonov_split<T: ConvFloat>(signals: &ConvArray<T>, lambda: f64) -> Result<(ConvArray<T>, ConvArray<T>)> {
    validate::non_negative("lambda", lambda)?;
    signals.check_finite("signals")?;
    let dims = signals.spatial();
    let nd = dims.len();
    let pads: Vec<usize> = dims.iter().map(|&n| PAD.min(n)).collect();
    let padded_dims: Vec<usize> = dims.iter().zip(&pads).map(|(n, p)| n + 2 * p).collect();
    let plan = FftPlan::<T>::new(&padded_dims);
    let n_padded = plan.len();
    let n = signals.spatial_len();
    // Source index (in the unpadded channel) of every padded sample.
    let mut source = vec![0usize; n_padded];
    let mut coord = vec![0usize; nd];
    for s in source.iter_mut() {
        let mut idx = 0;
        for a in 0..nd {
            let p = coord[a] as isize - pads[a] as isize;
            let len = dims[a] as isize;
            let q = if p < 0 {
                -p - 1
            } else if p >= len {
                2 * len - p - 1
            } else {
                p
            };
            idx = idx * dims[a] + q as usize;
        }
        *s = idx;
        for a in (0..nd).rev() {
            coord[a] += 1;
            if coord[a] < padded_dims[a] {
                break;
            }
            coord[a] = 0;
        }
    }
    // Frequency response of the low-pass filter.
    let mut response = vec![T::zero(); plan.spectrum_len()];
    let mut frequency = vec![0; nd];
    for (i, r) in response.iter_mut().enumerate() {
        plan.frequency(i, &mut frequency);
        let penalty: f64 = frequency
            .iter()
            .zip(&padded_dims)
            .map(|(&f, &n)| 2.0 - 2.0 * (2.0 * std::f64::consts::PI * f as f64 / n as f64).cos())
            .sum();
        *r = T::of(1.0 / (1.0 + lambda * penalty));
    }
    let mut low = signals.clone();
    let mut high = signals.clone();
    let mut s = plan.scratch();
    let mut buf = vec![T::zero(); n_padded];
    let mut spec = vec![czero(); plan.spectrum_len()];
    for ((x, l), h) in
        signals.data().chunks_exact(n).zip(low.data_mut().chunks_exact_mut(n)).zip(high.data_mut().chunks_exact_mut(n))
    {
        for (b, &src) in buf.iter_mut().zip(&source) {
            *b = x[src];
        }
        plan.forward(&buf, &mut spec, &mut s);
        for (c, r) in spec.iter_mut().zip(&response) {
            *c *= *r;
        }
        plan.inverse(&spec, &mut buf, &mut s);
        // Crop the centre back out: the padded sample whose source is i and which lies inside.
        let mut inner = vec![0usize; nd];
        for (i, (lv, hv)) in l.iter_mut().zip(h.iter_mut()).enumerate() {
            let mut rest = i;
            for a in (0..nd).rev() {
                inner[a] = rest % dims[a] + pads[a];
                rest /= dims[a];
            }
            let idx = inner.iter().zip(&padded_dims).fold(0, |acc, (c, d)| acc * d + c);
            *lv = buf[idx];
            *hv = x[i] - buf[idx];
        }
    }
    Ok((low, high))
}
