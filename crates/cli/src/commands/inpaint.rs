//! `sparsecode inpaint`: fill the missing pixels of a gray image from the
//! observed ones with a learned patch dictionary (masked OMP per patch).

use super::denoise::{psnr_text, read_clean};
use super::learn::{read_gray, write_gray, PatchDictionaryArgs};
use crate::context::Context;
use crate::io;
use anyhow::bail;
use faer::Mat;
use sparsecode::image::{inpaint, local_mean_fill, InpaintParams};
use sparsecode::learn::Progress;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};

/// Fill missing pixels of a gray image.
///
/// The missing pixels are the non-zero (white) pixels of --mask, or, without
/// --mask, the NaN values of a .npy input. A dictionary is learned on patches
/// of a first, naive fill (the mean of the nearest observed pixels); each
/// patch is then coded on its observed pixels only, and missing pixels become
/// the average of the patch estimates covering them. Observed pixels are kept.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The damaged image (PNG/JPEG/TIFF in [0, 1], or a 2-D .npy).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Where to write the inpainted image (.png or .npy).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Image or .npy of the same size whose non-zero pixels are the MISSING ones.
    #[arg(long, value_name = "FILE")]
    pub mask: Option<PathBuf>,
    /// The clean image, to report PSNR of the naive fill and of the result.
    #[arg(long, value_name = "FILE")]
    pub clean: Option<PathBuf>,
    #[command(flatten)]
    pub dictionary: PatchDictionaryArgs,
    /// Most atoms per patch.
    #[arg(long, default_value_t = 8, value_name = "K")]
    pub n_nonzero: usize,
    /// Target residual per observed pixel (root mean square; the noise level).
    #[arg(long, default_value_t = 0.01)]
    pub tol: f64,
    /// Stride between coded patches (1 is best, larger is faster).
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub stride: usize,
}

/// Inpaints `--input` and writes `--out`.
pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<()> {
    let mut inputs: Vec<&Path> = vec![&args.input];
    inputs.extend(args.mask.as_deref());
    inputs.extend(args.clean.as_deref());
    io::check_output(&args.out, &inputs)?;
    let image = read_gray(&args.input)?;
    let observed: Mat<bool> = match &args.mask {
        Some(path) => {
            let mask = read_gray(path)?;
            if (mask.nrows(), mask.ncols()) != (image.nrows(), image.ncols()) {
                bail!(
                    "the mask {} is {} x {} but the image {} is {} x {}",
                    path.display(),
                    mask.nrows(),
                    mask.ncols(),
                    args.input.display(),
                    image.nrows(),
                    image.ncols()
                );
            }
            Mat::from_fn(image.nrows(), image.ncols(), |i, j| mask[(i, j)] == 0.0)
        }
        None => Mat::from_fn(image.nrows(), image.ncols(), |i, j| !image[(i, j)].is_nan()),
    };
    let missing = observed.col_iter().map(|c| c.iter().filter(|&&o| !o).count()).sum::<usize>();
    if missing == 0 {
        bail!(
            "no pixel of {} is missing: give --mask (non-zero marks missing pixels) or NaN values",
            args.input.display()
        );
    }
    let clean = read_clean(args.clean.as_deref(), (image.nrows(), image.ncols()))?;
    let params = InpaintParams {
        patch: args.dictionary.patch,
        stride: (args.stride, args.stride),
        n_atoms: args.dictionary.atoms,
        n_train: args.dictionary.n_patches,
        max_nonzero: args.n_nonzero,
        tolerance: args.tol,
        seed: ctx.seed,
        ..InpaintParams::default()
    };
    ctx.info(format!("{missing} of {} pixels missing", image.nrows() * image.ncols()));
    let bar = ctx.bar(0, "learning");
    let out = inpaint(image.as_ref(), observed.as_ref(), &params, |p: &Progress| {
        bar.set_length(p.max_iter as u64);
        bar.set_position(p.iteration as u64);
        ControlFlow::Continue(())
    })?;
    bar.finish_and_clear();
    write_gray(&args.out, out.image.as_ref())?;
    match clean {
        Some(clean) => {
            let naive = local_mean_fill(image.as_ref(), observed.as_ref())?;
            ctx.info(format!(
                "PSNR: local-mean fill {} -> inpainted {}; wrote {}",
                psnr_text(&clean, &naive)?,
                psnr_text(&clean, &out.image)?,
                args.out.display()
            ))
        }
        None => ctx.info(format!("wrote {}", args.out.display())),
    }
    Ok(())
}
