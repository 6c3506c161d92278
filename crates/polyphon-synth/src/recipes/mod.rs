//! The data sets `polyphon synth` renders. Each recipe plans its files deterministically from
//! the options and `seed`, renders what is missing in parallel, and writes its manifests.

pub mod ensembles;
pub mod fluid;
pub mod mixtures;
pub mod notes;
pub mod phrases;
pub mod pieces;

use std::path::PathBuf;
use std::time::Duration;

use crate::output::RunResult;
use crate::summary::Summary;

/// What a recipe did, for the command line to print.
#[derive(Debug, Default)]
pub struct RecipeReport {
    pub summary: Summary,
    pub manifests: Vec<PathBuf>,
    /// One line per file or instrument that failed and was skipped.
    pub failures: Vec<String>,
    /// Informational lines (synthesizers, levels, splits).
    pub info: Vec<String>,
    pub rendered_files: usize,
    /// Temporary files of killed runs that were deleted.
    pub stale_removed: usize,
    pub reused_files: usize,
    /// Seconds of audio rendered by this run (reused files not counted).
    pub rendered_seconds: f64,
    /// Distinct audio files and their seconds (a file listed in two manifests counts once).
    pub audio_files: usize,
    pub audio_seconds: f64,
    pub wall: Duration,
}

impl std::fmt::Display for RecipeReport {
    /// The data sets' table, the totals, and where the manifests are.
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        write!(f, "{}", self.summary.table())?;
        writeln!(
            f,
            "\n{} audio files ({:.2} h): {} rendered, {} already there, {} failed; {:.1} s of audio per second ({:.0} s wall)",
            self.audio_files,
            self.audio_seconds / 3600.0,
            self.rendered_files,
            self.reused_files,
            self.failures.len(),
            self.speed(),
            self.wall.as_secs_f64()
        )?;
        if self.stale_removed > 0 {
            let removed = self.stale_removed;
            writeln!(
                f,
                "removed {removed} half-written files left by killed runs"
            )?;
        }
        for manifest in &self.manifests {
            writeln!(f, "manifest: {}", manifest.display())?;
        }
        Ok(())
    }
}

impl RecipeReport {
    fn absorb<T>(&mut self, run: &RunResult<T>) {
        self.failures.extend(run.failures.iter().cloned());
        self.rendered_files += run.rendered();
        self.stale_removed += run.stale_removed;
        self.reused_files += run.reused();
        self.rendered_seconds += run.rendered_seconds();
        self.audio_files += run.done.len();
        self.audio_seconds += run.done.iter().map(|(_, e)| e.duration).sum::<f64>();
        self.wall += run.wall;
    }

    /// Audio seconds rendered per wall-clock second.
    pub fn speed(&self) -> f64 {
        self.rendered_seconds / self.wall.as_secs_f64().max(1e-9)
    }
}

/// A path-safe form of a synthesizer id (`FluidR3_GM:000:000` → `FluidR3_GM_000_000`).
pub(crate) fn path_safe(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}
