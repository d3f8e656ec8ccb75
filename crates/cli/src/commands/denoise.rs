//! `sparsecode denoise`: remove white Gaussian noise from a gray image with a
//! patch dictionary learned on the image itself (Elad & Aharon 2006), or
//! with a saved model.

use super::learn::{read_gray, write_gray, PatchDictionaryArgs};
use crate::context::Context;
use crate::io;
use crate::model::Model;
use crate::plot;
use anyhow::{bail, Context as _};
use sparsecode::image::{denoise, denoise_with, psnr, DenoiseParams};
use sparsecode::learn::Progress;
use sparsecode::Dictionary;
use std::path::{Path, PathBuf};

/// Denoise a gray image corrupted by white Gaussian noise of known level.
///
/// Learns a dictionary of mean-free patches on the noisy image (online
/// learning), codes every patch by OMP until its residual matches the noise
/// ((1.15 sigma)^2 per pixel), and averages the patches with the noisy image.
/// Images are PNG/JPEG/TIFF (values in [0, 1]) or 2-D .npy; the output is a
/// PNG, or float64 .npy when its name ends in .npy.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The noisy image.
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Where to write the denoised image (.png or .npy).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Standard deviation of the noise, in image units ([0, 1] for PNG/JPEG
    /// input: 25/255 = 0.098 is "sigma 25").
    #[arg(long)]
    pub sigma: f64,
    /// The clean image, to report PSNR before and after.
    #[arg(long, value_name = "FILE")]
    pub clean: Option<PathBuf>,
    /// Use this model's atoms (from `sparsecode learn`, mean-free patches)
    /// instead of learning on the noisy image.
    #[arg(long, value_name = "model.npz")]
    pub dict: Option<PathBuf>,
    #[command(flatten)]
    pub dictionary: PatchDictionaryArgs,
    /// Passes of the online learner over those patches.
    #[arg(long, default_value_t = 2, value_name = "N")]
    pub epochs: usize,
    /// Stride between coded patches (1 is best, larger is faster).
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub stride: usize,
    /// Weight of the noisy image in the final average (default 30 / (255 sigma)).
    #[arg(long, value_name = "LAMBDA")]
    pub noisy_weight: Option<f64>,
    /// Also draw the learned atoms (PNG).
    #[arg(long, value_name = "atoms.png")]
    pub atoms_png: Option<PathBuf>,
}

/// PSNR of `estimate` against `clean` (peak 1), as text.
pub fn psnr_text(clean: &faer::Mat<f64>, estimate: &faer::Mat<f64>) -> anyhow::Result<String> {
    Ok(format!("{:.2} dB", psnr(clean.as_ref(), estimate.as_ref(), 1.0)?))
}

/// Reads the optional clean reference and checks its size against `shape`.
pub fn read_clean(path: Option<&Path>, shape: (usize, usize)) -> anyhow::Result<Option<faer::Mat<f64>>> {
    let Some(path) = path else { return Ok(None) };
    let clean = read_gray(path)?;
    if (clean.nrows(), clean.ncols()) != shape {
        bail!(
            "the clean image {} is {} x {} but the input is {} x {}",
            path.display(),
            clean.nrows(),
            clean.ncols(),
            shape.0,
            shape.1
        );
    }
    Ok(Some(clean))
}

/// Denoises `--input` and writes `--out`.
pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<()> {
    let mut inputs: Vec<&Path> = vec![&args.input];
    inputs.extend(args.clean.as_deref());
    inputs.extend(args.dict.as_deref());
    io::check_output(&args.out, &inputs)?;
    if let Some(p) = &args.atoms_png {
        io::check_output(p, &inputs)?;
    }
    let noisy = read_gray(&args.input)?;
    let clean = read_clean(args.clean.as_deref(), (noisy.nrows(), noisy.ncols()))?;
    let mut params = DenoiseParams::new(args.sigma);
    params.patch = args.dictionary.patch;
    params.stride = (args.stride, args.stride);
    params.n_atoms = args.dictionary.atoms;
    params.n_train = args.dictionary.n_patches;
    params.schedule.max_epochs = args.epochs;
    params.noisy_weight = args.noisy_weight;
    params.seed = ctx.seed;
    let (image, atoms) = match &args.dict {
        Some(path) => {
            let model = Model::read(path)?;
            if let Some(patch) = model.patch() {
                params.patch = patch;
            } else if model.components.ncols() != params.patch.0 * params.patch.1 {
                bail!(
                    "the atoms of {} have {} values but --patch {}x{} has {}",
                    path.display(),
                    model.components.ncols(),
                    params.patch.0,
                    params.patch.1,
                    params.patch.0 * params.patch.1
                );
            }
            let dict =
                Dictionary::new(model.components).with_context(|| format!("invalid dictionary {}", path.display()))?;
            let spinner = ctx.spinner("denoising");
            let image = denoise_with(noisy.as_ref(), &dict, &params)?;
            spinner.finish_and_clear();
            (image, dict.into_atoms())
        }
        None => {
            let bar = ctx.bar(0, "learning");
            let out = denoise(noisy.as_ref(), &params, |p: &Progress| crate::progress::show_learning(&bar, p))?;
            bar.finish_and_clear();
            ctx.info(format!("mean atoms per patch: {:.2}", out.mean_nonzero));
            (out.image, out.fitted.dictionary.into_atoms())
        }
    };
    write_gray(&args.out, image.as_ref())?;
    if let Some(p) = &args.atoms_png {
        plot::atom_grid(p, atoms.as_ref(), params.patch.0, params.patch.1)?;
    }
    match clean {
        Some(clean) => ctx.info(format!(
            "PSNR: noisy {} -> denoised {}; wrote {}",
            psnr_text(&clean, &noisy)?,
            psnr_text(&clean, &image)?,
            args.out.display()
        )),
        None => ctx.info(format!("wrote {}", args.out.display())),
    }
    Ok(())
}
