//! The library half of the `sparsecode` command-line tool: the subcommands and
//! the shared infrastructure they are built from. The binary (`main.rs`) only
//! parses the command line and calls [`commands::Command::run`].
//!
//! - [`commands`]: one file per subcommand, each with `Args` and `run`.
//! - [`context`]: global flags (`--threads`, `--quiet`, `--seed`) and helpers.
//! - [`io`]: `.npy`/`.npz`, images, WAV and JSON, read with clear errors and
//!   written atomically.
//! - [`progress`]: progress bars and spinners for long loops.
//! - [`plot`]: line plots, histograms, bar charts, atom grids and side-by-side
//!   image panels, as PNG.

pub mod commands;
pub mod context;
pub mod io;
pub mod model;
pub mod plot;
pub mod progress;
