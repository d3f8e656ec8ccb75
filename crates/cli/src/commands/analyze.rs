//! `sparsecode analyze INPUT --out DIR`: how sparse is a signal, an image or a
//! video, and how much sparser do simple operations make it.
//!
//! The report folder holds `report.json` (every number), a histogram per
//! variant of the data (`hist_<variant>.png`), bar charts of kurtosis, Hoyer
//! sparseness and Gini index across the variants, and the reconstruction
//! error of patches against the number of active components for PCA and for
//! OMP over a dictionary, with the knee of the OMP curve marked
//! (`error_vs_sparsity.png`).

use crate::context::Context;
use crate::{io, plot};
use anyhow::{bail, Context as _};
use faer::{Mat, MatRef};
use serde_json::{json, Value};
use sparsecode::analysis::differencing::{
    causal_box_difference, centered_box_difference, first_difference, lagged_difference, Sign,
};
use sparsecode::analysis::measures::{lifetime_sparsity, population_sparsity, summarize, Measure, Summary};
use sparsecode::analysis::nd::NdView;
use sparsecode::analysis::nonlinear::Nonlinearity;
use sparsecode::analysis::report::compare_pca_and_omp;
use sparsecode::analysis::Axis;
use sparsecode::encode::{encode, omp::Omp};
use sparsecode::image::patches::{remove_means, PatchGrid};
use sparsecode::learn::batch::{fit, BatchOptions, DictionaryUpdate};
use sparsecode::Dictionary;
use std::path::{Path, PathBuf};

/// Measure the sparseness of a 1-D signal, an image or a video before and
/// after nonlinearities and differencing, and compare PCA with OMP over a
/// dictionary on its patches.
///
/// Input: a `.npy` array (1-D: signal, 2-D: image, 3-D: video `t x h x w`;
/// integer arrays are divided by their type's maximum, e.g. 255 for uint8),
/// an image (PNG, JPEG, TIFF; gray in [0, 1]) or a WAV sound (channels
/// averaged).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The signal, image or video to analyse.
    pub input: PathBuf,
    /// Report folder (created if absent): report.json and PNG figures.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Delay (samples or frames) of the absolute temporal difference.
    #[arg(long, default_value_t = 1)]
    pub delay: usize,
    /// Window (samples or frames) of the causal box-filter average that each
    /// sample is compared with.
    #[arg(long, default_value_t = 8)]
    pub window: usize,
    /// Radius of the centred spatial box filter (images and videos): windows
    /// of 2 radius + 1 pixels.
    #[arg(long, default_value_t = 2)]
    pub radius: usize,
    /// Threshold of ReLU, soft and hard thresholding, in standard deviations
    /// of the (mean-removed) input they act on.
    #[arg(long, default_value_t = 1.0)]
    pub threshold: f64,
    /// Share of largest-magnitude entries kept by the top-fraction nonlinearity.
    #[arg(long, default_value_t = 0.1)]
    pub top_fraction: f64,
    /// Magnitudes at or below this count as zero in the l0 count.
    #[arg(long, default_value_t = 0.0)]
    pub l0_tolerance: f64,
    /// Bins of every histogram.
    #[arg(long, default_value_t = 100)]
    pub bins: usize,
    /// Patch side for images and video frames (default 8: 8 x 8 patches) or
    /// patch length for signals (default 32), for the PCA and OMP comparison.
    #[arg(long)]
    pub patch: Option<usize>,
    /// Patches sampled (at random, with --seed) for the comparison.
    #[arg(long, default_value_t = 2000)]
    pub n_patches: usize,
    /// Dictionary (.npy, n_atoms x patch length) for OMP; without it one is
    /// learned from the patches (MOD with OMP).
    #[arg(long)]
    pub dict: Option<PathBuf>,
    /// Atoms of the learned dictionary (default: twice the patch length).
    #[arg(long)]
    pub n_atoms: Option<usize>,
    /// Iterations of dictionary learning.
    #[arg(long, default_value_t = 10)]
    pub iterations: usize,
    /// Non-zeros per patch (OMP) while learning the dictionary.
    #[arg(long, default_value_t = 4)]
    pub train_nonzero: usize,
    /// Largest number of non-zeros (and PCA components) on the error curve.
    #[arg(long, default_value_t = 16)]
    pub max_nonzero: usize,
}

/// The data, as read.
enum Data {
    Signal(Vec<f64>),
    Image(Mat<f64>),
    Video { values: Vec<f64>, shape: [usize; 3] },
}

impl Data {
    fn kind(&self) -> &'static str {
        match self {
            Data::Signal(_) => "signal",
            Data::Image(_) => "image",
            Data::Video { .. } => "video",
        }
    }

    fn shape(&self) -> Vec<usize> {
        match self {
            Data::Signal(v) => vec![v.len()],
            Data::Image(m) => vec![m.nrows(), m.ncols()],
            Data::Video { shape, .. } => shape.to_vec(),
        }
    }

    fn values(&self) -> Vec<f64> {
        match self {
            Data::Signal(v) => v.clone(),
            Data::Image(m) => matrix_values(m.as_ref()),
            Data::Video { values, .. } => values.clone(),
        }
    }
}

/// One version of the data (the input, or the input after one operation).
struct Variant {
    name: String,
    /// Short name for chart axes.
    label: &'static str,
    operation: String,
    shape: Vec<usize>,
    values: Vec<f64>,
}

fn extension(path: &Path) -> String {
    path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default()
}

fn matrix_values(m: MatRef<'_, f64>) -> Vec<f64> {
    (0..m.nrows()).flat_map(|i| (0..m.ncols()).map(move |j| m[(i, j)])).collect()
}

fn read_data(path: &Path) -> anyhow::Result<Data> {
    match extension(path).as_str() {
        "png" | "jpg" | "jpeg" | "tif" | "tiff" => {
            let img = io::read_image_gray(path)?;
            Ok(Data::Image(Mat::from_fn(img.nrows(), img.ncols(), |i, j| img[(i, j)])))
        }
        "wav" => {
            let audio = io::read_wav(path)?;
            let n_channels = audio.channels.nrows() as f64;
            Ok(Data::Signal(audio.channels.columns().into_iter().map(|c| c.sum() / n_channels).collect()))
        }
        _ => {
            let array = io::read_array(path)?;
            let scale = array.dtype.full_scale().unwrap_or(1.0);
            let shape = array.data.shape().to_vec();
            let values: Vec<f64> = array.data.iter().map(|&v| v / scale).collect();
            match shape.len() {
                1 => Ok(Data::Signal(values)),
                2 => Ok(Data::Image(Mat::from_fn(shape[0], shape[1], |i, j| values[i * shape[1] + j]))),
                3 => Ok(Data::Video { values, shape: [shape[0], shape[1], shape[2]] }),
                n => bail!(
                    "{}: expected a 1-D signal, a 2-D image or a 3-D video (t x h x w), but the array has {n} axes {shape:?}",
                    array.source
                ),
            }
        }
    }
}

/// The input and its differenced versions.
fn differences(data: &Data, args: &Args) -> anyhow::Result<Vec<Variant>> {
    let mut out = vec![Variant {
        name: "input".into(),
        label: "input",
        operation: "the data as read".into(),
        shape: data.shape(),
        values: data.values(),
    }];
    let from_matrix = |name: &str, label: &'static str, operation: String, m: Mat<f64>| Variant {
        name: name.into(),
        label,
        operation,
        shape: vec![m.nrows(), m.ncols()],
        values: matrix_values(m.as_ref()),
    };
    match data {
        Data::Signal(v) => {
            let column = MatRef::from_column_major_slice(v, v.len(), 1);
            let signal = |m: Mat<f64>| m.col(0).iter().copied().collect::<Vec<f64>>();
            let d = first_difference(column, Axis::Columns).context("first difference")?;
            out.push(Variant {
                name: "first_difference".into(),
                label: "diff",
                operation: "x[t+1] - x[t]".into(),
                shape: vec![d.nrows()],
                values: signal(d),
            });
            let d = lagged_difference(column, Axis::Columns, args.delay, Sign::Absolute).context("--delay")?;
            out.push(Variant {
                name: "temporal_abs_difference".into(),
                label: "|lag diff|",
                operation: format!("|x[t+{}] - x[t]|", args.delay),
                shape: vec![d.nrows()],
                values: signal(d),
            });
            let d = causal_box_difference(column, Axis::Columns, args.window, Sign::Signed).context("--window")?;
            out.push(Variant {
                name: "causal_box_difference".into(),
                label: "causal box",
                operation: format!("x[t] - mean(x[t-{}..t])", args.window),
                shape: vec![d.nrows()],
                values: signal(d),
            });
        }
        Data::Image(m) => {
            let r = args.radius;
            out.push(from_matrix(
                "box_difference_rows",
                "box rows",
                format!("x - centred box mean over {} pixels along rows", 2 * r + 1),
                centered_box_difference(m.as_ref(), Axis::Rows, r, Sign::Signed).context("--radius")?,
            ));
            out.push(from_matrix(
                "box_difference_columns",
                "box cols",
                format!("x - centred box mean over {} pixels along columns", 2 * r + 1),
                centered_box_difference(m.as_ref(), Axis::Columns, r, Sign::Signed).context("--radius")?,
            ));
            out.push(from_matrix(
                "first_difference_rows",
                "diff rows",
                "x[i, j+1] - x[i, j]".into(),
                first_difference(m.as_ref(), Axis::Rows)?,
            ));
            out.push(from_matrix(
                "first_difference_columns",
                "diff cols",
                "x[i+1, j] - x[i, j]".into(),
                first_difference(m.as_ref(), Axis::Columns)?,
            ));
        }
        Data::Video { values, shape } => {
            let video = NdView::new(values, shape)?;
            let (delay, window, radius) = (args.delay, args.window, args.radius);
            type LaneOp<'a> = &'a dyn Fn(MatRef<'_, f64>) -> sparsecode::Result<Mat<f64>>;
            let ops: [(&str, &'static str, String, usize, LaneOp<'_>); 4] = [
                ("temporal_abs_difference", "|lag diff|", format!("|x[t+{delay}] - x[t]| per pixel"), 0, &|m| {
                    lagged_difference(m, Axis::Columns, delay, Sign::Absolute)
                }),
                ("causal_box_difference", "causal box", format!("x[t] - mean(x[t-{window}..t]) per pixel"), 0, &|m| {
                    causal_box_difference(m, Axis::Columns, window, Sign::Signed)
                }),
                (
                    "box_difference_y",
                    "box y",
                    format!("x - centred box mean over {} pixels along y", 2 * radius + 1),
                    1,
                    &|m| centered_box_difference(m, Axis::Columns, radius, Sign::Signed),
                ),
                (
                    "box_difference_x",
                    "box x",
                    format!("x - centred box mean over {} pixels along x", 2 * radius + 1),
                    2,
                    &|m| centered_box_difference(m, Axis::Columns, radius, Sign::Signed),
                ),
            ];
            for (name, label, operation, axis, op) in ops {
                let d = video.map_axis(axis, op).with_context(|| format!("{name} along axis {axis}"))?;
                out.push(Variant { name: name.into(), label, operation, shape: d.shape, values: d.data });
            }
        }
    }
    Ok(out)
}

/// The nonlinearities applied to the mean-removed input.
fn nonlinear_variants(input: &[f64], shape: &[usize], args: &Args) -> anyhow::Result<Vec<Variant>> {
    let n = input.len() as f64;
    let mean = input.iter().sum::<f64>() / n;
    let centred: Vec<f64> = input.iter().map(|v| v - mean).collect();
    let std = (centred.iter().map(|v| v * v).sum::<f64>() / n).sqrt();
    let t = args.threshold * std;
    let ops = [
        (Nonlinearity::Relu { theta: t }, format!("max(x - mean - {t:.4e}, 0)")),
        (Nonlinearity::SoftThreshold { threshold: t }, format!("soft threshold of x - mean at {t:.4e}")),
        (Nonlinearity::HardThreshold { threshold: t }, format!("x - mean where |x - mean| >= {t:.4e}, else 0")),
        (
            Nonlinearity::TopFraction { fraction: args.top_fraction },
            format!("the {} largest |x - mean|, others 0", args.top_fraction),
        ),
    ];
    ops.into_iter()
        .map(|(op, operation)| {
            let values = op.apply(&centred).with_context(|| format!("{} (--threshold / --top-fraction)", op.name()))?;
            let label = match op {
                Nonlinearity::Relu { .. } => "relu",
                Nonlinearity::SoftThreshold { .. } => "soft",
                Nonlinearity::HardThreshold { .. } => "hard",
                Nonlinearity::TopFraction { .. } => "top",
            };
            Ok(Variant { name: op.name().into(), label, operation, shape: shape.to_vec(), values })
        })
        .collect()
}

/// Mean-removed patches of the data, one per row: `patch x patch` squares of
/// the image or of the video frames, or `patch` consecutive samples.
fn patches(data: &Data, args: &Args, seed: u64) -> anyhow::Result<Mat<f64>> {
    let p = patch_size(data, args);
    let mut rows = match data {
        Data::Signal(v) => sample_patches(MatRef::from_row_major_slice(v, 1, v.len()), (1, p), args.n_patches, seed)?,
        Data::Image(m) => sample_patches(m.as_ref(), (p, p), args.n_patches, seed)?,
        Data::Video { values, shape: [t, h, w] } => {
            // Spread the patches over the frames.
            let per_frame = args.n_patches.div_ceil(*t);
            let mut rows: Vec<f64> = Vec::new();
            for (f, frame) in values.chunks_exact(h * w).enumerate() {
                let frame = MatRef::from_row_major_slice(frame, *h, *w);
                let part = sample_patches(frame, (p, p), per_frame, seed.wrapping_add(f as u64))?;
                rows.extend(matrix_values(part.as_ref()));
            }
            let n = rows.len() / (p * p);
            Mat::from_fn(n, p * p, |i, j| rows[i * p * p + j])
        }
    };
    remove_means(rows.as_mut());
    Ok(rows)
}

/// `--patch`, or its default for the kind of data.
fn patch_size(data: &Data, args: &Args) -> usize {
    match (args.patch, data) {
        (Some(p), _) => p,
        (None, Data::Signal(_)) => 32,
        (None, _) => 8,
    }
}

fn sample_patches(image: MatRef<'_, f64>, patch: (usize, usize), n: usize, seed: u64) -> anyhow::Result<Mat<f64>> {
    let grid = PatchGrid::new((image.nrows(), image.ncols()), patch).context("--patch")?;
    let indices = grid.sample_indices(n.min(grid.n_patches()), seed)?;
    Ok(grid.extract_subset(image, &indices)?)
}

fn summary_json(s: &Summary) -> Value {
    json!({
        "len": s.len,
        "l0": s.l0,
        "l0_fraction": s.l0 as f64 / s.len as f64,
        "l1": s.l1,
        "kurtosis": s.kurtosis,
        "excess_kurtosis": s.excess_kurtosis,
        "hoyer": s.hoyer,
        "gini": s.gini,
    })
}

/// Mean of the finite values (`NaN` if none).
fn finite_mean(values: &[f64]) -> f64 {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    finite.iter().sum::<f64>() / finite.len() as f64
}

/// Writes the report of `args.input` into `args.out`.
pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<()> {
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create the folder {}", args.out.display()))?;
    let report_path = args.out.join("report.json");
    let mut inputs = vec![args.input.as_path()];
    inputs.extend(args.dict.as_deref());
    io::check_output(&report_path, &inputs)?;
    if args.bins == 0 {
        bail!("--bins must be at least 1");
    }

    let data = read_data(&args.input)?;
    ctx.info(format!("{}: {} of shape {:?}", args.input.display(), data.kind(), data.shape()));
    let mut variants = differences(&data, args)?;
    let input_values = variants[0].values.clone();
    variants.extend(nonlinear_variants(&input_values, &variants[0].shape, args)?);

    // Every input check (patch size, dictionary shape) happens here, before
    // the histograms are written.
    let comparison = compare(&data, args, ctx)?;

    let bar = ctx.bar(variants.len() as u64, "measures and histograms");
    let mut summaries = Vec::with_capacity(variants.len());
    for v in &variants {
        let s = summarize(&v.values, args.l0_tolerance).with_context(|| format!("measures of {}", v.name))?;
        plot::histogram(
            &args.out.join(format!("hist_{}.png", v.name)),
            &format!("{}: kurtosis {:.2}, Hoyer {:.2}", v.name, s.kurtosis, s.hoyer),
            "value",
            &v.values,
            args.bins,
        )?;
        summaries.push(s);
        bar.inc(1);
    }
    bar.finish_and_clear();
    let labels: Vec<String> = variants.iter().map(|v| v.label.to_string()).collect();
    let pick = |f: fn(&Summary) -> f64| summaries.iter().map(f).collect::<Vec<f64>>();
    plot::bar_chart(
        &args.out.join("kurtosis.png"),
        "Kurtosis (3 = Gaussian)",
        "kurtosis",
        &labels,
        &pick(|s| s.kurtosis),
    )?;
    plot::bar_chart(&args.out.join("hoyer.png"), "Hoyer sparseness", "Hoyer", &labels, &pick(|s| s.hoyer))?;
    plot::bar_chart(&args.out.join("gini.png"), "Gini index", "Gini", &labels, &pick(|s| s.gini))?;

    let report = json!({
        "input": {
            "path": args.input.display().to_string(),
            "kind": data.kind(),
            "shape": data.shape(),
        },
        "parameters": {
            "delay": args.delay,
            "window": args.window,
            "radius": args.radius,
            "threshold_std": args.threshold,
            "top_fraction": args.top_fraction,
            "l0_tolerance": args.l0_tolerance,
            "patch": patch_size(&data, args),
            "seed": ctx.seed,
        },
        "variants": variants.iter().zip(&summaries).map(|(v, s)| json!({
            "name": v.name,
            "operation": v.operation,
            "shape": v.shape,
            "measures": summary_json(s),
            "histogram": format!("hist_{}.png", v.name),
        })).collect::<Vec<_>>(),
        "pca_vs_omp": comparison,
        "figures": ["kurtosis.png", "hoyer.png", "gini.png", "error_vs_sparsity.png"],
        "notes": "Measures are of all values of each variant taken as one vector. NaN (undefined, e.g. kurtosis of constant data) is written as null.",
    });
    io::write_json(&report_path, &report)?;
    ctx.info(format!("report written to {}", args.out.display()));
    Ok(())
}

/// PCA and OMP error curves on patches of the data, the figure, and the
/// population and lifetime sparsity of the OMP codes at the knee.
fn compare(data: &Data, args: &Args, ctx: &Context) -> anyhow::Result<Value> {
    let x = patches(data, args, ctx.seed)?;
    let dictionary = match &args.dict {
        Some(path) => {
            let atoms: Mat<f64> = io::read_matrix(path, "the dictionary")?;
            if atoms.ncols() != x.ncols() {
                bail!(
                    "the dictionary {} has atoms of {} values but --patch {} gives patches of {}",
                    path.display(),
                    atoms.ncols(),
                    patch_size(data, args),
                    x.ncols()
                );
            }
            Dictionary::new(atoms).with_context(|| format!("the dictionary {}", path.display()))?
        }
        None => {
            let n_atoms = args.n_atoms.unwrap_or(2 * x.ncols()).min(x.nrows());
            let mut options = BatchOptions::new(n_atoms, DictionaryUpdate::Mod);
            options.max_iter = args.iterations;
            options.seed = ctx.seed;
            let train = Omp::with_n_nonzero(args.train_nonzero);
            let spinner = ctx.spinner("learning a dictionary");
            let fitted = fit(x.as_ref(), &train, &options, |p| {
                spinner.set_message(format!("learning a dictionary: iteration {} / {}", p.iteration, p.max_iter));
                std::ops::ControlFlow::Continue(())
            })
            .context("learning a dictionary from the patches (--n-atoms, --iterations, --train-nonzero)")?;
            spinner.finish_and_clear();
            fitted.dictionary
        }
    };
    let max_active = args.max_nonzero.min(dictionary.n_atoms());
    let cmp = compare_pca_and_omp(x.as_ref(), &dictionary, max_active).context("--max-nonzero")?;
    let as_x = |n: &[usize]| n.iter().map(|&k| k as f64).collect::<Vec<f64>>();
    let (pca_x, omp_x) = (as_x(&cmp.pca.n_active), as_x(&cmp.omp.n_active));
    let mut series = vec![
        plot::Series::with_x("PCA, top k components", &pca_x, &cmp.pca.relative_error),
        plot::Series::with_x("OMP, k non-zeros", &omp_x, &cmp.omp.relative_error),
    ];
    let positive = cmp.pca.relative_error.iter().chain(&cmp.omp.relative_error).copied().filter(|&e| e > 0.0);
    let (lo, hi) = positive.fold((f64::INFINITY, 0.0f64), |(lo, hi), e| (lo.min(e), hi.max(e)));
    let knee_x;
    let knee_y = [lo, hi];
    let knee_label;
    if let Some(k) = cmp.omp_knee {
        knee_x = [k as f64, k as f64];
        knee_label = format!("knee: k = {k}");
        series.push(plot::Series::with_x(&knee_label, &knee_x, &knee_y));
    }
    plot::line_plot(
        &args.out.join("error_vs_sparsity.png"),
        "Relative reconstruction error of patches",
        "active components k",
        "||X - X_hat||_F / ||X||_F",
        &series,
        true,
    )?;
    let codes_at_knee = match cmp.omp_knee {
        Some(k) => {
            let codes = encode(&Omp::with_n_nonzero(k), &dictionary, x.as_ref())?.codes;
            let pop = population_sparsity(codes.as_ref(), Measure::Kurtosis)?;
            let life = lifetime_sparsity(codes.as_ref(), Measure::Kurtosis)?;
            json!({
                "n_nonzero": k,
                "mean_population_kurtosis": finite_mean(&pop),
                "mean_lifetime_kurtosis": finite_mean(&life),
            })
        }
        None => Value::Null,
    };
    Ok(json!({
        "n_patches": x.nrows(),
        "patch_len": x.ncols(),
        "n_atoms": dictionary.n_atoms(),
        "dictionary": args.dict.as_ref().map_or("learned (MOD with OMP)".to_string(), |p| p.display().to_string()),
        "pca": { "n_active": cmp.pca.n_active, "relative_error": cmp.pca.relative_error },
        "omp": { "n_active": cmp.omp.n_active, "relative_error": cmp.omp.relative_error },
        "omp_knee": cmp.omp_knee,
        "codes_at_knee": codes_at_knee,
    }))
}
