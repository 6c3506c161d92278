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

/// The device's random generator is global: runs in parallel tests would draw from each
/// other's seeded streams, so the training tests take turns.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

#[test]
fn a_run_writes_its_files_and_resumes_after_its_last_epoch() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
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
    // Resuming where no epoch ever finished is an error, not a silent fresh start.
    let nothing = dir.path().join("nothing");
    let refused = train_transcription(&config(1), &manifest, &cache, &nothing, true, |_| {});
    let message = refused.unwrap_err().to_string();
    assert!(message.contains("no finished epoch to resume"), "{message}");
    assert!(!nothing.exists(), "a refused run made its folder");
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

/// The ConvNet on whole sequences: it learns, resumes as an uninterrupted run, and refuses
/// the settings sequences do not serve.
#[test]
fn a_convnet_trains_on_sequences_and_resumes() {
    let _turn = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    let manifest = tiny_set(dir.path());
    let cache = dir.path().join("cache");
    let sequences = |epochs| TranscriptionTrainConfig {
        architecture: "convnet".into(),
        sequence_frames: 20,
        batch_size: 40,
        valid_frames_per_file: 60,
        ..config(epochs)
    };
    let run = |epochs, out: &str, resume| {
        let out = dir.path().join(out);
        train_transcription(&sequences(epochs), &manifest, &cache, &out, resume, |_| {})
    };
    let whole = run(3, "whole", false).unwrap();
    assert!(
        whole.epochs[2].train_loss < whole.epochs[0].train_loss,
        "{whole:?}"
    );
    run(1, "parts", false).unwrap();
    let resumed = run(3, "parts", true).unwrap();
    let losses = |o: &polyphon_train::Outcome<polyphon_train::EpochLog>| -> Vec<f64> {
        o.epochs.iter().map(|e| e.train_loss).collect()
    };
    assert_eq!(losses(&whole), losses(&resumed));
    for (architecture, mix) in [("small-convnet", 0), ("convnet", 2)] {
        let refused = TranscriptionTrainConfig {
            architecture: architecture.into(),
            mix_max_parts: mix,
            ..sequences(1)
        };
        let out = dir.path().join("refused");
        let error = train_transcription(&refused, &manifest, &cache, &out, false, |_| {});
        assert!(error.unwrap_err().to_string().contains("sequence"));
        assert!(!out.exists(), "nothing written");
    }
}
