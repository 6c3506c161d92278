//! The ONNX Runtime engine against burn's forward pass, when a library is there to load.

use std::path::Path;

use super::features;
use crate::fold::largest_difference;
use crate::transcription::onnx::{default_library, LIBRARY_VARIABLE};
use crate::transcription::{Architecture, Engine, TranscriptionModel};

/// The ONNX Runtime engine of `model`, or `None` (with a note) where no library loads.
fn on_ort(model: &TranscriptionModel) -> Option<TranscriptionModel> {
    match model.clone().with_engine(Engine::Ort) {
        Ok(ort) => Some(ort),
        Err(error) if std::env::var_os(LIBRARY_VARIABLE).is_none() => {
            eprintln!(
                "skipped: no ONNX Runtime at {} ({error}); set {LIBRARY_VARIABLE}",
                default_library().display()
            );
            None
        }
        Err(error) => panic!("{LIBRARY_VARIABLE} is set but does not load: {error}"),
    }
}

fn assert_ort_equals_burn(model: &TranscriptionModel, lengths: &[usize]) {
    let Some(ort) = on_ort(model) else { return };
    assert_eq!(ort.engine(), Engine::Ort);
    let burn = model.clone().with_engine(Engine::Burn).unwrap();
    for &frames in lengths {
        let x = features(frames, frames as u32 + 3);
        let expected = burn.predict(&x, frames).unwrap();
        let worst = largest_difference(&ort.predict(&x, frames).unwrap(), &expected);
        assert!(worst < 1e-4, "{frames} frames: differs by {worst}");
    }
}

#[test]
fn ort_gives_burns_probabilities_on_random_weights() {
    let model = TranscriptionModel::untrained(Architecture::ConvNet).with_chunk_frames(64);
    assert_ort_equals_burn(&model, &[1, 5, 64, 65, 200]);
}

#[test]
fn ort_gives_burns_probabilities_on_the_bundled_weights() {
    let sidecar =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/convnet-pieces/model.json");
    let model = TranscriptionModel::load(sidecar).unwrap();
    assert_ort_equals_burn(&model, &[150]);
}

#[test]
fn ort_runs_the_convnet_only() {
    let model = TranscriptionModel::untrained(Architecture::AuNet);
    let error = model.with_engine(Engine::Ort).unwrap_err().to_string();
    assert!(error.contains("ConvNet only"), "{error}");
}
