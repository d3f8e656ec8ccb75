//! `sparsecode learn`: learn a dictionary from image patches or from signals,
//! and save it as a model (see [`crate::model`]).
//!
//! Online learning runs as a loop of mini-batch steps whose order depends only
//! on the seed and the step number (epoch `e` visits the samples in a
//! permutation drawn from `(seed, e)`), so that a run resumed from a
//! checkpoint takes exactly the steps the uninterrupted run would have taken.

use crate::context::Context;
use crate::io;
use crate::model::{self, Model};
use crate::plot;
use anyhow::{bail, Context as _};
use faer::{Mat, MatRef};
use rand::seq::SliceRandom;
use serde_json::{json, Value};
use sparsecode::encode::cd::CoordinateDescent;
use sparsecode::encode::lars::Lars;
use sparsecode::encode::lasso::ElasticNet;
use sparsecode::encode::omp::Omp;
use sparsecode::encode::Encoder;
use sparsecode::image::{remove_means, PatchGrid};
use sparsecode::learn::batch::{self, BatchOptions, DictionaryUpdate};
use sparsecode::learn::online::{OnlineLearner, OnlineParams, OnlineState, StoppingRule};
use sparsecode::learn::{Fitted, Init, Progress};
use std::path::{Path, PathBuf};

/// Key mixed into the seed for the per-epoch sample orders.
const EPOCH_KEY: u64 = 0x1ea2_0e90_c4d0_0001;

/// The learning algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LearnMethod {
    /// Online mini-batch learning (Mairal et al. 2010); checkpoints and resumes.
    Online,
    /// Batch alternating minimisation with block-coordinate atom updates.
    Batch,
    /// K-SVD (Aharon et al. 2006); use with --encoder omp.
    Ksvd,
    /// Method of optimal directions (Engan et al. 1999).
    Mod,
}

/// The sparse coders used while learning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EncoderName {
    /// Orthogonal Matching Pursuit: --n-nonzero and/or --tol.
    Omp,
    /// Lasso by LARS: --lambda.
    Lars,
    /// Lasso by coordinate descent: --lambda.
    Cd,
}

/// Learn a dictionary from image patches or from signals and save it as a
/// model (.npz with `components`, `objective` and JSON `metadata`) that
/// `sparsecode encode --dict model.npz:components` reads.
///
/// With images (PNG, JPEG, TIFF, or a 2-D .npy in [0, 1]) the training
/// samples are --n-patches random patches, each with its mean removed unless
/// --keep-mean; constant patches are skipped. With --signals the one input is
/// a .npy of signals, n_samples x n_features (or n_samples x h x w, flattened).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Training images, or with --signals one .npy of signals.
    #[arg(long, required = true, num_args = 1.., value_name = "FILE")]
    pub input: Vec<PathBuf>,
    /// Where to write the model (.npz).
    #[arg(long, value_name = "model.npz")]
    pub out: PathBuf,
    /// The input is a .npy of signals (n_samples x n_features), not images.
    #[arg(long)]
    pub signals: bool,
    /// Patch size, HxW or N for NxN (images only).
    #[arg(long, default_value = "8x8", value_parser = parse_patch)]
    pub patch: (usize, usize),
    /// Random patches drawn from all the images together (at most all of them).
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    pub n_patches: usize,
    /// Keep each patch's mean (by default it is removed, so atoms are mean-free).
    #[arg(long)]
    pub keep_mean: bool,
    /// Number of atoms.
    #[arg(long, default_value_t = 256, value_name = "K")]
    pub atoms: usize,
    /// The learning algorithm.
    #[arg(long, value_enum, default_value_t = LearnMethod::Online)]
    pub method: LearnMethod,
    /// The sparse coder.
    #[arg(long, value_enum, default_value_t = EncoderName::Omp)]
    pub encoder: EncoderName,
    /// omp: at most this many atoms per sample (default without --tol: 5).
    #[arg(long, value_name = "K")]
    pub n_nonzero: Option<usize>,
    /// omp: stop once the squared residual ||x - z D||^2 <= TOL.
    #[arg(long, value_name = "TOL")]
    pub tol: Option<f64>,
    /// lars, cd: weight of the l1 penalty.
    #[arg(long, value_name = "LAMBDA")]
    pub lambda: Option<f64>,
    /// online: passes over the training samples.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub epochs: usize,
    /// online: samples per mini-batch.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub batch_size: usize,
    /// online: stop before --epochs are done once a mini-batch changes the
    /// dictionary by at most TOL, relative: ||D_new - D_old||_F / ||D_old||_F
    /// (about 1e-3 early in a run, shrinking as it converges). 0: off.
    #[arg(long, default_value_t = 0.0, value_name = "TOL")]
    pub change_tol: f64,
    /// online: stop before --epochs are done once the smoothed mini-batch
    /// objective has not reached a new minimum for N mini-batches in a row
    /// (counted from the start of this invocation). 0: off.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub patience: usize,
    /// batch, ksvd, mod: iterations at most.
    #[arg(long, default_value_t = 30, value_name = "N")]
    pub max_iter: usize,
    /// online: write the learner's state to FILE (atomically) every
    /// --checkpoint-every mini-batches and at the end.
    #[arg(long, value_name = "FILE")]
    pub checkpoint: Option<PathBuf>,
    /// online: mini-batches between checkpoints.
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub checkpoint_every: usize,
    /// online: continue from --checkpoint (its configuration must match this run's).
    #[arg(long, requires = "checkpoint")]
    pub resume: bool,
    /// online: stop after this many mini-batches in this invocation (then
    /// checkpoint); resume later with --resume.
    #[arg(long, value_name = "N")]
    pub max_steps: Option<usize>,
    /// Also draw the atoms as a grid of tiles (PNG).
    #[arg(long, value_name = "atoms.png")]
    pub atoms_png: Option<PathBuf>,
    /// Also plot the objective per iteration (PNG).
    #[arg(long, value_name = "objective.png")]
    pub objective_png: Option<PathBuf>,
}

/// The patch dictionary that `denoise` and `inpaint` learn on the image itself.
#[derive(Debug, clap::Args)]
pub struct PatchDictionaryArgs {
    /// Patch size, HxW or N.
    #[arg(long, default_value = "8x8", value_parser = parse_patch)]
    pub patch: (usize, usize),
    /// Atoms to learn.
    #[arg(long, default_value_t = 256, value_name = "K")]
    pub atoms: usize,
    /// Random patches to learn from.
    #[arg(long, default_value_t = 20_000, value_name = "N")]
    pub n_patches: usize,
}

/// Parses `HxW` or `N` (for `NxN`).
pub fn parse_patch(text: &str) -> Result<(usize, usize), String> {
    let parse = |s: &str| s.trim().parse::<usize>().map_err(|_| format!("{text:?} is not a patch size like 8x8 or 8"));
    let (h, w) = match text.split_once(['x', 'X']) {
        Some((h, w)) => (parse(h)?, parse(w)?),
        None => {
            let n = parse(text)?;
            (n, n)
        }
    };
    if h == 0 || w == 0 {
        return Err(format!("patch size {text:?} must be at least 1x1"));
    }
    Ok((h, w))
}

/// Whether `path` names a NumPy file (`.npy`, `.npz`, `FILE.npz:NAME`).
fn is_numpy(path: &Path) -> bool {
    let text = path.to_string_lossy().to_lowercase();
    text.ends_with(".npy") || text.ends_with(".npz") || text.contains(".npz:")
}

/// Reads a gray image: a PNG/JPEG/TIFF (to [0, 1]) or a 2-D .npy as stored.
pub fn read_gray(path: &Path) -> anyhow::Result<Mat<f64>> {
    if is_numpy(path) {
        io::read_matrix(path, "the image")
    } else {
        let a = io::read_image_gray(path)?;
        Ok(Mat::from_fn(a.nrows(), a.ncols(), |i, j| a[[i, j]]))
    }
}

/// Writes a gray image: `.npy` as float64, anything else as an 8-bit PNG
/// (values clamped to [0, 1]).
pub fn write_gray(path: &Path, image: MatRef<'_, f64>) -> anyhow::Result<()> {
    if is_numpy(path) {
        io::write_matrix(path, image)
    } else {
        let a = ndarray::Array2::from_shape_fn((image.nrows(), image.ncols()), |(i, j)| image[(i, j)]);
        io::write_png(path, a.view())
    }
}

/// The training samples and how they were made.
struct Training {
    x: Mat<f64>,
    /// Patch size when the samples are image patches.
    patch: Option<(usize, usize)>,
}

fn training_data(args: &Args, ctx: &Context) -> anyhow::Result<Training> {
    if args.signals {
        if args.input.len() != 1 {
            bail!("--signals takes exactly one .npy of signals, got {} inputs", args.input.len());
        }
        // n_samples x n_features, or n_samples x h x w (e.g. small images), flattened.
        let array = io::read_array(&args.input[0])?;
        let shape = array.data.shape().to_vec();
        if shape.len() < 2 {
            bail!(
                "the signals ({}) must have at least 2 dimensions (n_samples x n_features), not {shape:?}",
                array.source
            );
        }
        let (n, f) = (shape[0], shape[1..].iter().product::<usize>());
        let flat: Vec<f64> = array.data.iter().copied().collect();
        let x = Mat::from_fn(n, f, |i, j| flat[i * f + j]);
        return Ok(Training { x, patch: None });
    }
    let images: Vec<Mat<f64>> = args.input.iter().map(|p| read_gray(p)).collect::<anyhow::Result<_>>()?;
    let mut grids = Vec::with_capacity(images.len());
    for (image, path) in images.iter().zip(&args.input) {
        let grid = PatchGrid::new((image.nrows(), image.ncols()), args.patch)
            .with_context(|| format!("cannot take {}x{} patches of {}", args.patch.0, args.patch.1, path.display()))?;
        grids.push(grid);
    }
    let total: usize = grids.iter().map(PatchGrid::n_patches).sum();
    if args.n_patches == 0 {
        bail!("--n-patches must be at least 1");
    }
    let n = args.n_patches.min(total);
    let mut rng = ctx.rng();
    let mut chosen = rand::seq::index::sample(&mut rng, total, n).into_vec();
    chosen.sort_unstable();
    let mut blocks = Vec::with_capacity(images.len());
    let mut offset = 0;
    for (image, grid) in images.iter().zip(&grids) {
        let local: Vec<usize> =
            chosen.iter().filter(|&&g| g >= offset && g < offset + grid.n_patches()).map(|&g| g - offset).collect();
        offset += grid.n_patches();
        if !local.is_empty() {
            blocks.push(grid.extract_subset(image.as_ref(), &local)?);
        }
    }
    let len = args.patch.0 * args.patch.1;
    let mut x = Mat::from_fn(n, len, |_, _| 0.0);
    let mut row = 0;
    for b in &blocks {
        x.as_mut().subrows_mut(row, b.nrows()).copy_from(b.as_ref());
        row += b.nrows();
    }
    if !args.keep_mean {
        remove_means(x.as_mut());
    }
    // Constant patches carry no structure: leave them out.
    let varying: Vec<usize> = (0..n).filter(|&i| (0..len).any(|j| x[(i, j)].abs() > 1e-12)).collect();
    if varying.is_empty() {
        bail!("every sampled patch of the input images is constant: there is nothing to learn from");
    }
    let x = Mat::from_fn(varying.len(), len, |i, j| x[(varying[i], j)]);
    ctx.info(format!(
        "training on {} patches of {}x{} ({} constant ones skipped)",
        x.nrows(),
        args.patch.0,
        args.patch.1,
        n - x.nrows()
    ));
    Ok(Training { x, patch: Some(args.patch) })
}

/// FNV-1a over the bits of every value: identifies the training data in a
/// checkpoint's configuration.
fn fingerprint(x: MatRef<'_, f64>) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for i in 0..x.nrows() {
        for j in 0..x.ncols() {
            for byte in x[(i, j)].to_bits().to_le_bytes() {
                hash = (hash ^ byte as u64).wrapping_mul(0x0100_0000_01b3);
            }
        }
    }
    format!("{hash:016x}")
}

/// What determines a run; a checkpoint is resumed only by a run with the same.
fn configuration(args: &Args, ctx: &Context, training: &Training) -> Value {
    json!({
        "method": format!("{:?}", args.method).to_lowercase(),
        "encoder": format!("{:?}", args.encoder).to_lowercase(),
        "n_nonzero": args.n_nonzero,
        "tol": args.tol,
        "lambda": args.lambda,
        "atoms": args.atoms,
        "batch_size": args.batch_size,
        "seed": ctx.seed,
        "patch": training.patch.map(|(h, w)| vec![h, w]),
        "remove_mean": training.patch.is_some() && !args.keep_mean,
        "n_samples": training.x.nrows(),
        "n_features": training.x.ncols(),
        "data_fingerprint": fingerprint(training.x.as_ref()),
    })
}

/// The configuration keys whose values differ, as `key: A (checkpoint) vs B (now)`.
fn differences(saved: &Value, now: &Value) -> Vec<String> {
    let empty = serde_json::Map::new();
    let (a, b) = (saved.as_object().unwrap_or(&empty), now.as_object().unwrap_or(&empty));
    let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter(|k| a.get(*k) != b.get(*k))
        .map(|k| {
            let show = |v: Option<&Value>| v.map_or("absent".to_string(), Value::to_string);
            format!("{k}: {} (checkpoint) vs {} (now)", show(a.get(k)), show(b.get(k)))
        })
        .collect()
}

/// Learns a dictionary and writes the model and the pictures.
pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<()> {
    let mut inputs: Vec<&Path> = args.input.iter().map(PathBuf::as_path).collect();
    if let Some(c) = &args.checkpoint {
        inputs.push(c);
    }
    io::check_output(&args.out, &inputs)?;
    for extra in [&args.atoms_png, &args.objective_png].into_iter().flatten() {
        io::check_output(extra, &inputs)?;
    }
    if let Some(c) = &args.checkpoint {
        io::check_output(c, &args.input.iter().map(PathBuf::as_path).collect::<Vec<_>>())?;
        if args.method != LearnMethod::Online {
            bail!("--checkpoint is supported by --method online only");
        }
        if c.exists() && !args.resume {
            bail!(
                "the checkpoint {} exists: pass --resume to continue from it, or remove it to start afresh",
                c.display()
            );
        }
        if args.resume && !c.exists() {
            bail!("--resume: there is no checkpoint at {}", c.display());
        }
    }
    if args.checkpoint_every == 0 {
        bail!("--checkpoint-every must be at least 1");
    }
    let training = training_data(args, ctx)?;
    match args.encoder {
        EncoderName::Omp => {
            let omp = match (args.n_nonzero, args.tol) {
                (None, None) => Omp::with_n_nonzero(5.min(args.atoms.max(1))),
                (k, tol) => Omp { n_nonzero: k, tolerance: tol, nonneg: false },
            };
            if args.lambda.is_some() {
                bail!("--lambda does not apply to --encoder omp (use --n-nonzero or --tol)");
            }
            learn_with(omp, args, ctx, &training)
        }
        EncoderName::Lars | EncoderName::Cd => {
            let lambda = args.lambda.context("--encoder lars and cd need --lambda (the weight of the l1 penalty)")?;
            if args.n_nonzero.is_some() || args.tol.is_some() {
                bail!("--n-nonzero and --tol apply to --encoder omp only");
            }
            let penalty = ElasticNet::lasso(lambda);
            if args.encoder == EncoderName::Lars {
                learn_with(Lars::new(penalty), args, ctx, &training)
            } else {
                learn_with(CoordinateDescent::new(penalty), args, ctx, &training)
            }
        }
    }
}

fn learn_with<E: Encoder<f64>>(encoder: E, args: &Args, ctx: &Context, training: &Training) -> anyhow::Result<()> {
    let config = configuration(args, ctx, training);
    let fitted = match args.method {
        LearnMethod::Online => learn_online(encoder, args, ctx, training, &config)?,
        method => {
            let update = match method {
                LearnMethod::Batch => DictionaryUpdate::BlockCoordinate,
                LearnMethod::Ksvd => DictionaryUpdate::Ksvd,
                _ => DictionaryUpdate::Mod,
            };
            let mut options = BatchOptions::new(args.atoms, update);
            options.max_iter = args.max_iter;
            options.seed = ctx.seed;
            let bar = ctx.bar(args.max_iter as u64, "learning");
            let fitted = batch::fit(training.x.as_ref(), &encoder, &options, |p: &Progress| {
                crate::progress::show_learning(&bar, p)
            })
            .context("dictionary learning failed")?;
            bar.finish_and_clear();
            fitted
        }
    };
    let mut metadata = config.clone();
    if let Some(obj) = metadata.as_object_mut() {
        obj.insert("n_iter".into(), fitted.n_iter.into());
        obj.insert("converged".into(), fitted.converged.into());
        obj.remove("data_fingerprint");
    }
    let model =
        Model { components: fitted.dictionary.atoms().to_owned(), objective: fitted.objective.clone(), metadata };
    model.write(&args.out)?;
    if let Some(path) = &args.atoms_png {
        let (h, w) = training.patch.unwrap_or_else(|| tile_shape(training.x.ncols()));
        plot::atom_grid(path, model.components.as_ref(), h, w)?;
    }
    if let Some(path) = &args.objective_png {
        let x_label = if args.method == LearnMethod::Online { "mini-batch" } else { "iteration" };
        plot::line_plot(
            path,
            "Dictionary learning objective",
            x_label,
            "objective",
            &[plot::Series::new("objective", &fitted.objective)],
            true,
        )?;
    }
    ctx.info(format!(
        "learned {} atoms of {} features in {} {}s; final objective {:.4e}; wrote {}",
        model.components.nrows(),
        model.components.ncols(),
        fitted.n_iter,
        if args.method == LearnMethod::Online { "mini-batch step" } else { "iteration" },
        fitted.objective.last().copied().unwrap_or(f64::NAN),
        args.out.display()
    ));
    Ok(())
}

/// A tile shape for atoms that are not patches: square when the length is a
/// square (e.g. 64 = 8x8), else one row.
fn tile_shape(n_features: usize) -> (usize, usize) {
    let side = (n_features as f64).sqrt().round() as usize;
    if side * side == n_features {
        (side, side)
    } else {
        (1, n_features)
    }
}

/// The order in which epoch `epoch` visits `n` samples.
fn epoch_order(seed: u64, epoch: u64, n: usize) -> Vec<usize> {
    let mut rng = sparsecode::rng::seeded(seed ^ EPOCH_KEY);
    rng.set_stream(epoch);
    let mut order: Vec<usize> = (0..n).collect();
    order.shuffle(&mut rng);
    order
}

fn write_checkpoint(path: &Path, state: &OnlineState<f64>, objective: &[f64], config: &Value) -> anyhow::Result<()> {
    let metadata = json!({
        "format": model::CHECKPOINT_FORMAT,
        "version": model::VERSION,
        "configuration": config,
        "forget_rate": state.params.forget_rate,
        "objective_smoothing": state.params.objective_smoothing,
        "nonneg_dictionary": state.params.nonneg_dictionary,
        "seed": state.params.seed,
        "n_samples_seen": state.n_samples_seen,
        "total_weight": state.total_weight,
        "n_steps": state.n_steps,
        "smoothed_objective": state.smoothed_objective,
    });
    model::write_archive(
        path,
        &[("dictionary", state.dictionary.as_ref()), ("a", state.a.as_ref()), ("b", state.b.as_ref())],
        &[("objective", objective)],
        &metadata,
    )
}

fn read_checkpoint(path: &Path, config: &Value) -> anyhow::Result<(OnlineState<f64>, Vec<f64>)> {
    let meta = model::read_metadata(path, model::CHECKPOINT_FORMAT)?;
    let diff = differences(&meta["configuration"], config);
    if !diff.is_empty() {
        bail!(
            "the checkpoint {} was written by a run with another configuration ({}); \
             rerun with the same options and data, or remove the checkpoint",
            path.display(),
            diff.join("; ")
        );
    }
    let number = |key: &str| meta[key].as_f64().with_context(|| format!("{}: metadata lacks {key}", path.display()));
    let count = |key: &str| meta[key].as_u64().with_context(|| format!("{}: metadata lacks {key}", path.display()));
    let params = OnlineParams {
        forget_rate: number("forget_rate")?,
        objective_smoothing: number("objective_smoothing")?,
        nonneg_dictionary: meta["nonneg_dictionary"].as_bool().unwrap_or(false),
        seed: count("seed")?,
    };
    let state = OnlineState {
        params,
        dictionary: model::read_member_matrix(path, "dictionary")?,
        a: model::read_member_matrix(path, "a")?,
        b: model::read_member_matrix(path, "b")?,
        n_samples_seen: count("n_samples_seen")?,
        total_weight: number("total_weight")?,
        n_steps: count("n_steps")?,
        smoothed_objective: meta["smoothed_objective"].as_f64(),
    };
    let objective = model::read_member_vector(path, "objective")?;
    if objective.len() as u64 != state.n_steps {
        bail!("{}: {} objective values for {} steps", path.display(), objective.len(), state.n_steps);
    }
    Ok((state, objective))
}

fn learn_online<E: Encoder<f64>>(
    encoder: E,
    args: &Args,
    ctx: &Context,
    training: &Training,
    config: &Value,
) -> anyhow::Result<Fitted<f64>> {
    if args.batch_size == 0 || args.epochs == 0 {
        bail!("--batch-size and --epochs must be at least 1");
    }
    if !(args.change_tol >= 0.0 && args.change_tol.is_finite()) {
        bail!("--change-tol must be a finite number >= 0 (0 turns the rule off), not {}", args.change_tol);
    }
    let x = training.x.as_ref();
    let n = x.nrows();
    let batch_size = args.batch_size.min(n);
    let steps_per_epoch = n.div_ceil(batch_size);
    let total_steps = steps_per_epoch * args.epochs;
    let params = OnlineParams { seed: ctx.seed, ..OnlineParams::default() };
    let (mut learner, mut objective) = match (&args.checkpoint, args.resume) {
        (Some(path), true) => {
            let (state, objective) = read_checkpoint(path, config)?;
            let learner = OnlineLearner::from_state(encoder, state)
                .with_context(|| format!("cannot resume from {}", path.display()))?;
            ctx.info(format!("resuming from {} after {} mini-batches", path.display(), objective.len()));
            (learner, objective)
        }
        _ => (
            OnlineLearner::from_data(encoder, x, args.atoms, &Init::Samples, params)
                .context("cannot start dictionary learning")?,
            Vec::new(),
        ),
    };
    let first = objective.len();
    let last = match args.max_steps {
        Some(m) => total_steps.min(first + m),
        None => total_steps,
    };
    let bar = ctx.bar(total_steps as u64, "learning");
    bar.set_position(first as u64);
    let mut batch = Mat::<f64>::zeros(batch_size, x.ncols());
    let mut order = Vec::new();
    let mut stopping = StoppingRule::new(args.change_tol, args.patience);
    let mut stopped_at = None;
    for step in first..last {
        let (epoch, position) = (step / steps_per_epoch, step % steps_per_epoch);
        if position == 0 || order.is_empty() {
            order = epoch_order(ctx.seed, epoch as u64, n);
        }
        let chunk = &order[position * batch_size..((position + 1) * batch_size).min(n)];
        for (r, &i) in chunk.iter().enumerate() {
            for f in 0..x.ncols() {
                batch[(r, f)] = x[(i, f)];
            }
        }
        let report =
            learner.partial_fit(batch.as_ref().subrows(0, chunk.len())).context("dictionary learning failed")?;
        objective.push(report.smoothed_objective);
        bar.inc(1);
        bar.set_message(format!("objective {:.4e}", report.smoothed_objective));
        if stopping.observe(&report) {
            let tol_met = args.change_tol > 0.0 && report.dictionary_change <= args.change_tol;
            stopped_at = Some((step + 1, if tol_met { "--change-tol" } else { "--patience" }));
            break;
        }
        if let Some(path) = &args.checkpoint {
            if (step + 1) % args.checkpoint_every == 0 && step + 1 < last {
                write_checkpoint(path, &learner.state(), &objective, config)?;
            }
        }
    }
    bar.finish_and_clear();
    if let Some(path) = &args.checkpoint {
        write_checkpoint(path, &learner.state(), &objective, config)?;
    }
    if let Some((done, rule)) = stopped_at {
        ctx.info(format!("converged after {done} of {total_steps} mini-batches ({rule})"));
    } else if last < total_steps {
        ctx.info(format!("stopped after {last} of {total_steps} mini-batches (--max-steps); continue with --resume"));
    }
    Ok(Fitted {
        dictionary: learner.dictionary().clone(),
        n_iter: objective.len(),
        converged: stopped_at.is_some() || last == total_steps,
        objective,
        codes: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_sizes_parse() {
        assert_eq!(parse_patch("8x6"), Ok((8, 6)));
        assert_eq!(parse_patch("5"), Ok((5, 5)));
        assert!(parse_patch("0x3").is_err());
        assert!(parse_patch("ax3").is_err());
    }

    #[test]
    fn differences_name_each_changed_key() {
        let a = json!({"atoms": 16, "seed": 0});
        let b = json!({"atoms": 32, "seed": 0});
        assert_eq!(differences(&a, &b), vec!["atoms: 16 (checkpoint) vs 32 (now)".to_string()]);
        assert!(differences(&a, &a).is_empty());
    }

    #[test]
    fn epoch_orders_are_permutations_fixed_by_seed_and_epoch() {
        let a = epoch_order(3, 1, 50);
        assert_eq!(a, epoch_order(3, 1, 50));
        assert_ne!(a, epoch_order(3, 2, 50));
        let mut sorted = a.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..50).collect::<Vec<_>>());
    }
}
