use std::path::{Path, PathBuf};
use std::time::Instant;

use polyphon_datasets::{
    Batch, Batches, FeatureCache, FrameBatcher, MixingBatcher, MixingOptions, PatchBatcher,
    TranscriptionSet,
};
use polyphon_features::FeatureSpec;
use polyphon_models::burn::optim::ModuleOptimizer;
use polyphon_models::burn::tensor::{Device, Tensor, TensorData};
use polyphon_models::{
    adam, bce_loss, step, training_device, union_consistency_loss, Architecture, Network,
    Precision, TranscriptionModel, CONTEXT_FRAMES, PATCH_BINS, PATCH_FRAMES,
};
use polyphon_plot::{line_chart, Series};
use polyphon_synth::manifest::Split;
use serde::{Deserialize, Serialize};

use crate::metrics::Counts;
use crate::run::{self, prepare_run, save_checkpoint, write_atomically, write_json, RunFiles};
use crate::{FrameScores, Result, TrainError, TranscriptionTrainConfig};

/// One line of the training log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    pub epoch: usize,
    pub train_loss: f64,
    pub valid: FrameScores,
    pub seconds: f64,
}

/// What a finished (or stopped) run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainOutcome {
    pub epochs: Vec<EpochLog>,
    /// The model with the best validation F1, half precision: `<out>/model.json` + `.bpk`.
    pub best_model: PathBuf,
    pub best_valid: FrameScores,
}

/// Progress reports for a caller's progress bar.
pub enum Progress<'a> {
    Loaded {
        train_frames: usize,
        valid_frames: usize,
    },
    EpochStart {
        epoch: usize,
        batches: usize,
    },
    Batch {
        loss: f32,
    },
    EpochEnd(&'a EpochLog),
}

/// Where a run stands, written after every epoch.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct RunState {
    completed_epochs: usize,
    best_f1: f64,
    best_valid: FrameScores,
    epochs_without_improvement: usize,
    log: Vec<EpochLog>,
}

/// Trains on the `train` split of `manifest`, validating on its `valid` split.
///
/// Features are computed once into `cache_dir`. Everything the run writes goes to `out`:
/// `config.json`, `log.csv`, `state.json`, the last epoch's checkpoint (`checkpoint.bpk`,
/// `optimizer.bpk`) and the best model (`model.json` + `model.bpk`). With `resume`, a run
/// continues after the last completed epoch of the same configuration.
pub fn train_transcription(
    config: &TranscriptionTrainConfig,
    manifest: &Path,
    cache_dir: &Path,
    out: &Path,
    resume: bool,
    mut progress: impl FnMut(Progress),
) -> Result<TrainOutcome> {
    let architecture: Architecture = config.architecture.parse()?;
    // The data first: a bad manifest leaves no run folder behind.
    let cache = FeatureCache::new(cache_dir, "kelz2016", FeatureSpec::kelz2016())?;
    let (lowest, keys) = (architecture.lowest_pitch(), architecture.num_outputs());
    let train = TranscriptionSet::load(manifest, Split::Train, &cache, lowest, keys)?;
    let valid = TranscriptionSet::load(manifest, Split::Valid, &cache, lowest, keys)?;
    let files = RunFiles::new(out);
    // The epoch limit may grow on resume; everything else must stay as it was.
    let same = |saved: &TranscriptionTrainConfig, now: &TranscriptionTrainConfig| {
        TranscriptionTrainConfig {
            epochs: now.epochs,
            ..saved.clone()
        } == *now
    };
    let mut state: RunState = prepare_run(config, &files.config, &files.state, out, resume, same)?;

    progress(Progress::Loaded {
        train_frames: train.frames(),
        valid_frames: valid.frames(),
    });

    let device = training_device();
    device.seed(config.seed);
    let (mut network, mut optimizer) = if state.completed_epochs > 0 {
        load_checkpoint(architecture, &files, &device)?
    } else {
        (Network::new(architecture, &device), adam())
    };
    let mut batcher = batcher(architecture, &train, config, manifest)?;

    for epoch in state.completed_epochs..config.epochs {
        if state.epochs_without_improvement >= config.patience {
            break;
        }
        let started = Instant::now();
        batcher.start_epoch(epoch as u64);
        device.seed(config.seed.wrapping_add(1 + epoch as u64));
        let batches = match config.max_batches_per_epoch {
            0 => batcher.batches_per_epoch(),
            cap => cap.min(batcher.batches_per_epoch()),
        };
        progress(Progress::EpochStart { epoch, batches });
        let mut loss_sum = 0.0f64;
        for _ in 0..batches {
            let batch = batcher.next_batch(&train).expect("batches counted");
            let (next, loss) = train_step(network, &mut optimizer, &batch, keys, config, &device);
            network = next;
            loss_sum += loss as f64;
            progress(Progress::Batch { loss });
        }
        let valid_scores = validate(&network, &valid, config)?;
        let log = EpochLog {
            epoch,
            train_loss: loss_sum / batches.max(1) as f64,
            valid: valid_scores,
            seconds: started.elapsed().as_secs_f64(),
        };
        progress(Progress::EpochEnd(&log));
        finish_epoch(&mut state, log, &network, &optimizer, &files)?;
    }
    Ok(TrainOutcome {
        epochs: state.log.clone(),
        best_model: files.best,
        best_valid: state.best_valid,
    })
}

/// Frames with context for the ConvNets (fresh mixtures of the training files with
/// `mix_max_parts`); for the AUNet, patches every half patch.
fn batcher(
    architecture: Architecture,
    train: &TranscriptionSet,
    config: &TranscriptionTrainConfig,
    manifest: &Path,
) -> Result<Box<dyn Batches>> {
    let invalid = |message: &str| Err(TrainError::Invalid(message.into()));
    if config.consistency_weight > 0.0 && config.mix_max_parts == 0 {
        return invalid("the consistency penalty needs mixtures: set mix_max_parts");
    }
    Ok(match architecture {
        Architecture::AuNet if config.mix_max_parts > 0 => {
            return invalid("on-the-fly mixing serves the frame models, not the AUNet")
        }
        Architecture::AuNet => Box::new(PatchBatcher::new(
            train,
            config.batch_size,
            PATCH_FRAMES,
            PATCH_BINS,
            PATCH_FRAMES / 2,
            config.seed,
        )),
        _ if config.mix_max_parts > 0 => {
            let batches = match config.max_batches_per_epoch {
                0 => train.frames().div_ceil(config.batch_size.max(1)),
                cap => cap,
            };
            let options = MixingOptions {
                max_parts: config.mix_max_parts,
                gain_db: (config.mix_gain_db[0], config.mix_gain_db[1]),
                max_delay: config.mix_max_delay,
                batch_size: config.batch_size,
                batches_per_epoch: batches,
                with_parts: config.consistency_weight > 0.0,
                excluded_pairs: config
                    .mix_excluded_pairs
                    .iter()
                    .map(|&[a, b]| (a.min(b), a.max(b)))
                    .collect(),
                seed: config.seed,
            };
            let keys = (architecture.lowest_pitch(), architecture.num_outputs());
            Box::new(MixingBatcher::load(
                manifest,
                Split::Train,
                FeatureSpec::kelz2016(),
                keys,
                CONTEXT_FRAMES / 2,
                options,
            )?)
        }
        Architecture::ConvNet | Architecture::SmallConvNet => Box::new(FrameBatcher::new(
            train,
            config.batch_size,
            CONTEXT_FRAMES / 2,
            config.seed,
        )),
    })
}

/// One Adam step on one batch; returns the updated network and the batch's loss.
fn train_step(
    network: Network,
    optimizer: &mut ModuleOptimizer,
    batch: &Batch,
    keys: usize,
    config: &TranscriptionTrainConfig,
    device: &Device,
) -> (Network, f32) {
    let forward = |inputs: &[f32]| {
        let inputs =
            Tensor::<4>::from_data(TensorData::new(inputs.to_vec(), batch.input_shape), device);
        match &network {
            Network::ConvNet(net) => net.forward(inputs),
            Network::SmallConvNet(net) => net.forward(inputs),
            Network::AuNet(net) => net.forward(inputs).reshape([batch.target_rows, keys]),
        }
    };
    let targets = Tensor::<2>::from_data(
        TensorData::new(batch.targets.clone(), [batch.target_rows, keys]),
        device,
    );
    let logits = forward(&batch.inputs);
    let mut loss = bce_loss(logits.clone(), targets);
    if config.consistency_weight > 0.0 && !batch.parts.is_empty() {
        let parts = batch.parts.iter().map(|part| forward(part)).collect();
        let penalty = union_consistency_loss(logits, parts);
        loss = loss + penalty.mul_scalar(config.consistency_weight);
    }
    let value = loss.clone().into_scalar::<f32>();
    (step(optimizer, network, loss, config.learning_rate), value)
}

/// Frame precision, recall and F1 of the network in inference mode on the valid frames
/// (the first `valid_frames_per_file` of each file when that is set).
fn validate(
    network: &Network,
    valid: &TranscriptionSet,
    config: &TranscriptionTrainConfig,
) -> Result<FrameScores> {
    let model = TranscriptionModel::new(network.clone());
    let mut counts = Counts::default();
    for piece in &valid.pieces {
        let frames = match config.valid_frames_per_file {
            0 => piece.features.frames,
            cap => cap.min(piece.features.frames),
        };
        let features = &piece.features.values()[..frames * piece.features.bins];
        let probabilities = model.predict(features, frames)?;
        counts.add(
            &probabilities,
            &piece.labels.active[..frames * piece.labels.n_pitches],
            config.threshold,
        );
    }
    Ok(counts.scores())
}

fn load_checkpoint(
    architecture: Architecture,
    files: &RunFiles,
    device: &Device,
) -> Result<(Network, ModuleOptimizer)> {
    run::load_checkpoint(
        Network::new(architecture, device),
        &files.weights,
        &files.optimizer,
    )
}

/// Records the epoch: best model if it improved, checkpoint, state and log, in that order,
/// so that a run killed at any point resumes from a consistent epoch.
fn finish_epoch(
    state: &mut RunState,
    log: EpochLog,
    network: &Network,
    optimizer: &ModuleOptimizer,
    files: &RunFiles,
) -> Result<()> {
    if log.valid.f1 > state.best_f1 || state.log.is_empty() {
        TranscriptionModel::new(network.clone()).save_with(&files.best, Precision::F16)?;
        state.best_f1 = log.valid.f1;
        state.best_valid = log.valid;
        state.epochs_without_improvement = 0;
    } else {
        state.epochs_without_improvement += 1;
    }
    save_checkpoint(network, &files.weights, optimizer, &files.optimizer)?;
    state.log.push(log);
    state.completed_epochs = state.log.len();
    write_json(&files.state, state)?;
    write_log_csv(&files.log_csv, &state.log)?;
    write_loss_curve(&files.loss_png, &state.log)
}

/// Training loss and validation precision, recall and F1 per epoch, as a PNG.
fn write_loss_curve(path: &Path, log: &[EpochLog]) -> Result<()> {
    let per_epoch = |value: fn(&EpochLog) -> f64| -> Vec<(f64, f64)> {
        log.iter().map(|e| (e.epoch as f64, value(e))).collect()
    };
    let loss = vec![Series {
        label: "train loss",
        points: per_epoch(|e| e.train_loss),
    }];
    let valid = vec![
        Series {
            label: "F1",
            points: per_epoch(|e| e.valid.f1),
        },
        Series {
            label: "precision",
            points: per_epoch(|e| e.valid.precision),
        },
        Series {
            label: "recall",
            points: per_epoch(|e| e.valid.recall),
        },
    ];
    line_chart(
        path,
        "epoch",
        &[
            ("training loss", "binary cross-entropy", loss),
            ("validation frames", "score", valid),
        ],
    )
    .map_err(|e| TrainError::File {
        path: e.path,
        detail: e.detail,
    })
}

fn write_log_csv(path: &Path, log: &[EpochLog]) -> Result<()> {
    let mut text = String::from("epoch,train_loss,valid_precision,valid_recall,valid_f1,seconds\n");
    for e in log {
        text.push_str(&format!(
            "{},{:.6},{:.6},{:.6},{:.6},{:.1}\n",
            e.epoch, e.train_loss, e.valid.precision, e.valid.recall, e.valid.f1, e.seconds
        ));
    }
    write_atomically(path, text.as_bytes())
}
