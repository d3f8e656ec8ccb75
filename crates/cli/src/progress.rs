//! Progress bars for long loops (indicatif), drawn on stderr.
//!
//! Two shapes: [`bar`] over a known number of items, with rate and ETA, and
//! [`spinner`] for loops of unknown length, whose message the loop updates
//! (e.g. `iteration 12, objective 3.1e2`). Both are hidden when `hidden` is
//! true (`--quiet`) or stderr is not a terminal, so that logs and pipes stay
//! clean; calling them costs nothing then. Subcommands usually go through
//! [`crate::context::Context::bar`] and [`crate::context::Context::spinner`].
//!
//! ```ignore
//! let bar = ctx.bar(n_signals as u64, "encoding");
//! for chunk in chunks { /* ... */ bar.inc(chunk.len() as u64); }
//! bar.finish_and_clear();
//!
//! let spin = ctx.spinner("learning");
//! for it in 0..max_iter { /* ... */ spin.set_message(format!("iteration {it}, objective {obj:.4e}")); spin.tick(); }
//! spin.finish_and_clear();
//! ```

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

fn visible(hidden: bool) -> bool {
    !hidden && std::io::stderr().is_terminal()
}

/// A bar over `len` items, labelled `label`, showing position, rate and ETA.
pub fn bar(len: u64, label: &str, hidden: bool) -> ProgressBar {
    if !visible(hidden) {
        return ProgressBar::hidden();
    }
    let style =
        ProgressStyle::with_template("{prefix:>12} [{bar:40}] {human_pos}/{human_len} ({per_sec}, ETA {eta}) {msg}")
            .expect("the bar template is a valid constant")
            .progress_chars("=> ");
    let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    pb.set_style(style);
    pb.set_prefix(label.to_string());
    pb
}

/// A spinner labelled `label`; set its message with `set_message` as the loop
/// advances. It ticks on its own every 100 ms.
pub fn spinner(label: &str, hidden: bool) -> ProgressBar {
    if !visible(hidden) {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template("{prefix:>12} {spinner} [{elapsed}] {msg}")
        .expect("the spinner template is a valid constant");
    let pb = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
    pb.set_style(style);
    pb.set_prefix(label.to_string());
    pb.enable_steady_tick(Duration::from_millis(100));
    pb
}

/// Shows a dictionary learner's progress on `bar` (iteration out of
/// `max_iter`, current objective) and lets the learner go on: the callback
/// the CLI hands to the learners of `sparsecode::learn`.
pub fn show_learning(bar: &ProgressBar, p: &sparsecode::learn::Progress) -> std::ops::ControlFlow<()> {
    bar.set_length(p.max_iter as u64);
    bar.set_position(p.iteration as u64);
    bar.set_message(format!("objective {:.4e}", p.objective));
    std::ops::ControlFlow::Continue(())
}
