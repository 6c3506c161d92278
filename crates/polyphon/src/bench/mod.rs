//! Speed of polyphon against its Python peers, measured in the same run on the same input:
//! each measurement is the best of several runs, on one thread and on all of rayon's.

mod frontend;
mod separation;
mod transcription;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use polyphon_audio::{write_wav, WavFormat};

pub use frontend::{bench_frontend, FrontendBench, FrontendTimes, Timing};
pub use separation::{bench_separation, SeparationBench, SeparationTimes};
pub use transcription::{
    bench_transcription, training_rate, EndToEnd, Rates, TrainingPath, TrainingRate,
    TranscriptionBench, TranscriptionTimes,
};

use crate::{invalid, Context, Error, Result};

/// The repository's `tools/` folder, where the peers' scripts are.
fn tools_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tools")
}

/// The best wall time of `repeat` runs of `run`, in seconds.
fn best_of(repeat: usize, mut run: impl FnMut() -> Result<()>) -> Result<f64> {
    let mut best = f64::INFINITY;
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        run()?;
        best = best.min(start.elapsed().as_secs_f64());
    }
    Ok(best)
}

/// A one-thread rayon pool, for the single-threaded columns.
fn single_thread() -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .map_err(|e| Error::Invalid(format!("cannot start a thread: {e}")))
}

/// Runs a `tools/` script (a path inside `tools/`) that prints its timings as one JSON object on its last line.
pub fn run_python_json(
    python: &Path,
    script: &str,
    args: &[&std::ffi::OsStr],
) -> Result<serde_json::Value> {
    let script = tools_dir().join(script);
    let output = Command::new(python)
        .arg(&script)
        .args(args)
        .env("OMP_NUM_THREADS", "1")
        .env("OPENBLAS_NUM_THREADS", "1")
        .env("MKL_NUM_THREADS", "1")
        .output()
        .map_err(Error::io(python))
        .context(|| {
            format!(
                "running {} (skip the Python peers without it)",
                python.display()
            )
        })?;
    if !output.status.success() {
        return invalid!(
            "{} failed: {}",
            script.display(),
            String::from_utf8_lossy(&output.stderr)
                .lines()
                .last()
                .unwrap_or("")
        );
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().unwrap_or("");
    serde_json::from_str(last)
        .map_err(|e| Error::Invalid(e.to_string()))
        .context(|| format!("reading the peers' timings from {last:?}"))
}

/// A deterministic stereo 16-bit test signal: decaying harmonic notes over faint noise.
pub fn write_test_signal(path: &Path, minutes: f64) -> Result<()> {
    let rate = 44_100usize;
    let frames = (minutes * 60.0 * rate as f64) as usize;
    let mut state = 0x2016_u32;
    let mut samples = Vec::with_capacity(frames * 2);
    for i in 0..frames {
        let t = i as f64 / rate as f64;
        let note_index = (t * 4.0) as usize;
        let since_onset = t - note_index as f64 / 4.0;
        let pitch = 36 + (note_index * 7) % 48;
        let f0 = 440.0 * 2f64.powf((pitch as f64 - 69.0) / 12.0);
        let tone: f64 = (1..=6)
            .map(|h| (2.0 * std::f64::consts::PI * f0 * h as f64 * t).sin() / h as f64)
            .sum::<f64>()
            * 0.2
            * (-since_onset * 3.0).exp();
        state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let noise = ((state >> 8) as f64 / (1u32 << 24) as f64 - 0.5) * 0.002;
        samples.push((tone + noise) as f32);
        samples.push((tone * 0.8 - noise) as f32);
    }
    write_wav(path, &samples, rate as u32, 2, WavFormat::Int16)?;
    Ok(())
}
