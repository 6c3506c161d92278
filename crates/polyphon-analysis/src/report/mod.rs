//! Writing an analysis to a folder: `combinations.csv`, `summary.json`, `shared.png`,
//! `unshared.png` and `report.md`.
//!
//! Everything is rendered in memory first and each file is then written under a temporary
//! name and renamed, so a failed run leaves no half-written file.

mod csv;
mod json;
mod markdown;

use std::path::{Path, PathBuf};

use crate::analysis::Group;
use crate::plot::bar_chart_png;
use crate::summary::EntanglementReport;
use crate::{AnalysisError, Result};

pub use csv::combinations_csv;
pub use json::summary_json;
pub use markdown::report_markdown;

pub const COMBINATIONS_CSV: &str = "combinations.csv";
pub const SUMMARY_JSON: &str = "summary.json";
pub const SHARED_PNG: &str = "shared.png";
pub const UNSHARED_PNG: &str = "unshared.png";
pub const REPORT_MD: &str = "report.md";

/// What the written report says besides the numbers.
#[derive(Debug, Clone)]
pub struct ReportOptions {
    /// How many of the most frequent combinations of each group the charts show.
    pub top: usize,
    /// What was analysed, in order: e.g. `("reference", ["a.csv"])`, `("fps", 100)`. Goes
    /// into `summary.json` as the `inputs` object and into `report.md` as a list.
    pub inputs: Vec<(String, serde_json::Value)>,
}

impl Default for ReportOptions {
    fn default() -> Self {
        Self {
            top: 10,
            inputs: Vec::new(),
        }
    }
}

/// Writes the five files into `dir` (created if missing) and returns their paths.
pub fn write_report(
    dir: &Path,
    report: &EntanglementReport,
    options: &ReportOptions,
) -> Result<Vec<PathBuf>> {
    let files: Vec<(&str, Vec<u8>)> = vec![
        (COMBINATIONS_CSV, combinations_csv(report).into_bytes()),
        (SUMMARY_JSON, summary_json(report, options).into_bytes()),
        (SHARED_PNG, chart_png(report, Group::Shared, options.top)?),
        (
            UNSHARED_PNG,
            chart_png(report, Group::Unshared, options.top)?,
        ),
        (REPORT_MD, report_markdown(report, options).into_bytes()),
    ];
    std::fs::create_dir_all(dir).map_err(|source| AnalysisError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut written = Vec::with_capacity(files.len());
    for (name, bytes) in files {
        let path = dir.join(name);
        polyphon_core::write_atomically(&path, &bytes)?;
        written.push(path);
    }
    Ok(written)
}

/// The title of a group's chart.
pub fn chart_title(report: &EntanglementReport, group: Group, top: usize) -> String {
    let (name, total) = match group {
        Group::Shared => ("shared", report.summary.shared.total.combinations),
        Group::Unshared => ("unshared", report.summary.unshared.total.combinations),
        Group::Silence => ("silence", report.summary.silence.combinations),
    };
    let shown = top.min(total);
    format!("{name} combinations: the {shown} most frequent of {total}")
}

fn chart_png(report: &EntanglementReport, group: Group, top: usize) -> Result<Vec<u8>> {
    let title = chart_title(report, group, top);
    bar_chart_png(&title, &report.top(group, top))
        .map_err(|e| AnalysisError::Invalid(format!("cannot draw the {title} chart: {e}")))
}

/// A share for tables: three decimals, `-` when there were no frames.
pub(crate) fn share_text(share: Option<f64>) -> String {
    share.map_or_else(|| "-".into(), |s| format!("{s:.3}"))
}
