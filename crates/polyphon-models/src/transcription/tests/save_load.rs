use burn::tensor::DType;

use super::features;
use crate::storage::cast;
use crate::transcription::store::read_description;
use crate::transcription::{Architecture, TranscriptionModel};
use crate::{ModelError, Precision};

#[test]
fn full_precision_round_trip_gives_identical_predictions() {
    let dir = tempfile::tempdir().unwrap();
    let frames = 20;
    let features = features(frames, 4);
    for architecture in [Architecture::ConvNet, Architecture::SmallConvNet] {
        let model = TranscriptionModel::untrained(architecture);
        let sidecar = dir.path().join(format!("{architecture}.json"));
        model.save_with(&sidecar, Precision::F32).unwrap();
        let loaded = TranscriptionModel::load(&sidecar).unwrap();
        assert_eq!(loaded.architecture(), architecture);
        assert_eq!(
            model.predict(&features, frames).unwrap(),
            loaded.predict(&features, frames).unwrap()
        );
    }
}

#[test]
fn half_precision_file_is_compact_and_loads_the_rounded_weights() {
    let dir = tempfile::tempdir().unwrap();
    let sidecar = dir.path().join("model.json");
    let model = TranscriptionModel::untrained(Architecture::ConvNet);
    model.save(&sidecar).unwrap();

    let size = std::fs::metadata(dir.path().join("model.bpk"))
        .unwrap()
        .len();
    assert!(size < 4_000_000, "{size} bytes");
    let description = read_description(&sidecar).unwrap();
    assert_eq!(description.architecture, "convnet");
    assert_eq!(description.features, "kelz2016");
    assert_eq!(description.precision, Precision::F16);
    assert_eq!(description.weights, "model.bpk");

    // What was saved: the weights rounded to f16, widened back to f32.
    let rounded =
        TranscriptionModel::new(cast(cast(model.network().clone(), DType::F16), DType::F32));
    let loaded = TranscriptionModel::load(&sidecar).unwrap();
    let frames = 12;
    let features = features(frames, 5);
    let expected = rounded.predict(&features, frames).unwrap();
    assert_eq!(loaded.predict(&features, frames).unwrap(), expected);
    let original = model.predict(&features, frames).unwrap();
    for (a, b) in original.iter().zip(&expected) {
        assert!((a - b).abs() < 1e-2);
    }
}

#[test]
fn aunet_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let sidecar = dir.path().join("aunet.json");
    let model = TranscriptionModel::untrained(Architecture::AuNet);
    model.save_with(&sidecar, Precision::F32).unwrap();
    let loaded = TranscriptionModel::load(&sidecar).unwrap();
    let frames = 10;
    let features = features(frames, 6);
    assert_eq!(
        model.predict(&features, frames).unwrap(),
        loaded.predict(&features, frames).unwrap()
    );
}

#[test]
fn bad_sidecars_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("missing.json");
    assert!(matches!(
        TranscriptionModel::load(&missing),
        Err(ModelError::Io { .. })
    ));
    let garbage = dir.path().join("garbage.json");
    std::fs::write(&garbage, "{").unwrap();
    assert!(matches!(
        TranscriptionModel::load(&garbage),
        Err(ModelError::Sidecar { .. })
    ));
    let other = dir.path().join("other.json");
    let model = TranscriptionModel::untrained(Architecture::SmallConvNet);
    model.save(&other).unwrap();
    let text = std::fs::read_to_string(&other)
        .unwrap()
        .replace("kelz2016", "mel");
    std::fs::write(&other, text).unwrap();
    assert!(matches!(
        TranscriptionModel::load(&other),
        Err(ModelError::Unsupported { .. })
    ));
}

#[test]
fn model_held_in_memory_equals_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let sidecar = dir.path().join("small.json");
    let model = TranscriptionModel::untrained(Architecture::SmallConvNet);
    model.save(&sidecar).unwrap();
    let text = std::fs::read_to_string(&sidecar).unwrap();
    let weights = std::fs::read(dir.path().join("small.bpk")).unwrap();
    let device = crate::default_device();
    let in_memory = TranscriptionModel::from_memory("bundled", &text, &weights, &device).unwrap();
    let from_files = TranscriptionModel::load(&sidecar).unwrap();
    let frames = 9;
    let features = features(frames, 7);
    assert_eq!(
        in_memory.predict(&features, frames).unwrap(),
        from_files.predict(&features, frames).unwrap()
    );
    assert!(matches!(
        TranscriptionModel::from_memory("bundled", &text, &weights[..100], &device),
        Err(ModelError::File(polyphon_core::CoreError::Checksum { .. }))
    ));
}

#[test]
fn changed_weights_are_refused_before_they_load() {
    let dir = tempfile::tempdir().unwrap();
    let sidecar = dir.path().join("small.json");
    TranscriptionModel::untrained(Architecture::SmallConvNet)
        .save(&sidecar)
        .unwrap();
    let text = std::fs::read_to_string(&sidecar).unwrap();
    assert!(text.contains("\"weights_sha256\": \""), "{text}");
    let weights = dir.path().join("small.bpk");
    let mut bytes = std::fs::read(&weights).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x40;
    std::fs::write(&weights, &bytes).unwrap();
    let message = TranscriptionModel::load(&sidecar).unwrap_err().to_string();
    assert!(
        message.contains("small.bpk: damaged or changed"),
        "{message}"
    );
    // A sidecar without a checksum (saved before checksums existed) loads unchecked.
    let unchecked: serde_json::Value = serde_json::from_str(&text).unwrap();
    let mut unchecked = unchecked.as_object().unwrap().clone();
    unchecked.remove(crate::storage::WEIGHTS_SHA256);
    std::fs::write(&sidecar, serde_json::to_string(&unchecked).unwrap()).unwrap();
    assert!(!matches!(
        TranscriptionModel::load(&sidecar),
        Err(ModelError::File(_))
    ));
}
