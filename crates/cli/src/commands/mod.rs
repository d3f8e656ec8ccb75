//! The subcommands, one file each.
//!
//! To add a subcommand `foo`: write `commands/foo.rs` with
//!
//! ```ignore
//! /// One-line summary, shown in the command list of `sparsecode --help`.
//! ///
//! /// Further paragraphs: the long help of `sparsecode foo --help`.
//! #[derive(Debug, clap::Args)]
//! pub struct Args { /* its flags, each with a doc comment */ }
//!
//! pub fn run(args: &Args, ctx: &Context) -> anyhow::Result<()> { ... }
//! ```
//!
//! then declare `pub mod foo;` below, add a variant `Foo(foo::Args)` to
//! [`Command`] and an arm to [`Command::run`]. Leave the variant without a doc
//! comment: clap would let it replace the help written on `Args`. Read inputs with [`crate::io`], call
//! [`crate::io::check_output`] on every output path before computing, write
//! outputs with the atomic writers of [`crate::io`], and show progress with
//! [`Context::bar`] / [`Context::spinner`]. Return errors with `anyhow`
//! (`bail!`, `.context(...)`); `main` prints them as one `error:` line and
//! exits with status 1. Core errors (`sparsecode::Error`) convert with `?`.

pub mod analyze;
pub mod cdl;
pub mod csc;
pub mod demo;
pub mod denoise;
pub mod encode;
pub mod inpaint;
pub mod inspect;
pub mod learn;

use crate::context::Context;

/// The subcommands of `sparsecode`.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    Demo(demo::Args),
    Encode(encode::Args),
    Learn(learn::Args),
    Denoise(denoise::Args),
    Inpaint(inpaint::Args),
    Csc(csc::Args),
    Cdl(cdl::Args),
    Analyze(analyze::Args),
    Inspect(inspect::Args),
}

impl Command {
    /// Runs the chosen subcommand.
    pub fn run(&self, ctx: &Context) -> anyhow::Result<()> {
        match self {
            Command::Encode(args) => encode::run(args, ctx),
            Command::Inspect(args) => inspect::run(args, ctx),
            Command::Learn(args) => learn::run(args, ctx),
            Command::Denoise(args) => denoise::run(args, ctx),
            Command::Inpaint(args) => inpaint::run(args, ctx),
            Command::Analyze(args) => analyze::run(args, ctx),
            Command::Demo(args) => demo::run(args, ctx),
            Command::Csc(args) => csc::run(args, ctx),
            Command::Cdl(args) => cdl::run(args, ctx),
        }
    }
}
