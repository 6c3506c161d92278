//! A tiny SmallConvNet run: outputs, resume, and refusal to mix runs.

mod common;

use common::tiny_set;
use polyphon_train::{train_transcription, TranscriptionTrainConfig};

fn config(epochs: usize) -> TranscriptionTrainConfig {
    TranscriptionTrainConfig {
        architecture: "small-convnet".into(),
        epochs,
        batch_size: 25,
        patience: 10,
        ..Default::default()
    }
}

#[test]
fn a_run_writes_its_files_and_resumes_after_its_last_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = tiny_set(dir.path());
    let cache = dir.path().join("cache");
    let out = dir.path().join("run");
    let first = train_transcription(&config(2), &manifest, &cache, &out, false, |_| {}).unwrap();
    assert_eq!(first.epochs.len(), 2);
    for name in [
        "config.json",
        "state.json",
        "log.csv",
        "loss.png",
        "checkpoint.bpk",
        "optimizer.bpk",
        "model.json",
        "model.bpk",
    ] {
        assert!(out.join(name).exists(), "{name} missing");
    }
    assert!(first.epochs.iter().all(|e| e.train_loss.is_finite()));
    assert!(first.epochs[1].train_loss < first.epochs[0].train_loss);

    // A second run into the same folder must say how to continue.
    let refused = train_transcription(&config(2), &manifest, &cache, &out, false, |_| {});
    assert!(refused.unwrap_err().to_string().contains("--resume"));

    let resumed = train_transcription(&config(3), &manifest, &cache, &out, true, |_| {}).unwrap();
    assert_eq!(resumed.epochs.len(), 3);
    assert_eq!(resumed.epochs[..2], first.epochs[..]);

    // Resuming gives what an uninterrupted run gives (weights, Adam state and seeds restored).
    let straight = dir.path().join("straight");
    let whole =
        train_transcription(&config(3), &manifest, &cache, &straight, false, |_| {}).unwrap();
    let (a, b) = (&whole.epochs[2], &resumed.epochs[2]);
    assert!(
        (a.train_loss - b.train_loss).abs() <= 1e-5 * a.train_loss.abs(),
        "{a:?} vs {b:?}"
    );
    assert!((a.valid.f1 - b.valid.f1).abs() <= 1e-9, "{a:?} vs {b:?}");

    let other = TranscriptionTrainConfig {
        learning_rate: 0.1,
        ..config(3)
    };
    assert!(train_transcription(&other, &manifest, &cache, &out, true, |_| {}).is_err());
}
