//! `sparsecode encode`: sparse codes of signals over a fixed dictionary.
//!
//! The rows of `X` are coded in chunks of [`CHUNK`] rows through the core's
//! batch driver (`Method::encode_into`), so that the progress bar moves; the
//! driver itself is deterministic and thread-count independent, and chunking
//! changes nothing in the result (every signal is coded on its own).

use crate::context::Context;
use crate::io;
use crate::model;
use anyhow::{bail, Context as _};
use faer::Mat;
use ndarray_npy::WritableElement;
use serde_json::json;
use sparsecode::encode::cd::CoordinateDescent;
use sparsecode::encode::fista::Fista;
use sparsecode::encode::lars::Lars;
use sparsecode::encode::lasso::ElasticNet;
use sparsecode::encode::method::Method;
use sparsecode::encode::omp::{Omp, Ormp};
use sparsecode::encode::threshold::Threshold;
use sparsecode::encode::{SignalReport, Start};
use sparsecode::{Dictionary, Float};
use std::path::PathBuf;
use std::time::Instant;

/// Rows coded per call of the core driver (one progress-bar step).
pub const CHUNK: usize = 4096;

/// The encoders `--method` chooses from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum MethodName {
    /// Orthogonal Matching Pursuit (l0): --n-nonzero and/or --tol [--rule].
    Omp,
    /// Exact Lasso / elastic net by the LARS homotopy: --lambda [--l2, --n-nonzero].
    Lars,
    /// Lasso / elastic net by coordinate descent: --lambda [--l2, --tol, --max-iter].
    Cd,
    /// Lasso / elastic net by FISTA: --lambda [--l2, --tol, --max-iter].
    Fista,
    /// Thresholding of the correlations D x: soft with --lambda, hard with --threshold.
    Threshold,
}

impl MethodName {
    /// The name as `--method` spells it.
    pub fn name(self) -> &'static str {
        match self {
            MethodName::Omp => "omp",
            MethodName::Lars => "lars",
            MethodName::Cd => "cd",
            MethodName::Fista => "fista",
            MethodName::Threshold => "threshold",
        }
    }
}

/// How OMP picks the next atom (`--rule`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OmpRule {
    /// The atom most correlated with the residual, |<r, d>| / ||d||: plain OMP,
    /// the same codes as scikit-learn's orthogonal_mp.
    Correlation,
    /// Order-recursive matching pursuit: the atom whose addition leaves the
    /// smallest least-squares residual, <r, d>^2 / ||d - P d||^2 (P: projection
    /// on the atoms already chosen). Same cost, usually a lower residual with
    /// the same number of atoms; what SPAMS' omp computes.
    Ormp,
}

/// The precision to compute in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Precision {
    /// 32-bit floats.
    F32,
    /// 64-bit floats.
    F64,
}

/// Sparse-code the rows of X over a dictionary (OMP, Lasso, thresholding).
///
/// Each row x of X (n_samples x n_features) is coded over the atoms, the rows
/// of D (n_atoms x n_features), giving a row z of the codes Z (n_samples x
/// n_atoms), so that X ~ Z D.
///
/// The Lasso methods (lars, cd, fista) solve, for each row,
/// min_z 0.5 ||x - z D||^2 + lambda ||z||_1 + 0.5 l2 ||z||^2.
/// This lambda is scikit-learn's sparse_encode alpha and SPAMS' lambda1.
///
/// Example: sparsecode encode --dict D.npy --input X.npy --method omp --n-nonzero 5 --out Z.npy
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The dictionary, n_atoms x n_features: a .npy, FILE.npz:NAME, or a model
    /// written by `sparsecode learn` (its components).
    #[arg(long, value_name = "D.npy")]
    pub dict: PathBuf,
    /// The signals, n_samples x n_features (.npy, or FILE.npz:NAME).
    #[arg(long, value_name = "X.npy")]
    pub input: PathBuf,
    /// Where to write the codes, n_samples x n_atoms (.npy).
    #[arg(long, value_name = "Z.npy")]
    pub out: PathBuf,
    /// The encoder.
    #[arg(long, value_enum, default_value_t = MethodName::Omp)]
    pub method: MethodName,
    /// omp: at most this many atoms per signal (default, without --tol:
    /// max(1, n_features / 10)). lars: stop the path at this many atoms.
    #[arg(long, value_name = "K")]
    pub n_nonzero: Option<usize>,
    /// omp: how the next atom is chosen (default: correlation).
    #[arg(long, value_enum, value_name = "RULE")]
    pub rule: Option<OmpRule>,
    /// omp: stop once ||x - z D||^2 <= TOL. cd, fista: relative duality-gap
    /// tolerance (default 1e-6).
    #[arg(long, value_name = "TOL", allow_negative_numbers = true)]
    pub tol: Option<f64>,
    /// lars, cd, fista: weight of the l1 penalty. threshold: soft-threshold level.
    #[arg(long, value_name = "LAMBDA", allow_negative_numbers = true)]
    pub lambda: Option<f64>,
    /// lars, cd, fista: weight of the squared l2 penalty (elastic net; default 0).
    #[arg(long, value_name = "L2", allow_negative_numbers = true)]
    pub l2: Option<f64>,
    /// Constrain the codes to be non-negative (every method).
    #[arg(long)]
    pub nonneg: bool,
    /// threshold: hard-threshold level (keep correlations with |c| >= T).
    #[arg(long, value_name = "T", allow_negative_numbers = true)]
    pub threshold: Option<f64>,
    /// cd: most sweeps; fista: most steps (default 1000).
    #[arg(long, value_name = "N")]
    pub max_iter: Option<usize>,
    /// Precision of the computation and of the written codes (default: f32
    /// when X is float32, else f64).
    #[arg(long, value_enum)]
    pub dtype: Option<Precision>,
    /// Also write a JSON report: per-signal residual norm, objective, number
    /// of non-zeros, iterations, convergence, and a summary.
    #[arg(long, value_name = "report.json")]
    pub report: Option<PathBuf>,
}

/// Fails if a flag is given that `method` does not use.
fn refuse_unused(method: MethodName, flags: &[(&str, bool)]) -> anyhow::Result<()> {
    for (flag, given) in flags {
        if *given {
            bail!("{flag} does not apply to --method {}; see `sparsecode encode --help`", method.name());
        }
    }
    Ok(())
}

fn required_lambda(args: &Args) -> anyhow::Result<f64> {
    args.lambda
        .with_context(|| format!("--method {} needs --lambda (the weight of the l1 penalty)", args.method.name()))
}

/// The OMP (or ORMP) encoder the flags describe.
fn omp_from_args(args: &Args) -> anyhow::Result<Method> {
    refuse_unused(
        args.method,
        &[
            ("--lambda", args.lambda.is_some()),
            ("--l2", args.l2.is_some()),
            ("--threshold", args.threshold.is_some()),
            ("--max-iter", args.max_iter.is_some()),
        ],
    )?;
    Ok(match args.rule.unwrap_or(OmpRule::Correlation) {
        OmpRule::Correlation => Omp { n_nonzero: args.n_nonzero, tolerance: args.tol, nonneg: args.nonneg }.into(),
        OmpRule::Ormp if args.nonneg => {
            bail!("--rule ormp has no non-negative variant; drop --nonneg or use --rule correlation")
        }
        OmpRule::Ormp => Ormp { n_nonzero: args.n_nonzero, tolerance: args.tol }.into(),
    })
}

/// The penalty of the Lasso methods: `--lambda`, `--l2`, `--nonneg`.
fn penalty_from_args(args: &Args) -> anyhow::Result<ElasticNet> {
    Ok(ElasticNet::lasso(required_lambda(args)?).with_l2(args.l2.unwrap_or(0.0)).nonneg(args.nonneg))
}

/// The LARS encoder the flags describe.
fn lars_from_args(args: &Args) -> anyhow::Result<Lars> {
    refuse_unused(
        args.method,
        &[
            ("--rule", args.rule.is_some()),
            ("--tol", args.tol.is_some()),
            ("--threshold", args.threshold.is_some()),
            ("--max-iter", args.max_iter.is_some()),
        ],
    )?;
    let lars = Lars::new(penalty_from_args(args)?);
    Ok(match args.n_nonzero {
        Some(k) => lars.with_max_nonzero(k),
        None => lars,
    })
}

/// The coordinate-descent encoder the flags describe.
fn cd_from_args(args: &Args) -> anyhow::Result<CoordinateDescent> {
    refuse_unused(
        args.method,
        &[
            ("--rule", args.rule.is_some()),
            ("--n-nonzero", args.n_nonzero.is_some()),
            ("--threshold", args.threshold.is_some()),
        ],
    )?;
    let mut cd = CoordinateDescent::new(penalty_from_args(args)?);
    if let Some(tol) = args.tol {
        cd = cd.with_tol(tol);
    }
    if let Some(n) = args.max_iter {
        cd = cd.with_max_iter(n);
    }
    Ok(cd)
}

/// The FISTA encoder the flags describe.
fn fista_from_args(args: &Args) -> anyhow::Result<Fista> {
    refuse_unused(
        args.method,
        &[
            ("--rule", args.rule.is_some()),
            ("--n-nonzero", args.n_nonzero.is_some()),
            ("--threshold", args.threshold.is_some()),
        ],
    )?;
    let mut fista = Fista::new(penalty_from_args(args)?);
    if let Some(tol) = args.tol {
        fista = fista.with_tol(tol);
    }
    if let Some(n) = args.max_iter {
        fista = fista.with_max_iter(n);
    }
    Ok(fista)
}

/// The thresholding encoder the flags describe.
fn threshold_from_args(args: &Args) -> anyhow::Result<Threshold> {
    refuse_unused(
        args.method,
        &[
            ("--rule", args.rule.is_some()),
            ("--n-nonzero", args.n_nonzero.is_some()),
            ("--tol", args.tol.is_some()),
            ("--l2", args.l2.is_some()),
            ("--max-iter", args.max_iter.is_some()),
        ],
    )?;
    let threshold = match (args.lambda, args.threshold) {
        (Some(lambda), None) => Threshold::soft(lambda),
        (None, Some(t)) => Threshold::hard(t),
        (Some(_), Some(_)) => bail!("--method threshold takes --lambda (soft) or --threshold (hard), not both"),
        (None, None) => bail!("--method threshold needs --lambda (soft) or --threshold (hard)"),
    };
    Ok(threshold.nonneg(args.nonneg))
}

/// The core encoder the flags describe.
pub fn method_from_args(args: &Args) -> anyhow::Result<Method> {
    Ok(match args.method {
        MethodName::Omp => omp_from_args(args)?,
        MethodName::Lars => lars_from_args(args)?.into(),
        MethodName::Cd => cd_from_args(args)?.into(),
        MethodName::Fista => fista_from_args(args)?.into(),
        MethodName::Threshold => threshold_from_args(args)?.into(),
    })
}

/// Codes `args.input` over `args.dict` and writes the codes (and the report).
pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<()> {
    let method = method_from_args(args)?;
    let inputs = [args.dict.as_path(), args.input.as_path()];
    io::check_output(&args.out, &inputs)?;
    if let Some(report) = &args.report {
        io::check_output(report, &inputs)?;
        if io::check_output(report, &[&args.out]).is_err() {
            bail!("--report and --out are the same file ({})", report.display());
        }
    }
    let x = io::read_array(&args.input)?;
    let precision = args.dtype.unwrap_or(if x.dtype == io::Dtype::F32 { Precision::F32 } else { Precision::F64 });
    match precision {
        Precision::F32 => encode_as::<f32>(args, ctx, &method, &x),
        Precision::F64 => encode_as::<f64>(args, ctx, &method, &x),
    }
}

fn encode_as<T: Float + WritableElement>(
    args: &Args,
    ctx: &Context,
    method: &Method,
    x: &io::NpyArray,
) -> anyhow::Result<()> {
    let atoms: Mat<T> = io::to_matrix(&model::read_dictionary(&args.dict)?, "the dictionary (--dict)")?;
    let dict = Dictionary::new(atoms).with_context(|| format!("invalid dictionary {}", args.dict.display()))?;
    let x: Mat<T> = io::to_matrix(x, "the signals (--input)")?;
    if x.ncols() != dict.n_features() {
        bail!(
            "the signals ({}) have {} features per row but the atoms of the dictionary ({}) have {}; \
             both must be n_features wide (X: n_samples x n_features, D: n_atoms x n_features)",
            args.input.display(),
            x.ncols(),
            args.dict.display(),
            dict.n_features()
        );
    }
    method.check(&dict).context("invalid encoder parameters")?;
    let name = method.name();

    let started = Instant::now();
    let n = x.nrows();
    let mut codes = Mat::<T>::zeros(n, dict.n_atoms());
    let mut reports: Vec<SignalReport> = Vec::with_capacity(n);
    let bar = ctx.bar(n as u64, "encoding");
    for start in (0..n.max(1)).step_by(CHUNK) {
        let len = CHUNK.min(n - start.min(n));
        let chunk_reports = method
            .encode_into(&dict, x.as_ref().subrows(start, len), codes.as_mut().subrows_mut(start, len), Start::Zero)
            .with_context(|| format!("cannot encode {}", args.input.display()))?;
        reports.extend(chunk_reports);
        bar.inc(len as u64);
    }
    bar.finish_and_clear();
    let seconds = started.elapsed().as_secs_f64();

    let signal_norms: Vec<f64> =
        (0..n).map(|i| x.row(i).iter().map(|v| v.as_f64() * v.as_f64()).sum::<f64>().sqrt()).collect();
    let relative: Vec<f64> = reports
        .iter()
        .zip(&signal_norms)
        .map(|(r, &norm)| if norm > 0.0 { r.residual_norm / norm } else { 0.0 })
        .collect();
    let mean = |v: &mut dyn Iterator<Item = f64>| v.sum::<f64>() / n as f64;
    let mean_nnz = mean(&mut reports.iter().map(|r| r.n_nonzero as f64));
    let mean_relative = mean(&mut relative.iter().copied());
    let mean_objective = mean(&mut reports.iter().map(|r| r.objective));
    let not_converged = reports.iter().filter(|r| !r.converged).count();

    io::write_matrix(&args.out, codes.as_ref())?;
    if let Some(path) = &args.report {
        let report = json!({
            "method": name,
            "parameters": format!("{method:?}"),
            "dtype": T::NAME,
            "dictionary": args.dict.display().to_string(),
            "input": args.input.display().to_string(),
            "n_samples": n,
            "n_features": dict.n_features(),
            "n_atoms": dict.n_atoms(),
            "summary": {
                "mean_n_nonzero": mean_nnz,
                "mean_relative_residual": mean_relative,
                "mean_objective": mean_objective,
                "not_converged": not_converged,
                "seconds": seconds,
            },
            "signals": {
                "residual_norm": reports.iter().map(|r| r.residual_norm).collect::<Vec<_>>(),
                "relative_residual": relative,
                "objective": reports.iter().map(|r| r.objective).collect::<Vec<_>>(),
                "n_nonzero": reports.iter().map(|r| r.n_nonzero).collect::<Vec<_>>(),
                "n_iter": reports.iter().map(|r| r.n_iter).collect::<Vec<_>>(),
                "converged": reports.iter().map(|r| r.converged).collect::<Vec<_>>(),
            },
        });
        io::write_json(path, &report)?;
    }
    let warning = if not_converged > 0 { format!(", {not_converged} not converged") } else { String::new() };
    ctx.info(format!(
        "encoded {n} signals with {name} ({}) in {seconds:.3} s: mean nnz {mean_nnz:.2}, mean relative residual {mean_relative:.3e}{warning}",
        T::NAME
    ));
    Ok(())
}
