//! `sparsecode demo`: the whole denoising pipeline on a generated image, no
//! input needed.

use super::learn::write_gray;
use crate::context::Context;
use crate::plot;
use anyhow::Context as _;
use faer::Mat;
use rand_distr::{Distribution, Normal};
use sparsecode::image::{denoise, psnr, synthetic_image, DenoiseParams};
use sparsecode::learn::Progress;
use std::path::PathBuf;

/// Run a denoising demo on a generated image.
///
/// Generates a test image (shading, edges, stripes, a checkerboard and a
/// texture), adds Gaussian noise, learns a dictionary of 8x8 patches from the
/// noisy image and denoises it. Writes clean.png, noisy.png, denoised.png,
/// comparison.png (noisy | denoised | clean), atoms.png and objective.png into
/// the output folder, and prints the PSNR before and after.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output folder (created if missing).
    #[arg(long, default_value = "demo-output", value_name = "DIR")]
    pub out_dir: PathBuf,
    /// Side of the generated square image, in pixels.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub size: usize,
    /// Noise standard deviation (images are in [0, 1]).
    #[arg(long, default_value_t = 0.1)]
    pub sigma: f64,
    /// Atoms to learn.
    #[arg(long, default_value_t = 128, value_name = "K")]
    pub atoms: usize,
}

fn to_array(m: &Mat<f64>) -> ndarray::Array2<f64> {
    ndarray::Array2::from_shape_fn((m.nrows(), m.ncols()), |(i, j)| m[(i, j)])
}

/// Runs the demo.
pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.out_dir)
        .with_context(|| format!("cannot create the output folder {}", args.out_dir.display()))?;
    let clean = synthetic_image::<f64>(args.size, args.size, ctx.seed)?;
    let noise = Normal::new(0.0, args.sigma)
        .map_err(|_| anyhow::anyhow!("--sigma must be finite and >= 0 (got {})", args.sigma))?;
    let mut rng = ctx.rng();
    let noisy = Mat::from_fn(args.size, args.size, |i, j| clean[(i, j)] + noise.sample(&mut rng));
    let params =
        DenoiseParams { n_atoms: args.atoms, n_train: 10_000, seed: ctx.seed, ..DenoiseParams::new(args.sigma) };
    ctx.info(format!(
        "generated a {0}x{0} image with noise sigma {1}; learning {2} atoms of 8x8 patches",
        args.size, args.sigma, args.atoms
    ));
    let bar = ctx.bar(0, "learning");
    let out = denoise(noisy.as_ref(), &params, |p: &Progress| crate::progress::show_learning(&bar, p))?;
    bar.finish_and_clear();
    let dir = &args.out_dir;
    write_gray(&dir.join("clean.png"), clean.as_ref())?;
    write_gray(&dir.join("noisy.png"), noisy.as_ref())?;
    write_gray(&dir.join("denoised.png"), out.image.as_ref())?;
    let panels = [to_array(&noisy), to_array(&out.image), to_array(&clean)];
    plot::side_by_side(&dir.join("comparison.png"), &panels.iter().map(|p| p.view()).collect::<Vec<_>>())?;
    plot::atom_grid(&dir.join("atoms.png"), out.fitted.dictionary.atoms(), 8, 8)?;
    plot::line_plot(
        &dir.join("objective.png"),
        "Online dictionary learning on the noisy patches",
        "mini-batch",
        "smoothed objective",
        &[plot::Series::new("objective", &out.fitted.objective)],
        true,
    )?;
    let before = psnr(clean.as_ref(), noisy.as_ref(), 1.0)?;
    let after = psnr(clean.as_ref(), out.image.as_ref(), 1.0)?;
    // Always printed: it is the result of the demo.
    println!("PSNR: noisy {before:.2} dB -> denoised {after:.2} dB (+{:.2} dB)", after - before);
    ctx.info(format!(
        "wrote clean.png, noisy.png, denoised.png, comparison.png, atoms.png and objective.png to {}",
        dir.display()
    ));
    Ok(())
}
