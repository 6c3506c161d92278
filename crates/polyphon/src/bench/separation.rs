//! The separation U-Net against the same network in PyTorch, and `separate` end to end.

use std::fmt;
use std::path::PathBuf;
use std::time::Instant;

use polyphon_audio::read_channels;
use polyphon_models::separation::SEPARATION_BINS;

use super::{best_of, run_python_json, single_thread, write_test_signal};
use crate::{to_f32, Engine, Result, Separator};

/// Frames that `SeparationModel::masks` covers with exactly one window.
const ONE_WINDOW_FRAMES: usize = 384;

/// What to measure (`polyphon bench separation`'s flags).
#[derive(Debug, Clone)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct SeparationBench {
    /// Length of the generated file for the end-to-end run, in minutes.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 2.0))]
    pub minutes: f64,
    /// Windows fed to the networks alone per run.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 8))]
    pub windows: usize,
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

/// The measurements, printed as the table of `polyphon bench separation`.
pub struct SeparationTimes {
    /// Threads of the all-threads column (rayon's pool).
    pub threads: usize,
    /// Windows per second of the native engine, on one thread and on all.
    pub native: [f64; 2],
    /// Windows per second of burn's forward pass, on one thread and on all.
    pub burn: [f64; 2],
    /// Length of the generated file of the end-to-end run, minutes.
    pub minutes: f64,
    /// `separate` of the whole file without writing, seconds: native engine, then burn.
    pub end_to_end: [f64; 2],
    /// The peers' rates as `tools/bench_unet_torch.py` printed them.
    pub peers: Option<serde_json::Value>,
}

/// Times `separator`'s network on both engines and its whole pipeline (and the peers, with a
/// Python interpreter).
pub fn bench_separation(separator: &Separator, bench: &SeparationBench) -> Result<SeparationTimes> {
    let magnitudes: Vec<f32> = (0..ONE_WINDOW_FRAMES * (SEPARATION_BINS + 1))
        .map(|i| (i % 101) as f32 * 0.01)
        .collect();
    let threads = rayon::current_num_threads();
    let single = single_thread()?;
    let on_burn = separator.clone().with_engine(Engine::Burn)?;
    let on_native = separator.clone().with_engine(Engine::Native)?;
    let rates = |separator: &Separator| -> Result<[f64; 2]> {
        let windows = || -> Result<()> {
            for _ in 0..bench.windows {
                separator.model().masks(&magnitudes, ONE_WINDOW_FRAMES)?;
            }
            Ok(())
        };
        // One run more than asked: the first warms the caches and the allocator.
        let repeat = bench.repeat.max(1) + 1;
        let one = best_of(repeat, || single.install(windows))?;
        let all = best_of(repeat, windows)?;
        Ok([bench.windows as f64 / one, bench.windows as f64 / all])
    };
    let (native, burn) = (rates(&on_native)?, rates(&on_burn)?);
    let peers = match bench.skip_python {
        true => None,
        false => {
            let python = &bench.python;
            let (windows, repeat) = (bench.windows.to_string(), bench.repeat.to_string());
            let all = threads.to_string();
            let args = [
                "--windows",
                &windows,
                "--repeat",
                &repeat,
                "--threads",
                "1",
                &all,
            ];
            let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
            Some(run_python_json(python, "bench_unet_torch.py", &args)?)
        }
    };

    let temp = tempfile::tempdir().map_err(crate::Error::io(std::env::temp_dir()))?;
    let input = temp.path().join("bench.wav");
    write_test_signal(&input, bench.minutes)?;
    let end_to_end = |separator: &Separator| -> Result<f64> {
        let start = Instant::now();
        let audio = read_channels(&input)?;
        separator.separate(&to_f32(audio.channels), audio.sample_rate)?;
        Ok(start.elapsed().as_secs_f64())
    };
    Ok(SeparationTimes {
        threads,
        native,
        burn,
        minutes: bench.minutes,
        end_to_end: [end_to_end(&on_native)?, end_to_end(&on_burn)?],
        peers,
    })
}

impl fmt::Display for SeparationTimes {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let (native, threads) = (self.native, self.threads);
        writeln!(
            f,
            "U-Net inference, 512-frame windows (8.2 s of audio each), windows/s (best of runs)"
        )?;
        writeln!(
            f,
            "{:<24} {:>10} {:>10} {:>16} {:>16}",
            "runtime",
            "1 thread",
            format!("{threads} threads"),
            "native/it 1 thr",
            format!("native/it {threads} thr")
        )?;
        let row = |f: &mut fmt::Formatter, name: &str, rates: [f64; 2]| {
            writeln!(
                f,
                "{name:<24} {:>10.2} {:>10.2} {:>15.2}x {:>15.2}x",
                rates[0],
                rates[1],
                native[0] / rates[0],
                native[1] / rates[1]
            )
        };
        row(f, "polyphon native", native)?;
        row(f, "polyphon burn (flex)", self.burn)?;
        if let Some(peers) = &self.peers {
            let rate = |t: usize| peers[format!("torch_{t}")].as_f64().unwrap_or(f64::NAN);
            let version = peers["torch_version"].as_str().unwrap_or("");
            row(f, &format!("PyTorch {version}"), [rate(1), rate(threads)])?;
        }
        writeln!(
            f,
            "\nseparate end to end ({:.1} min stereo 44.1 kHz, {threads} threads, without writing)",
            self.minutes
        )?;
        for (engine, seconds) in ["native", "burn"].iter().zip(self.end_to_end) {
            writeln!(
                f,
                "{:<24} {:>8.1} s {:>8.1}x realtime {:>8.2}x the native run's time",
                format!("polyphon separate ({engine})"),
                seconds,
                self.minutes * 60.0 / seconds,
                seconds / self.end_to_end[0]
            )?;
        }
        Ok(())
    }
}
