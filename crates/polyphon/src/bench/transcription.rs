//! ConvNet inference against the same network in PyTorch and ONNX Runtime, and `transcribe`
//! end to end on one long file.

use std::fmt;
use std::path::PathBuf;
use std::time::Instant;

use polyphon_features::{Extractor, FeatureSpec};
use polyphon_models::transcription::DEFAULT_CHUNK_FRAMES;

use super::{best_of, run_python_json, single_thread, write_test_signal};
use crate::{Result, Transcriber};

/// What to measure (`polyphon bench transcription`'s flags).
#[derive(Debug, Clone)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct TranscriptionBench {
    /// Length of the generated file for the end-to-end run, in minutes.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 10.0))]
    pub minutes: f64,
    /// Frames fed to the networks alone.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 6000))]
    pub frames: usize,
    /// Python interpreter with the packages of tools/requirements-torch.txt.
    #[cfg_attr(
        feature = "cli",
        arg(long, default_value = "/opt/polyphon-torch-venv/bin/python")
    )]
    pub python: PathBuf,
    /// Time polyphon only.
    #[cfg_attr(feature = "cli", arg(long))]
    pub skip_python: bool,
    /// Runs per measurement; the best is reported.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 3))]
    pub repeat: usize,
}

/// The measurements, printed as the table of `polyphon bench transcription`.
pub struct TranscriptionTimes {
    /// Threads of the all-threads column (rayon's pool).
    pub threads: usize,
    /// Frames fed to the networks alone (as asked, at most the file's).
    pub frames: usize,
    /// Network frames per second, on one thread and on all.
    pub ours: [f64; 2],
    /// Length of the generated file of the end-to-end run, minutes.
    pub minutes: f64,
    /// `transcribe` of the whole file, seconds.
    pub end_to_end: f64,
    /// The peers' rates as `tools/bench_convnet_torch.py` printed them.
    pub peers: Option<serde_json::Value>,
}

/// Times `transcriber`'s network and whole pipeline (and the peers, with a Python interpreter).
pub fn bench_transcription(
    transcriber: &Transcriber,
    bench: &TranscriptionBench,
) -> Result<TranscriptionTimes> {
    let model = transcriber.model();
    let temp = tempfile::tempdir().map_err(crate::Error::io(std::env::temp_dir()))?;
    let input = temp.path().join("bench.wav");
    write_test_signal(&input, bench.minutes)?;
    let features = Extractor::new(FeatureSpec::kelz2016())?.extract_file(&input, true)?;
    let frames = bench.frames.min(features.num_frames);
    let rows = &features.values[..frames * features.num_bins];
    let threads = rayon::current_num_threads();
    let single = single_thread()?;
    // One run more than asked: the first warms the caches and the allocator.
    let repeat = bench.repeat.max(1) + 1;
    let one = best_of(repeat, || {
        Ok(single.install(|| model.predict(rows, frames)).map(|_| ())?)
    })?;
    let all = best_of(repeat, || Ok(model.predict(rows, frames).map(|_| ())?))?;

    let start = Instant::now();
    transcriber.transcribe_file(&input)?;
    let end_to_end = start.elapsed().as_secs_f64();

    let peers = match bench.skip_python {
        true => None,
        false => {
            let python = &bench.python;
            let (frames, repeat) = (frames.to_string(), bench.repeat.to_string());
            let (batch, threads) = (DEFAULT_CHUNK_FRAMES.to_string(), threads.to_string());
            let args = [
                "--frames",
                &frames,
                "--batch",
                &batch,
                "--repeat",
                &repeat,
                "--threads",
                "1",
                &threads,
            ];
            let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
            Some(run_python_json(python, "bench_convnet_torch.py", &args)?)
        }
    };
    Ok(TranscriptionTimes {
        threads,
        frames,
        ours: [frames as f64 / one, frames as f64 / all],
        minutes: bench.minutes,
        end_to_end,
        peers,
    })
}

impl fmt::Display for TranscriptionTimes {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let (ours, threads) = (self.ours, self.threads);
        writeln!(
            f,
            "ConvNet inference, {} frames in batches of {DEFAULT_CHUNK_FRAMES}, frames/s (best of runs)",
            self.frames
        )?;
        writeln!(
            f,
            "{:<26} {:>12} {:>12} {:>14} {:>14}",
            "runtime",
            "1 thread",
            format!("{threads} threads"),
            "ours/it 1 thr",
            format!("ours/it {threads} thr")
        )?;
        writeln!(
            f,
            "{:<26} {:>12.0} {:>12.0}",
            "polyphon (burn flex)", ours[0], ours[1]
        )?;
        if let Some(peers) = &self.peers {
            for (key, name) in [("torch", "PyTorch"), ("onnxruntime", "ONNX Runtime")] {
                let (Some(one), Some(all)) = (
                    peers[format!("{key}_1")].as_f64(),
                    peers[format!("{key}_{threads}")].as_f64(),
                ) else {
                    continue;
                };
                let version = peers[format!("{key}_version")].as_str().unwrap_or("");
                writeln!(
                    f,
                    "{:<26} {:>12.0} {:>12.0} {:>13.2}x {:>13.2}x",
                    format!("{name} {version}"),
                    one,
                    all,
                    ours[0] / one,
                    ours[1] / all
                )?;
            }
        }
        writeln!(
            f,
            "transcribe end to end ({:.1} min file, {threads} threads): {:.1} s, {:.1}x realtime",
            self.minutes,
            self.end_to_end,
            self.minutes * 60.0 / self.end_to_end
        )
    }
}
