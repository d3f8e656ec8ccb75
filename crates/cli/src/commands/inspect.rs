//! `sparsecode inspect FILE`: what a data file holds, before feeding it to
//! another command.

use crate::context::Context;
use crate::io;
use std::path::PathBuf;

/// Show the shape, dtype and value range of an array, image or WAV file.
///
/// Reads a .npy array (or FILE.npz:NAME), an image (PNG, JPEG, TIFF; values
/// scaled to [0, 1]) or a WAV sound (one row per channel) and prints its
/// shape, stored dtype, min, max, mean, standard deviation and the number of
/// non-zero and non-finite values.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The file (`FILE.npz:NAME` picks one array of an archive).
    pub file: PathBuf,
}

/// Summary statistics of a set of values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Number of values.
    pub count: usize,
    /// Smallest finite value (NaN if there is none).
    pub min: f64,
    /// Largest finite value (NaN if there is none).
    pub max: f64,
    /// Mean of the finite values.
    pub mean: f64,
    /// Standard deviation of the finite values.
    pub std: f64,
    /// Values that are NaN or infinite.
    pub non_finite: usize,
    /// Values different from zero.
    pub non_zero: usize,
}

impl Stats {
    /// Statistics of `values`; non-finite values are counted, not averaged.
    pub fn of<'a>(values: impl IntoIterator<Item = &'a f64>) -> Self {
        let (mut count, mut finite, mut non_zero) = (0usize, 0usize, 0usize);
        let (mut min, mut max, mut sum, mut sum_sq) = (f64::INFINITY, f64::NEG_INFINITY, 0.0, 0.0);
        for &v in values {
            count += 1;
            non_zero += usize::from(v != 0.0);
            if v.is_finite() {
                finite += 1;
                min = min.min(v);
                max = max.max(v);
                sum += v;
                sum_sq += v * v;
            }
        }
        if finite == 0 {
            return Self {
                count,
                min: f64::NAN,
                max: f64::NAN,
                mean: f64::NAN,
                std: f64::NAN,
                non_finite: count,
                non_zero,
            };
        }
        let mean = sum / finite as f64;
        let std = (sum_sq / finite as f64 - mean * mean).max(0.0).sqrt();
        Self { count, min, max, mean, std, non_finite: count - finite, non_zero }
    }
}

fn extension(path: &std::path::Path) -> String {
    let text = path.to_string_lossy();
    let file = text.rsplit_once(".npz:").map_or(text.as_ref(), |(f, _)| f);
    file.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default()
}

/// Prints what `args.file` holds.
pub fn run(args: &Args, _ctx: &Context) -> anyhow::Result<()> {
    let path = &args.file;
    let (kind, shape, stats) = match extension(path).as_str() {
        "png" | "jpg" | "jpeg" | "tif" | "tiff" => {
            let img = io::read_image_channels(path)?;
            ("image, values scaled to [0, 1]".to_string(), img.shape().to_vec(), Stats::of(img.iter()))
        }
        "wav" => {
            let audio = io::read_wav(path)?;
            let kind = format!("sound, {} Hz, rows are channels", audio.sample_rate);
            (kind, audio.channels.shape().to_vec(), Stats::of(audio.channels.iter()))
        }
        _ => {
            let array = io::read_array(path)?;
            (format!("array of {}", array.dtype.name()), array.data.shape().to_vec(), Stats::of(array.data.iter()))
        }
    };
    println!("{}: {kind}", path.display());
    println!("  shape      {shape:?} ({} values)", stats.count);
    println!("  min / max  {:.6e} / {:.6e}", stats.min, stats.max);
    println!("  mean / std {:.6e} / {:.6e}", stats.mean, stats.std);
    println!("  non-zero   {}", stats.non_zero);
    if stats.non_finite > 0 {
        println!("  non-finite {} (NaN or infinite)", stats.non_finite);
    }
    Ok(())
}
