//! A tiny AUNet run on patches. In its own test binary (process): burn's device seed is
//! global, and the resume test beside it needs its dropout masks to itself.

mod common;

use common::tiny_set;
use polyphon_train::{train_transcription, TranscriptionTrainConfig};

#[test]
fn the_aunet_trains_on_patches_and_its_model_loads() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = tiny_set(dir.path());
    let cache = dir.path().join("cache");
    let out = dir.path().join("aunet");
    let config = TranscriptionTrainConfig {
        architecture: "aunet".into(),
        epochs: 1,
        batch_size: 1,
        ..Default::default()
    };
    let outcome = train_transcription(&config, &manifest, &cache, &out, false, |_| {}).unwrap();
    // Two 50-frame training files: one patch each, one patch per step.
    assert_eq!(outcome.epochs.len(), 1);
    assert!(outcome.epochs[0].train_loss.is_finite() && outcome.epochs[0].train_loss > 0.0);
    let model =
        polyphon_models::transcription::TranscriptionModel::load(&outcome.best_model).unwrap();
    assert_eq!(
        model.architecture(),
        polyphon_models::transcription::Architecture::AuNet
    );
}
