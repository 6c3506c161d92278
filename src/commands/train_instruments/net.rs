//! `polyphon train instruments --model <network>` (every name of `InstrumentArch::ALL`): the networks.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use polyphon_instruments::{
    load_images, BandImage, MixDraw, NoteMixer, PooledSpectrum, SpectralAugment, Task,
};
use polyphon_models::instruments::{Loss, DEFAULT_FRAME_WIDTH, DEFAULT_WIDTH};
use polyphon_synth::manifest::Split;
use polyphon_train::{
    check_run_folder, ensemble_member_dir, train_instruments, write_ensemble, InstrumentData,
    InstrumentProgress, InstrumentTrainConfig,
};

/// Options of the networks (ignored by gbdt).
#[derive(Args, Debug)]
pub struct NetArgs {
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

pub fn run(
    architecture: &str,
    task: Task,
    data: &Path,
    out: &Path,
    seed: u64,
    pooling: &PooledSpectrum,
    args: &NetArgs,
) -> Result<()> {
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
    if args.mix_notes.is_some() && task == Task::Single {
        anyhow::bail!("--mix-notes makes multi-label examples: use it with --task multi");
    }
    if args.mix_notes.is_none() && args.mix_eq != 0.0 {
        anyhow::bail!("--mix-eq equalises the notes of --mix-notes: give a notes manifest too");
    }
    config.check_for(&image)?;
    // The data before the run folder: a bad manifest leaves nothing behind.
    let started = Instant::now();
    let train = load_images(data, Split::Train, task, &image)?;
    let valid = load_images(data, Split::Valid, task, &image)?;
    let mixer = match &args.mix_notes {
        Some(notes) => Some(NoteMixer::load(notes, Split::Train, &image, 6)?),
        None => None,
    };
    println!(
        "train: {} files, valid: {} files{}; images in {:.1} s",
        train.len(),
        valid.len(),
        mixer.as_ref().map_or(String::new(), |m| format!(
            ", {} notes to mix ({} examples per epoch)",
            m.notes(),
            config.mixed_per_epoch
        )),
        started.elapsed().as_secs_f64()
    );
    let data = InstrumentData {
        image: &image,
        train: &train,
        valid: &valid,
        mixer: mixer.as_ref(),
    };
    check_run_folder(out, args.ensemble)?;
    if args.ensemble == 1 {
        return train_one(&config, &data, out, args.resume);
    }
    for member in 0..args.ensemble {
        println!(
            "ensemble member {member} of {} (seed {})",
            args.ensemble,
            seed + member as u64
        );
        let member_config = InstrumentTrainConfig {
            seed: seed + member as u64,
            ..config.clone()
        };
        train_one(
            &member_config,
            &data,
            &ensemble_member_dir(out, member),
            args.resume,
        )?;
    }
    let sidecar = write_ensemble(out, args.ensemble)?;
    println!(
        "ensemble of {} networks -> {}",
        args.ensemble,
        sidecar.display()
    );
    Ok(())
}

/// Trains one network into `out`, with a progress bar and a line per epoch.
fn train_one(
    config: &InstrumentTrainConfig,
    data: &InstrumentData,
    out: &Path,
    resume: bool,
) -> Result<()> {
    let bar = ProgressBar::new(0).with_style(ProgressStyle::with_template(
        "epoch {prefix} {bar:30} {pos}/{len} batches, loss {msg}, {eta} left",
    )?);
    let mut running = None::<f32>;
    let score_name = match config.task {
        Task::Single => "accuracy",
        Task::Multi => "Hamming accuracy",
    };
    let outcome = train_instruments(
        config,
        data,
        out,
        resume,
        |p| match p {
            InstrumentProgress::EpochStart { epoch, batches } => {
                bar.set_prefix(epoch.to_string());
                bar.set_length(batches as u64);
                bar.reset();
            }
            InstrumentProgress::Batch { loss } => {
                let smoothed = running.map_or(loss, |r| 0.95 * r + 0.05 * loss);
                running = Some(smoothed);
                bar.set_message(format!("{smoothed:.4}"));
                bar.inc(1);
                super::super::train::print_hidden_progress(&bar, smoothed);
            }
            InstrumentProgress::EpochEnd(log) => bar.suspend(|| {
                println!(
                    "epoch {:>3}: train loss {:.4}, valid loss {:.4}, valid {score_name} {:.4}, mAP {:.4} ({:.0} s)",
                    log.epoch, log.train_loss, log.valid_loss, log.valid_score, log.valid_map, log.seconds
                )
            }),
        },
    )
    .with_context(|| format!("training into {}", out.display()))?;
    bar.finish_and_clear();
    match &outcome.best {
        Some(best) => println!(
            "best valid {score_name} {:.4} (epoch {}) -> {}",
            best.valid_score,
            best.epoch,
            outcome.best_model.display()
        ),
        None => println!("no epoch ran (already finished or stopped early)"),
    }
    Ok(())
}
