//! Training of the instrument-family networks (MLP, CNN, ResNet-18) on band images.
//!
//! Seeded (shuffles, initialisation, dropout and mixed examples are functions of the seed and
//! the epoch), resumable (weights, Adam state and the log after every epoch), with the
//! validation loss and score after every epoch, the best model kept and early stopping.

use std::path::{Path, PathBuf};

use polyphon_core::manifest::Split;
use polyphon_core::SeededRng;
use polyphon_instruments::metrics::multi_label_report;
use polyphon_instruments::{
    load_images, score, BandImage, Dataset, Evaluation, MixDraw, NoteMixer, SpectralAugment, Task,
    Thresholds,
};
use polyphon_models::burn::optim::ModuleOptimizer;
use polyphon_models::burn::tensor::{Device, Tensor, TensorData};
use polyphon_models::instruments::{
    EnsembleDescription, InstrumentArch, InstrumentNet, InstrumentNetDescription,
    InstrumentNetModel, Loss, NetSpec, DEFAULT_FRAME_WIDTH,
};
use polyphon_models::{step, training_device, Precision};
use polyphon_plot::{line_chart, Series};
use serde::{Deserialize, Serialize};

use crate::run::{write_json, RunFiles};
use crate::trainer::{self, train, EpochRecord, LoopSettings, Outcome, Progress};
use crate::{Result, TrainError};

/// Everything that decides a run, saved as `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstrumentTrainConfig {
    /// `mlp`, `mlp5`, `cnn` or `resnet18`.
    pub architecture: String,
    /// ResNet-18's first-stage channels.
    pub width: usize,
    /// The frame networks' first frame layer (absent in runs made before it existed).
    #[serde(default = "polyphon_models::instruments::default_frame_width")]
    pub frame_width: usize,
    pub task: Task,
    /// `ce` for single-label; `bce`, `l1` or `mse` for multi-label.
    pub loss: Loss,
    /// Upper bound on epochs (may grow on resume).
    pub epochs: usize,
    pub batch_size: usize,
    /// Adam's step size in the first epoch.
    pub learning_rate: f64,
    /// Factor on the step size after every epoch, so epoch `e` steps `learning_rate ·
    /// lr_decay^e` (1: constant; absent in runs made before it existed). It depends on the
    /// epoch alone, so a resumed run steps as an uninterrupted one.
    #[serde(default = "constant_rate")]
    pub lr_decay: f64,
    /// Stop after this many epochs without a better validation score.
    pub patience: usize,
    pub seed: u64,
    /// Multi-label: examples mixed from single notes added to every epoch (needs a mixer).
    pub mixed_per_epoch: usize,
    /// How those examples pick their notes (absent in runs made before it existed).
    #[serde(default)]
    pub mix_draw: MixDraw,
    /// Random equalisation of every mixed note before it is mixed, up to ±dB (0: off;
    /// absent in runs made before it existed).
    #[serde(default)]
    pub mix_eq_db: f64,
    /// Multi-label: probability at which a family counts as present, for validation.
    pub threshold: f64,
    /// Random equalisation of every training image (absent in runs made before it existed).
    #[serde(default)]
    pub augment: SpectralAugment,
    /// The data, for the record.
    pub data: PathBuf,
    pub notes: Option<PathBuf>,
}

fn constant_rate() -> f64 {
    1.0
}

impl InstrumentTrainConfig {
    /// Defaults for a network and task: Adam 1e-3, batches of 32, 30 epochs, patience 6.
    pub fn new(architecture: InstrumentArch, task: Task, data: PathBuf) -> Self {
        Self {
            architecture: architecture.name().into(),
            width: polyphon_models::instruments::DEFAULT_WIDTH,
            frame_width: DEFAULT_FRAME_WIDTH,
            task,
            loss: match task {
                Task::Single => Loss::Ce,
                Task::Multi => Loss::Bce,
            },
            epochs: 30,
            batch_size: 32,
            learning_rate: 1e-3,
            lr_decay: 1.0,
            patience: 6,
            seed: 0,
            mixed_per_epoch: 0,
            mix_draw: MixDraw::default(),
            mix_eq_db: 0.0,
            threshold: 0.5,
            augment: SpectralAugment::default(),
            data,
            notes: None,
        }
    }

    fn check(&self) -> Result<InstrumentArch> {
        let invalid = |m: String| Err(TrainError::Invalid(m));
        if self.loss.is_single_label() != (self.task == Task::Single) {
            return invalid(format!(
                "loss {} does not fit the {}-label task (single: ce; multi: bce, l1, mse)",
                self.loss.name(),
                self.task.name()
            ));
        }
        if self.batch_size == 0 || self.epochs == 0 {
            return invalid("batch size and epochs must be positive".into());
        }
        for (what, db) in [
            ("", self.augment.eq_db),
            (" of mixed notes", self.mix_eq_db),
        ] {
            if !(db >= 0.0 && db.is_finite()) {
                return invalid(format!(
                    "equalisation{what} of {db} dB must be a non-negative number"
                ));
            }
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return invalid(format!(
                "learning rate {} must be positive",
                self.learning_rate
            ));
        }
        if !(self.lr_decay > 0.0 && self.lr_decay <= 1.0) {
            return invalid(format!(
                "learning-rate decay {} must be in (0, 1]",
                self.lr_decay
            ));
        }
        self.architecture
            .parse()
            .map_err(|e: polyphon_models::ModelError| TrainError::Invalid(e.to_string()))
    }

    /// Adam's step size in epoch `epoch` (0-based).
    pub fn learning_rate_at(&self, epoch: usize) -> f64 {
        self.learning_rate * self.lr_decay.powi(epoch.min(i32::MAX as usize) as i32)
    }

    /// Checks the settings for images of the front-end `image` (as the training does first),
    /// so that a caller can refuse them before it loads any data; gives the network's shape,
    /// checked as the network itself checks it (widths, input size).
    pub fn check_for(&self, image: &BandImage) -> Result<NetSpec> {
        let architecture = self.check()?;
        self.augment.check_fits(image)?;
        let spec = NetSpec {
            architecture,
            width: self.width,
            frame_width: self.frame_width,
            bins: image.bands,
            frames: image.frames,
            classes: self.task.classes().len(),
        };
        spec.check()?;
        Ok(spec)
    }
}

/// What a run trains and validates on: images of the front-end `image`, and optionally a
/// mixer of single notes for extra multi-label examples.
#[derive(Clone, Copy)]
pub struct InstrumentData<'a> {
    pub image: &'a BandImage,
    pub train: &'a Dataset,
    pub valid: &'a Dataset,
    pub mixer: Option<&'a NoteMixer>,
}

/// One line of the training log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstrumentEpochLog {
    pub epoch: usize,
    pub train_loss: f64,
    pub valid_loss: f64,
    /// Single-label: accuracy; multi-label: Hamming accuracy at the threshold.
    pub valid_score: f64,
    /// Mean average precision over classes (one-vs-rest for single-label).
    pub valid_map: f64,
    pub seconds: f64,
}

impl EpochRecord for InstrumentEpochLog {
    /// A better score, or the same score at a lower validation loss.
    fn improves_on(&self, best: &Self) -> bool {
        self.valid_score > best.valid_score
            || (self.valid_score == best.valid_score && self.valid_loss < best.valid_loss)
    }
}

/// Trains on `train` (plus `mixed_per_epoch` examples from `mixer` every epoch), validating on
/// `valid`. Writes `config.json`, `state.json`, `log.csv`, `loss.png`, the last epoch's
/// checkpoint (`checkpoint.bpk`, `optimizer.bpk`) and the best model (`model.json` +
/// `model.bpk`) to `out`; with `resume`, continues after the last completed epoch.
pub fn train_instruments(
    config: &InstrumentTrainConfig,
    data: &InstrumentData,
    out: &Path,
    resume: bool,
    progress: impl FnMut(Progress<InstrumentEpochLog>),
) -> Result<Outcome<InstrumentEpochLog>> {
    let InstrumentData {
        image,
        train: train_set,
        valid,
        mixer,
    } = *data;
    let spec = config.check_for(image)?;
    for data in [train_set, valid] {
        if data.task != config.task || data.num_features != image.len() || data.is_empty() {
            return Err(TrainError::Invalid(format!(
                "the data must be non-empty {}-label images of {} x {}",
                config.task.name(),
                image.bands,
                image.frames
            )));
        }
    }
    let mixed = match mixer {
        Some(_) if config.task == Task::Multi => config.mixed_per_epoch,
        _ if config.mixed_per_epoch > 0 => {
            return Err(TrainError::Invalid(
                "mixed examples need the multi-label task and a notes manifest".into(),
            ))
        }
        _ => 0,
    };
    let description = InstrumentNetDescription::new(
        spec,
        config
            .task
            .classes()
            .iter()
            .map(|c| c.to_string())
            .collect(),
        config.loss,
        serde_json::to_value(image).expect("plain data serialises"),
    );
    let mut task = InstrumentTask {
        config,
        spec,
        description,
        data: *data,
        mixed,
        epoch: EpochDraws::default(),
        device: training_device(),
    };
    let same = |saved: &InstrumentTrainConfig, now: &InstrumentTrainConfig| {
        InstrumentTrainConfig {
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

/// What one epoch drew: the mixed examples, the order of all examples and the equaliser.
struct EpochDraws {
    extra: Option<Dataset>,
    /// `(is mixed, index)` of each example, shuffled; consumed batch by batch.
    order: Vec<(bool, usize)>,
    next: usize,
    equaliser: SeededRng,
}

impl Default for EpochDraws {
    fn default() -> Self {
        Self {
            extra: None,
            order: Vec::new(),
            next: 0,
            equaliser: SeededRng::new(0, "instrument-equaliser"),
        }
    }
}

/// The instrument-recognition job of the loop.
struct InstrumentTask<'a> {
    config: &'a InstrumentTrainConfig,
    spec: NetSpec,
    description: InstrumentNetDescription,
    data: InstrumentData<'a>,
    /// Mixed examples per epoch.
    mixed: usize,
    epoch: EpochDraws,
    device: Device,
}

impl trainer::Task for InstrumentTask<'_> {
    type Network = InstrumentNet;
    type Validation = (f64, f64, f64);
    type Log = InstrumentEpochLog;

    fn initial_network(&self, device: &Device) -> Result<InstrumentNet> {
        Ok(InstrumentNet::new(&self.spec, device)?)
    }

    fn fresh_network(&self, device: &Device) -> Result<InstrumentNet> {
        self.initial_network(device)
    }

    fn start_epoch(&mut self, epoch: usize) -> Result<usize> {
        let config = self.config;
        let epoch_seed = config.seed.wrapping_mul(1000).wrapping_add(epoch as u64);
        let extra = match (self.data.mixer, self.mixed) {
            (Some(mixer), n) if n > 0 => {
                Some(mixer.mix(epoch_seed, n, config.mix_draw, config.mix_eq_db)?)
            }
            _ => None,
        };
        let mut order: Vec<(bool, usize)> =
            (0..self.data.train.len()).map(|i| (false, i)).collect();
        order.extend((0..extra.as_ref().map_or(0, Dataset::len)).map(|i| (true, i)));
        SeededRng::new(epoch_seed, "instrument-shuffle").shuffle(&mut order);
        let batches = order.len().div_ceil(config.batch_size);
        self.epoch = EpochDraws {
            extra,
            order,
            next: 0,
            equaliser: SeededRng::new(epoch_seed, "instrument-equaliser"),
        };
        Ok(batches)
    }

    fn train_batch(
        &mut self,
        net: InstrumentNet,
        optimizer: &mut ModuleOptimizer,
        epoch: usize,
    ) -> Result<(InstrumentNet, f32)> {
        let (config, data) = (self.config, self.data);
        let draws = &mut self.epoch;
        let end = (draws.next + config.batch_size).min(draws.order.len());
        let batch = &draws.order[draws.next..end];
        draws.next = end;
        let extra = draws.extra.as_ref();
        let rows = batch.iter().map(|&(is_mixed, i)| {
            let set = if is_mixed {
                extra.expect("mixed")
            } else {
                data.train
            };
            (set.row(i), set.target(i))
        });
        let equaliser = &mut draws.equaliser;
        let (inputs, targets) = tensors(rows, &self.spec, &self.device, |pixels| {
            config.augment.apply(pixels, data.image, equaliser)
        });
        let loss = config.loss.of(net.forward(inputs), targets);
        let value = loss.clone().into_scalar::<f32>();
        Ok((
            step(optimizer, net, loss, config.learning_rate_at(epoch)),
            value,
        ))
    }

    fn validate(&mut self, net: &InstrumentNet) -> Result<(f64, f64, f64)> {
        let model = InstrumentNetModel::new(net.clone(), self.description.clone());
        validate(&model, self.config, self.data.valid)
    }

    fn log(
        &self,
        epoch: usize,
        train_loss: f64,
        (valid_loss, valid_score, valid_map): (f64, f64, f64),
        seconds: f64,
    ) -> InstrumentEpochLog {
        InstrumentEpochLog {
            epoch,
            train_loss,
            valid_loss,
            valid_score,
            valid_map,
            seconds,
        }
    }

    /// Single precision: the networks are small (ResNet-18 at width 16 is 2.9 MB). Thresholds
    /// fitted to an earlier model of the run no longer apply and go.
    fn save_model(&self, net: &InstrumentNet, path: &Path) -> Result<()> {
        let dir = path.parent().unwrap_or(Path::new("."));
        Thresholds::discard_from_run(dir).map_err(|e| TrainError::Invalid(e.to_string()))?;
        let model = InstrumentNetModel::new(net.clone(), self.description.clone());
        Ok(model.save(path, Precision::F32)?)
    }

    fn log_csv(&self, log: &[InstrumentEpochLog]) -> String {
        let mut text = String::from("epoch,train_loss,valid_loss,valid_score,valid_map,seconds\n");
        for e in log {
            text.push_str(&format!(
                "{},{:.6},{:.6},{:.6},{:.6},{:.1}\n",
                e.epoch, e.train_loss, e.valid_loss, e.valid_score, e.valid_map, e.seconds
            ));
        }
        text
    }

    fn write_curves(&self, log: &[InstrumentEpochLog], path: &Path) -> Result<()> {
        write_curves(path, log)
    }
}

/// What [`train_instrument_networks`] reports.
pub enum NetworksProgress<'a> {
    /// The images are made: how many, and how long it took.
    Loaded(String),
    /// Ensemble member `index` (from 0) of `of` starts, with this seed.
    Member { index: usize, of: usize, seed: u64 },
    /// A network's training moves on.
    Training(Progress<'a, InstrumentEpochLog>),
    /// A network's training ended.
    Trained(&'a Outcome<InstrumentEpochLog>),
}

/// Trains `members` networks of `config` on images of `image` of `config.data` (and mixtures of
/// `config.notes`' train notes): one into `out`, or an ensemble (seeds `seed`, `seed + 1`,
/// ...) into [`ensemble_member_dir`]s with `out/model.json` naming them. Returns the model.
pub fn train_instrument_networks(
    config: &InstrumentTrainConfig,
    image: &BandImage,
    out: &Path,
    resume: bool,
    members: usize,
    mut progress: impl FnMut(NetworksProgress),
) -> Result<PathBuf> {
    config.check_for(image)?;
    // The data before the run folder: a bad manifest leaves nothing behind.
    let started = std::time::Instant::now();
    let (task, data) = (config.task, config.data.as_path());
    let train_set = load_images(data, Split::Train, task, image)?;
    let valid = load_images(data, Split::Valid, task, image)?;
    let mixer = match &config.notes {
        Some(notes) => Some(NoteMixer::load(notes, Split::Train, image, 6)?),
        None => None,
    };
    let mixing = mixer.as_ref().map_or(String::new(), |m| {
        format!(
            ", {} notes to mix ({} examples per epoch)",
            m.notes(),
            config.mixed_per_epoch
        )
    });
    progress(NetworksProgress::Loaded(format!(
        "train: {} files, valid: {} files{mixing}; images in {:.1} s",
        train_set.len(),
        valid.len(),
        started.elapsed().as_secs_f64()
    )));
    let data = InstrumentData {
        image,
        train: &train_set,
        valid: &valid,
        mixer: mixer.as_ref(),
    };
    check_run_folder(out, members)?;
    let train_one = |config: &InstrumentTrainConfig,
                     out: &Path,
                     progress: &mut dyn FnMut(NetworksProgress)|
     -> Result<PathBuf> {
        let outcome = train_instruments(config, &data, out, resume, |p| {
            progress(NetworksProgress::Training(p))
        })?;
        progress(NetworksProgress::Trained(&outcome));
        Ok(outcome.best_model)
    };
    if members == 1 {
        return train_one(config, out, &mut progress);
    }
    for index in 0..members {
        let seed = config.seed + index as u64;
        progress(NetworksProgress::Member {
            index,
            of: members,
            seed,
        });
        let member = InstrumentTrainConfig {
            seed,
            ..config.clone()
        };
        train_one(&member, &ensemble_member_dir(out, index), &mut progress)?;
    }
    write_ensemble(out, members)
}

/// Folder of an ensemble's `index`th member inside the ensemble's run folder.
pub fn ensemble_member_dir(out: &Path, index: usize) -> PathBuf {
    out.join(format!("member-{index}"))
}

/// Refuses to train `members` networks into `out` where that would mix kinds of run: a
/// folder holds one network's run or an ensemble's members, never both; no members is no run.
pub fn check_run_folder(out: &Path, members: usize) -> Result<()> {
    let holds_ensemble = ensemble_member_dir(out, 0).exists();
    let holds_single = RunFiles::new(out).state.exists();
    let refuse = |message: String| Err(TrainError::Invalid(message));
    match members {
        0 => refuse("an ensemble needs at least one member".into()),
        1 if holds_ensemble => refuse(format!(
            "{} holds an ensemble's members; train one network into another folder",
            out.display()
        )),
        2.. if holds_single => refuse(format!(
            "{} holds a single network's run; train the ensemble into another folder",
            out.display()
        )),
        _ => Ok(()),
    }
}

/// Writes `<out>/model.json` naming the best models of `members` member runs (each in
/// [`ensemble_member_dir`]) as one ensemble, and drops thresholds fitted to an earlier model.
pub fn write_ensemble(out: &Path, members: usize) -> Result<PathBuf> {
    let files = RunFiles::new(out);
    let names = (0..members)
        .map(|i| {
            let best = RunFiles::new(&ensemble_member_dir(out, i)).best;
            match best.strip_prefix(out) {
                Ok(relative) if best.is_file() => Ok(relative.to_string_lossy().into_owned()),
                _ => Err(TrainError::Invalid(format!(
                    "ensemble member {i} has no best model at {}",
                    best.display()
                ))),
            }
        })
        .collect::<Result<Vec<_>>>()?;
    if names.is_empty() {
        return Err(TrainError::Invalid("an ensemble needs members".into()));
    }
    Thresholds::discard_from_run(out).map_err(|e| TrainError::Invalid(e.to_string()))?;
    write_json(&files.best, &EnsembleDescription::new(names))?;
    Ok(files.best)
}

/// A batch of `(image, target)` rows as `(batch, 1, bins, frames)` and `(batch, classes)`,
/// each image's copy passed through `augment` first.
fn tensors<'a>(
    rows: impl Iterator<Item = (&'a [f32], &'a [f32])>,
    spec: &NetSpec,
    device: &Device,
    mut augment: impl FnMut(&mut [f32]),
) -> (Tensor<4>, Tensor<2>) {
    let (mut inputs, mut targets) = (Vec::new(), Vec::new());
    for (image, target) in rows {
        let start = inputs.len();
        inputs.extend_from_slice(image);
        augment(&mut inputs[start..]);
        targets.extend_from_slice(target);
    }
    let n = targets.len() / spec.classes;
    (
        Tensor::from_data(
            TensorData::new(inputs, [n, 1, spec.bins, spec.frames]),
            device,
        ),
        Tensor::from_data(TensorData::new(targets, [n, spec.classes]), device),
    )
}

/// Validation loss (from the probabilities, as the training loss would score them), score
/// and mAP of the inference-mode model.
fn validate(
    model: &InstrumentNetModel,
    config: &InstrumentTrainConfig,
    valid: &Dataset,
) -> Result<(f64, f64, f64)> {
    let proba: Vec<f64> = model
        .predict(&valid.features)?
        .into_iter()
        .map(f64::from)
        .collect();
    let loss = probability_loss(config.loss, &proba, &valid.targets, valid.num_classes());
    let classes: Vec<String> = config
        .task
        .classes()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let thresholds = vec![config.threshold; classes.len()];
    let evaluation = score(config.task, &classes, &proba, valid, &thresholds)
        .map_err(|e| TrainError::Invalid(e.to_string()))?;
    // One-vs-rest average precision also for single-label models: a threshold-free view.
    let truth = valid.target_bools();
    let predicted: Vec<bool> = proba.iter().map(|&p| p >= config.threshold).collect();
    let map = multi_label_report(&truth, &predicted, &proba, classes.len()).mean_average_precision;
    let value = match evaluation {
        Evaluation::Single { accuracy, .. } => accuracy,
        Evaluation::Multi { report, .. } => report.hamming_accuracy,
    };
    Ok((loss, value, map))
}

/// Mean loss of probabilities against targets, in the training loss's definition:
/// cross-entropy sums over the classes of an example, the others average every value.
fn probability_loss(loss: Loss, proba: &[f64], targets: &[f32], classes: usize) -> f64 {
    let clamp = |p: f64| p.clamp(1e-12, 1.0 - 1e-12);
    let total: f64 = proba
        .iter()
        .zip(targets)
        .map(|(&p, &t)| {
            let t = t as f64;
            match loss {
                Loss::Ce => -t * clamp(p).ln(),
                Loss::Bce => -(t * clamp(p).ln() + (1.0 - t) * (1.0 - clamp(p)).ln()),
                Loss::L1 => (p - t).abs(),
                Loss::Mse => (p - t).powi(2),
            }
        })
        .sum();
    let count = match loss {
        Loss::Ce => proba.len() / classes.max(1),
        _ => proba.len(),
    };
    total / count.max(1) as f64
}

fn write_curves(path: &Path, log: &[InstrumentEpochLog]) -> Result<()> {
    let per_epoch = |value: fn(&InstrumentEpochLog) -> f64| -> Vec<(f64, f64)> {
        log.iter().map(|e| (e.epoch as f64, value(e))).collect()
    };
    let losses = vec![
        Series {
            label: "train",
            points: per_epoch(|e| e.train_loss),
        },
        Series {
            label: "valid",
            points: per_epoch(|e| e.valid_loss),
        },
    ];
    let scores = vec![
        Series {
            label: "score",
            points: per_epoch(|e| e.valid_score),
        },
        Series {
            label: "mAP",
            points: per_epoch(|e| e.valid_map),
        },
    ];
    line_chart(
        path,
        "epoch",
        &[("loss", "loss", losses), ("validation", "score", scores)],
    )
    .map_err(|e| TrainError::File {
        path: e.path,
        detail: e.detail,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIDE: usize = 16;

    fn image() -> BandImage {
        BandImage {
            bands: SIDE,
            frames: SIDE,
            ..BandImage::default()
        }
    }

    /// Single-label images: class k lights band group k, with a little seeded noise.
    fn tiny_set(examples: usize, seed: u64) -> Dataset {
        let mut rng = SeededRng::new(seed, "tiny");
        let (mut features, mut targets, mut files) = (Vec::new(), Vec::new(), Vec::new());
        for i in 0..examples {
            let class = i % 4;
            for band in 0..SIDE {
                for _ in 0..SIDE {
                    let lit = band / 4 == class;
                    features.push(if lit { 0.8 } else { -0.8 } + 0.2 * rng.unit() as f32);
                }
            }
            targets.extend((0..4).map(|k| if k == class { 1.0 } else { 0.0 }));
            files.push(PathBuf::from(format!("{i}.wav")));
        }
        Dataset {
            task: Task::Single,
            features,
            num_features: SIDE * SIDE,
            targets,
            files,
        }
    }

    fn config(epochs: usize) -> InstrumentTrainConfig {
        InstrumentTrainConfig {
            epochs,
            batch_size: 8,
            learning_rate: 3e-3,
            ..InstrumentTrainConfig::new(InstrumentArch::Mlp, Task::Single, "tiny".into())
        }
    }

    fn data<'a>(
        image: &'a BandImage,
        train: &'a Dataset,
        valid: &'a Dataset,
    ) -> InstrumentData<'a> {
        InstrumentData {
            image,
            train,
            valid,
            mixer: None,
        }
    }

    /// The device's random generator is global: runs in parallel tests would draw from each
    /// other's seeded streams, so the training tests take turns.
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

    fn train(
        config: &InstrumentTrainConfig,
        out: &Path,
        resume: bool,
    ) -> Outcome<InstrumentEpochLog> {
        let (train, valid) = (tiny_set(32, 1), tiny_set(16, 2));
        let tiny = image();
        train_instruments(config, &data(&tiny, &train, &valid), out, resume, |_| {}).unwrap()
    }

    #[test]
    fn a_few_epochs_lower_the_loss_and_keep_the_best_model() {
        let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        // Thresholds of an earlier model in the folder: the new best model discards them.
        let stale = dir.path().join("thresholds.json");
        std::fs::write(&stale, "{}").unwrap();
        let outcome = train(&config(4), dir.path(), false);
        assert!(!stale.exists());
        let log = &outcome.epochs;
        assert_eq!(log.len(), 4);
        assert!(log[3].train_loss < log[0].train_loss, "{log:?}");
        assert!(log[3].valid_loss < log[0].valid_loss, "{log:?}");
        let best = outcome.best.unwrap();
        assert!(best.valid_score >= 0.75, "{best:?}");
        let model = InstrumentNetModel::load(&outcome.best_model).unwrap();
        assert_eq!(model.description().classes.len(), 4);
        for file in [
            "log.csv",
            "loss.png",
            "checkpoint.bpk",
            "optimizer.bpk",
            "state.json",
        ] {
            assert!(dir.path().join(file).is_file(), "{file}");
        }
    }

    /// `config(epochs)` with random equalisation, moves and masks, whose draws a resume must
    /// repeat too, and a decaying step size, which a resume must pick up at its epoch.
    fn equalised(epochs: usize) -> InstrumentTrainConfig {
        InstrumentTrainConfig {
            lr_decay: 0.7,
            augment: SpectralAugment {
                eq_db: 6.0,
                shift_bands: 2,
                mask_bands: 2,
                mask_frames: 3,
            },
            ..config(epochs)
        }
    }

    #[test]
    fn a_resumed_run_equals_an_uninterrupted_one() {
        let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let (whole, parts) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        let uninterrupted = train(&equalised(3), whole.path(), false);
        train(&equalised(1), parts.path(), false);
        // Without --resume an existing run is refused; with it, the run continues.
        let (a, b) = (tiny_set(32, 1), tiny_set(16, 2));
        let tiny = image();
        let refused = train_instruments(
            &equalised(3),
            &data(&tiny, &a, &b),
            parts.path(),
            false,
            |_| {},
        );
        assert!(refused.is_err());
        let resumed = train(&equalised(3), parts.path(), true);
        let losses = |o: &Outcome<InstrumentEpochLog>| -> Vec<(f64, f64)> {
            o.epochs
                .iter()
                .map(|e| (e.train_loss, e.valid_loss))
                .collect()
        };
        assert_eq!(losses(&uninterrupted), losses(&resumed));
        // The files hold random parameter ids, so compare what the saved models predict.
        let predict = |dir: &Path| {
            let model = InstrumentNetModel::load(&dir.join("model.json")).unwrap();
            model.predict(&tiny_set(8, 3).features).unwrap()
        };
        assert_eq!(predict(whole.path()), predict(parts.path()));
    }

    #[test]
    fn equalisation_changes_what_is_trained_on_and_is_seeded() {
        let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let train_loss = |config: &InstrumentTrainConfig| {
            let dir = tempfile::tempdir().unwrap();
            train(config, dir.path(), false).epochs[0].train_loss
        };
        let plain = train_loss(&config(1));
        let eq = train_loss(&equalised(1));
        assert_ne!(plain, eq);
        assert_eq!(eq, train_loss(&equalised(1)));
    }

    #[test]
    fn a_config_saved_before_equalisation_frame_width_and_decay_existed_still_loads() {
        let mut saved = serde_json::to_value(config(2)).unwrap();
        for field in ["augment", "frame_width", "lr_decay", "mix_eq_db"] {
            saved.as_object_mut().unwrap().remove(field).unwrap();
        }
        let loaded: InstrumentTrainConfig = serde_json::from_value(saved).unwrap();
        assert_eq!(loaded, config(2));
    }

    #[test]
    fn settings_out_of_range_are_refused_by_name() {
        let refusal = |config: InstrumentTrainConfig| config.check().unwrap_err().to_string();
        let negative = InstrumentTrainConfig {
            augment: SpectralAugment {
                eq_db: -1.0,
                ..SpectralAugment::default()
            },
            ..config(1)
        };
        assert!(refusal(negative).contains("-1 dB"));
        let mixed = InstrumentTrainConfig {
            mix_eq_db: f64::INFINITY,
            ..config(1)
        };
        assert!(refusal(mixed).contains("mixed notes of inf dB"));
        let narrow = InstrumentTrainConfig {
            frame_width: 3,
            ..config(1)
        };
        let error = narrow.check_for(&image()).unwrap_err().to_string();
        assert!(error.contains("frame width 3"), "{error}");
        for (mask_bands, mask_frames, what) in [(SIDE, 0, "bands"), (0, SIDE, "frames")] {
            let masked = InstrumentTrainConfig {
                augment: SpectralAugment {
                    mask_bands,
                    mask_frames,
                    ..SpectralAugment::default()
                },
                ..config(1)
            };
            let error = masked.check_for(&image()).unwrap_err().to_string();
            assert!(error.contains(&format!("up to {SIDE} {what}")), "{error}");
        }
        for bad in [0.0, 1.5, f64::NAN] {
            let decay = InstrumentTrainConfig {
                lr_decay: bad,
                ..config(1)
            };
            assert!(refusal(decay).contains("decay"));
        }
    }

    #[test]
    fn the_step_size_decays_by_epoch() {
        let decayed = InstrumentTrainConfig {
            learning_rate: 1e-3,
            lr_decay: 0.5,
            ..config(3)
        };
        assert_eq!(decayed.learning_rate_at(0), 1e-3);
        assert_eq!(decayed.learning_rate_at(2), 2.5e-4);
        assert_eq!(config(3).learning_rate_at(5), config(3).learning_rate);
    }

    #[test]
    fn a_folder_holds_one_kind_of_run() {
        let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let (single, ensemble) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
        for members in [1, 3] {
            assert!(check_run_folder(single.path(), members).is_ok());
        }
        assert!(check_run_folder(single.path(), 0).is_err());
        train(&config(1), single.path(), false);
        train(&config(1), &ensemble_member_dir(ensemble.path(), 0), false);
        assert!(check_run_folder(single.path(), 1).is_ok());
        let error = check_run_folder(single.path(), 3).unwrap_err().to_string();
        assert!(error.contains("single network"), "{error}");
        assert!(check_run_folder(ensemble.path(), 3).is_ok());
        let error = check_run_folder(ensemble.path(), 1)
            .unwrap_err()
            .to_string();
        assert!(error.contains("ensemble's members"), "{error}");
    }

    #[test]
    fn members_trained_into_their_folders_become_one_ensemble() {
        let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        assert!(write_ensemble(dir.path(), 2).is_err());
        let stale = dir.path().join("thresholds.json");
        std::fs::write(&stale, "{}").unwrap();
        for (i, seed) in [(0, 5), (1, 6)] {
            let member = InstrumentTrainConfig { seed, ..config(1) };
            train(&member, &ensemble_member_dir(dir.path(), i), false);
        }
        let sidecar = write_ensemble(dir.path(), 2).unwrap();
        assert!(!stale.exists());
        let ensemble = polyphon_models::instruments::InstrumentEnsemble::load(&sidecar).unwrap();
        assert_eq!(ensemble.members().len(), 2);
        let x = tiny_set(4, 9).features;
        let one = InstrumentNetModel::load(&ensemble_member_dir(dir.path(), 0).join("model.json"))
            .unwrap()
            .predict(&x)
            .unwrap();
        assert_ne!(ensemble.predict(&x).unwrap(), one);
    }

    #[test]
    fn mismatched_loss_and_data_are_refused() {
        let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (tiny_set(8, 1), tiny_set(8, 2));
        let bce = InstrumentTrainConfig {
            loss: Loss::Bce,
            ..config(1)
        };
        let tiny = image();
        let error = train_instruments(&bce, &data(&tiny, &a, &b), dir.path(), false, |_| {});
        assert!(error.unwrap_err().to_string().contains("does not fit"));
        let wrong = BandImage {
            frames: 32,
            ..image()
        };
        assert!(
            train_instruments(&config(1), &data(&wrong, &a, &b), dir.path(), false, |_| {})
                .is_err()
        );
        assert!(!dir.path().join("config.json").exists(), "nothing written");
    }
}
