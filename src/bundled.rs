//! Models compiled into the binary, so that a fresh clone transcribes with no download.
//!
//! `models/<name>/` holds each bundled model as `polyphon train` wrote it (sidecar, weights,
//! training config and log); README.md says how it was trained.

use std::path::Path;

use anyhow::{Context, Result};
use polyphon_instruments::{GbdtModel, Thresholds};
use polyphon_models::instruments::{InstrumentEnsemble, InstrumentNetModel};
use polyphon_models::separation::SeparationModel;

use crate::commands::eval_instruments::{run_folder, InstrumentClassifier};
use polyphon_models::{default_device, TranscriptionModel};

/// The transcription model used when `--model` is not given.
pub const DEFAULT_TRANSCRIPTION: &str = "convnet-pieces";

/// Bundled transcription models: name, sidecar text, weights.
const TRANSCRIPTION: &[(&str, &str, &[u8])] = &[(
    "convnet-pieces",
    include_str!("../models/convnet-pieces/model.json"),
    include_bytes!("../models/convnet-pieces/model.bpk"),
)];

/// Names of the bundled transcription models, for help and error texts.
pub fn transcription_names() -> Vec<&'static str> {
    TRANSCRIPTION.iter().map(|(name, _, _)| *name).collect()
}

/// `--model NAME|PATH`: a bundled model by name, else a sidecar written by `polyphon train`;
/// `None` is the default bundled model.
pub fn transcription_model(choice: Option<&str>) -> Result<TranscriptionModel> {
    let choice = choice.unwrap_or(DEFAULT_TRANSCRIPTION);
    if let Some((name, sidecar, weights)) = TRANSCRIPTION.iter().find(|(n, _, _)| *n == choice) {
        return TranscriptionModel::from_memory(name, sidecar, weights, &default_device())
            .with_context(|| format!("loading the bundled model {name}"));
    }
    let path = model_file(choice, &transcription_names())?;
    TranscriptionModel::load(path).with_context(|| format!("loading the model {choice}"))
}

/// `--model` that names no bundled model: a path that must exist.
fn model_file<'a>(choice: &'a str, bundled: &[&str]) -> Result<&'a Path> {
    let path = Path::new(choice);
    if !path.exists() {
        anyhow::bail!(
            "--model {choice}: no such file and no bundled model of that name (bundled: {})",
            bundled.join(", ")
        );
    }
    Ok(path)
}

/// The separation model used when `--model` is not given.
pub const DEFAULT_SEPARATION: &str = "unet-bass-flute";

/// Bundled separation models: name, sidecar text, weights.
const SEPARATION: &[(&str, &str, &[u8])] = &[(
    "unet-bass-flute",
    include_str!("../models/unet-bass-flute/model.json"),
    include_bytes!("../models/unet-bass-flute/model.bpk"),
)];

/// `--model NAME|PATH` for separation, as [`transcription_model`] for transcription.
pub fn separation_model(choice: Option<&str>) -> Result<SeparationModel> {
    let choice = choice.unwrap_or(DEFAULT_SEPARATION);
    if let Some((name, sidecar, weights)) = SEPARATION.iter().find(|(n, _, _)| *n == choice) {
        return SeparationModel::from_memory(name, sidecar, weights)
            .with_context(|| format!("loading the bundled model {name}"));
    }
    let names: Vec<&str> = SEPARATION.iter().map(|(n, _, _)| *n).collect();
    let path = model_file(choice, &names)?;
    SeparationModel::load(path).with_context(|| format!("loading the model {choice}"))
}

/// Bundled instrument network: name, sidecar text, weights. The default of `classify`: the
/// 6-family multi-label model with the best valid Hamming accuracy, see docs/instruments.md.
const INSTRUMENT_NET: (&str, &str, &[u8]) = (
    "frame-mlp-instruments-multi",
    include_str!("../models/frame-mlp-instruments-multi/model.json"),
    include_bytes!("../models/frame-mlp-instruments-multi/model.bpk"),
);

/// The bundled network's per-family thresholds, fitted on the valid split of its training data.
const INSTRUMENT_NET_THRESHOLDS: &str =
    include_str!("../models/frame-mlp-instruments-multi/thresholds.json");

/// Bundled single-label (4-family) trees: gradient-boosted trees on 146 logarithmic bands,
/// trained on notes, phrases and solos (voices of real scores), the best trees on valid
/// (docs/instruments.md). 8.6 MB of JSON.
const INSTRUMENT_TREES: (&str, &str) = (
    "gbdt-instruments-single",
    include_str!("../models/gbdt-instruments-single/model.json"),
);

/// Bundled single-label (4-family) network: a `frame-mlp` on 146 logarithmic bands, trained
/// on notes, phrases and solos with random equalisation, the best on valid of the
/// single-label models that name all three example instruments right (docs/instruments.md).
const INSTRUMENT_SINGLE_NET: (&str, &str, &[u8]) = (
    "frame-mlp-instruments-single",
    include_str!("../models/frame-mlp-instruments-single/model.json"),
    include_bytes!("../models/frame-mlp-instruments-single/model.bpk"),
);

/// Names `classify --model` accepts for the bundled instrument models.
pub fn instrument_names() -> [&'static str; 3] {
    [
        INSTRUMENT_NET.0,
        INSTRUMENT_SINGLE_NET.0,
        INSTRUMENT_TREES.0,
    ]
}

/// A model for `classify` and the per-family thresholds fitted for it (`None` where there
/// are none: the trees, or a run without thresholds.json).
pub type InstrumentChoice = (InstrumentClassifier, Option<Thresholds>);

/// `--model RUN` for `classify`: a run folder or sidecar of `polyphon train instruments` or a
/// bundled model's name; `None` is the default bundled (multi-label) model.
pub fn instrument_model(choice: Option<&Path>) -> Result<InstrumentChoice> {
    let text = choice.map(|path| path.to_string_lossy().into_owned());
    match text.as_deref() {
        None => bundled_instrument_net(),
        Some(name) if name == INSTRUMENT_NET.0 => bundled_instrument_net(),
        Some(name) if name == INSTRUMENT_SINGLE_NET.0 => {
            Ok((bundled_network(INSTRUMENT_SINGLE_NET)?, None))
        }
        Some(name) if name == INSTRUMENT_TREES.0 => {
            let (name, json) = INSTRUMENT_TREES;
            let model = GbdtModel::from_json(Path::new(name), json.as_bytes())
                .with_context(|| format!("loading the bundled model {name}"))?;
            Ok((InstrumentClassifier::Gbdt(model), None))
        }
        Some(name) => {
            let path = model_file(name, &instrument_names())?;
            let model = InstrumentClassifier::load(path)
                .with_context(|| format!("loading the model {name}"))?;
            Ok((model, Thresholds::load_from_run(&run_folder(path))?))
        }
    }
}

fn bundled_thresholds() -> Result<Thresholds> {
    let name = Path::new(INSTRUMENT_NET.0);
    Thresholds::from_json(name, INSTRUMENT_NET_THRESHOLDS)
        .with_context(|| format!("the bundled thresholds of {}", INSTRUMENT_NET.0))
}

/// A bundled network from its name, sidecar text and weights.
fn bundled_network((name, sidecar, weights): (&str, &str, &[u8])) -> Result<InstrumentClassifier> {
    let model = InstrumentNetModel::from_memory(name, sidecar, weights)
        .with_context(|| format!("loading the bundled model {name}"))?;
    InstrumentClassifier::net(InstrumentEnsemble::single(model), name)
}

fn bundled_instrument_net() -> Result<InstrumentChoice> {
    Ok((
        bundled_network(INSTRUMENT_NET)?,
        Some(bundled_thresholds()?),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_model_loads() {
        for name in transcription_names() {
            let model = transcription_model(Some(name)).unwrap();
            assert_eq!(model.num_outputs(), 88, "{name}");
        }
    }

    #[test]
    fn the_bundled_separation_model_loads() {
        let model = separation_model(None).unwrap();
        assert_eq!(model.sources(), ["bass", "flute"]);
        assert!(separation_model(Some("no-such-model")).is_err());
    }

    #[test]
    fn the_bundled_instrument_model_is_six_family_multi_label() {
        let (model, fitted) = instrument_model(None).unwrap();
        assert_eq!(model.task(), polyphon_instruments::Task::Multi);
        assert_eq!(model.classes().len(), 6);
        assert!(instrument_model(Some(Path::new("no-such-model"))).is_err());
        assert_eq!(
            fitted.unwrap().for_classes(&model.classes()).unwrap().len(),
            6
        );
    }

    #[test]
    fn the_bundled_single_label_model_is_four_family_trees() {
        let (model, fitted) = instrument_model(Some(Path::new("gbdt-instruments-single"))).unwrap();
        assert!(fitted.is_none());
        assert!(matches!(model, InstrumentClassifier::Gbdt(_)));
        assert_eq!(model.task(), polyphon_instruments::Task::Single);
        assert_eq!(model.classes(), ["bass", "flute", "guitar", "keyboard"]);
    }

    #[test]
    fn the_bundled_single_label_network_is_a_four_family_log_band_frame_mlp() {
        let choice = Path::new("frame-mlp-instruments-single");
        let (model, fitted) = instrument_model(Some(choice)).unwrap();
        assert!(fitted.is_none());
        let InstrumentClassifier::Net { model, image } = &model else {
            panic!("not a network");
        };
        assert_eq!(
            model.description().spec.architecture,
            polyphon_models::instruments::InstrumentArch::FrameMlp
        );
        assert_eq!(image.scale, polyphon_instruments::BandScale::log());
        assert_eq!(
            model.description().classes,
            ["bass", "flute", "guitar", "keyboard"]
        );
    }

    #[test]
    fn unknown_model_names_the_choices() {
        let error = transcription_model(Some("no-such-model")).unwrap_err();
        assert!(format!("{error:#}").contains(DEFAULT_TRANSCRIPTION));
    }
}
