//! `polyphon train separation`: a mask U-Net on `polyphon synth mixtures` data.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use polyphon::train::{train_separation, SeparationTrainConfig};

use crate::progress::TrainingBar;

/// Source separation: a spectrogram U-Net (or U-Net + BiLSTM) predicting one mask per source.
#[derive(Args, Debug)]
#[command(after_help = "Examples:
  polyphon train separation --model unet --sources bass,flute --data data/mixtures/mixtures.jsonl --out runs/unet
  polyphon train separation --model unet-bilstm --loss mse --data data/mixtures/mixtures.jsonl --out runs/bilstm
  polyphon train separation --data data/mixtures/mixtures.jsonl --out runs/unet --resume
  polyphon train separation --loss sdr --init runs/unet/model.json --learning-rate 1e-4 --epochs 3 --data data/mixtures/mixtures.jsonl --out runs/unet-sdr

Trains on the mixtures of the train split that hold a stem of every --sources family (the
bass + flute pairs of `polyphon synth mixtures`), validates on the valid split. Writes
RUN/config.json, RUN/log.csv, RUN/checkpoint.bpk + optimizer.bpk (last epoch) and
RUN/model.json + model.bpk (lowest validation loss), which `polyphon separate --model
RUN/model.json` reads.

Losses: l1 / mse compare the masked mixture magnitudes with each stem's; sdr takes the
masked mixture STFT (mixture phase) back to a waveform by an inverse STFT inside the graph
and minimises the negative SDR (dB) against the stem's samples, averaged over sources and
patches. Masks never exceed one, so no single stem can hold energy the mixture lacks;
with --mask sigmoid the stems together can, which --new-energy-weight W penalises (the
seed's \"no new features\" term).")]
pub struct SeparationArgs {
    /// Manifest of `polyphon synth mixtures`.
    #[arg(long)]
    data: PathBuf,
    /// Run folder.
    #[arg(long)]
    out: PathBuf,
    /// Magnitude cache [default: <manifest folder>/cache].
    #[arg(long)]
    cache: Option<PathBuf>,
    /// Continue the run in --out after its last completed epoch.
    #[arg(long)]
    resume: bool,
    /// unet or unet-bilstm.
    #[arg(long, default_value = "unet")]
    model: String,
    /// Source families to separate, comma-separated, in output order.
    #[arg(long, value_delimiter = ',', default_value = "bass,flute")]
    sources: Vec<String>,
    /// softmax (masks sum to one) or sigmoid.
    #[arg(long, default_value = "softmax")]
    mask: String,
    /// l1 or mse on the masked magnitudes, or sdr (negative SDR on the waveforms).
    #[arg(long, default_value = "l1")]
    loss: String,
    /// Weight of the "no new features" penalty: the magnitude the stems together hold beyond
    /// the mixture's (only --mask sigmoid can pay it; softmax masks sum to one).
    #[arg(long, default_value_t = 0.0)]
    new_energy_weight: f64,
    /// Start from this model.json (same --model and --sources) instead of random weights.
    #[arg(long, value_name = "MODEL")]
    init: Option<PathBuf>,
    #[arg(long, default_value_t = SeparationTrainConfig::default().epochs)]
    epochs: usize,
    /// Patches of 128 frames (2 s) per step.
    #[arg(long, default_value_t = SeparationTrainConfig::default().batch_size)]
    batch_size: usize,
    #[arg(long, default_value_t = SeparationTrainConfig::default().learning_rate)]
    learning_rate: f64,
    /// Epochs without a lower validation loss before stopping.
    #[arg(long, default_value_t = SeparationTrainConfig::default().patience)]
    patience: usize,
    #[arg(long, default_value_t = SeparationTrainConfig::default().seed)]
    seed: u64,
    /// Cap on steps per epoch, 0: every patch once.
    #[arg(long, default_value_t = 0)]
    max_batches_per_epoch: usize,
}

pub fn run(args: SeparationArgs) -> Result<()> {
    let config = SeparationTrainConfig {
        architecture: args.model.clone(),
        sources: args.sources.clone(),
        mask: args.mask.clone(),
        loss: args.loss.clone(),
        init: args.init.as_ref().map(|p| p.display().to_string()),
        new_energy_weight: args.new_energy_weight,
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.learning_rate,
        patience: args.patience,
        seed: args.seed,
        max_batches_per_epoch: args.max_batches_per_epoch,
        ..SeparationTrainConfig::default()
    };
    let cache = args
        .cache
        .clone()
        .unwrap_or_else(|| args.data.parent().unwrap_or(Path::new(".")).join("cache"));
    let mut bar = TrainingBar::new();
    let outcome = train_separation(&config, &args.data, &cache, &args.out, args.resume, |p| {
        bar.show(p, |log| {
            format!(
                "epoch {:>3}: train loss {:.5}, valid loss {:.5} ({:.0} s)",
                log.epoch, log.train_loss, log.valid_loss, log.seconds
            )
        })
    })
    .with_context(|| format!("training into {}", args.out.display()))?;
    bar.finish();
    match outcome.best {
        Some(best) => println!(
            "best valid loss {:.5} -> {}",
            best.valid_loss,
            outcome.best_model.display()
        ),
        None => println!("no epoch ran (already finished or stopped early)"),
    }
    Ok(())
}
