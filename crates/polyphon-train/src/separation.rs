//! Training a separation network on the mixtures of `polyphon synth mixtures`: patches of
//! the mixture's magnitude spectrogram in, one mask per source out, a loss on the masked
//! magnitudes against each stem's.

use std::path::Path;

use polyphon_core::manifest::Split;
use polyphon_datasets::{FeatureCache, SeparationBatch, SeparationBatcher, SeparationSet};
use polyphon_models::burn::module::Module;
use polyphon_models::burn::optim::ModuleOptimizer;
use polyphon_models::burn::tensor::{Device, Tensor, TensorData};
use polyphon_models::separation::{
    masks_from_logits, negative_sdr, new_energy_penalty, MaskActivation, PatchIstft,
    SeparationArchitecture, SeparationModel, SeparationNetwork, SEPARATION_BINS,
    SEPARATION_PATCH_FRAMES,
};
use polyphon_models::{step, Precision};
use serde::{Deserialize, Serialize};

use crate::trainer::{train, EpochRecord, LoopSettings, Outcome, Progress, Task};
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

impl EpochRecord for SeparationEpochLog {
    fn improves_on(&self, best: &Self) -> bool {
        self.valid_loss < best.valid_loss
    }
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
/// `checkpoint.bpk` + `optimizer.bpk` and the best model `model.json` + `model.bpk` (lowest
/// validation loss) to `out`; with `resume`, continues after the last completed epoch.
pub fn train_separation(
    config: &SeparationTrainConfig,
    manifest: &Path,
    cache_dir: &Path,
    out: &Path,
    resume: bool,
    progress: impl FnMut(Progress<SeparationEpochLog>),
) -> Result<Outcome<SeparationEpochLog>> {
    let settings = settings(config)?;
    // The data and the initial model first: a bad manifest or model leaves no run folder.
    let cache = FeatureCache::new(cache_dir, "stft1024", SeparationSet::spec())?;
    let load = match settings.loss {
        SeparationLoss::Sdr => SeparationSet::load_with_waves,
        _ => SeparationSet::load,
    };
    let train_set = load(manifest, Split::Train, &cache, &config.sources)?;
    let valid = load(manifest, Split::Valid, &cache, &config.sources)?;
    let init = init_model(config, &settings)?;
    let frames = SEPARATION_PATCH_FRAMES;
    let batcher = SeparationBatcher::new(
        &train_set,
        config.batch_size,
        frames,
        SEPARATION_BINS,
        config.patch_hop,
        config.seed,
    );
    let device = polyphon_models::training_device();
    let mut task = SeparationTask {
        config,
        istft: PatchIstft::new(frames, &device),
        settings,
        init,
        batcher,
        train: train_set,
        valid,
        device,
    };
    let same = |saved: &SeparationTrainConfig, now: &SeparationTrainConfig| {
        SeparationTrainConfig {
            epochs: now.epochs,
            ..saved.clone()
        } == *now
    };
    let loop_settings = LoopSettings {
        epochs: config.epochs,
        patience: config.patience,
        seed: config.seed,
    };
    train(
        &mut task,
        config,
        same,
        loop_settings,
        out,
        resume,
        progress,
    )
}

/// The separation job of the loop.
struct SeparationTask<'a> {
    config: &'a SeparationTrainConfig,
    settings: Settings,
    init: Option<SeparationModel>,
    batcher: SeparationBatcher,
    istft: PatchIstft,
    train: SeparationSet,
    valid: SeparationSet,
    device: Device,
}

impl Task for SeparationTask<'_> {
    type Network = SeparationNetwork;
    type Validation = f64;
    type Log = SeparationEpochLog;

    fn loaded(&self) -> Option<(String, String)> {
        let patches = self.batcher.batches_per_epoch() * self.config.batch_size;
        Some((
            format!("{patches} patches"),
            format!("{} files", self.valid.pieces.len()),
        ))
    }

    fn initial_network(&self, device: &Device) -> Result<SeparationNetwork> {
        let sources = self.config.sources.len();
        initial_network(self.init.as_ref(), &self.settings, sources, device)
    }

    fn fresh_network(&self, device: &Device) -> Result<SeparationNetwork> {
        let sources = self.config.sources.len();
        Ok(SeparationNetwork::new(
            self.settings.architecture,
            sources,
            device,
        ))
    }

    fn start_epoch(&mut self, epoch: usize) -> Result<usize> {
        self.batcher.start_epoch(epoch as u64);
        Ok(match self.config.max_batches_per_epoch {
            0 => self.batcher.batches_per_epoch(),
            cap => cap.min(self.batcher.batches_per_epoch()),
        })
    }

    fn train_batch(
        &mut self,
        network: SeparationNetwork,
        optimizer: &mut ModuleOptimizer,
        _epoch: usize,
    ) -> Result<(SeparationNetwork, f32)> {
        let batch = self
            .batcher
            .next_batch(&self.train)
            .expect("batches counted");
        let loss = batch_loss(&network, &batch, &self.settings, &self.istft, &self.device);
        let value = loss.clone().into_scalar::<f32>();
        Ok((
            step(optimizer, network, loss, self.config.learning_rate),
            value,
        ))
    }

    fn validate(&mut self, network: &SeparationNetwork) -> Result<f64> {
        validate(network, &self.valid, &self.settings, self.config)
    }

    fn log(&self, epoch: usize, train_loss: f64, valid_loss: f64, seconds: f64) -> Self::Log {
        SeparationEpochLog {
            epoch,
            train_loss,
            valid_loss,
            seconds,
        }
    }

    fn save_model(&self, network: &SeparationNetwork, path: &Path) -> Result<()> {
        let model = SeparationModel::new(
            network.clone(),
            self.config.sources.clone(),
            self.settings.activation,
        );
        Ok(model.save_with(path, Precision::F16)?)
    }

    fn log_csv(&self, log: &[SeparationEpochLog]) -> String {
        let mut csv = String::from("epoch,train_loss,valid_loss,seconds\n");
        for e in log {
            csv.push_str(&format!(
                "{},{:.6},{:.6},{:.1}\n",
                e.epoch, e.train_loss, e.valid_loss, e.seconds
            ));
        }
        csv
    }
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
