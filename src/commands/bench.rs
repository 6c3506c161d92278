//! `polyphon bench`: speed of polyphon against its Python peers, measured in the same run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use polyphon_audio::{write_wav, Downmix, MonoStream, WavFormat};
use polyphon_features::{Extractor, FeatureSpec, MelFilterbankParams, SpectrumKind};

/// Benchmarks that print a table of polyphon against its peers on the same input.
#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub which: Bench,
}

#[derive(Subcommand, Debug)]
pub enum Bench {
    /// Log-filtered spectrogram vs madmom and mel spectrogram vs librosa on one long file.
    #[command(after_help = "Example:
  polyphon bench frontend --minutes 10 --python /opt/polyphon-tools-venv/bin/python

The Python side is tools/bench_frontend.py (versions pinned in tools/requirements.txt).
Peers run with OMP/OPENBLAS/MKL threads set to 1, so the 1-thread columns compare like
with like; the last column uses every core for polyphon.")]
    Frontend(FrontendBench),
    /// ConvNet inference vs the same network in PyTorch and ONNX Runtime, and end-to-end
    /// `transcribe` speed on one long file.
    #[command(after_help = "Example:
  polyphon bench transcription --minutes 10 --python /opt/polyphon-torch-venv/bin/python

The Python side is tools/bench_convnet_torch.py (versions pinned in tools/requirements-torch.txt):
the same ConvNet with random weights, fed the same number of frames in the same batch size.
Rates are frames per second, best of --repeat; 100 frames are one second of audio.")]
    Transcription(TranscriptionBench),
    /// Separation U-Net inference vs the same network in PyTorch, and end-to-end `separate`
    /// speed on one long file.
    #[command(after_help = "Example:
  polyphon bench separation --minutes 2 --python /opt/polyphon-torch-venv/bin/python

The Python side is tools/bench_unet_torch.py (versions pinned in tools/requirements-torch.txt):
the same U-Net with random weights on 512-frame windows, one at a time, as `separate` runs
them. Rates are windows per second, best of --repeat; a window is 8.2 s of 16 kHz audio.")]
    Separation(super::bench_separation::SeparationBench),
}

#[derive(Args, Debug)]
pub struct TranscriptionBench {
    /// Length of the generated file for the end-to-end run, in minutes.
    #[arg(long, default_value_t = 10.0)]
    pub minutes: f64,
    /// Frames fed to the networks alone.
    #[arg(long, default_value_t = 6000)]
    pub frames: usize,
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

#[derive(Args, Debug)]
pub struct FrontendBench {
    /// Length of the generated test file, in minutes.
    #[arg(long, default_value_t = 10.0)]
    pub minutes: f64,
    /// Use this audio file instead of a generated one.
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Python interpreter with the packages of tools/requirements.txt.
    #[arg(long, default_value = "/opt/polyphon-tools-venv/bin/python")]
    pub python: PathBuf,
    /// Time polyphon only.
    #[arg(long)]
    pub skip_python: bool,
    /// Runs per measurement; the best is reported.
    #[arg(long, default_value_t = 3)]
    pub repeat: usize,
}

pub fn run(args: BenchArgs) -> Result<()> {
    match args.which {
        Bench::Frontend(bench) => frontend(bench),
        Bench::Transcription(bench) => transcription(bench),
        Bench::Separation(bench) => super::bench_separation::run(bench),
    }
}

struct Timing {
    one_thread: f64,
    all_threads: f64,
    frames: usize,
}

fn frontend(bench: FrontendBench) -> Result<()> {
    let temp = tempfile::tempdir()?;
    let input = match &bench.input {
        Some(path) => path.clone(),
        None => {
            let path = temp.path().join("bench.wav");
            write_test_signal(&path, bench.minutes)?;
            path
        }
    };
    let kelz = FeatureSpec::kelz2016();
    let mel = FeatureSpec::librosa_mel(
        44_100,
        2048,
        512,
        SpectrumKind::Power,
        MelFilterbankParams::default(),
        None,
    )?;
    let threads = rayon::current_num_threads();
    let decode_only = time_decoding(&input, bench.repeat)?;
    let ours_logfilt = time_polyphon(&kelz, &input, bench.repeat)?;
    let ours_mel = time_polyphon(&mel, &input, bench.repeat)?;
    let peers = if bench.skip_python {
        None
    } else {
        Some(time_peers(&bench.python, &input, bench.repeat)?)
    };
    println!(
        "input: {} ({:.1} min of audio); polyphon threads: 1 and {threads}",
        input.display(),
        ours_logfilt.frames as f64 / 6000.0
    );
    println!(
        "{:<34} {:>10} {:>10} {:>18} {:>10} {:>9} {:>9}",
        "front-end",
        "ours 1 thr",
        format!("ours {threads} thr"),
        "peer",
        "peer",
        "x (1 thr)",
        format!("x ({threads} thr)")
    );
    let peer = |key: &str| peers.as_ref().and_then(|p| p[key].as_f64());
    let version = |key: &str| {
        peers
            .as_ref()
            .and_then(|p| p[key].as_str().map(str::to_string))
            .unwrap_or_default()
    };
    println!(
        "{:<34} {:>9.3}s (decoding and down-mixing alone, included in every row)",
        "decode", decode_only
    );
    print_row(
        "logfilt (Kelz 2016, 229 bins)",
        &ours_logfilt,
        &format!("madmom {}", version("madmom")),
        peer("madmom_logfilt"),
    );
    print_row(
        "mel (librosa defaults, 44.1 kHz)",
        &ours_mel,
        &format!("librosa {}", version("librosa")),
        peer("librosa_mel"),
    );
    Ok(())
}

fn print_row(name: &str, ours: &Timing, peer_name: &str, peer: Option<f64>) {
    let ratio = |ours: f64| peer.map_or("-".to_string(), |p| format!("{:.1}x", p / ours));
    println!(
        "{:<34} {:>9.3}s {:>9.3}s {:>18} {:>10} {:>9} {:>9}",
        name,
        ours.one_thread,
        ours.all_threads,
        peer_name,
        peer.map_or("-".to_string(), |p| format!("{p:.3}s")),
        ratio(ours.one_thread),
        ratio(ours.all_threads)
    );
}

/// Best-of-`repeat` wall time of decoding `input` and computing `spec`, on 1 and on all threads.
fn time_polyphon(spec: &FeatureSpec, input: &Path, repeat: usize) -> Result<Timing> {
    let single = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let extractor = Extractor::new(spec.clone())?;
    let mut frames = 0;
    let mut measure = |pool: Option<&rayon::ThreadPool>| -> Result<f64> {
        let mut best = f64::INFINITY;
        for _ in 0..repeat.max(1) {
            let start = Instant::now();
            let matrix = match pool {
                // One rayon thread and no decoding thread: strictly single-threaded.
                Some(pool) => pool.install(|| extractor.extract_file(input, false))?,
                None => extractor.extract_file(input, true)?,
            };
            best = best.min(start.elapsed().as_secs_f64());
            frames = matrix.num_frames;
        }
        Ok(best)
    };
    let one_thread = measure(Some(&single))?;
    let all_threads = measure(None)?;
    Ok(Timing {
        one_thread,
        all_threads,
        frames,
    })
}

/// Best-of-`repeat` wall time of decoding `input` to mono without any front-end.
fn time_decoding(input: &Path, repeat: usize) -> Result<f64> {
    let mut best = f64::INFINITY;
    for _ in 0..repeat.max(1) {
        let start = Instant::now();
        let mut stream = MonoStream::open(input, None, Downmix::Madmom)?;
        let mut block = Vec::new();
        while stream.read_block(&mut block)? {
            block.clear();
        }
        best = best.min(start.elapsed().as_secs_f64());
    }
    Ok(best)
}

fn time_peers(python: &Path, input: &Path, repeat: usize) -> Result<serde_json::Value> {
    let repeat = repeat.to_string();
    run_python_json(
        python,
        "tools/bench_frontend.py",
        &[input.as_os_str(), "--repeat".as_ref(), repeat.as_ref()],
    )
}

/// Runs a `tools/` script that prints its timings as one JSON object on its last line.
pub(super) fn run_python_json(
    python: &Path,
    script: &str,
    args: &[&std::ffi::OsStr],
) -> Result<serde_json::Value> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(script);
    let output = Command::new(python)
        .arg(&script)
        .args(args)
        .env("OMP_NUM_THREADS", "1")
        .env("OPENBLAS_NUM_THREADS", "1")
        .env("MKL_NUM_THREADS", "1")
        .output()
        .with_context(|| {
            format!(
                "running {} (use --skip-python without it)",
                python.display()
            )
        })?;
    if !output.status.success() {
        bail!(
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
    serde_json::from_str(last).with_context(|| format!("reading the peers' timings from {last:?}"))
}

fn transcription(bench: TranscriptionBench) -> Result<()> {
    let model = crate::bundled::transcription_model(None)?;
    let temp = tempfile::tempdir()?;
    let input = temp.path().join("bench.wav");
    write_test_signal(&input, bench.minutes)?;
    let features = Extractor::new(FeatureSpec::kelz2016())?.extract_file(&input, true)?;
    let frames = bench.frames.min(features.num_frames);
    let rows = &features.values[..frames * features.num_bins];
    let threads = rayon::current_num_threads();
    let single = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let rate = |pool: Option<&rayon::ThreadPool>| -> Result<f64> {
        let mut best = f64::INFINITY;
        for _ in 0..bench.repeat.max(1) + 1 {
            let start = Instant::now();
            match pool {
                Some(pool) => pool.install(|| model.predict(rows, frames))?,
                None => model.predict(rows, frames)?,
            };
            best = best.min(start.elapsed().as_secs_f64());
        }
        Ok(frames as f64 / best)
    };
    let ours = [rate(Some(&single))?, rate(None)?];

    let rule = polyphon_decode::NoteDecoder::default();
    let decoder = super::transcribe::note_decoder(
        &model,
        rule.threshold,
        rule.min_frames,
        rule.max_gap_frames,
    );
    let outputs = super::transcribe::Outputs {
        midi: Some(temp.path().join("bench.mid")),
        ..Default::default()
    };
    let start = Instant::now();
    super::transcribe::transcribe_file(&model, &decoder, &input, &outputs)?;
    let end_to_end = start.elapsed().as_secs_f64();

    let peers = if bench.skip_python {
        None
    } else {
        let (frames, repeat) = (frames.to_string(), bench.repeat.to_string());
        let batch = polyphon_models::DEFAULT_CHUNK_FRAMES.to_string();
        let threads = threads.to_string();
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
        Some(run_python_json(
            &bench.python,
            "tools/bench_convnet_torch.py",
            &args,
        )?)
    };
    print_inference_table(&ours, threads, frames, peers.as_ref());
    println!(
        "transcribe end to end ({:.1} min file, {threads} threads): {end_to_end:.1} s, {:.1}x realtime",
        bench.minutes,
        bench.minutes * 60.0 / end_to_end
    );
    Ok(())
}

fn print_inference_table(
    ours: &[f64; 2],
    threads: usize,
    frames: usize,
    peers: Option<&serde_json::Value>,
) {
    println!(
        "ConvNet inference, {frames} frames in batches of {}, frames/s (best of runs)",
        polyphon_models::DEFAULT_CHUNK_FRAMES
    );
    println!(
        "{:<26} {:>12} {:>12} {:>14} {:>14}",
        "runtime",
        "1 thread",
        format!("{threads} threads"),
        "ours/it 1 thr",
        format!("ours/it {threads} thr")
    );
    println!(
        "{:<26} {:>12.0} {:>12.0}",
        "polyphon (burn flex)", ours[0], ours[1]
    );
    let Some(peers) = peers else { return };
    for (key, name) in [("torch", "PyTorch"), ("onnxruntime", "ONNX Runtime")] {
        let (Some(one), Some(all)) = (
            peers[format!("{key}_1")].as_f64(),
            peers[format!("{key}_{threads}")].as_f64(),
        ) else {
            continue;
        };
        let version = peers[format!("{key}_version")].as_str().unwrap_or("");
        println!(
            "{:<26} {:>12.0} {:>12.0} {:>13.2}x {:>13.2}x",
            format!("{name} {version}"),
            one,
            all,
            ours[0] / one,
            ours[1] / all
        );
    }
}

/// A deterministic stereo 16-bit test signal: decaying harmonic notes over faint noise.
pub(super) fn write_test_signal(path: &Path, minutes: f64) -> Result<()> {
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
