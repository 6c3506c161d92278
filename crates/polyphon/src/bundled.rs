//! The trained models compiled into the library (crate feature `bundled`, on by default), so
//! a fresh build transcribes, separates and classifies with nothing to download.
//!
//! `models/<name>/` in the repository holds each one as `polyphon train` wrote it (sidecar,
//! weights, training config and log); the README gives the command that trained it.

/// The transcription model [`crate::Transcriber::bundled`] loads.
pub const DEFAULT_TRANSCRIPTION: &str = "convnet-pieces";
/// The separation model [`crate::Separator::bundled`] loads.
pub const DEFAULT_SEPARATION: &str = "unet-bass-flute";
/// The instrument model [`crate::Classifier::bundled`] loads: the 6-family multi-label network.
pub const DEFAULT_INSTRUMENTS: &str = INSTRUMENT_NET.0;

/// A bundled network: name, sidecar text, weights.
pub(crate) type Network = (&'static str, &'static str, &'static [u8]);

const TRANSCRIPTION: &[Network] = &[(
    "convnet-pieces",
    include_str!("../../../models/convnet-pieces/model.json"),
    include_bytes!("../../../models/convnet-pieces/model.bpk"),
)];

const SEPARATION: &[Network] = &[(
    "unet-bass-flute",
    include_str!("../../../models/unet-bass-flute/model.json"),
    include_bytes!("../../../models/unet-bass-flute/model.bpk"),
)];

/// The 6-family multi-label network with the best valid Hamming accuracy (docs/instruments.md),
/// and its per-family thresholds fitted on the valid split of its training data.
const INSTRUMENT_NET: Network = (
    "frame-mlp-instruments-multi",
    include_str!("../../../models/frame-mlp-instruments-multi/model.json"),
    include_bytes!("../../../models/frame-mlp-instruments-multi/model.bpk"),
);
const INSTRUMENT_NET_THRESHOLDS: &str =
    include_str!("../../../models/frame-mlp-instruments-multi/thresholds.json");

/// Single-label (4 families): a `frame-mlp` on 146 logarithmic bands, trained on notes, phrases
/// and solos with random equalisation.
const INSTRUMENT_SINGLE_NET: Network = (
    "frame-mlp-instruments-single",
    include_str!("../../../models/frame-mlp-instruments-single/model.json"),
    include_bytes!("../../../models/frame-mlp-instruments-single/model.bpk"),
);

/// Single-label (4 families) gradient-boosted trees on 146 logarithmic bands (8.6 MB of JSON).
const INSTRUMENT_TREES: (&str, &str) = (
    "gbdt-instruments-single",
    include_str!("../../../models/gbdt-instruments-single/model.json"),
);

fn names(models: &[Network]) -> Vec<&'static str> {
    models.iter().map(|(name, _, _)| *name).collect()
}

/// Names of the bundled transcription models.
pub fn transcription_names() -> Vec<&'static str> {
    names(TRANSCRIPTION)
}

/// Names of the bundled separation models.
pub fn separation_names() -> Vec<&'static str> {
    names(SEPARATION)
}

/// Names of the bundled instrument models.
pub fn instrument_names() -> Vec<&'static str> {
    vec![
        INSTRUMENT_NET.0,
        INSTRUMENT_SINGLE_NET.0,
        INSTRUMENT_TREES.0,
    ]
}

/// The words every bundled model's loading error starts with.
pub(crate) fn loading(name: &str) -> impl FnOnce() -> String + '_ {
    move || format!("loading the bundled model {name}")
}

/// The bundled transcription network `name`, if there is one of that name.
pub(crate) fn transcription(name: &str) -> Option<Network> {
    TRANSCRIPTION.iter().find(|(n, ..)| *n == name).copied()
}

/// The bundled separation network `name`, if there is one of that name.
pub(crate) fn separation(name: &str) -> Option<Network> {
    SEPARATION.iter().find(|(n, ..)| *n == name).copied()
}

/// A bundled instrument model's files.
pub(crate) enum InstrumentFiles {
    /// A network and, where fitted, its per-family thresholds (JSON).
    Network(Network, Option<&'static str>),
    /// Trees: name and JSON.
    Trees(&'static str, &'static str),
}

/// The bundled instrument model `name`, if there is one of that name.
pub(crate) fn instruments(name: &str) -> Option<InstrumentFiles> {
    match name {
        _ if name == INSTRUMENT_NET.0 => Some(InstrumentFiles::Network(
            INSTRUMENT_NET,
            Some(INSTRUMENT_NET_THRESHOLDS),
        )),
        _ if name == INSTRUMENT_SINGLE_NET.0 => {
            Some(InstrumentFiles::Network(INSTRUMENT_SINGLE_NET, None))
        }
        _ if name == INSTRUMENT_TREES.0 => Some(InstrumentFiles::Trees(
            INSTRUMENT_TREES.0,
            INSTRUMENT_TREES.1,
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Classifier, Separator, Transcriber};

    #[test]
    fn every_bundled_model_loads_with_its_shape() {
        for name in transcription_names() {
            assert_eq!(
                Transcriber::from_name_or_path(name).unwrap().keys(),
                88,
                "{name}"
            );
        }
        for name in separation_names() {
            let separator = Separator::from_name_or_path(name).unwrap();
            assert_eq!(separator.sources(), ["bass", "flute"]);
        }
        let multi = Classifier::bundled().unwrap();
        assert_eq!(multi.task(), polyphon_instruments::Task::Multi);
        assert_eq!(multi.classes().len(), 6);
        assert_eq!(multi.thresholds(None).unwrap().len(), 6);
        assert!(multi.fitted_thresholds().is_some());
        for name in [INSTRUMENT_SINGLE_NET.0, INSTRUMENT_TREES.0] {
            let single = Classifier::from_name_or_path(name).unwrap();
            assert!(single.fitted_thresholds().is_none());
            assert_eq!(single.task(), polyphon_instruments::Task::Single);
            assert_eq!(single.classes(), ["bass", "flute", "guitar", "keyboard"]);
        }
    }

    #[test]
    fn the_single_label_network_is_a_log_band_frame_mlp() {
        let single = Classifier::from_name_or_path(INSTRUMENT_SINGLE_NET.0).unwrap();
        let crate::InstrumentModel::Net { model, image } = single.model() else {
            panic!("not a network");
        };
        assert_eq!(
            model.description().spec.architecture,
            polyphon_models::instruments::InstrumentArch::FrameMlp
        );
        assert_eq!(image.scale, polyphon_instruments::BandScale::log());
        let trees = Classifier::from_name_or_path(INSTRUMENT_TREES.0).unwrap();
        assert!(matches!(trees.model(), crate::InstrumentModel::Gbdt(_)));
    }
}
