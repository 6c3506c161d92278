//! Writing one labelled audio file (WAV + CSV + MIDI), recognising finished ones, and running
//! many such jobs in parallel with a progress bar.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use polyphon_audio::{write_wav, WavFormat};
use rayon::prelude::*;

use crate::{Result, SynthError};
use polyphon_core::{read_csv, write_csv, write_midi, Note};

/// The three files of one example, sharing a stem: `<stem>.wav`, `<stem>.csv`, `<stem>.mid`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExamplePaths {
    /// Relative to the data set's root, without extension (used in the manifest).
    pub stem: String,
    pub wav: PathBuf,
    pub csv: PathBuf,
    pub midi: PathBuf,
}

impl ExamplePaths {
    pub fn new(root: &Path, stem: impl Into<String>) -> Self {
        let stem = stem.into();
        Self {
            wav: root.join(format!("{stem}.wav")),
            csv: root.join(format!("{stem}.csv")),
            midi: root.join(format!("{stem}.mid")),
            stem,
        }
    }

    pub fn wav_name(&self) -> String {
        format!("{}.wav", self.stem)
    }
    pub fn csv_name(&self) -> String {
        format!("{}.csv", self.stem)
    }
    pub fn midi_name(&self) -> String {
        format!("{}.mid", self.stem)
    }
}

/// What a finished example holds, whether rendered now or found from an earlier run.
#[derive(Debug, Clone, PartialEq)]
pub struct Example {
    pub duration: f64,
    pub notes: Vec<Note>,
    /// `true` when the files were already there and nothing was rendered.
    pub reused: bool,
}

/// The example if all three files exist (each was written atomically, so existing means
/// complete); `None` if any is missing.
pub fn finished_example(paths: &ExamplePaths) -> Option<Result<Example>> {
    if !(paths.wav.exists() && paths.csv.exists() && paths.midi.exists()) {
        return None;
    }
    Some(read_finished(paths))
}

fn read_finished(paths: &ExamplePaths) -> Result<Example> {
    let reader = hound::WavReader::open(&paths.wav).map_err(|e| SynthError::Render {
        path: paths.wav.clone(),
        detail: format!("cannot read the existing WAV header: {e}"),
    })?;
    let spec = reader.spec();
    let duration = reader.duration() as f64 / spec.sample_rate as f64;
    Ok(Example {
        duration,
        notes: read_csv(&paths.csv)?,
        reused: true,
    })
}

/// Writes labels first and audio last, each atomically, so a killed run leaves either a
/// finished example or one that the next run redoes.
pub fn write_example(
    paths: &ExamplePaths,
    audio: &[f32],
    sample_rate: u32,
    notes: &[Note],
    program: u8,
) -> Result<Example> {
    if let Some(parent) = paths.wav.parent() {
        std::fs::create_dir_all(parent).map_err(SynthError::io(parent))?;
    }
    write_csv(&paths.csv, notes)?;
    write_midi(&paths.midi, notes, program, &paths.stem)?;
    write_wav(&paths.wav, audio, sample_rate, 1, WavFormat::Int16)?;
    Ok(Example {
        duration: audio.len() as f64 / sample_rate as f64,
        notes: notes.to_vec(),
        reused: false,
    })
}

/// Deletes the temporary files (`.<name>.partial-<pid>`) that a killed run left under `root`,
/// unless the process that writes them is still running. Returns how many were removed.
pub fn remove_stale_partials(root: &Path) -> usize {
    let mut removed = 0;
    let mut folders = vec![root.to_path_buf()];
    while let Some(folder) = folders.pop() {
        let Ok(entries) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                folders.push(path);
            } else if is_stale_partial(&path) && std::fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}

fn is_stale_partial(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let Some((_, pid)) = name.rsplit_once(".partial-") else {
        return false;
    };
    let writer_alive = pid.parse::<u32>().is_ok_and(|pid| {
        pid == std::process::id() || Path::new("/proc").join(pid.to_string()).exists()
    });
    name.starts_with('.') && !writer_alive
}

/// The outcome of running a list of jobs.
#[derive(Debug)]
pub struct RunResult<T> {
    /// Leftovers of killed runs deleted before starting.
    pub stale_removed: usize,
    /// Each successful job with its output, in the jobs' order.
    pub done: Vec<(T, Example)>,
    /// One line per failed job, naming it and the cause.
    pub failures: Vec<String>,
    pub wall: Duration,
}

impl<T> RunResult<T> {
    pub fn rendered(&self) -> usize {
        self.done.iter().filter(|(_, e)| !e.reused).count()
    }
    pub fn reused(&self) -> usize {
        self.done.iter().filter(|(_, e)| e.reused).count()
    }
    /// Seconds of audio rendered in this run (not counting reused files).
    pub fn rendered_seconds(&self) -> f64 {
        self.done
            .iter()
            .filter(|(_, e)| !e.reused)
            .map(|(_, e)| e.duration)
            .sum()
    }
}

/// Runs `work` on every job in parallel (rayon) with a progress bar and ETA on stderr, after
/// deleting what killed runs left half-written under `root`.
///
/// A failing job is recorded in `failures` (with `describe(job)` naming it) and the others go
/// on: one bad piece never stops a run.
pub fn run_jobs<T, W, D>(
    root: &Path,
    jobs: Vec<T>,
    message: &str,
    work: W,
    describe: D,
) -> RunResult<T>
where
    T: Send + Sync,
    W: Fn(&T) -> Result<Example> + Sync,
    D: Fn(&T) -> String + Sync,
{
    let start = Instant::now();
    let stale_removed = remove_stale_partials(root);
    let bar = progress_bar(jobs.len() as u64, message);
    // Without a terminal (a log file, CI) indicatif draws nothing: log every tenth instead.
    let plain = !std::io::stderr().is_terminal();
    let outcomes: Vec<Result<Example>> = jobs
        .par_iter()
        .map(|job| {
            let outcome = work(job);
            advance(&bar, plain, message);
            outcome
        })
        .collect();
    bar.finish_and_clear();
    let mut done = Vec::new();
    let mut failures = Vec::new();
    for (job, outcome) in jobs.into_iter().zip(outcomes) {
        match outcome {
            Ok(example) => done.push((job, example)),
            Err(error) => failures.push(format!("{}: {error}", describe(&job))),
        }
    }
    RunResult {
        stale_removed,
        done,
        failures,
        wall: start.elapsed(),
    }
}

fn advance(bar: &ProgressBar, plain: bool, message: &str) {
    bar.inc(1);
    let (done, total) = (bar.position(), bar.length().unwrap_or(0));
    let step = total.div_ceil(10).max(1);
    if plain && total >= 20 && (done % step == 0 || done == total) {
        eprintln!(
            "{message}: {done}/{total} files, {:.0} s elapsed, ETA {:.0} s",
            bar.elapsed().as_secs_f64(),
            bar.eta().as_secs_f64()
        );
    }
}

fn progress_bar(len: u64, message: &str) -> ProgressBar {
    let bar = ProgressBar::new(len);
    let style = ProgressStyle::with_template(
        "{msg} [{bar:40}] {pos}/{len} files, {elapsed_precise} elapsed, ETA {eta_precise}",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(message.to_string());
    bar
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_of_dead_writers_are_removed() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("a");
        std::fs::create_dir(&sub).unwrap();
        // PID 4294967295 cannot be running; our own PID is.
        let dead = sub.join(".x.wav.partial-4294967295");
        let alive = sub.join(format!(".y.wav.partial-{}", std::process::id()));
        let kept = sub.join("z.wav");
        for path in [&dead, &alive, &kept] {
            std::fs::write(path, b"x").unwrap();
        }
        assert_eq!(remove_stale_partials(dir.path()), 1);
        assert!(!dead.exists() && alive.exists() && kept.exists());
    }
}
