//! `sparsecode cdl`: convolutional dictionary learning from images, arrays of
//! signals or sounds.

use super::csc::{draw_maps, read_signals, write_conv_array, BoundaryArg};
use crate::context::Context;
use crate::{io, plot};
use anyhow::bail;
use sparsecode::conv::{learn_filters, tikhonov_split, AdmmOptions, CdlOptions, FilterUpdate};
use std::path::PathBuf;

/// Learn convolutional filters: alternate sparse coding of the maps (ADMM)
/// and filter updates (projected FISTA or consensus ADMM), filters of norm <= 1.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The training signals (as for `sparsecode csc --input`).
    #[arg(long, short)]
    pub input: PathBuf,
    /// Treat a 2-D .npy input as rows of 1-D signals instead of an image.
    #[arg(long)]
    pub rows: bool,
    /// Number of filters.
    #[arg(long, default_value_t = 16)]
    pub n_filters: usize,
    /// Filter size: `L` for 1-D signals, `HxW` for images.
    #[arg(long, default_value = "8x8")]
    pub filter_size: String,
    /// Weight of the l1 penalty.
    #[arg(long, default_value_t = 0.1)]
    pub lambda: f64,
    /// Outer iterations.
    #[arg(long, default_value_t = 100)]
    pub iterations: usize,
    /// Boundary condition.
    #[arg(long, value_enum, default_value_t = BoundaryArg::Circular)]
    pub boundary: BoundaryArg,
    /// Filter update: projected FISTA, or ADMM in the consensus form (one
    /// filter copy per signal, solved per frequency; Garcia-Cardona & Wohlberg 2018).
    #[arg(long, value_enum, default_value_t = FilterUpdateArg::Consensus)]
    pub filter_update: FilterUpdateArg,
    /// Iterations of each filter update (the coding step runs 2 ADMM
    /// iterations: few inner iterations reach a given objective soonest).
    #[arg(long, default_value_t = 2)]
    pub filter_iter: usize,
    /// Constrain the filters to zero mean.
    #[arg(long)]
    pub zero_mean: bool,
    /// Learn on the high-pass part left by a Tikhonov low-pass filter of this weight (images: 5).
    #[arg(long, value_name = "LAMBDA")]
    pub highpass: Option<f64>,
    /// Output .npy of the filters, shape (n_filters, 1, filter dims...).
    #[arg(long, short)]
    pub out: PathBuf,
    /// Also write the maps (.npy).
    #[arg(long)]
    pub maps: Option<PathBuf>,
    /// Also draw the filters (PNG grid for 2-D filters, a plot for 1-D).
    #[arg(long)]
    pub filters_png: Option<PathBuf>,
    /// Also draw the activation maps of the first signal (PNG).
    #[arg(long)]
    pub maps_png: Option<PathBuf>,
    /// Also plot the objective per iteration (PNG).
    #[arg(long)]
    pub convergence_png: Option<PathBuf>,
}

/// `--filter-update`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FilterUpdateArg {
    /// Projected FISTA.
    Fista,
    /// Consensus ADMM.
    Consensus,
}

fn parse_size(text: &str) -> anyhow::Result<Vec<usize>> {
    let dims: Result<Vec<usize>, _> = text.split(['x', 'X']).map(str::parse).collect();
    match dims {
        Ok(d) if !d.is_empty() && !d.contains(&0) => Ok(d),
        _ => bail!("--filter-size {text:?} is not a size like 32 or 8x8"),
    }
}

/// Runs `sparsecode cdl`.
pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<()> {
    let outputs = [Some(&args.out), args.maps.as_ref(), args.filters_png.as_ref(), args.maps_png.as_ref()];
    for out in outputs.into_iter().flatten().chain(&args.convergence_png) {
        io::check_output(out, &[args.input.as_path()])?;
    }
    let filter_shape = parse_size(&args.filter_size)?;
    let signals = read_signals(&args.input, args.rows)?;
    if filter_shape.len() != signals.spatial().len() {
        bail!(
            "--filter-size {} has {} dimensions but the signals {} ({:?})",
            args.filter_size,
            filter_shape.len(),
            signals.spatial().len(),
            signals.spatial()
        );
    }
    let signals = match args.highpass {
        Some(l) => tikhonov_split(&signals, l)?.1,
        None => signals,
    };
    let mut options = CdlOptions::new(args.n_filters, &filter_shape, args.lambda);
    options.n_iter = args.iterations;
    options.boundary = args.boundary.into();
    options.zero_mean = args.zero_mean;
    options.filter_iter = args.filter_iter;
    options.filter_update = match args.filter_update {
        FilterUpdateArg::Fista => FilterUpdate::Fista,
        FilterUpdateArg::Consensus => FilterUpdate::Consensus(AdmmOptions::default()),
    };
    options.seed = ctx.seed;
    let spinner = ctx.spinner("learning filters");
    let out = learn_filters(&signals, None, None, &options)?;
    spinner.finish_and_clear();
    let objective = &out.objective;
    ctx.info(format!("objective {:.6e} -> {:.6e}", objective[0], objective[objective.len() - 1]));
    write_conv_array(&args.out, &out.filters)?;
    if let Some(path) = &args.maps {
        write_conv_array(path, &out.maps)?;
    }
    if let Some(path) = &args.filters_png {
        let n: usize = filter_shape.iter().product();
        match filter_shape[..] {
            [h, w] => {
                let atoms = faer::Mat::from_fn(args.n_filters, n, |k, i| out.filters.item(k)[i]);
                plot::atom_grid(path, atoms.as_ref(), h, w)?;
            }
            _ => {
                let labels: Vec<String> = (0..args.n_filters).map(|k| format!("filter {k}")).collect();
                let series: Vec<plot::Series<'_>> =
                    (0..args.n_filters).map(|k| plot::Series::new(&labels[k], out.filters.item(k))).collect();
                plot::line_plot(path, "learned filters", "sample", "value", &series, false)?;
            }
        }
    }
    if let Some(path) = &args.maps_png {
        draw_maps(path, &out.maps)?;
    }
    if let Some(path) = &args.convergence_png {
        let x: Vec<f64> = (1..=objective.len()).map(|i| i as f64).collect();
        plot::line_plot(
            path,
            "CDL objective",
            "iteration",
            "objective",
            &[plot::Series::with_x("objective", &x, objective)],
            true,
        )?;
    }
    Ok(())
}
