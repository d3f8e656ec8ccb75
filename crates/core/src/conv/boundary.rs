//! Boundary conditions and the working domain of a convolutional problem.
//!
//! - [`Boundary::Circular`]: the signal is one period of a periodic signal;
//!   the coefficient maps have the size of the signal.
//! - [`Boundary::Linear`]: exact linear (zero-padded) convolution. The domain
//!   is padded by `filter size - 1` along every spatial axis and the data term
//!   is masked to the original support (Wohlberg 2016, "Boundary handling for
//!   convolutional sparse representations", Sec. II; Heide et al. 2015), so a
//!   reconstruction has no wrap-around. Maps then have size
//!   `signal + filter - 1`; map entry `n >= signal` stands for the position
//!   `n - (signal + filter - 1) < 0` (an atom hanging over the start).

use super::array::ConvArray;
use crate::{Error, Float, Result};

/// How the signal continues beyond its ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Boundary {
    /// Periodic signals, circular convolution.
    #[default]
    Circular,
    /// Zero outside the signal; exact linear convolution.
    Linear,
}

impl Boundary {
    /// The working (map) domain for signals of shape `signal` and filters of shape `filter`.
    pub fn domain(self, signal: &[usize], filter: &[usize]) -> Vec<usize> {
        match self {
            Boundary::Circular => signal.to_vec(),
            Boundary::Linear => signal.iter().zip(filter).map(|(n, l)| n + l - 1).collect(),
        }
    }
}

/// Copies the `min(src, dst)` corner of `src` (shape `src_dims`) into the same
/// corner of `dst` (shape `dst_dims`, same number of axes); other entries of
/// `dst` are left as they are. Embeds a filter in a larger domain, or crops.
pub(crate) fn copy_corner<T: Copy>(src: &[T], src_dims: &[usize], dst: &mut [T], dst_dims: &[usize]) {
    let nd = src_dims.len();
    let common: Vec<usize> = src_dims.iter().zip(dst_dims).map(|(a, b)| *a.min(b)).collect();
    let rows: usize = common[..nd - 1].iter().product();
    let width = common[nd - 1];
    let mut coord = vec![0usize; nd - 1];
    for _ in 0..rows {
        let (mut s, mut d) = (0, 0);
        for a in 0..nd - 1 {
            s = s * src_dims[a] + coord[a];
            d = d * dst_dims[a] + coord[a];
        }
        s *= src_dims[nd - 1];
        d *= dst_dims[nd - 1];
        dst[d..d + width].copy_from_slice(&src[s..s + width]);
        for a in (0..nd - 1).rev() {
            coord[a] += 1;
            if coord[a] < common[a] {
                break;
            }
            coord[a] = 0;
        }
    }
}

/// Validated shapes of a convolutional problem and its data on the working domain.
pub(crate) struct Setup<T> {
    pub(crate) n_signals: usize,
    pub(crate) n_channels: usize,
    pub(crate) k: usize,
    /// Channels per group.
    pub(crate) ce: usize,
    /// Single-channel filters shared across several signal channels.
    pub(crate) shared: bool,
    pub(crate) filter_dims: Vec<usize>,
    pub(crate) work_dims: Vec<usize>,
    pub(crate) n_groups: usize,
    /// Signals on the working domain, `n_groups x ce x prod(work_dims)`.
    pub(crate) s: Vec<T>,
    /// Data-term weights on the working domain (boundary mask times the
    /// user's mask); `None` when every weight is one.
    pub(crate) w: Option<Vec<T>>,
}

impl<T: Float> Setup<T> {
    /// Checks filter shape `(k, filter_channels, filter_dims)` against the
    /// signals and mask, and lays the data out on the working domain.
    pub(crate) fn new(
        k: usize,
        filter_channels: usize,
        filter_dims: &[usize],
        signals: &ConvArray<T>,
        mask: Option<&ConvArray<T>>,
        boundary: Boundary,
    ) -> Result<Self> {
        let signal_dims = signals.spatial().to_vec();
        if k == 0 {
            return Err(Error::parameter("n_filters", 0, "must be at least 1"));
        }
        if filter_dims.len() != signal_dims.len() {
            return Err(Error::Shape(format!(
                "filters have {} spatial dimensions ({filter_dims:?}) but the signals {} ({signal_dims:?})",
                filter_dims.len(),
                signal_dims.len()
            )));
        }
        if filter_dims.iter().zip(&signal_dims).any(|(l, n)| l > n) {
            return Err(Error::Shape(format!(
                "filters of size {filter_dims:?} are larger than the signals of size {signal_dims:?}"
            )));
        }
        let n_channels = signals.n_channels();
        if filter_channels != 1 && filter_channels != n_channels {
            return Err(Error::Shape(format!(
                "filters have {filter_channels} channels but the signals {n_channels}: filters need 1 channel \
                 (shared across channels) or one per signal channel"
            )));
        }
        signals.check_finite("signals")?;
        let shared = filter_channels == 1 && n_channels > 1;
        let ce = filter_channels;
        let n_groups = signals.n_items() * n_channels / ce;
        let work_dims = boundary.domain(&signal_dims, filter_dims);
        let n_work: usize = work_dims.iter().product();
        let n_sig = signals.spatial_len();
        let mut s = vec![T::zero(); n_groups * ce * n_work];
        for (src, dst) in signals.data().chunks_exact(n_sig).zip(s.chunks_exact_mut(n_work)) {
            copy_corner(src, &signal_dims, dst, &work_dims);
        }
        let w = match mask {
            None if boundary == Boundary::Circular => None,
            _ => {
                let mut w = vec![T::zero(); s.len()];
                match mask {
                    Some(m) => {
                        if m.n_items() != signals.n_items()
                            || m.n_channels() != n_channels
                            || m.spatial() != signal_dims
                        {
                            return Err(Error::Shape(format!(
                                "the mask is {} x {} x {:?} but the signals {} x {} x {:?}",
                                m.n_items(),
                                m.n_channels(),
                                m.spatial(),
                                signals.n_items(),
                                n_channels,
                                signal_dims
                            )));
                        }
                        m.check_finite("mask")?;
                        if let Some(v) = m.data().iter().find(|v| **v < T::zero()) {
                            return Err(Error::parameter("mask", v, "weights must be >= 0"));
                        }
                        if m.data().iter().all(|v| *v == T::zero()) {
                            return Err(Error::Invalid("the mask observes no sample (every weight is zero)".into()));
                        }
                        for (src, dst) in m.data().chunks_exact(n_sig).zip(w.chunks_exact_mut(n_work)) {
                            copy_corner(src, &signal_dims, dst, &work_dims);
                        }
                    }
                    None => {
                        let ones = vec![T::one(); n_sig];
                        for dst in w.chunks_exact_mut(n_work) {
                            copy_corner(&ones, &signal_dims, dst, &work_dims);
                        }
                    }
                }
                Some(w)
            }
        };
        Ok(Self {
            n_signals: signals.n_items(),
            n_channels,
            k,
            ce,
            shared,
            filter_dims: filter_dims.to_vec(),
            work_dims,
            n_groups,
            s,
            w,
        })
    }

    /// Samples per channel on the working domain.
    pub(crate) fn n_work(&self) -> usize {
        self.work_dims.iter().product()
    }

    /// Maps per signal in the public layout.
    pub(crate) fn n_maps(&self) -> usize {
        if self.shared {
            self.n_channels * self.k
        } else {
            self.k
        }
    }

    /// Filters (`k x ce x filter_dims`) zero-padded to the working domain.
    pub(crate) fn pad_filters(&self, filters: &[T]) -> Vec<T> {
        let n_filter: usize = self.filter_dims.iter().product();
        let n_work = self.n_work();
        let mut padded = vec![T::zero(); self.k * self.ce * n_work];
        for (src, dst) in filters.chunks_exact(n_filter).zip(padded.chunks_exact_mut(n_work)) {
            copy_corner(src, &self.filter_dims, dst, &self.work_dims);
        }
        padded
    }

    /// Filters cropped back from the working domain to their support.
    pub(crate) fn crop_filters(&self, padded: &[T]) -> Vec<T> {
        let n_filter: usize = self.filter_dims.iter().product();
        let mut filters = vec![T::zero(); self.k * self.ce * n_filter];
        for (src, dst) in padded.chunks_exact(self.n_work()).zip(filters.chunks_exact_mut(n_filter)) {
            copy_corner(src, &self.work_dims, dst, &self.filter_dims);
        }
        filters
    }
}
