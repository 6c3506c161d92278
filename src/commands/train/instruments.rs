//! `polyphon train instruments`: instrument-family classifiers on a `polyphon synth` manifest:
//! gradient-boosted trees, or networks trained by the one loop (alone or as an ensemble).

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::builder::PossibleValuesParser;
use clap::Args;
use polyphon::instruments::{
    BandImage, BandScale, GbdtParams, MixDraw, PooledSpectrum, SpectralAugment, Task,
};
use polyphon::models::instruments::{InstrumentArch, Loss, DEFAULT_FRAME_WIDTH, DEFAULT_WIDTH};
use polyphon::train::{
    train_gbdt, train_instrument_networks, GbdtRun, InstrumentTrainConfig, NetworksProgress,
};

use crate::progress::TrainingBar;

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
    #[arg(long, default_value = "mel", value_name = "mel|log")]
    bands: BandScale,
    #[command(flatten)]
    net: NetArgs,
}

/// `--model`'s value for the trees.
const GBDT: &str = "gbdt";

/// The trees and every network, by the names the models crate gives them.
fn model_names() -> PossibleValuesParser {
    PossibleValuesParser::new(
        std::iter::once(GBDT).chain(InstrumentArch::ALL.map(InstrumentArch::name)),
    )
}

pub fn run(args: InstrumentsArgs) -> Result<()> {
    if args.model == GBDT {
        return run_gbdt(args);
    }
    run_networks(
        &args.model,
        args.task,
        &args.data,
        &args.out,
        args.seed,
        &PooledSpectrum::with_scale(args.bands)?,
        &args.net,
    )
}

fn run_gbdt(args: InstrumentsArgs) -> Result<()> {
    let run = GbdtRun {
        task: args.task,
        data: &args.data,
        out: &args.out,
        pooling: PooledSpectrum::with_scale(args.bands)?,
        params: GbdtParams {
            budget: args.budget,
            max_trees: args.max_trees,
            seed: args.seed,
            ..GbdtParams::default()
        },
        export_features: args.export_features.as_deref(),
    };
    let model = train_gbdt(&run, |line| println!("{line}"))?;
    println!("{} -> {}", args.data.display(), model.display());
    Ok(())
}

/// Options of the networks (ignored by gbdt).
#[derive(Args, Debug)]
struct NetArgs {
    /// Networks: most epochs
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    /// Networks: examples per Adam step
    #[arg(long, default_value_t = 32)]
    batch_size: usize,
    /// Networks: Adam's learning rate
    #[arg(long, default_value_t = 1e-3)]
    lr: f64,
    /// Networks: multiply the learning rate by this after every epoch (1: constant), e.g.
    /// 0.9 steps at a tenth of --lr after 22 epochs
    #[arg(long, value_name = "FACTOR", default_value_t = 1.0)]
    lr_decay: f64,
    /// Networks: ce (single-label, softmax); bce (multi-label, sigmoid; default), l1 or mse
    #[arg(long)]
    loss: Option<Loss>,
    /// ResNet-18: channels of the first stage (torchvision: 64)
    #[arg(long, default_value_t = DEFAULT_WIDTH)]
    width: usize,
    /// frame-mlp, frame-mlp-segments, frame-conv-segments: units of the first frame layer
    /// (the second has half, the head a quarter); the cost per frame grows with its square
    #[arg(long, value_name = "UNITS", default_value_t = DEFAULT_FRAME_WIDTH)]
    frame_width: usize,
    /// Networks: stop after this many epochs without a better valid score
    #[arg(long, default_value_t = 6)]
    patience: usize,
    /// Networks: continue the run in --out from its last checkpoint
    #[arg(long)]
    resume: bool,
    /// Multi-label networks: a notes manifest whose train notes are mixed into extra examples
    #[arg(long, value_name = "MANIFEST")]
    mix_notes: Option<std::path::PathBuf>,
    /// Examples mixed from --mix-notes per epoch
    #[arg(long, default_value_t = 1600)]
    mixed_per_epoch: usize,
    /// How a mixed example picks its 1-6 notes: distinct families (every note adds a label),
    /// or distinct instruments whose families may repeat, as `synth mixtures` draws them
    #[arg(long, value_name = "families|instruments", default_value = "families")]
    mix_draw: MixDraw,
    /// Multi-label networks: equalise every note at random before it is mixed, a tilt and a
    /// bell over 30 Hz-8 kHz of up to ±DB each at the note's level (0: off), so that each
    /// source of a mixture is coloured on its own
    #[arg(long, value_name = "DB", default_value_t = 0.0)]
    mix_eq: f64,
    /// Networks: equalise every training image at random, a tilt and a bell of up to ±DB
    /// each (0: off), so that unseen synthesisers' colourings are less new
    #[arg(long, value_name = "DB", default_value_t = 0.0)]
    eq_augment: f64,
    /// Networks: move every training image up or down by a random number of bands, at most
    /// BANDS (0: off); on --bands log a band is a quarter tone above about 270 Hz
    #[arg(long, value_name = "BANDS", default_value_t = 0)]
    shift_augment: usize,
    /// Networks: silence two stripes of up to BANDS whole bands, at random places and
    /// widths, in every training image (SpecAugment's frequency masks; 0: off)
    #[arg(long, value_name = "BANDS", default_value_t = 0)]
    mask_bands: usize,
    /// Networks: silence two stripes of up to FRAMES whole frames (16 ms each), at random
    /// places and widths, in every training image (SpecAugment's time masks; 0: off)
    #[arg(long, value_name = "FRAMES", default_value_t = 0)]
    mask_frames: usize,
    /// Networks: train N members with seeds --seed .. --seed + N - 1 into RUN/member-K and
    /// make RUN/model.json their ensemble (mean probabilities)
    #[arg(long, value_name = "N", default_value_t = 1)]
    ensemble: usize,
}

fn run_networks(
    architecture: &str,
    task: Task,
    data: &Path,
    out: &Path,
    seed: u64,
    pooling: &PooledSpectrum,
    args: &NetArgs,
) -> Result<()> {
    if args.mix_notes.is_some() && task == Task::Single {
        bail!("--mix-notes makes multi-label examples: use it with --task multi");
    }
    if args.mix_notes.is_none() && args.mix_eq != 0.0 {
        bail!("--mix-eq equalises the notes of --mix-notes: give a notes manifest too");
    }
    let image = BandImage::of_pooling(pooling, BandImage::default().frames);
    let config = InstrumentTrainConfig {
        architecture: architecture.into(),
        width: args.width,
        frame_width: args.frame_width,
        loss: args.loss.unwrap_or(match task {
            Task::Single => Loss::Ce,
            Task::Multi => Loss::Bce,
        }),
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.lr,
        lr_decay: args.lr_decay,
        patience: args.patience,
        seed,
        mixed_per_epoch: if args.mix_notes.is_some() {
            args.mixed_per_epoch
        } else {
            0
        },
        notes: args.mix_notes.clone(),
        mix_draw: args.mix_draw,
        mix_eq_db: args.mix_eq,
        augment: SpectralAugment {
            eq_db: args.eq_augment,
            shift_bands: args.shift_augment,
            mask_bands: args.mask_bands,
            mask_frames: args.mask_frames,
        },
        ..InstrumentTrainConfig::new(architecture.parse()?, task, data.to_path_buf())
    };
    let score_name = match task {
        Task::Single => "accuracy",
        Task::Multi => "Hamming accuracy",
    };
    let mut bar = TrainingBar::new();
    let members = args.ensemble;
    let model = train_instrument_networks(&config, &image, out, args.resume, members, |p| match p {
        NetworksProgress::Loaded(line) => println!("{line}"),
        NetworksProgress::Member { index, of, seed } => {
            println!("ensemble member {index} of {of} (seed {seed})")
        }
        NetworksProgress::Training(p) => bar.show(p, |log| {
            format!(
                "epoch {:>3}: train loss {:.4}, valid loss {:.4}, valid {score_name} {:.4}, mAP {:.4} ({:.0} s)",
                log.epoch, log.train_loss, log.valid_loss, log.valid_score, log.valid_map, log.seconds
            )
        }),
        NetworksProgress::Trained(outcome) => {
            bar.finish();
            match &outcome.best {
                Some(best) => println!(
                    "best valid {score_name} {:.4} (epoch {}) -> {}",
                    best.valid_score,
                    best.epoch,
                    outcome.best_model.display()
                ),
                None => println!("no epoch ran (already finished or stopped early)"),
            }
        }
    })
    .with_context(|| format!("training into {}", out.display()))?;
    if members > 1 {
        println!("ensemble of {members} networks -> {}", model.display());
    }
    Ok(())
}
