//! Figures as PNG files: line plots (e.g. the objective per iteration, with an
//! optional log y axis), histograms, bar charts, and two image layouts: an
//! atom grid (a dictionary's atoms as small tiles) and image panels side by
//! side (e.g. noisy / denoised / clean).
//!
//! Charts are drawn with plotters into a pixel buffer; text uses the DejaVu
//! Sans font embedded in the binary (`assets/DejaVuSans.ttf`, Bitstream Vera
//! license beside it), so no system font is needed. Every file is written
//! atomically through [`crate::io`].
//!
//! ```
//! use sparsecode_cli::plot::{line_plot, Series};
//! let dir = tempfile::tempdir().unwrap();
//! let objective = [10.0, 3.0, 1.5, 1.2, 1.1];
//! let path = dir.path().join("objective.png");
//! line_plot(&path, "Objective", "iteration", "objective", &[Series::new("train", &objective)], true).unwrap();
//! assert!(path.exists());
//! ```

use crate::io;
use anyhow::{anyhow, bail};
use faer::MatRef;
use ndarray::{Array2, ArrayView2};
use plotters::coord::ranged1d::{AsRangedCoord, ValueFormatter};
use plotters::prelude::*;
use sparsecode::Float;
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

/// Size of every chart, in pixels.
const CHART_SIZE: (u32, u32) = (900, 600);
const FONT_FAMILY: &str = "sans-serif";
static FONT: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");
static FONT_REGISTERED: OnceLock<bool> = OnceLock::new();

/// Colours of successive series.
const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// Makes the embedded font plotters' `sans-serif` (once per process).
fn register_font() -> anyhow::Result<()> {
    let ok =
        *FONT_REGISTERED.get_or_init(|| plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT).is_ok());
    if !ok {
        bail!("the embedded font assets/DejaVuSans.ttf is not a valid TrueType font");
    }
    Ok(())
}

/// Draws into an RGB buffer of [`CHART_SIZE`] and writes it as PNG.
fn render(
    path: &Path,
    draw: impl FnOnce(&DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    register_font()?;
    let (w, h) = CHART_SIZE;
    let mut buffer = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buffer, (w, h)).into_drawing_area();
        root.fill(&WHITE).map_err(plot_error)?;
        draw(&root)?;
        root.present().map_err(plot_error)?;
    }
    io::write_png_bytes(path, w as usize, h as usize, image::ExtendedColorType::Rgb8, &buffer)
}

fn plot_error(err: impl std::fmt::Display) -> anyhow::Error {
    anyhow!("drawing failed: {err}")
}

/// The range of the finite values, widened when they are all equal.
fn finite_range(values: impl Iterator<Item = f64>) -> Option<Range<f64>> {
    let (lo, hi) =
        values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| (a.min(v), b.max(v)));
    if lo > hi {
        return None;
    }
    let pad = if hi > lo { 0.05 * (hi - lo) } else { lo.abs().max(1.0) * 0.5 };
    Some(lo - pad..hi + pad)
}

/// One line of a [`line_plot`].
#[derive(Debug, Clone, Copy)]
pub struct Series<'a> {
    /// Legend text.
    pub label: &'a str,
    /// Abscissas; `None` means `1, 2, ..., y.len()` (iterations).
    pub x: Option<&'a [f64]>,
    /// Ordinates.
    pub y: &'a [f64],
}

impl<'a> Series<'a> {
    /// A series over iterations `1..=y.len()`.
    pub fn new(label: &'a str, y: &'a [f64]) -> Self {
        Self { label, x: None, y }
    }

    /// A series with explicit abscissas (same length as `y`).
    pub fn with_x(label: &'a str, x: &'a [f64], y: &'a [f64]) -> Self {
        Self { label, x: Some(x), y }
    }

    fn points(&self) -> Vec<(f64, f64)> {
        match self.x {
            Some(x) => x.iter().copied().zip(self.y.iter().copied()).collect(),
            None => self.y.iter().enumerate().map(|(i, &v)| ((i + 1) as f64, v)).collect(),
        }
    }
}

/// Writes a line plot of `series` to `path`. With `log_y`, the y axis is
/// logarithmic and points with `y <= 0` are left out.
pub fn line_plot(
    path: &Path,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series<'_>],
    log_y: bool,
) -> anyhow::Result<()> {
    for s in series {
        if s.x.is_some_and(|x| x.len() != s.y.len()) {
            bail!("series {:?} has {} x values but {} y values", s.label, s.x.map_or(0, <[f64]>::len), s.y.len());
        }
    }
    let keep = |y: f64| y.is_finite() && (!log_y || y > 0.0);
    let points: Vec<Vec<(f64, f64)>> =
        series.iter().map(|s| s.points().into_iter().filter(|&(x, y)| x.is_finite() && keep(y)).collect()).collect();
    let all = || points.iter().flatten();
    let Some(x_range) = finite_range(all().map(|p| p.0)) else {
        bail!("nothing to plot in {}: no finite{} values", path.display(), if log_y { " positive" } else { "" });
    };
    let y_values: Vec<f64> = all().map(|p| p.1).collect();
    render(path, |root| {
        if log_y {
            let lo = y_values.iter().copied().fold(f64::INFINITY, f64::min);
            let hi = y_values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let (lo, hi) = if hi > lo { (lo / 1.2, hi * 1.2) } else { (lo / 2.0, hi * 2.0) };
            draw_lines(root, title, x_label, y_label, series, &points, x_range, (lo..hi).log_scale())
        } else {
            let y_range = finite_range(y_values.iter().copied()).unwrap_or(0.0..1.0);
            draw_lines(root, title, x_label, y_label, series, &points, x_range, y_range)
        }
    })
}

#[allow(clippy::too_many_arguments)]
fn draw_lines<Y>(
    root: &DrawingArea<BitMapBackend<'_>, plotters::coord::Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series<'_>],
    points: &[Vec<(f64, f64)>],
    x_range: Range<f64>,
    y_range: Y,
) -> anyhow::Result<()>
where
    Y: AsRangedCoord<Value = f64>,
    Y::CoordDescType: ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FONT_FAMILY, 24))
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(80)
        .build_cartesian_2d(x_range, y_range)
        .map_err(plot_error)?;
    chart.configure_mesh().x_desc(x_label).y_desc(y_label).label_style((FONT_FAMILY, 14)).draw().map_err(plot_error)?;
    for (i, (s, pts)) in series.iter().zip(points).enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        chart
            .draw_series(LineSeries::new(pts.iter().copied(), color.stroke_width(2)))
            .map_err(plot_error)?
            .label(s.label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(2)));
    }
    if series.len() > 1 || series.first().is_some_and(|s| !s.label.is_empty()) {
        chart
            .configure_series_labels()
            .label_font((FONT_FAMILY, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK)
            .draw()
            .map_err(plot_error)?;
    }
    Ok(())
}

/// Writes a histogram of the finite `values` in `bins` equal-width bins.
pub fn histogram(path: &Path, title: &str, x_label: &str, values: &[f64], bins: usize) -> anyhow::Result<()> {
    if bins == 0 {
        bail!("a histogram needs at least one bin");
    }
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    let Some(range) = finite_range(finite.iter().copied()) else {
        bail!("nothing to plot in {}: no finite values", path.display());
    };
    let width = (range.end - range.start) / bins as f64;
    let mut counts = vec![0usize; bins];
    for v in &finite {
        let k = (((v - range.start) / width) as usize).min(bins - 1);
        counts[k] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(0).max(1) as f64 * 1.05;
    render(path, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT_FAMILY, 24))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(range.clone(), 0.0..top)
            .map_err(plot_error)?;
        chart
            .configure_mesh()
            .x_desc(x_label)
            .y_desc("count")
            .label_style((FONT_FAMILY, 14))
            .draw()
            .map_err(plot_error)?;
        let bars = counts.iter().enumerate().map(|(k, &c)| {
            let x0 = range.start + k as f64 * width;
            Rectangle::new([(x0, 0.0), (x0 + width, c as f64)], PALETTE[0].filled())
        });
        chart.draw_series(bars).map_err(plot_error)?;
        Ok(())
    })
}

/// Writes a bar chart: one bar per `(label, value)`.
pub fn bar_chart(path: &Path, title: &str, y_label: &str, labels: &[String], values: &[f64]) -> anyhow::Result<()> {
    if labels.len() != values.len() {
        bail!("a bar chart needs one label per value ({} labels, {} values)", labels.len(), values.len());
    }
    if values.is_empty() {
        bail!("nothing to plot in {}: no bars", path.display());
    }
    let lo = values.iter().copied().filter(|v| v.is_finite()).fold(0.0, f64::min);
    let hi = values.iter().copied().filter(|v| v.is_finite()).fold(0.0, f64::max);
    let pad = if hi > lo { 0.05 * (hi - lo) } else { 1.0 };
    let n = values.len();
    render(path, |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT_FAMILY, 24))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(80)
            .build_cartesian_2d(-0.5..n as f64 - 0.5, (lo - if lo < 0.0 { pad } else { 0.0 })..hi + pad)
            .map_err(plot_error)?;
        let label_of = |x: &f64| {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < n {
                labels[i as usize].clone()
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(n)
            .x_label_formatter(&label_of)
            .y_desc(y_label)
            .label_style((FONT_FAMILY, 14))
            .draw()
            .map_err(plot_error)?;
        let bars = values.iter().enumerate().filter(|(_, v)| v.is_finite()).map(|(i, &v)| {
            let x = i as f64;
            Rectangle::new([(x - 0.4, 0.0), (x + 0.4, v)], PALETTE[i % PALETTE.len()].filled())
        });
        chart.draw_series(bars).map_err(plot_error)?;
        Ok(())
    })
}

/// Tiles the atoms (rows of `atoms`, each an `h x w` patch in row-major order)
/// into a grid image and writes it as PNG: `ceil(sqrt(n))` columns, one-pixel
/// white separators, each atom's values mapped linearly from its own
/// `[min, max]` to `[0, 1]` (a constant atom is mid-gray), every pixel enlarged
/// to a square of `zoom x zoom` so that small atoms stay visible.
pub fn atom_grid<T: Float>(path: &Path, atoms: MatRef<'_, T>, h: usize, w: usize) -> anyhow::Result<()> {
    let n = atoms.nrows();
    if n == 0 || h == 0 || w == 0 {
        bail!("cannot draw an atom grid of {n} atoms of {h} x {w}");
    }
    if atoms.ncols() != h * w {
        bail!("atoms have {} values each, which is not {h} x {w} = {}", atoms.ncols(), h * w);
    }
    let cols = (n as f64).sqrt().ceil() as usize;
    let rows = n.div_ceil(cols);
    let zoom = (512 / (cols * (w + 1))).clamp(1, 16);
    let (cell_h, cell_w) = (h * zoom + 1, w * zoom + 1);
    let mut grid = Array2::from_elem((rows * cell_h + 1, cols * cell_w + 1), 1.0);
    for a in 0..n {
        let atom: Vec<f64> = atoms.row(a).iter().map(|v| v.as_f64()).collect();
        let lo = atom.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = atom.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let (top, left) = ((a / cols) * cell_h + 1, (a % cols) * cell_w + 1);
        for y in 0..h * zoom {
            for x in 0..w * zoom {
                let v = atom[(y / zoom) * w + x / zoom];
                grid[(top + y, left + x)] = if hi > lo { (v - lo) / (hi - lo) } else { 0.5 };
            }
        }
    }
    io::write_png(path, grid.view())
}

/// Places gray images (values in `[0, 1]`, clamped) left to right with an
/// 8-pixel white gap, top-aligned, and writes them as one PNG.
pub fn side_by_side(path: &Path, panels: &[ArrayView2<'_, f64>]) -> anyhow::Result<()> {
    const GAP: usize = 8;
    if panels.is_empty() || panels.iter().any(|p| p.is_empty()) {
        bail!("side_by_side needs at least one non-empty image");
    }
    let height = panels.iter().map(|p| p.nrows()).max().unwrap_or(0);
    let width = panels.iter().map(|p| p.ncols()).sum::<usize>() + GAP * (panels.len() - 1);
    let mut out = Array2::from_elem((height, width), 1.0);
    let mut left = 0;
    for p in panels {
        out.slice_mut(ndarray::s![..p.nrows(), left..left + p.ncols()]).assign(p);
        left += p.ncols() + GAP;
    }
    io::write_png(path, out.view())
}
