//! Training a separation network on the mixtures of `polyphon synth mixtures`: patches of
//! the mixture's magnitude spectrogram in, one mask per source out, a loss on the masked
//! magnitudes against each stem's.

use std::path::{Path, PathBuf};
use std::time::Instant;

use polyphon_datasets::{FeatureCache, SeparationBatch, SeparationBatcher, SeparationSet};
use polyphon_models::burn::module::Module;
use polyphon_models::burn::optim::ModuleOptimizer;
use polyphon_models::burn::tensor::{Device, Tensor, TensorData};
use polyphon_models::separation::{
    masks_from_logits, negative_sdr, new_energy_penalty, MaskActivation, PatchIstft,
    SeparationArchitecture, SeparationModel, SeparationNetwork, SEPARATION_BINS,
    SEPARATION_PATCH_FRAMES,
};
use polyphon_models::{adam, step, training_device, Precision};
use polyphon_synth::manifest::Split;
use serde::{Deserialize, Serialize};

use crate::run::{self, prepare_run, save_checkpoint, write_atomically, write_json, RunFiles};
use crate::{Result, TrainError};

/// Everything that decides a separation training run, saved beside its outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SeparationTrainConfig {
    /// `unet` or `unet-bilstm`.
    pub architecture: String,
    /// Source families, in output order (stems of the mixtures, e.g. `bass`, `flute`).
    pub sources: Vec<String>,
    /// `softmax` (masks sum to one) or `sigmoid`.
    pub mask: String,
    /// `l1` or `mse` on the masked magnitudes, or `sdr`: the negative SDR of the waveforms
    /// (masked mixture STFT, mixture phase, inverse STFT) against the stems'.
    pub loss: String,
    /// Weight of the "no new features" penalty (the magnitude the stems together hold beyond
    /// the mixture's, added to the loss); only sigmoid masks can pay it. 0: off.
    pub new_energy_weight: f64,
    /// A `model.json` to start from instead of random weights (fine-tuning, e.g. with
    /// another loss); its architecture and sources must match.
    pub init: Option<String>,
    pub epochs: usize,
    /// Patches of 128 frames per step.
    pub batch_size: usize,
    pub learning_rate: f64,
    /// Stop after this many epochs without a lower validation loss.
    pub patience: usize,
    pub seed: u64,
    /// Cap on steps per epoch; 0: every patch once.
    pub max_batches_per_epoch: usize,
    /// Frames between the starts of training patches.
    pub patch_hop: usize,
}

impl Default for SeparationTrainConfig {
    fn default() -> Self {
        Self {
            architecture: "unet".into(),
            sources: vec!["bass".into(), "flute".into()],
            mask: "softmax".into(),
            loss: "l1".into(),
            init: None,
            new_energy_weight: 0.0,
            epochs: 20,
            batch_size: 8,
            learning_rate: 1e-3,
            patience: 4,
            seed: 2017,
            max_batches_per_epoch: 0,
            patch_hop: 64,
        }
    }
}

/// One line of the log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SeparationEpochLog {
    pub epoch: usize,
    pub train_loss: f64,
    pub valid_loss: f64,
    pub seconds: f64,
}

/// Progress reports for a caller's progress bar.
pub enum SeparationProgress<'a> {
    Loaded {
        train_patches: usize,
        valid_files: usize,
    },
    EpochStart {
        epoch: usize,
        batches: usize,
    },
    Batch {
        loss: f32,
    },
    EpochEnd(&'a SeparationEpochLog),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct SeparationState {
    completed_epochs: usize,
    best_valid_loss: Option<f64>,
    epochs_without_improvement: usize,
    log: Vec<SeparationEpochLog>,
}

/// What a finished run produced: the log and the best model (`<out>/model.json`).
pub struct SeparationOutcome {
    pub epochs: Vec<SeparationEpochLog>,
    pub best_model: PathBuf,
    pub best_valid_loss: f64,
}

/// What is compared with the stems.
#[derive(Debug, Clone, Copy, PartialEq)]
enum SeparationLoss {
    /// Mean absolute error of the masked magnitudes.
    L1,
    /// Mean squared error of the masked magnitudes.
    Mse,
    /// Negative SDR (dB) of the waveforms.
    Sdr,
}

struct Settings {
    architecture: SeparationArchitecture,
    activation: MaskActivation,
    loss: SeparationLoss,
    new_energy_weight: f32,
}

fn settings(config: &SeparationTrainConfig) -> Result<Settings> {
    let loss = match config.loss.as_str() {
        "l1" => SeparationLoss::L1,
        "mse" => SeparationLoss::Mse,
        "sdr" => SeparationLoss::Sdr,
        other => {
            return Err(TrainError::Invalid(format!(
                "unknown loss {other:?} (l1, mse or sdr)"
            )))
        }
    };
    if config.sources.len() < 2 {
        return Err(TrainError::Invalid(
            "name at least two sources to separate".into(),
        ));
    }
    Ok(Settings {
        architecture: config.architecture.parse()?,
        activation: config.mask.parse()?,
        loss,
        new_energy_weight: config.new_energy_weight as f32,
    })
}

/// Trains on the `train` split of `manifest`, validating on its `valid` split; magnitudes are
/// cached in `cache_dir`. Writes `config.json`, `state.json`, `log.csv`, the last epoch's
/// `checkpoint.bpk` + `optimizer.bpk` and the best model `model.json` + `model.bpk` to `out`;
/// with `resume`, continues after the last completed epoch.
pub fn train_separation(
    config: &SeparationTrainConfig,
    manifest: &Path,
    cache_dir: &Path,
    out: &Path,
    resume: bool,
    mut progress: impl FnMut(SeparationProgress),
) -> Result<SeparationOutcome> {
    let settings = settings(config)?;
    // The data and the initial model first: a bad manifest or model leaves no run folder.
    let cache = FeatureCache::new(cache_dir, "stft1024", SeparationSet::spec())?;
    let load = match settings.loss {
        SeparationLoss::Sdr => SeparationSet::load_with_waves,
        _ => SeparationSet::load,
    };
    let train = load(manifest, Split::Train, &cache, &config.sources)?;
    let valid = load(manifest, Split::Valid, &cache, &config.sources)?;
    let init = init_model(config, &settings)?;
    let files = RunFiles::new(out);
    let same = |saved: &SeparationTrainConfig, now: &SeparationTrainConfig| {
        SeparationTrainConfig {
            epochs: now.epochs,
            ..saved.clone()
        } == *now
    };
    let mut state: SeparationState =
        prepare_run(config, &files.config, &files.state, out, resume, same)?;
    let frames = SEPARATION_PATCH_FRAMES;
    let mut batcher = SeparationBatcher::new(
        &train,
        config.batch_size,
        frames,
        SEPARATION_BINS,
        config.patch_hop,
        config.seed,
    );
    progress(SeparationProgress::Loaded {
        train_patches: batcher.batches_per_epoch() * config.batch_size,
        valid_files: valid.pieces.len(),
    });

    let device = training_device();
    device.seed(config.seed);
    let sources = config.sources.len();
    let (mut network, mut optimizer) = if state.completed_epochs > 0 {
        load_checkpoint(settings.architecture, sources, &files, &device)?
    } else {
        (
            initial_network(init.as_ref(), &settings, sources, &device)?,
            adam(),
        )
    };
    let istft = PatchIstft::new(frames, &device);
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
        progress(SeparationProgress::EpochStart { epoch, batches });
        let mut loss_sum = 0.0;
        for _ in 0..batches {
            let batch = batcher.next_batch(&train).expect("batches counted");
            let loss = batch_loss(&network, &batch, &settings, &istft, &device);
            let value = loss.clone().into_scalar::<f32>();
            network = step(&mut optimizer, network, loss, config.learning_rate);
            loss_sum += value as f64;
            progress(SeparationProgress::Batch { loss: value });
        }
        let valid_loss = validate(&network, &valid, &settings, config)?;
        let log = SeparationEpochLog {
            epoch,
            train_loss: loss_sum / batches.max(1) as f64,
            valid_loss,
            seconds: started.elapsed().as_secs_f64(),
        };
        progress(SeparationProgress::EpochEnd(&log));
        finish_epoch(
            &mut state, log, &network, &optimizer, config, &settings, &files,
        )?;
    }
    Ok(SeparationOutcome {
        epochs: state.log.clone(),
        best_model: files.best,
        best_valid_loss: state.best_valid_loss.unwrap_or(f64::NAN),
    })
}

/// The model of `config.init`, checked against the run's architecture and sources.
fn init_model(
    config: &SeparationTrainConfig,
    settings: &Settings,
) -> Result<Option<SeparationModel>> {
    let Some(init) = &config.init else {
        return Ok(None);
    };
    let model = SeparationModel::load(init)?;
    if model.network().architecture() != settings.architecture || model.sources() != config.sources
    {
        return Err(TrainError::Invalid(format!(
            "{init} is a {} model of {}, not a {} model of {}",
            model.network().architecture(),
            model.sources().join(","),
            settings.architecture,
            config.sources.join(",")
        )));
    }
    Ok(Some(model))
}

/// Random weights, or those of `init`.
fn initial_network(
    init: Option<&SeparationModel>,
    settings: &Settings,
    sources: usize,
    device: &Device,
) -> Result<SeparationNetwork> {
    let network = SeparationNetwork::new(settings.architecture, sources, device);
    match init {
        None => Ok(network),
        // Loading a record into a fresh network keeps the training device's gradient tracking.
        Some(model) => network
            .try_load_record(model.network().clone().into_record())
            .map_err(|e| TrainError::Invalid(format!("initial model: {e}"))),
    }
}

/// The loss of one batch: masks applied to the mixture against each source, on magnitudes
/// or, for [`SeparationLoss::Sdr`], on the waveforms `istft` gives.
fn batch_loss(
    network: &SeparationNetwork,
    batch: &SeparationBatch,
    settings: &Settings,
    istft: &PatchIstft,
    device: &Device,
) -> Tensor<1> {
    let shape = |channels: usize| [batch.size, channels, batch.frames, batch.bins];
    let tensor = |values: &[f32], channels: usize| {
        Tensor::<4>::from_data(TensorData::new(values.to_vec(), shape(channels)), device)
    };
    let masks = masks_from_logits(
        network.forward(tensor(&batch.inputs, 1)),
        settings.activation,
    );
    let mixture = || tensor(&batch.mixture, 1);
    let penalty = (settings.new_energy_weight > 0.0).then(|| {
        new_energy_penalty(masks.clone(), mixture()).mul_scalar(settings.new_energy_weight)
    });
    let magnitude_error =
        |masks: Tensor<4>| masks * mixture() - tensor(&batch.targets, batch.sources);
    let loss = match settings.loss {
        SeparationLoss::L1 => magnitude_error(masks).abs().mean(),
        SeparationLoss::Mse => magnitude_error(masks).powf_scalar(2.0).mean(),
        SeparationLoss::Sdr => {
            let estimates = istft.masked_waveforms(
                masks,
                tensor(&batch.mixture_real, 1),
                tensor(&batch.mixture_imag, 1),
            );
            let references = Tensor::<3>::from_data(
                TensorData::new(
                    batch.waves.clone(),
                    [batch.size, batch.sources, batch.wave_len],
                ),
                device,
            );
            negative_sdr(estimates, references)
        }
    };
    match penalty {
        Some(penalty) => loss + penalty,
        None => loss,
    }
}

/// Mean loss over every validation patch (consecutive, non-overlapping), in inference mode.
fn validate(
    network: &SeparationNetwork,
    valid: &SeparationSet,
    settings: &Settings,
    config: &SeparationTrainConfig,
) -> Result<f64> {
    let inference = network.valid();
    let device = polyphon_models::default_device();
    let inference = inference.to_device(&device);
    let frames = SEPARATION_PATCH_FRAMES;
    let mut batches =
        SeparationBatcher::new(valid, config.batch_size, frames, SEPARATION_BINS, frames, 0);
    let istft = PatchIstft::new(frames, &device);
    let (mut sum, mut count) = (0.0, 0usize);
    while let Some(batch) = batches.next_batch(valid) {
        let loss = batch_loss(&inference, &batch, settings, &istft, &device);
        sum += loss.into_scalar::<f32>() as f64 * batch.size as f64;
        count += batch.size;
    }
    Ok(sum / count.max(1) as f64)
}

fn load_checkpoint(
    architecture: SeparationArchitecture,
    sources: usize,
    files: &RunFiles,
    device: &Device,
) -> Result<(SeparationNetwork, ModuleOptimizer)> {
    run::load_checkpoint(
        SeparationNetwork::new(architecture, sources, device),
        &files.weights,
        &files.optimizer,
    )
}

/// Best model if it improved, then checkpoint, state and log, in that order, so a run killed
/// at any point resumes from a consistent epoch.
fn finish_epoch(
    state: &mut SeparationState,
    log: SeparationEpochLog,
    network: &SeparationNetwork,
    optimizer: &ModuleOptimizer,
    config: &SeparationTrainConfig,
    settings: &Settings,
    files: &RunFiles,
) -> Result<()> {
    if state
        .best_valid_loss
        .is_none_or(|best| log.valid_loss < best)
    {
        let model =
            SeparationModel::new(network.clone(), config.sources.clone(), settings.activation);
        model.save_with(&files.best, Precision::F16)?;
        state.best_valid_loss = Some(log.valid_loss);
        state.epochs_without_improvement = 0;
    } else {
        state.epochs_without_improvement += 1;
    }
    save_checkpoint(network, &files.weights, optimizer, &files.optimizer)?;
    state.log.push(log);
    state.completed_epochs = state.log.len();
    write_json(&files.state, state)?;
    let mut csv = String::from("epoch,train_loss,valid_loss,seconds\n");
    for e in &state.log {
        csv.push_str(&format!(
            "{},{:.6},{:.6},{:.1}\n",
            e.epoch, e.train_loss, e.valid_loss, e.seconds
        ));
    }
    write_atomically(&files.log_csv, csv.as_bytes())
}

#[cfg(test)]
mod tests {
    use polyphon_datasets::wave_len;

    use super::*;

    /// The batches' waves and the in-graph iSTFT are laid out in two crates: they must
    /// cover the same samples of a patch, or the SDR loss compares shifted signals.
    #[test]
    fn batch_waves_cover_the_samples_the_patch_istft_gives() {
        let frames = SEPARATION_PATCH_FRAMES;
        let istft = PatchIstft::new(frames, &polyphon_models::default_device());
        assert_eq!(wave_len(frames), istft.interior().len());
        // A patch from frame t: its waves start at t · hop + (n_fft / 2 − hop).
        for first in [0, 5, 64] {
            assert_eq!(
                PatchIstft::interior_start(first),
                (first * 256 + 256) as isize
            );
        }
    }
}
