//! The ConvNet's inference against the same network in PyTorch and ONNX Runtime, each in the
//! per-window and the shared formulation, and `transcribe` end to end against Basic Pitch and
//! madmom on the same files.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Instant;

use polyphon_features::{Extractor, FeatureSpec};
use polyphon_models::transcription::{Engine, TranscriptionModel};

use super::{best_of, run_python_json, single_thread};
use crate::{Error, Result, Transcriber, TranscriptionOutputs};

/// What to measure (`polyphon bench transcription`'s flags).
#[derive(Debug, Clone)]
#[cfg_attr(feature = "cli", derive(clap::Args))]
pub struct TranscriptionBench {
    /// Audio files for the end-to-end run [default: the bundled example, 30 s of piano, 12
    /// times].
    #[cfg_attr(feature = "cli", arg(value_name = "FILE"))]
    pub inputs: Vec<PathBuf>,
    /// Frames (of the inputs' features) fed to the networks alone.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 6000))]
    pub frames: usize,
    /// Python interpreter with the packages of tools/requirements-torch.txt.
    #[cfg_attr(
        feature = "cli",
        arg(long, default_value = "/opt/polyphon-torch-venv/bin/python")
    )]
    pub python: PathBuf,
    /// Python interpreter with Basic Pitch (tools/requirements-basic-pitch.txt).
    #[cfg_attr(
        feature = "cli",
        arg(long, default_value = "/opt/polyphon-basicpitch-venv/bin/python")
    )]
    pub basic_pitch_python: PathBuf,
    /// Python interpreter with madmom (tools/requirements.txt).
    #[cfg_attr(
        feature = "cli",
        arg(long, default_value = "/opt/polyphon-tools-venv/bin/python")
    )]
    pub madmom_python: PathBuf,
    /// Time polyphon only.
    #[cfg_attr(feature = "cli", arg(long))]
    pub skip_python: bool,
    /// Runs per network measurement; the best is reported.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 3))]
    pub repeat: usize,
    /// Adam steps per training measurement (0: no training rows).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 3))]
    pub train_steps: usize,
    /// Frames per training step.
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 512))]
    pub train_batch_frames: usize,
    /// Frames per training sequence (the shared formulation).
    #[cfg_attr(feature = "cli", arg(long, default_value_t = 128))]
    pub train_sequence_frames: usize,
}

/// A rate on one thread and on all of them.
pub type Rates = [f64; 2];

/// Training steps of the ConvNet timed on random data: frames per second of Adam steps.
#[derive(Debug, Clone)]
pub struct TrainingRate {
    /// How the frames of a step are drawn.
    pub name: String,
    /// Frames per step.
    pub batch_frames: usize,
    /// Frames per second on rayon's threads.
    pub frames_per_second: f64,
}

/// How a training step computes the ConvNet's frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrainingPath {
    /// burn's autodiff, every frame's window on its own (the network as defined).
    BurnWindows,
    /// burn's autodiff over sequences, the convolutions shared.
    BurnSequences,
    /// The native step over sequences (what `train transcription --sequence-frames` runs).
    NativeSequences,
}

impl TrainingPath {
    fn name(self, sequence_frames: usize) -> String {
        match self {
            Self::BurnWindows => "polyphon burn, per window".into(),
            Self::BurnSequences => format!("polyphon burn, sequences of {sequence_frames}"),
            Self::NativeSequences => format!("polyphon native, sequences of {sequence_frames}"),
        }
    }
}

/// The ConvNet's training throughput on `path`: Adam steps of `batch_frames` frames
/// (sequences of `sequence_frames`), the best of `repeat` runs of `steps` steps.
pub fn training_rate(
    path: TrainingPath,
    sequence_frames: usize,
    batch_frames: usize,
    steps: usize,
    repeat: usize,
) -> Result<TrainingRate> {
    use polyphon_models::burn::tensor::{Tensor, TensorData};
    use polyphon_models::transcription::native_train::{train_step_sequences, Dropouts};
    use polyphon_models::transcription::{ConvNet, INPUT_BINS};
    use polyphon_models::{adam, bce_loss, step, training_device};

    let device = training_device();
    device.seed(2016);
    let mut net = Some(ConvNet::new(&device));
    let mut optimizer = adam();
    let windows = path == TrainingPath::BurnWindows;
    let (rows, examples) = match windows {
        true => (5, batch_frames),
        false => (sequence_frames + 4, (batch_frames / sequence_frames).max(1)),
    };
    let frames = if windows {
        examples
    } else {
        examples * sequence_frames
    };
    let inputs: Vec<f32> = (0..examples * rows * INPUT_BINS)
        .map(|i| ((i * 7919) % 1000) as f32 / 500.0)
        .collect();
    let targets: Vec<f32> = (0..frames * ConvNet::OUTPUTS)
        .map(|i| ((i * 31) % 17 == 0) as u8 as f32)
        .collect();
    let mut train_steps = |count: usize| -> Result<()> {
        for seed in 0..count as u64 {
            let model = net.take().expect("a network between steps");
            let model = if path == TrainingPath::NativeSequences {
                let dropouts = Dropouts::of(&model);
                let step = train_step_sequences;
                step(
                    model,
                    &mut optimizer,
                    &inputs,
                    &targets,
                    examples,
                    1e-3,
                    dropouts,
                    seed,
                )?
                .0
            } else {
                let shape = [examples, 1, rows, INPUT_BINS];
                let x = Tensor::<4>::from_data(TensorData::new(inputs.clone(), shape), &device);
                let shape = [frames, ConvNet::OUTPUTS];
                let y = Tensor::<2>::from_data(TensorData::new(targets.clone(), shape), &device);
                let logits = match windows {
                    true => model.forward(x),
                    false => model.forward_sequences(x),
                };
                step(&mut optimizer, model, bce_loss(logits, y), 1e-3)
            };
            net = Some(model);
        }
        Ok(())
    };
    train_steps(1)?; // warm-up
    let seconds = best_of(repeat, || train_steps(steps))?;
    Ok(TrainingRate {
        name: path.name(sequence_frames),
        batch_frames: frames,
        frames_per_second: (steps * frames) as f64 / seconds,
    })
}

/// One transcriber's end-to-end run over the inputs.
#[derive(Debug, Clone)]
pub struct EndToEnd {
    /// The tool and its version.
    pub name: String,
    /// Seconds of transcription, loading the model excluded.
    pub seconds: f64,
    /// Seconds of audio transcribed.
    pub audio_seconds: f64,
    /// Notes found in all files together.
    pub notes: usize,
}

/// The measurements, printed as the table of `polyphon bench transcription`.
pub struct TranscriptionTimes {
    /// Threads of rayon's pool (the "all threads" columns).
    pub threads: usize,
    /// Frames fed to the networks.
    pub frames: usize,
    /// Network frames per second of burn's forward pass (per window).
    pub burn: Rates,
    /// Network frames per second of the native engine (shared convolutions).
    pub native: Rates,
    /// Network frames per second of the ONNX Runtime engine (per window), where a library
    /// loaded.
    pub ort: Option<Rates>,
    /// The peers' rates as `tools/bench_convnet_torch.py` printed them.
    pub peers: Option<serde_json::Value>,
    /// Training throughput of each of polyphon's paths, on rayon's threads.
    pub training: Vec<TrainingRate>,
    /// `polyphon transcribe`, then the peers that ran, on the same files.
    pub end_to_end: Vec<EndToEnd>,
    /// Why a peer did not run.
    pub notes: Vec<String>,
}

/// Times `transcriber`'s network on both engines and its whole pipeline on the inputs, and
/// the peers with their Python interpreters.
pub fn bench_transcription(
    transcriber: &Transcriber,
    bench: &TranscriptionBench,
) -> Result<TranscriptionTimes> {
    let temp = tempfile::tempdir().map_err(Error::io(std::env::temp_dir()))?;
    let inputs = match bench.inputs.is_empty() {
        true => default_inputs(temp.path())?,
        false => bench.inputs.clone(),
    };
    let features = network_input(&inputs, bench.frames)?;
    let frames = features.len() / polyphon_models::transcription::INPUT_BINS;
    let rates = |engine| -> Result<Rates> {
        let single = single_thread()?;
        // Built inside the one-thread pool too: ONNX Runtime takes its thread count then.
        let model_one = single.install(|| transcriber.model().clone().with_engine(engine))?;
        let model_all = transcriber.model().clone().with_engine(engine)?;
        // One run more than asked: the first warms the caches and the allocator.
        let repeat = bench.repeat.max(1) + 1;
        let predict =
            |model: &TranscriptionModel| Ok(model.predict(&features, frames).map(|_| ())?);
        let one = best_of(repeat, || single.install(|| predict(&model_one)))?;
        let all = best_of(repeat, || predict(&model_all))?;
        Ok([frames as f64 / one, frames as f64 / all])
    };
    let (burn, native) = (rates(Engine::Burn)?, rates(Engine::Native)?);
    let mut notes = Vec::new();
    let ort = rates(Engine::Ort)
        .map_err(|error| notes.push(format!("polyphon's ONNX Runtime engine skipped: {error}")))
        .ok();
    let mut end_to_end = vec![polyphon_end_to_end(transcriber, &inputs, temp.path())?];
    if ort.is_some() {
        let on_ort = transcriber.clone().with_engine(Engine::Ort)?;
        end_to_end.push(polyphon_end_to_end(&on_ort, &inputs, temp.path())?);
    }
    let mut times = TranscriptionTimes {
        threads: rayon::current_num_threads(),
        frames,
        burn,
        native,
        ort,
        peers: None,
        training: training_rates(bench)?,
        end_to_end,
        notes,
    };
    if !bench.skip_python {
        times.peers = peer(
            &mut times.notes,
            &bench.python,
            "bench_convnet_torch.py",
            || {
                let (frames, repeat) = (frames.to_string(), bench.repeat.to_string());
                let threads = times_threads();
                let mut args = vec!["--frames".to_string(), frames, "--batch".into()];
                args.extend(["2048".into(), "--repeat".into(), repeat, "--threads".into()]);
                args.extend(threads);
                args.extend([
                    "--train-steps".into(),
                    bench.train_steps.to_string(),
                    "--train-batch".into(),
                    bench.train_batch_frames.to_string(),
                    "--train-sequence".into(),
                    bench.train_sequence_frames.to_string(),
                ]);
                args
            },
        );
        for (tool, python) in [
            ("basic-pitch", &bench.basic_pitch_python),
            ("madmom", &bench.madmom_python),
        ] {
            let files: Vec<String> = inputs.iter().map(|p| p.display().to_string()).collect();
            let args = || [vec!["--tool".to_string(), tool.to_string()], files.clone()].concat();
            let run = peer(&mut times.notes, python, "bench_transcribe_peers.py", args);
            if let Some(run) = run {
                times.end_to_end.push(peer_end_to_end(&run));
            }
        }
    }
    Ok(times)
}

/// Each training path's rate; none when `train_steps` is 0.
fn training_rates(bench: &TranscriptionBench) -> Result<Vec<TrainingRate>> {
    if bench.train_steps == 0 {
        return Ok(Vec::new());
    }
    let paths = [
        TrainingPath::NativeSequences,
        TrainingPath::BurnSequences,
        TrainingPath::BurnWindows,
    ];
    paths
        .into_iter()
        .map(|path| {
            let (frames, batch) = (bench.train_sequence_frames, bench.train_batch_frames);
            training_rate(path, frames, batch, bench.train_steps, bench.repeat.min(2))
        })
        .collect()
}

/// `1` and rayon's thread count, as the peers' `--threads` take them.
fn times_threads() -> Vec<String> {
    vec!["1".into(), rayon::current_num_threads().to_string()]
}

/// Runs a peer's script; a missing interpreter or a failing script is a note, not an error.
fn peer(
    notes: &mut Vec<String>,
    python: &Path,
    script: &str,
    args: impl FnOnce() -> Vec<String>,
) -> Option<serde_json::Value> {
    if !python.exists() {
        notes.push(format!(
            "{script}: skipped, no interpreter at {}",
            python.display()
        ));
        return None;
    }
    let args = args();
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
    match run_python_json(python, script, &args) {
        Ok(value) => Some(value),
        Err(error) => {
            notes.push(format!("{script}: skipped ({error})"));
            None
        }
    }
}

fn peer_end_to_end(run: &serde_json::Value) -> EndToEnd {
    let number = |key: &str| run[key].as_f64().unwrap_or(f64::NAN);
    let text = |key: &str| run[key].as_str().unwrap_or("?").to_string();
    EndToEnd {
        name: format!("{} {}", text("tool"), text("version")),
        seconds: number("seconds"),
        audio_seconds: number("audio_seconds"),
        notes: run["notes"].as_u64().unwrap_or(0) as usize,
    }
}

/// The bundled example, 12 copies (6 minutes of piano), written into `dir`.
fn default_inputs(dir: &Path) -> Result<Vec<PathBuf>> {
    let example =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/maple_leaf_rag_timgm6mb.wav");
    (0..12)
        .map(|i| {
            let copy = dir.join(format!("piano-{i:02}.wav"));
            std::fs::copy(&example, &copy).map_err(Error::io(&example))?;
            Ok(copy)
        })
        .collect()
}

/// The first `frames` frames of the inputs' features, one file after the other.
fn network_input(inputs: &[PathBuf], frames: usize) -> Result<Vec<f32>> {
    let extractor = Extractor::new(FeatureSpec::kelz2016())?;
    let mut features = Vec::new();
    for input in inputs {
        features.extend(extractor.extract_file(input, true)?.values);
        if features.len() >= frames * extractor.num_bins() {
            break;
        }
    }
    features.truncate(frames * extractor.num_bins());
    Ok(features)
}

/// `polyphon transcribe FILES -o DIR/`: every file to MIDI, in this process.
fn polyphon_end_to_end(
    transcriber: &Transcriber,
    inputs: &[PathBuf],
    dir: &Path,
) -> Result<EndToEnd> {
    let (mut notes, mut audio_seconds) = (0, 0.0);
    let start = Instant::now();
    for (index, input) in inputs.iter().enumerate() {
        let outputs = TranscriptionOutputs {
            midi: Some(dir.join(format!("{index}.mid"))),
            ..TranscriptionOutputs::default()
        };
        let mut frames = 0;
        notes += transcriber
            .transcribe_file_to(input, &outputs, |done, _| frames = done)?
            .len();
        audio_seconds += frames as f64 / 100.0;
    }
    Ok(EndToEnd {
        name: format!("polyphon transcribe ({})", transcriber.engine().name()),
        seconds: start.elapsed().as_secs_f64(),
        audio_seconds,
        notes,
    })
}

impl fmt::Display for TranscriptionTimes {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let threads = self.threads;
        writeln!(
            f,
            "ConvNet inference, {} frames of piano, frames/s (best of runs); every row computes \
             the per-window network's probabilities",
            self.frames
        )?;
        writeln!(
            f,
            "{:<26} {:<11} {:>10} {:>10} {:>15} {:>15}",
            "runtime",
            "formulation",
            "1 thread",
            format!("{threads} threads"),
            "native/it 1 thr",
            format!("native/it {threads} thr")
        )?;
        let row = |f: &mut fmt::Formatter, name: &str, form: &str, rates: Rates| {
            let ratio = |i: usize| format!("{:.2}x", self.native[i] / rates[i]);
            writeln!(
                f,
                "{name:<26} {form:<11} {:>10.0} {:>10.0} {:>15} {:>15}",
                rates[0],
                rates[1],
                ratio(0),
                ratio(1)
            )
        };
        row(f, "polyphon native", "shared", self.native)?;
        row(f, "polyphon burn (flex)", "per window", self.burn)?;
        if let Some(ort) = self.ort {
            row(f, "polyphon ort", "per window", ort)?;
        }
        if let Some(peers) = &self.peers {
            for (key, name) in [("torch", "PyTorch"), ("onnxruntime", "ONNX Runtime")] {
                let version = peers[format!("{key}_version")].as_str().unwrap_or("");
                for (form, label) in [("window", "per window"), ("shared", "shared")] {
                    let rate = |t: usize| peers[format!("{key}_{form}_{t}")].as_f64();
                    if let (Some(one), Some(all)) = (rate(1), rate(threads)) {
                        row(f, &format!("{name} {version}"), label, [one, all])?;
                    }
                }
            }
        }
        self.fmt_training(f)?;
        writeln!(
            f,
            "\ntranscription end to end, all files in one process, {threads} threads"
        )?;
        writeln!(
            f,
            "{:<34} {:>7} {:>10} {:>9} {:>10} {:>14}",
            "tool", "audio s", "seconds", "realtime", "notes", "polyphon/it"
        )?;
        let ours = self.end_to_end.first().map_or(f64::NAN, |e| e.seconds);
        for run in &self.end_to_end {
            writeln!(
                f,
                "{:<34} {:>7.0} {:>10.2} {:>8.1}x {:>10} {:>13.2}x",
                run.name,
                run.audio_seconds,
                run.seconds,
                run.audio_seconds / run.seconds,
                run.notes,
                run.seconds / ours
            )?;
        }
        for note in &self.notes {
            writeln!(f, "note: {note}")?;
        }
        Ok(())
    }
}

impl TranscriptionTimes {
    /// The training table: polyphon's paths, then PyTorch's, the native rate against each.
    fn fmt_training(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let Some(native) = self.training.first() else {
            return Ok(());
        };
        let mut rows: Vec<(String, usize, f64)> = self
            .training
            .iter()
            .map(|rate| (rate.name.clone(), rate.batch_frames, rate.frames_per_second))
            .collect();
        if let Some(peers) = &self.peers {
            let version = peers["torch_version"].as_str().unwrap_or("");
            for (key, form) in [("shared", "sequences"), ("window", "per window")] {
                let rate = peers[format!("torch_train_{key}")].as_f64();
                let frames = peers[format!("torch_train_{key}_frames")].as_u64();
                if let (Some(rate), Some(frames)) = (rate, frames) {
                    rows.push((format!("PyTorch {version}, {form}"), frames as usize, rate));
                }
            }
        }
        writeln!(
            f,
            "\nConvNet training (Adam steps, dropout and batch norm in training mode), {} threads",
            self.threads
        )?;
        let header = ("path", "frames/step", "frames/s", "native/it");
        writeln!(
            f,
            "{:<38} {:>11} {:>10} {:>10}",
            header.0, header.1, header.2, header.3
        )?;
        for (name, frames, rate) in rows {
            let ratio = native.frames_per_second / rate;
            writeln!(f, "{name:<38} {frames:>11} {rate:>10.0} {ratio:>9.2}x")?;
        }
        Ok(())
    }
}
