//! Instrument recognition: a trained model of either kind, as `eval instruments` and
//! `classify` use it:
//! gradient-boosted trees on pooled features, or networks on band images (one, or an ensemble
//! whose probabilities are averaged). The run's `model.json` says which (a network's sidecar
//! has `"format": "polyphon-instrument-net"`, an ensemble's `polyphon-instrument-ensemble`).

use std::path::{Path, PathBuf};

use polyphon_core::manifest::Split;
use polyphon_instruments::{
    features_of_files, images_of_files, load_images, load_split, BandImage, Dataset, GbdtModel,
    PooledSpectrum, Task, Thresholds,
};
use polyphon_models::instruments::ensemble::{is_instrument_net_format, sidecar_format};
use polyphon_models::instruments::InstrumentEnsemble;
use rayon::prelude::*;

use crate::{invalid, Context, Error, Result};

/// A trained instrument model of either kind.
pub enum InstrumentModel {
    /// Gradient-boosted trees on pooled band spectra.
    Gbdt(GbdtModel),
    /// One network, or several averaged.
    Net {
        /// Boxed: the networks' layer descriptors are ten times the GBDT variant's size.
        model: Box<InstrumentEnsemble>,
        /// The band-image front-end the networks read, from their sidecar.
        image: BandImage,
    },
}

/// The model file of a run folder, or the path itself when it is a file.
pub fn model_path(path: &Path) -> PathBuf {
    if path.is_dir() {
        path.join("model.json")
    } else {
        path.to_path_buf()
    }
}

/// The folder of a run given as its folder or its model.json: where reports and
/// thresholds.json go.
pub fn run_folder(run: &Path) -> PathBuf {
    if run.is_dir() {
        run.to_path_buf()
    } else {
        run.parent().unwrap_or(Path::new(".")).to_path_buf()
    }
}

/// Per-class decision thresholds of a multi-label model: `explicit` (`--threshold`) for every
/// class when given, else the fitted ones, else 0.5.
pub fn decision_thresholds(
    explicit: Option<f64>,
    fitted: Option<&Thresholds>,
    classes: &[String],
) -> Result<Vec<f64>> {
    match (explicit, fitted) {
        (Some(t), _) if !(0.0..=1.0).contains(&t) => {
            invalid!("threshold {t} is not a probability")
        }
        (Some(t), _) => Ok(vec![t; classes.len()]),
        (None, Some(fitted)) => Ok(fitted.for_classes(classes)?),
        (None, None) => Ok(vec![0.5; classes.len()]),
    }
}

impl InstrumentModel {
    /// Loads a run folder (or its `model.json`) of `polyphon train instruments`.
    pub fn load(run: &Path) -> Result<Self> {
        let path = model_path(run);
        let text = std::fs::read_to_string(&path)
            .map_err(Error::io(&path))
            .context(|| format!("cannot read the model {}", path.display()))?;
        // The whole file is checked before the kind is told from its "format" field: a
        // cut-short file of any kind would otherwise be reported as a broken GBDT model.
        let format = sidecar_format(&text).map_err(|e| Error::Invalid(e.to_string()));
        let format = format.context(|| {
            format!(
                "{}: not a polyphon instrument model (the JSON is cut short or malformed)",
                path.display()
            )
        })?;
        // One read of the sidecar serves both the kind and the model.
        if format.as_deref().is_some_and(is_instrument_net_format) {
            let model = InstrumentEnsemble::load_text(&path, &text)?;
            Self::net(model, &path.display().to_string())
        } else {
            Ok(Self::Gbdt(GbdtModel::from_json(&path, text.as_bytes())?))
        }
    }

    /// Networks whose sidecars name their front-end.
    pub fn net(model: InstrumentEnsemble, name: &str) -> Result<Self> {
        let image: BandImage = serde_json::from_value(model.description().frontend.clone())
            .map_err(|e| Error::Invalid(e.to_string()))
            .context(|| format!("{name}: the sidecar's front-end is not a band image"))?;
        let spec = &model.description().spec;
        if (image.bands, image.frames) != (spec.bins, spec.frames) {
            return invalid!("{name}: the front-end does not match the network's input");
        }
        Ok(Self::Net {
            model: Box::new(model),
            image,
        })
    }

    /// Single-label (one family per clip) or multi-label (any subset of families).
    pub fn task(&self) -> Task {
        match self {
            Self::Gbdt(model) => model.task,
            Self::Net { model, .. } if model.description().loss.is_single_label() => Task::Single,
            Self::Net { .. } => Task::Multi,
        }
    }

    /// The class (instrument family) names, in the order of the probabilities.
    pub fn classes(&self) -> Vec<String> {
        match self {
            Self::Gbdt(model) => model.classes.clone(),
            Self::Net { model, .. } => model.description().classes.clone(),
        }
    }

    /// A manifest split with the features this model reads.
    pub fn load_split(&self, manifest: &Path, split: Split) -> Result<Dataset> {
        Ok(match self {
            Self::Gbdt(model) => load_split(manifest, split, model.task, &model.pooling)?,
            Self::Net { image, .. } => load_images(manifest, split, self.task(), image)?,
        })
    }

    /// Class probabilities `(rows, classes)` of a feature matrix from [`Self::load_split`].
    pub fn predict(&self, features: &[f32]) -> Result<Vec<f64>> {
        Ok(match self {
            Self::Gbdt(model) => model.predict_proba(features)?,
            Self::Net { model, .. } => model
                .predict(features)?
                .into_iter()
                .map(f64::from)
                .collect(),
        })
    }

    /// Class probabilities of whole files (each read from its start, as in training).
    pub fn predict_files(&self, files: &[PathBuf]) -> Result<Vec<f64>> {
        let features = match self {
            Self::Gbdt(model) => features_of_files(files, &model.pooling)?,
            Self::Net { image, .. } => images_of_files(files, image)?,
        };
        self.predict(&features)
    }

    /// Class probabilities of clips of mono samples at [`Self::sample_rate`].
    pub fn predict_clips(&self, clips: &[&[f32]]) -> Result<Vec<f64>> {
        let features: Vec<Vec<f32>> = match self {
            Self::Gbdt(model) => clips
                .par_iter()
                .map(|clip| pooled_of_samples(&model.pooling, clip))
                .collect::<Result<_>>()?,
            Self::Net { image, .. } => {
                let imager = image.imager()?;
                clips
                    .par_iter()
                    .map(|clip| Ok(imager.image_of_samples(clip)?))
                    .collect::<Result<_>>()?
            }
        };
        self.predict(&features.concat())
    }

    /// The sample rate the model's front-end reads, Hz.
    pub fn sample_rate(&self) -> u32 {
        match self {
            Self::Gbdt(model) => model.pooling.sample_rate,
            Self::Net { image, .. } => image.sample_rate,
        }
    }
}

/// The pooled vector of in-memory samples: the band image of the whole clip, back in dB,
/// pooled as `PooledSpectrum` pools a file.
fn pooled_of_samples(pooling: &PooledSpectrum, samples: &[f32]) -> Result<Vec<f32>> {
    let image = BandImage::of_pooling(pooling, samples.len() / pooling.hop + 1);
    let values = image.imager()?.image_of_samples(samples)?;
    let (bands, frames) = (image.bands, image.frames);
    let mut rows = vec![0f32; values.len()];
    for band in 0..bands {
        for frame in 0..frames {
            let scaled = values[band * frames + frame] as f64;
            rows[frame * bands + band] = ((scaled - 1.0) * pooling.top_db / 2.0) as f32;
        }
    }
    let matrix = polyphon_features::FeatureMatrix {
        values: rows,
        num_frames: frames,
        num_bins: bands,
        fps: pooling.sample_rate as f64 / pooling.hop as f64,
    };
    Ok(pooling.pool(&matrix))
}

/// Probabilities per segment of one file: `(start s, end s, one probability per class)`.
pub type Segments = Vec<(f64, f64, Vec<f64>)>;

/// An instrument model with the per-family decision thresholds fitted for it.
///
/// ```
/// # fn main() -> polyphon::Result<()> {
/// # let note = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/bass_flute_mix.wav");
/// let classifier = polyphon::Classifier::bundled()?; // six families, multi-label
/// let audio = polyphon::audio::read(note)?;
/// let probabilities = classifier.classify(&audio.samples, audio.sample_rate)?;
/// for (family, p) in classifier.classes().iter().zip(&probabilities) {
///     println!("{family}: {p:.2}");
/// }
/// println!("{}", classifier.describe(&probabilities, &classifier.thresholds(None)?));
/// # Ok(())
/// # }
/// ```
pub struct Classifier {
    model: InstrumentModel,
    fitted: Option<Thresholds>,
}

impl Classifier {
    /// A classifier of `model`, with its fitted decision thresholds if it has any.
    pub fn new(model: InstrumentModel, fitted: Option<Thresholds>) -> Self {
        Self { model, fitted }
    }

    /// The bundled 6-family multi-label network and its fitted thresholds.
    #[cfg(feature = "bundled")]
    pub fn bundled() -> Result<Self> {
        Self::from_name_or_path(crate::bundled::DEFAULT_INSTRUMENTS)
    }

    /// A bundled model by name, else a run folder (or its `model.json`) of `polyphon train
    /// instruments`, with the run's `thresholds.json` if it has one.
    pub fn from_name_or_path(choice: &str) -> Result<Self> {
        #[cfg(feature = "bundled")]
        if let Some(files) = crate::bundled::instruments(choice) {
            return Self::bundled_named(files);
        }
        #[cfg(feature = "bundled")]
        let bundled = crate::bundled::instrument_names();
        #[cfg(not(feature = "bundled"))]
        let bundled = Vec::new();
        let path = crate::model_file(choice, &bundled)?;
        let model =
            InstrumentModel::load(path).context(|| format!("loading the model {choice}"))?;
        let fitted = Thresholds::load_from_run(&run_folder(path))?;
        Ok(Self::new(model, fitted))
    }

    #[cfg(feature = "bundled")]
    fn bundled_named(files: crate::bundled::InstrumentFiles) -> Result<Self> {
        use crate::bundled::{loading, InstrumentFiles};
        match files {
            InstrumentFiles::Network((name, sidecar, weights), thresholds) => {
                let model = polyphon_models::instruments::InstrumentNetModel::from_memory(
                    name, sidecar, weights,
                )
                .context(loading(name))?;
                let model = InstrumentModel::net(InstrumentEnsemble::single(model), name)?;
                let fitted = thresholds
                    .map(|json| Thresholds::from_json(Path::new(name), json))
                    .transpose()
                    .context(|| format!("the bundled thresholds of {name}"))?;
                Ok(Self::new(model, fitted))
            }
            InstrumentFiles::Trees(name, json) => {
                let trees = GbdtModel::from_json(Path::new(name), json.as_bytes());
                Ok(Self::new(
                    InstrumentModel::Gbdt(trees.context(loading(name))?),
                    None,
                ))
            }
        }
    }

    /// The instrument model itself.
    pub fn model(&self) -> &InstrumentModel {
        &self.model
    }

    /// The class (instrument family) names, in the order of the probabilities.
    pub fn classes(&self) -> Vec<String> {
        self.model.classes()
    }

    /// Single-label (one family per clip) or multi-label (any subset of families).
    pub fn task(&self) -> Task {
        self.model.task()
    }

    /// The thresholds fitted for this model (`thresholds.json`), if any.
    pub fn fitted_thresholds(&self) -> Option<&Thresholds> {
        self.fitted.as_ref()
    }

    /// Per-class decision thresholds: `explicit` for every class when given, else the fitted
    /// ones, else 0.5.
    pub fn thresholds(&self, explicit: Option<f64>) -> Result<Vec<f64>> {
        decision_thresholds(explicit, self.fitted.as_ref(), &self.classes())
    }

    /// Class probabilities of mono `samples`: the clip's start, as the models were trained
    /// (resampled to the model's rate first).
    pub fn classify(&self, samples: &[f32], sample_rate: u32) -> Result<Vec<f64>> {
        let clip = self.resampled(samples, sample_rate)?;
        self.model.predict_clips(&[&clip])
    }

    /// Class probabilities of each file's start, or why that file could not be classified
    /// (unreadable, or shorter than [`MIN_CLIP_SECONDS`](polyphon_instruments::MIN_CLIP_SECONDS)),
    /// file by file, in the order given.
    pub fn classify_each(&self, files: &[PathBuf]) -> Vec<Result<Vec<f64>>> {
        files
            .par_iter()
            .map(|file| self.classify_files(std::slice::from_ref(file)))
            .collect()
    }

    /// Class probabilities of each file's start, `(files, classes)` row-major; the first
    /// file that cannot be classified is the error.
    pub fn classify_files(&self, files: &[PathBuf]) -> Result<Vec<f64>> {
        self.model.predict_files(files)
    }

    /// Class probabilities of consecutive segments of `seconds` of a file; a last piece
    /// shorter than [`MIN_CLIP_SECONDS`](polyphon_instruments::MIN_CLIP_SECONDS) joins the
    /// segment before it, and a file shorter than that is an error.
    pub fn classify_segments(&self, file: &Path, seconds: f64) -> Result<Segments> {
        if !(seconds.is_finite() && seconds > 0.0) {
            return invalid!("a segment of {seconds} s is not a length");
        }
        let rate = self.model.sample_rate();
        let audio = polyphon_audio::read_mono(file, Some(rate), polyphon_audio::Downmix::Mean)
            .context(|| format!("cannot read {}", file.display()))?;
        let shortest = (polyphon_instruments::MIN_CLIP_SECONDS * rate as f64).ceil() as usize;
        let audio_seconds = audio.samples.len() as f64 / f64::from(rate);
        polyphon_instruments::check_clip_length(file, audio_seconds..=audio_seconds)?;
        let length = ((seconds * rate as f64).round() as usize).max(1);
        let mut clips: Vec<&[f32]> = audio.samples.chunks(length).collect();
        // A last piece too short to classify joins the segment before it.
        if clips.len() > 1 && clips[clips.len() - 1].len() < shortest {
            clips.pop();
            let last = clips.len() - 1;
            clips[last] = &audio.samples[last * length..];
        }
        let proba = self.model.predict_clips(&clips)?;
        let k = self.classes().len();
        Ok(clips
            .iter()
            .enumerate()
            .zip(proba.chunks(k))
            .map(|((i, clip), p)| {
                let start = (i * length) as f64 / rate as f64;
                (start, start + clip.len() as f64 / rate as f64, p.to_vec())
            })
            .collect())
    }

    /// Every class's probability, rounded to 4 decimals (more would suggest a precision the
    /// model lacks), as a JSON object.
    pub fn labels_json(&self, probabilities: &[f64]) -> serde_json::Map<String, serde_json::Value> {
        let rounded = |p: f64| (p * 1e4).round() / 1e4;
        self.classes()
            .into_iter()
            .zip(probabilities)
            .map(|(class, &p)| (class, serde_json::json!(rounded(p))))
            .collect()
    }

    /// What a person reads: the most probable family (single-label), or every family at or
    /// above its threshold, most probable first (multi-label), each with its probability.
    pub fn describe(&self, probabilities: &[f64], thresholds: &[f64]) -> String {
        let (p, classes) = (probabilities, self.classes());
        let mut order: Vec<usize> = (0..p.len()).collect();
        order.sort_by(|&a, &b| p[b].total_cmp(&p[a]));
        let shown: Vec<usize> = match self.task() {
            Task::Single => vec![polyphon_instruments::evaluate::argmax(p)],
            Task::Multi => order
                .iter()
                .copied()
                .filter(|&i| p[i] >= thresholds[i])
                .collect(),
        };
        let listed: Vec<String> = shown
            .iter()
            .map(|&i| format!("{} {:.2}", classes[i], p[i]))
            .collect();
        match (listed.is_empty(), order.first()) {
            (true, Some(&top)) => format!(
                "none at or above its threshold (most likely {} {:.2})",
                classes[top], p[top]
            ),
            _ => listed.join(", "),
        }
    }

    fn resampled(&self, samples: &[f32], sample_rate: u32) -> Result<Vec<f32>> {
        let rate = self.model.sample_rate();
        if sample_rate == rate {
            return Ok(samples.to_vec());
        }
        let mut resampler = polyphon_audio::StreamResampler::new(sample_rate, rate)?;
        let mut out = Vec::new();
        resampler.push(samples, &mut out)?;
        resampler.finish(&mut out)?;
        Ok(out)
    }
}
