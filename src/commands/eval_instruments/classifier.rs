//! A trained instrument model of either kind, as `eval instruments` and `classify` use it:
//! gradient-boosted trees on pooled features, or networks on band images (one, or an ensemble
//! whose probabilities are averaged). The run's `model.json` says which (a network's sidecar
//! has `"format": "polyphon-instrument-net"`, an ensemble's `polyphon-instrument-ensemble`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use polyphon_instruments::{
    features_of_files, images_of_files, load_images, load_split, BandImage, Dataset, GbdtModel,
    PooledSpectrum, Task, Thresholds,
};
use polyphon_models::instruments::ensemble::sidecar_format;
use polyphon_models::instruments::store::is_instrument_net_format;
use polyphon_models::instruments::InstrumentEnsemble;
use polyphon_synth::manifest::Split;
use rayon::prelude::*;

pub enum InstrumentClassifier {
    Gbdt(GbdtModel),
    /// One network, or several averaged.
    Net {
        /// Boxed: the networks' layer descriptors are ten times the GBDT variant's size.
        model: Box<InstrumentEnsemble>,
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
            anyhow::bail!("--threshold {t} is not a probability")
        }
        (Some(t), _) => Ok(vec![t; classes.len()]),
        (None, Some(fitted)) => Ok(fitted.for_classes(classes)?),
        (None, None) => Ok(vec![0.5; classes.len()]),
    }
}

impl InstrumentClassifier {
    /// Loads a run folder (or its `model.json`) of `polyphon train instruments`.
    pub fn load(run: &Path) -> Result<Self> {
        let path = model_path(run);
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read the model {}", path.display()))?;
        // The whole file is checked before the kind is told from its "format" field: a
        // cut-short file of any kind would otherwise be reported as a broken GBDT model.
        let format = sidecar_format(&text).with_context(|| {
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
            .with_context(|| format!("{name}: the sidecar's front-end is not a band image"))?;
        let spec = &model.description().spec;
        if (image.bands, image.frames) != (spec.bins, spec.frames) {
            anyhow::bail!("{name}: the front-end does not match the network's input");
        }
        Ok(Self::Net {
            model: Box::new(model),
            image,
        })
    }

    pub fn task(&self) -> Task {
        match self {
            Self::Gbdt(model) => model.task,
            Self::Net { model, .. } if model.description().loss.is_single_label() => Task::Single,
            Self::Net { .. } => Task::Multi,
        }
    }

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
