//! `sparsecode csc`: convolutional sparse coding of an image, an array of
//! signals or a sound with fixed filters.

use crate::context::Context;
use crate::{io, plot};
use anyhow::{bail, Context as _};
use ndarray::{ArrayD, IxDyn};
use sparsecode::conv::{csc, reconstruct, tikhonov_split, AdmmOptions, Boundary, ConvArray, CscOptions, Solver};
use std::path::{Path, PathBuf};

/// Boundary condition of the convolutions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BoundaryArg {
    /// Periodic signals (maps have the signal's size).
    Circular,
    /// Zero outside the signal, exact linear convolution (maps are larger by filter size - 1).
    Linear,
}

impl From<BoundaryArg> for Boundary {
    fn from(b: BoundaryArg) -> Self {
        match b {
            BoundaryArg::Circular => Boundary::Circular,
            BoundaryArg::Linear => Boundary::Linear,
        }
    }
}

/// The solver of the coding problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SolverArg {
    /// ADMM in the DFT domain (over-relaxed, adaptive penalty).
    Admm,
    /// FISTA with DFT-domain gradients.
    Fista,
}

/// Code signals as sums of filters convolved with sparse maps:
/// min 0.5 ||x - sum_k d_k * z_k||^2 + lambda sum_k ||z_k||_1.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The signals: an image (PNG, JPEG, TIFF; coded in gray), a WAV sound, or
    /// a .npy array: 1-D (one signal), 2-D (an image, or rows of 1-D signals
    /// with --rows), 3-D (a stack of images).
    #[arg(long, short)]
    pub input: PathBuf,
    /// Treat a 2-D .npy input as rows of 1-D signals instead of an image.
    #[arg(long)]
    pub rows: bool,
    /// The filters, .npy of shape (n_filters, length) or (n_filters, height, width).
    #[arg(long)]
    pub filters: PathBuf,
    /// Weight of the l1 penalty.
    #[arg(long, default_value_t = 0.05)]
    pub lambda: f64,
    /// Boundary condition.
    #[arg(long, value_enum, default_value_t = BoundaryArg::Circular)]
    pub boundary: BoundaryArg,
    /// Solver.
    #[arg(long, value_enum, default_value_t = SolverArg::Admm)]
    pub solver: SolverArg,
    /// Iteration budget.
    #[arg(long, default_value_t = 200)]
    pub max_iter: usize,
    /// Code only the high-pass part left by a Tikhonov low-pass filter of this
    /// weight (typical for images: 5); the low-pass part is added back to the reconstruction.
    #[arg(long, value_name = "LAMBDA")]
    pub highpass: Option<f64>,
    /// Constrain the maps to be non-negative.
    #[arg(long)]
    pub non_negative: bool,
    /// Output .npy of the maps, shape (n_signals, n_filters, map dims...).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Also write the reconstruction (.npy, the shape of the signals).
    #[arg(long)]
    pub reconstruction: Option<PathBuf>,
    /// Also draw the activation maps of the first signal (PNG): a grid of
    /// |z_k| images for 2-D data, a plot of the maps for 1-D data.
    #[arg(long)]
    pub maps_png: Option<PathBuf>,
}

/// Signals read from a file, as the core's layout.
pub fn read_signals(path: &Path, rows: bool) -> anyhow::Result<ConvArray<f64>> {
    let ext = path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
    let array: ArrayD<f64> = match ext.as_str() {
        "png" | "jpg" | "jpeg" | "tif" | "tiff" => io::read_image_gray(path)?.into_dyn(),
        "wav" => {
            let audio = io::read_wav(path)?;
            let (c, n) = audio.channels.dim();
            let data = audio.channels.iter().copied().collect();
            return Ok(ConvArray::new(1, c, &[n], data)?);
        }
        _ => io::read_array(path)?.data,
    };
    let shape = array.shape().to_vec();
    let data: Vec<f64> = array.iter().copied().collect();
    let out = match (shape.len(), rows) {
        (1, _) => ConvArray::new(1, 1, &shape, data),
        (2, true) => ConvArray::new(shape[0], 1, &shape[1..], data),
        (2, false) => ConvArray::new(1, 1, &shape, data),
        (3, _) => ConvArray::new(shape[0], 1, &shape[1..], data),
        _ => bail!("{}: signals must be 1-D, 2-D or 3-D, not of shape {shape:?}", path.display()),
    };
    out.with_context(|| format!("reading signals from {}", path.display()))
}

/// Filters `(n_filters, dims...)` from a .npy file.
fn read_filters(path: &Path) -> anyhow::Result<ConvArray<f64>> {
    let array = io::read_array(path)?.data;
    let shape = array.shape().to_vec();
    if !(2..=3).contains(&shape.len()) {
        bail!("{}: filters must be (n_filters, length) or (n_filters, height, width), not {shape:?}", path.display());
    }
    Ok(ConvArray::new(shape[0], 1, &shape[1..], array.iter().copied().collect())?)
}

/// Writes a core array as .npy of shape `(items, channels, spatial...)`.
pub fn write_conv_array(path: &Path, a: &ConvArray<f64>) -> anyhow::Result<()> {
    let mut shape = vec![a.n_items(), a.n_channels()];
    shape.extend_from_slice(a.spatial());
    io::write_npy(path, &ArrayD::from_shape_vec(IxDyn(&shape), a.data().to_vec())?)
}

/// Draws the maps of item 0: a grid of `|z|` images (2-D) or a line plot (1-D).
pub fn draw_maps(path: &Path, maps: &ConvArray<f64>) -> anyhow::Result<()> {
    let dims = maps.spatial();
    let n = maps.n_channels();
    match dims.len() {
        1 => {
            let x: Vec<f64> = (0..dims[0]).map(|i| i as f64).collect();
            let labels: Vec<String> = (0..n).map(|k| format!("map {k}")).collect();
            let series: Vec<plot::Series<'_>> =
                (0..n).map(|k| plot::Series::with_x(&labels[k], &x, maps.channel(0, k))).collect();
            plot::line_plot(path, "activation maps", "position", "coefficient", &series, false)
        }
        2 => {
            let rows: Vec<f64> = (0..n).flat_map(|k| maps.channel(0, k).iter().map(|v| v.abs())).collect();
            let atoms = faer::Mat::from_fn(n, dims[0] * dims[1], |k, i| rows[k * dims[0] * dims[1] + i]);
            plot::atom_grid(path, atoms.as_ref(), dims[0], dims[1])
        }
        d => bail!("cannot draw maps with {d} spatial dimensions"),
    }
}

/// Runs `sparsecode csc`.
pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<()> {
    let inputs = [args.input.as_path(), args.filters.as_path()];
    for out in std::iter::once(&args.out).chain(&args.reconstruction).chain(&args.maps_png) {
        io::check_output(out, &inputs)?;
    }
    let signals = read_signals(&args.input, args.rows)?;
    let filters = read_filters(&args.filters)?;
    let (low, coded) = match args.highpass {
        Some(l) => {
            let (low, high) = tikhonov_split(&signals, l)?;
            (Some(low), high)
        }
        None => (None, signals),
    };
    let options = CscOptions {
        lambda: args.lambda,
        boundary: args.boundary.into(),
        non_negative: args.non_negative,
        max_iter: args.max_iter,
        tol: 1e-3,
        solver: match args.solver {
            SolverArg::Admm => Solver::Admm(AdmmOptions::default()),
            SolverArg::Fista => Solver::Fista,
        },
    };
    let spinner = ctx.spinner("coding");
    let out = csc(&filters, &coded, None, &options)?;
    spinner.finish_and_clear();
    let nonzero = out.maps.data().iter().filter(|v| **v != 0.0).count();
    ctx.info(format!(
        "objective {:.6e}, {} iterations ({}), {nonzero} non-zero of {} coefficients",
        out.objective,
        out.n_iter,
        if out.converged { "converged" } else { "iteration budget reached" },
        out.maps.data().len()
    ));
    write_conv_array(&args.out, &out.maps)?;
    if let Some(path) = &args.reconstruction {
        let mut rec = reconstruct(&filters, &out.maps, options.boundary)?;
        if let Some(low) = &low {
            rec.data_mut().iter_mut().zip(low.data()).for_each(|(r, l)| *r += l);
        }
        write_conv_array(path, &rec)?;
    }
    if let Some(path) = &args.maps_png {
        draw_maps(path, &out.maps)?;
    }
    Ok(())
}
