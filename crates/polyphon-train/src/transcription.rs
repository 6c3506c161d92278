//! Training a frame-wise transcription network (ConvNet, SmallConvNet, AUNet) on a
//! `polyphon synth` manifest, as a [`Task`] of the one loop.

use std::path::Path;

use polyphon_core::manifest::Split;
use polyphon_datasets::{
    Batch, Batches, FeatureCache, FrameBatcher, MixingBatcher, MixingOptions, PatchBatcher,
    SequenceBatcher, TranscriptionSet,
};
use polyphon_features::FeatureSpec;
use polyphon_models::burn::optim::ModuleOptimizer;
use polyphon_models::burn::tensor::{Device, Tensor, TensorData};
use polyphon_models::transcription::native_train::{train_step_sequences, Dropouts};
use polyphon_models::transcription::{
    Architecture, Network, TranscriptionModel, CONTEXT_FRAMES, PATCH_BINS, PATCH_FRAMES,
};
use polyphon_models::{bce_loss, step, training_device, union_consistency_loss, Precision};
use polyphon_plot::{line_chart, Series};
use serde::{Deserialize, Serialize};

use crate::metrics::Counts;
use crate::trainer::{train, EpochRecord, LoopSettings, Outcome, Progress, Task};
use crate::{FrameScores, Result, TrainError, TranscriptionTrainConfig};

/// One line of the training log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochLog {
    pub epoch: usize,
    pub train_loss: f64,
    pub valid: FrameScores,
    pub seconds: f64,
}

impl EpochRecord for EpochLog {
    fn improves_on(&self, best: &Self) -> bool {
        self.valid.f1 > best.valid.f1
    }
}

/// Trains on the `train` split of `manifest`, validating on its `valid` split.
///
/// Features are computed once into `cache_dir`. Everything the run writes goes to `out`:
/// `config.json`, `log.csv`, `loss.png`, `state.json`, the last epoch's checkpoint
/// (`checkpoint.bpk`, `optimizer.bpk`) and the best model by validation frame F1
/// (`model.json` + `model.bpk`). With `resume`, a run continues after the last completed epoch
/// of the same configuration.
pub fn train_transcription(
    config: &TranscriptionTrainConfig,
    manifest: &Path,
    cache_dir: &Path,
    out: &Path,
    resume: bool,
    progress: impl FnMut(Progress<EpochLog>),
) -> Result<Outcome<EpochLog>> {
    let architecture: Architecture = config.architecture.parse()?;
    // The data first: a bad manifest leaves no run folder behind.
    let cache = FeatureCache::new(cache_dir, "kelz2016", FeatureSpec::kelz2016())?;
    let (lowest, keys) = (architecture.lowest_pitch(), architecture.num_outputs());
    let train_set = TranscriptionSet::load(manifest, Split::Train, &cache, lowest, keys)?;
    let valid = TranscriptionSet::load(manifest, Split::Valid, &cache, lowest, keys)?;
    let batcher = batcher(architecture, &train_set, config, manifest)?;
    let mut task = TranscriptionTask {
        architecture,
        config,
        train: train_set,
        valid,
        batcher,
        batches: 0,
        step: 0,
        device: training_device(),
    };
    // The epoch limit may grow on resume; everything else must stay as it was.
    let same = |saved: &TranscriptionTrainConfig, now: &TranscriptionTrainConfig| {
        TranscriptionTrainConfig {
            epochs: now.epochs,
            ..saved.clone()
        } == *now
    };
    let settings = LoopSettings {
        epochs: config.epochs,
        patience: config.patience,
        seed: config.seed,
    };
    train(&mut task, config, same, settings, out, resume, progress)
}

/// The transcription job of the loop.
struct TranscriptionTask<'a> {
    architecture: Architecture,
    config: &'a TranscriptionTrainConfig,
    train: TranscriptionSet,
    valid: TranscriptionSet,
    batcher: Box<dyn Batches>,
    batches: usize,
    /// Steps taken in the epoch so far.
    step: usize,
    device: Device,
}

impl Task for TranscriptionTask<'_> {
    type Network = Network;
    type Validation = FrameScores;
    type Log = EpochLog;

    fn loaded(&self) -> Option<(String, String)> {
        Some((
            format!("{} frames", self.train.frames()),
            format!("{} frames", self.valid.frames()),
        ))
    }

    fn initial_network(&self, device: &Device) -> Result<Network> {
        Ok(Network::new(self.architecture, device))
    }

    fn fresh_network(&self, device: &Device) -> Result<Network> {
        self.initial_network(device)
    }

    fn start_epoch(&mut self, epoch: usize) -> Result<usize> {
        self.batcher.start_epoch(epoch as u64);
        self.step = 0;
        self.batches = match self.config.max_batches_per_epoch {
            0 => self.batcher.batches_per_epoch(),
            cap => cap.min(self.batcher.batches_per_epoch()),
        };
        Ok(self.batches)
    }

    fn train_batch(
        &mut self,
        network: Network,
        optimizer: &mut ModuleOptimizer,
        epoch: usize,
    ) -> Result<(Network, f32)> {
        let batch = self
            .batcher
            .next_batch(&self.train)
            .expect("batches counted");
        self.step += 1;
        let network = match network {
            Network::ConvNet(net) if self.config.sequence_frames > 0 => {
                // The native training step; its dropout masks depend on the seed, the epoch
                // and the step alone, so a resumed run draws the same ones.
                let seed = self.config.seed ^ ((epoch as u64) << 32) ^ self.step as u64;
                let dropouts = Dropouts::of(&net);
                let (net, loss) = train_step_sequences(
                    net,
                    optimizer,
                    &batch.inputs,
                    &batch.targets,
                    batch.input_shape[0],
                    self.config.learning_rate,
                    dropouts,
                    seed,
                )?;
                return Ok((Network::ConvNet(net), loss));
            }
            other => other,
        };
        let keys = self.architecture.num_outputs();
        Ok(train_step(
            network,
            optimizer,
            &batch,
            keys,
            self.config,
            &self.device,
        ))
    }

    fn validate(&mut self, network: &Network) -> Result<FrameScores> {
        validate(network, &self.valid, self.config)
    }

    fn log(&self, epoch: usize, train_loss: f64, valid: FrameScores, seconds: f64) -> EpochLog {
        EpochLog {
            epoch,
            train_loss,
            valid,
            seconds,
        }
    }

    fn save_model(&self, network: &Network, path: &Path) -> Result<()> {
        Ok(TranscriptionModel::new(network.clone()).save_with(path, Precision::F16)?)
    }

    fn log_csv(&self, log: &[EpochLog]) -> String {
        let mut text =
            String::from("epoch,train_loss,valid_precision,valid_recall,valid_f1,seconds\n");
        for e in log {
            text.push_str(&format!(
                "{},{:.6},{:.6},{:.6},{:.6},{:.1}\n",
                e.epoch, e.train_loss, e.valid.precision, e.valid.recall, e.valid.f1, e.seconds
            ));
        }
        text
    }

    fn write_curves(&self, log: &[EpochLog], path: &Path) -> Result<()> {
        write_loss_curve(path, log)
    }
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
    if config.sequence_frames > 0 {
        if architecture != Architecture::ConvNet {
            return invalid("training on sequences (sequence_frames) serves the ConvNet");
        }
        if config.mix_max_parts > 0 {
            return invalid("on-the-fly mixing draws single frames: leave sequence_frames at 0");
        }
        return Ok(Box::new(SequenceBatcher::new(
            train,
            config.batch_size,
            config.sequence_frames,
            CONTEXT_FRAMES / 2,
            config.seed,
        )));
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
