//! What every subcommand receives besides its own arguments: the global flags
//! and the helpers that depend on them.

use anyhow::{bail, Context as _};
use indicatif::ProgressBar;

/// The global options of a run (`--threads`, `--quiet`, `--seed`), with the
/// rayon pool already sized.
#[derive(Debug, Clone)]
pub struct Context {
    /// Hide progress bars and informational messages.
    pub quiet: bool,
    /// The seed for every random choice; pass it to `sparsecode::rng::seeded`
    /// (see [`Context::rng`]).
    pub seed: u64,
}

impl Context {
    /// Sizes rayon's global pool to `threads` (if given) and records the flags.
    pub fn new(threads: Option<usize>, quiet: bool, seed: u64) -> anyhow::Result<Self> {
        if let Some(n) = threads {
            if n == 0 {
                bail!("--threads must be at least 1 (got 0)");
            }
            rayon::ThreadPoolBuilder::new()
                .num_threads(n)
                .build_global()
                .with_context(|| format!("cannot start a pool of {n} threads"))?;
        }
        Ok(Self { quiet, seed })
    }

    /// A fresh generator seeded with `--seed`: the same seed gives the same run.
    pub fn rng(&self) -> sparsecode::rng::Rng {
        sparsecode::rng::seeded(self.seed)
    }

    /// A progress bar over `len` items with a label and an ETA; hidden with
    /// `--quiet` or when stderr is not a terminal. See [`crate::progress`].
    pub fn bar(&self, len: u64, label: &str) -> ProgressBar {
        crate::progress::bar(len, label, self.quiet)
    }

    /// A spinner with a message, for loops of unknown length (iterations).
    pub fn spinner(&self, label: &str) -> ProgressBar {
        crate::progress::spinner(label, self.quiet)
    }

    /// Prints an informational line on stdout unless `--quiet`.
    pub fn info(&self, line: impl std::fmt::Display) {
        if !self.quiet {
            println!("{line}");
        }
    }
}
