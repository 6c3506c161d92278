//! `polyphon train instruments`: instrument-family classifiers on a `polyphon synth` manifest.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result};
use clap::builder::PossibleValuesParser;
use clap::{Args, ValueEnum};
use polyphon_features::NpyWriter;
use polyphon_instruments::{
    load_split, BandScale, ClassFit, Dataset, GbdtModel, GbdtParams, PooledSpectrum, Task,
};
use polyphon_models::instruments::InstrumentArch;
use polyphon_synth::manifest::Split;
use serde::Serialize;

mod net;

#[derive(Args, Debug)]
#[command(
    about = "Instrument families: gradient-boosted trees on pooled log-band (mel or log-frequency) spectrograms, or MLP / CNN / ResNet-18 on log-band images",
    after_help = "Examples:
  polyphon train instruments --model gbdt --task single --data data/notes/notes.jsonl --out runs/gbdt-single
  polyphon train instruments --model gbdt --task multi --data data/mixtures/mixtures.jsonl --out runs/gbdt-multi --seed 7
  polyphon train instruments --task single --data data/notes/notes.jsonl --out runs/g --export-features feats/
  polyphon train instruments --model cnn --task single --data data/notes/notes.jsonl --out runs/cnn-single --epochs 10
  polyphon train instruments --model resnet18 --task multi --data data/mixtures/mixtures.jsonl \\
      --mix-notes data/notes/notes.jsonl --mixed-per-epoch 1600 --out runs/resnet18-multi
  polyphon train instruments --model resnet18 --task multi --data data/mixtures/mixtures.jsonl --out runs/r --resume
  polyphon train instruments --model mlp --task multi --bands log --data data/mixtures/mixtures.jsonl \\
      --mix-notes data/notes/notes.jsonl --mixed-per-epoch 19200 --mix-draw instruments --out runs/mlp-multi
  polyphon train instruments --model mlp --task single --data data/notes/notes.jsonl \\
      --eq-augment 12 --ensemble 3 --out runs/mlp-single-ensemble
  polyphon train instruments --model gbdt --task single --data data/notes/notes.jsonl --bands log --out runs/gbdt-log
  polyphon train instruments --model frame-mlp-segments --task single --bands log \\
      --data data/notes-phrases-solos.jsonl --eq-augment 12 --out runs/frame-segments-single
  polyphon train instruments --model band-conv --task single --bands log \\
      --data data/notes/notes.jsonl --epochs 40 --patience 8 --out runs/band-conv-single
  polyphon train instruments --model frame-mlp-segments --frame-width 512 --lr-decay 0.9 --task multi \\
      --bands log --data data/mixtures/mixtures.jsonl --mix-notes data/notes/notes.jsonl \\
      --mixed-per-epoch 19200 --mix-draw instruments --out runs/wide-multi

Networks (mlp: pooled vector -> 64 -> 32; mlp5: 256-128-64-32; mlp-norm: the mlp with a batch
norm on the pooled vector; mlp-onset: the mlp on a vector pooled in 6 segments, short at the
note's onset (62 ms, 125 ms, ...) and long in its decay; frame-mlp: 256-128 on every
frame, mean + max over time, dense 64 (--frame-width W: W-W/2 and W/4); frame-mlp-segments: the same with mean + max in 4 time
segments, keeping a note's envelope; frame-conv-segments: the same with the second frame layer
reading the frames 2 before and after too (80 ms of context); band-conv: 4 dilated convolutions
along the bands of the pooled vector, mean + max in 6 band ranges, so a timbre is the same pattern
at any pitch; cnn: 2 convolutions + dense 64; resnet18: basic
blocks [2,2,2,2] at --width channels, dense 128 + dropout) read the bands x 251 image of
each file (same front-end as below, not pooled; dB mapped to [-1, 1]). Adam,
seeded shuffles and initialisation; after every epoch the valid loss and score (accuracy, or
Hamming accuracy at 0.5) are logged (RUN/log.csv, RUN/loss.png), the best model is kept
(RUN/model.json + model.bpk), and a checkpoint lets --resume continue a stopped run.
--lr-decay F multiplies the learning rate by F after every epoch.
--mix-notes adds --mixed-per-epoch examples per epoch mixed from the notes manifest's train
notes (1-6 distinct families at random gains, labels = the union; --mix-draw instruments: 1-6
distinct instruments whose families may repeat, as `synth mixtures` draws them); --mix-eq DB
equalises each of those notes at random before it is mixed.
--eq-augment DB gives every training image a random tilt and bell of up to ±DB;
--shift-augment BANDS moves it up or down by up to BANDS bands; --mask-bands BANDS and
--mask-frames FRAMES silence two stripes of up to that many bands, and of frames, in it
(SpecAugment). --ensemble N trains N
networks (seeds --seed, --seed + 1, ...) into RUN/member-K and writes RUN/model.json naming
them: eval and classify average their probabilities.

single: the files of exactly one of bass, flute, guitar, keyboard (other families skipped),
softmax over one log-loss booster per class. multi: every file but the bass + flute pair-*
sets, six families (bass, flute, guitar, keyboard, organ, vocal) as independent sigmoids.
Features: 128-band log-mel (16 kHz, n_fft 1024, hop 256, dB re the file's maximum), mean and
standard deviation per band over 4 equal time segments (1024 values per file). --bands log
uses 146 logarithmic bands instead (24 per octave from 30 Hz to 8 kHz at n_fft 2048, so a
bass's harmonics fall in separate bands; 1168 values per file).
Trains on the train split; each class's trees are cut at the lowest log loss on the valid
split. Writes RUN/model.json (read by `polyphon eval instruments` and `polyphon classify`),
RUN/config.json, RUN/log.txt and RUN/valid_loss.png."
)]
pub struct InstrumentsArgs {
    /// Model family (gbdt: gradient-boosted trees; the others are networks)
    #[arg(long, default_value = GBDT, value_parser = model_names())]
    model: String,
    /// single (4 families, one per file) or multi (6 families, any subset)
    #[arg(long)]
    task: Task,
    /// Manifest (JSON lines) with train and valid splits
    #[arg(long, value_name = "MANIFEST")]
    data: PathBuf,
    /// Run folder
    #[arg(long, value_name = "RUN")]
    out: PathBuf,
    /// Seed of the boosters, or of the network's initialisation, shuffles and mixing
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// perpetual's budget: learning rate 10^-budget
    #[arg(long, default_value_t = GbdtParams::default().budget)]
    budget: f32,
    /// Most trees per class
    #[arg(long, default_value_t = GbdtParams::default().max_trees)]
    max_trees: usize,
    /// Also write each split's features and targets as float32 .npy files into DIR
    /// (<split>_x.npy: files x features, <split>_y.npy: files x classes), e.g. for XGBoost
    #[arg(long, value_name = "DIR")]
    export_features: Option<PathBuf>,
    /// Band scale of the front-end: mel (128 bands, n_fft 1024) or log (146 bands, 24 per
    /// octave from 30 Hz to 8 kHz, n_fft 2048: resolves low harmonics; the bundled
    /// instrument models all use it). mel stays the default so that earlier documented runs
    /// repeat as they were
    #[arg(long, value_enum, default_value = "mel")]
    bands: BandsArg,
    #[command(flatten)]
    net: net::NetArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum BandsArg {
    Mel,
    Log,
}

impl BandsArg {
    fn pooling(self) -> Result<PooledSpectrum> {
        let scale = match self {
            Self::Mel => BandScale::Mel,
            Self::Log => BandScale::log(),
        };
        Ok(PooledSpectrum::with_scale(scale)?)
    }
}

/// `--model`'s value for the trees.
const GBDT: &str = "gbdt";

/// The trees and every network, by the names the models crate gives them.
fn model_names() -> PossibleValuesParser {
    PossibleValuesParser::new(
        std::iter::once(GBDT).chain(InstrumentArch::ALL.map(InstrumentArch::name)),
    )
}

/// RUN/config.json: everything needed to repeat the run, and how long it took.
#[derive(Serialize)]
struct RunConfig<'a> {
    model: &'a str,
    task: Task,
    data: &'a Path,
    pooling: &'a PooledSpectrum,
    params: &'a GbdtParams,
    train_files: usize,
    valid_files: usize,
    feature_seconds: f64,
    train_seconds: f64,
    trees_per_class: Vec<usize>,
}

pub fn run(args: InstrumentsArgs) -> Result<()> {
    if args.model == GBDT {
        return run_gbdt(args);
    }
    net::run(
        &args.model,
        args.task,
        &args.data,
        &args.out,
        args.seed,
        &args.bands.pooling()?,
        &args.net,
    )
}

fn run_gbdt(args: InstrumentsArgs) -> Result<()> {
    let pooling = args.bands.pooling()?;
    let params = GbdtParams {
        budget: args.budget,
        max_trees: args.max_trees,
        seed: args.seed,
        ..GbdtParams::default()
    };
    let mut log = String::new();

    let started = Instant::now();
    let train = load_split(&args.data, Split::Train, args.task, &pooling)?;
    let valid = load_split(&args.data, Split::Valid, args.task, &pooling)?;
    // Created once the data has loaded, so that bad data leaves no folder behind, and before
    // training, so that an uncreatable folder is reported before the boosters' minutes.
    std::fs::create_dir_all(&args.out)
        .with_context(|| format!("cannot create run folder {}", args.out.display()))?;
    let feature_seconds = started.elapsed().as_secs_f64();
    note(
        &mut log,
        format!(
            "features: {} train + {} valid files in {feature_seconds:.1} s ({:.0} files/s)",
            train.len(),
            valid.len(),
            (train.len() + valid.len()) as f64 / feature_seconds
        ),
    );
    if let Some(dir) = &args.export_features {
        export(dir, &args.data, args.task, &pooling, [&train, &valid])?;
        note(&mut log, format!("features written to {}", dir.display()));
    }

    let started = Instant::now();
    let (model, fits) = GbdtModel::train(&train, Some(&valid), &pooling, &params, |fit| {
        note(&mut log, describe(fit));
    })?;
    let train_seconds = started.elapsed().as_secs_f64();
    note(&mut log, format!("trained in {train_seconds:.1} s"));

    let config = RunConfig {
        model: &args.model,
        task: args.task,
        data: &args.data,
        pooling: &pooling,
        params: &params,
        train_files: train.len(),
        valid_files: valid.len(),
        feature_seconds,
        train_seconds,
        trees_per_class: model.trees_per_class(),
    };
    write_run(&args.out, &model, &config, &log, &fits)?;
    println!(
        "{} -> {}",
        args.data.display(),
        args.out.join("model.json").display()
    );
    Ok(())
}

/// Prints a line and keeps it for RUN/log.txt.
fn note(log: &mut String, line: String) {
    println!("{line}");
    let _ = writeln!(log, "{line}");
}

fn describe(fit: &ClassFit) -> String {
    let best = fit
        .valid_log_loss
        .get(fit.trees_kept)
        .copied()
        .unwrap_or(f64::NAN);
    format!(
        "{:<9} {:>4} trees fitted, {:>4} kept (valid log loss {best:.4}, train {:.4}), {:.1} s",
        fit.class, fit.trees_fitted, fit.trees_kept, fit.train_log_loss, fit.seconds
    )
}

fn write_run(
    out: &Path,
    model: &GbdtModel,
    config: &RunConfig,
    log: &str,
    fits: &[ClassFit],
) -> Result<()> {
    let json = serde_json::to_string_pretty(config)? + "\n";
    polyphon_instruments::evaluate::write_text(&out.join("config.json"), &json)?;
    polyphon_instruments::evaluate::write_text(&out.join("log.txt"), log)?;
    polyphon_instruments::plot::valid_loss_png(&out.join("valid_loss.png"), fits)?;
    // Thresholds fitted to an earlier model of this folder no longer apply.
    polyphon_instruments::Thresholds::discard_from_run(out)?;
    // The model last: a run folder with model.json is a finished run.
    model.save(&out.join("model.json"))?;
    Ok(())
}

/// Writes `<split>_x.npy` and `<split>_y.npy` for train, valid and (when the manifest has
/// one) test.
fn export(
    dir: &Path,
    manifest: &Path,
    task: Task,
    pooling: &PooledSpectrum,
    loaded: [&Dataset; 2],
) -> Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let test = load_split(manifest, Split::Test, task, pooling).ok();
    let splits = [
        ("train", Some(loaded[0])),
        ("valid", Some(loaded[1])),
        ("test", test.as_ref()),
    ];
    for (name, data) in splits {
        let Some(data) = data else { continue };
        write_npy(
            &dir.join(format!("{name}_x.npy")),
            &data.features,
            data.num_features,
        )?;
        write_npy(
            &dir.join(format!("{name}_y.npy")),
            &data.targets,
            data.num_classes(),
        )?;
    }
    Ok(())
}

fn write_npy(path: &Path, rows: &[f32], width: usize) -> Result<()> {
    let mut writer = NpyWriter::create(path, &[width])?;
    writer.write_rows(rows)?;
    writer.finish()?;
    Ok(())
}
