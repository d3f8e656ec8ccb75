//! `sparsecode`: the command-line front end of the sparsecode toolkit.
//!
//! The binary parses the command line and hands over to the library half of
//! this crate (`sparsecode_cli`): one file per subcommand under `commands/`,
//! shared infrastructure in `io`, `progress`, `plot` and `context`. Nothing
//! here computes; the numbers come from the `sparsecode` crate.

use clap::Parser;
use sparsecode_cli::commands;
use sparsecode_cli::context::Context;
use std::process::ExitCode;

const OVERVIEW: &str = "\
sparsecode represents signals as sparse combinations of dictionary atoms.

Data live in NumPy .npy files in scikit-learn's layout: signals and atoms are rows.
X is n_samples x n_features, a dictionary D is n_atoms x n_features, and the codes
Z are n_samples x n_atoms, so that X ~ Z D. Images (PNG, JPEG, TIFF) and sounds
(WAV) are read where a subcommand says so.

A typical workflow:
  1. learn or bring a dictionary   D.npy      (n_atoms x n_features)
  2. code signals over it          sparsecode encode --dict D.npy --input X.npy \\
                                       --method omp --n-nonzero 5 --out Z.npy
  3. inspect the result            --report report.json gives per-signal residuals,
                                   objectives and non-zero counts

Run `sparsecode <COMMAND> --help` for the options of each command. Exit status:
0 on success, 1 on an error (one `error:` line on stderr), 2 on a malformed
command line.";

/// Sparse coding, dictionary learning and convolutional sparse coding.
#[derive(Debug, Parser)]
#[command(name = "sparsecode", version, about, long_about = OVERVIEW)]
struct Cli {
    /// Worker threads for the parallel parts (default: one per core). Results do
    /// not depend on it.
    #[arg(long, global = true, value_name = "N", help_heading = "Global options")]
    threads: Option<usize>,
    /// Hide progress bars and informational messages (errors are still printed).
    #[arg(long, short, global = true, help_heading = "Global options")]
    quiet: bool,
    /// Seed of every random choice (initialisations, sampling, noise), for
    /// reproducible runs.
    #[arg(long, global = true, default_value_t = 0, help_heading = "Global options")]
    seed: u64,
    #[command(subcommand)]
    command: commands::Command,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<()> {
    let ctx = Context::new(cli.threads, cli.quiet, cli.seed)?;
    cli.command.run(&ctx)
}
