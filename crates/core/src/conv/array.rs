//! The one array layout of every convolutional problem: items x channels x
//! spatial dimensions, row-major (C order), 1-D signals being the case of one
//! spatial dimension.

use crate::{Error, Float, Result};
use faer::MatRef;

/// A dense array of shape `n_items x n_channels x spatial[0] x ... x spatial[d-1]`
/// in row-major order.
///
/// The same layout holds every array of the convolutional solvers:
/// - signals: `n_signals x n_channels x spatial` (1-D traces: `spatial = [len]`;
///   gray images: one channel, `spatial = [height, width]`);
/// - filters: `n_filters x n_filter_channels x filter_spatial`, where a filter has
///   either one channel (shared by every channel of the signals) or as many
///   channels as the signals (multichannel filters);
/// - coefficient maps: `n_signals x n_maps x map_spatial`, with `n_maps =
///   n_filters` for single-channel signals or multichannel filters, and
///   `n_channels * n_filters` (index `c * n_filters + k`) for single-channel
///   filters shared across the channels of multichannel signals;
/// - masks / per-sample weights: the shape of the signals.
///
/// ```
/// use sparsecode::conv::ConvArray;
/// let a = ConvArray::new(2, 1, &[3], vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
/// assert_eq!(a.channel(1, 0), &[4.0, 5.0, 6.0]);
/// assert!(ConvArray::new(2, 1, &[3], vec![1.0; 5]).is_err());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ConvArray<T> {
    n_items: usize,
    n_channels: usize,
    spatial: Vec<usize>,
    data: Vec<T>,
}

impl<T: Float> ConvArray<T> {
    /// Wraps `data` (row-major) as an array of the given shape. Fails when a
    /// dimension is zero, there is no spatial dimension, or `data` has the
    /// wrong length.
    pub fn new(n_items: usize, n_channels: usize, spatial: &[usize], data: Vec<T>) -> Result<Self> {
        if spatial.is_empty() {
            return Err(Error::Shape("a convolutional array needs at least one spatial dimension".into()));
        }
        if n_items == 0 || n_channels == 0 || spatial.contains(&0) {
            return Err(Error::Empty(format!(
                "convolutional array of shape {n_items} x {n_channels} x {spatial:?} (a dimension is zero)"
            )));
        }
        let expected = n_items * n_channels * spatial.iter().product::<usize>();
        if data.len() != expected {
            return Err(Error::Shape(format!(
                "{} values given for an array of shape {n_items} x {n_channels} x {spatial:?} ({expected} values)",
                data.len()
            )));
        }
        Ok(Self { n_items, n_channels, spatial: spatial.to_vec(), data })
    }

    /// An array of zeros.
    pub fn zeros(n_items: usize, n_channels: usize, spatial: &[usize]) -> Self {
        let len = n_items * n_channels * spatial.iter().product::<usize>();
        Self { n_items, n_channels, spatial: spatial.to_vec(), data: vec![T::zero(); len] }
    }

    /// Single-channel 1-D signals from the rows of `x` (`n_signals x length`).
    pub fn from_rows(x: MatRef<'_, T>) -> Result<Self> {
        let data = (0..x.nrows()).flat_map(|i| (0..x.ncols()).map(move |j| x[(i, j)])).collect();
        Self::new(x.nrows(), 1, &[x.ncols()], data)
    }

    /// Number of items (signals, filters).
    pub fn n_items(&self) -> usize {
        self.n_items
    }

    /// Number of channels per item.
    pub fn n_channels(&self) -> usize {
        self.n_channels
    }

    /// The spatial dimensions.
    pub fn spatial(&self) -> &[usize] {
        &self.spatial
    }

    /// Number of samples of one channel (product of the spatial dimensions).
    pub fn spatial_len(&self) -> usize {
        self.spatial.iter().product()
    }

    /// All values, row-major.
    pub fn data(&self) -> &[T] {
        &self.data
    }

    /// All values, row-major, mutable.
    pub fn data_mut(&mut self) -> &mut [T] {
        &mut self.data
    }

    /// The values, consuming the array.
    pub fn into_data(self) -> Vec<T> {
        self.data
    }

    /// All channels of item `item`.
    pub fn item(&self, item: usize) -> &[T] {
        let len = self.n_channels * self.spatial_len();
        &self.data[item * len..(item + 1) * len]
    }

    /// Channel `channel` of item `item`.
    pub fn channel(&self, item: usize, channel: usize) -> &[T] {
        let len = self.spatial_len();
        let start = (item * self.n_channels + channel) * len;
        &self.data[start..start + len]
    }

    /// Channel `channel` of item `item`, mutable.
    pub fn channel_mut(&mut self, item: usize, channel: usize) -> &mut [T] {
        let len = self.spatial_len();
        let start = (item * self.n_channels + channel) * len;
        &mut self.data[start..start + len]
    }

    /// Fails on the first non-finite value, naming the array, the item (row)
    /// and the flat index within the item (column).
    pub fn check_finite(&self, name: &str) -> Result<()> {
        let item_len = self.n_channels * self.spatial_len();
        match self.data.iter().position(|v| !num_traits::Float::is_finite(*v)) {
            None => Ok(()),
            Some(i) => Err(Error::NonFinite {
                name: name.to_string(),
                value: self.data[i].as_f64(),
                row: i / item_len,
                col: i % item_len,
            }),
        }
    }
}
