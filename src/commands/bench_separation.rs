//! `polyphon bench separation`: the U-Net against the same network in PyTorch, and
//! `separate` end to end.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Result;
use clap::Args;
use polyphon_audio::read_channels;
use polyphon_models::separation::SEPARATION_BINS;

use super::bench::{run_python_json, write_test_signal};

#[derive(Args, Debug)]
pub struct SeparationBench {
    /// Length of the generated file for the end-to-end run, in minutes.
    #[arg(long, default_value_t = 2.0)]
    pub minutes: f64,
    /// Windows fed to the networks alone per run.
    #[arg(long, default_value_t = 8)]
    pub windows: usize,
    /// Python interpreter with the packages of tools/requirements-torch.txt.
    #[arg(long, default_value = "/opt/polyphon-torch-venv/bin/python")]
    pub python: PathBuf,
    /// Time polyphon only.
    #[arg(long)]
    pub skip_python: bool,
    /// Runs per measurement; the best is reported.
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
}

/// Frames that `SeparationModel::masks` covers with exactly one window.
const ONE_WINDOW_FRAMES: usize = 384;

pub fn run(bench: SeparationBench) -> Result<()> {
    let model = crate::bundled::separation_model(None)?;
    let magnitudes: Vec<f32> = (0..ONE_WINDOW_FRAMES * (SEPARATION_BINS + 1))
        .map(|i| (i % 101) as f32 * 0.01)
        .collect();
    let threads = rayon::current_num_threads();
    let single = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let rate = |pool: Option<&rayon::ThreadPool>| -> Result<f64> {
        let run = || -> Result<()> {
            for _ in 0..bench.windows {
                model.masks(&magnitudes, ONE_WINDOW_FRAMES)?;
            }
            Ok(())
        };
        let mut best = f64::INFINITY;
        for _ in 0..bench.repeat.max(1) + 1 {
            let start = Instant::now();
            match pool {
                Some(pool) => pool.install(run)?,
                None => run()?,
            }
            best = best.min(start.elapsed().as_secs_f64());
        }
        Ok(bench.windows as f64 / best)
    };
    let ours = [rate(Some(&single))?, rate(None)?];
    let peers = if bench.skip_python {
        None
    } else {
        let (windows, repeat, all) = (
            bench.windows.to_string(),
            bench.repeat.to_string(),
            threads.to_string(),
        );
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
        Some(run_python_json(
            &bench.python,
            "tools/bench_unet_torch.py",
            &args,
        )?)
    };

    println!("U-Net inference, 512-frame windows (8.2 s of audio each), windows/s (best of runs)");
    println!(
        "{:<22} {:>10} {:>10} {:>14} {:>14}",
        "runtime",
        "1 thread",
        format!("{threads} threads"),
        "ours/it 1 thr",
        format!("ours/it {threads} thr")
    );
    println!(
        "{:<22} {:>10.2} {:>10.2}",
        "polyphon (burn flex)", ours[0], ours[1]
    );
    if let Some(peers) = peers {
        let one = peers["torch_1"].as_f64().unwrap_or(f64::NAN);
        let all = peers[format!("torch_{threads}")]
            .as_f64()
            .unwrap_or(f64::NAN);
        let version = peers["torch_version"].as_str().unwrap_or("");
        println!(
            "{:<22} {:>10.2} {:>10.2} {:>13.2}x {:>13.2}x",
            format!("PyTorch {version}"),
            one,
            all,
            ours[0] / one,
            ours[1] / all
        );
    }

    let temp = tempfile::tempdir()?;
    let input = temp.path().join("bench.wav");
    write_test_signal(&input, bench.minutes)?;
    let start = Instant::now();
    let audio = read_channels(&input)?;
    let channels = super::eval_separation::dataset::to_f32(audio.channels);
    super::separate::separate_signal(&model, 0, &channels, audio.sample_rate)?;
    let seconds = start.elapsed().as_secs_f64();
    println!(
        "separate end to end ({:.1} min stereo 44.1 kHz, {threads} threads, without writing): {seconds:.1} s, {:.1}x realtime",
        bench.minutes,
        bench.minutes * 60.0 / seconds
    );
    Ok(())
}
