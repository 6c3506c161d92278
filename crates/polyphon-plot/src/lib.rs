//! Charts for polyphon's reports, drawn with plotters into PNG files: line charts (training
//! curves, timelines), grouped bar charts (the entanglement analysis), the confusion matrix.
//!
//! plotters needs a font to draw any text. System fonts differ between machines (and a bare CI
//! image has none), so DejaVu Sans (`assets/fonts`, its licence beside it) is compiled in and
//! registered once as plotters' `sans-serif` through its pure-Rust `ab_glyph` renderer.
//! Every chart is written to a temporary name and renamed, so no half-written PNG is left.

mod bars;
mod lines;

use std::path::{Path, PathBuf};
use std::sync::Once;

use image::ImageEncoder;
use plotters::prelude::*;

pub use bars::{grouped_bars_png, BarGroup};
pub use lines::{line_chart, Series};
/// plotters' colour type, for the series of a chart.
pub use plotters::style::RGBColor;

/// Why a chart could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {detail}")]
pub struct PlotError {
    pub path: PathBuf,
    pub detail: String,
}

pub type Result<T> = std::result::Result<T, PlotError>;

static FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// Registers the bundled font (once per process).
pub fn ensure_font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        plotters::style::register_font("sans-serif", FontStyle::Normal, FONT)
            .unwrap_or_else(|_| panic!("the bundled DejaVu Sans is a valid font"));
    });
}

/// Draws a `width`×`height` PNG at `path` with `draw`, atomically.
pub fn save_png<F>(path: &Path, width: u32, height: u32, draw: F) -> Result<()>
where
    F: FnOnce(
        &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    ) -> std::result::Result<(), String>,
{
    let error = |detail: String| PlotError {
        path: path.to_path_buf(),
        detail,
    };
    let bytes = render_png(width, height, draw).map_err(error)?;
    polyphon_core::write_atomically(path, &bytes)
        .map(drop)
        .map_err(|e| error(e.detail()))
}

/// Draws a `width`×`height` chart with `draw` and encodes it as PNG bytes in memory.
///
/// plotters draws into memory and the `image` crate the workspace already uses encodes the
/// PNG (plotters' own encoder would pull in a second, older `image`).
pub fn render_png<F>(width: u32, height: u32, draw: F) -> std::result::Result<Vec<u8>, String>
where
    F: FnOnce(
        &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    ) -> std::result::Result<(), String>,
{
    ensure_font();
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| e.to_string())
            .and_then(|_| draw(&root))
            .and_then(|_| root.present().map_err(|e| e.to_string()))?;
    }
    let mut bytes = Vec::new();
    image::codecs::png::PngEncoder::new(&mut bytes)
        .write_image(&pixels, width, height, image::ExtendedColorType::Rgb8)
        .map_err(|e| e.to_string())?;
    Ok(bytes)
}
