//! The subcommands, one file each.
//!
//! To add a subcommand `foo`: write `commands/foo.rs` with
//!
//! ```ignore
//! /// One-line summary shown in `sparsecode --help`.
//! #[derive(Debug, clap::Args)]
//! pub struct Args { /* its flags, each with a doc comment */ }
//!
//! pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<()> { ... }
//! ```
//!
//! then declare `pub mod foo;` below, add a variant `Foo(foo::Args)` to
//! [`Command`] (its doc comment is the help line) and an arm to
//! [`Command::run`]. Read inputs with [`crate::io`], call
//! [`crate::io::check_output`] on every output path before computing, write
//! outputs with the atomic writers of [`crate::io`], and show progress with
//! [`Context::bar`] / [`Context::spinner`]. Return errors with `anyhow`
//! (`bail!`, `.context(...)`); `main` prints them as one `error:` line and
//! exits with status 1. Core errors (`sparsecode::Error`) convert with `?`.

pub mod cdl;
pub mod csc;
pub mod inspect;

use crate::context::Context;

/// The subcommands of `sparsecode`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// Show the shape, dtype and value range of an array, image or sound file.
    Inspect(inspect::Args),
    /// Convolutional sparse coding with fixed filters.
    Csc(csc::Args),
    /// Learn convolutional filters (convolutional dictionary learning).
    Cdl(cdl::Args),
}

impl Command {
    /// Runs the chosen subcommand.
    pub fn run(&self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            Command::Inspect(args) => inspect::run(args, ctx),
            Command::Csc(args) => csc::run(args, ctx),
            Command::Cdl(args) => cdl::run(args, ctx),
        }
    }
}
