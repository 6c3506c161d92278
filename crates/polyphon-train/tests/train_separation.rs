//! Separation training end to end on a tiny set of bass + flute tone pairs: the magnitude
//! and waveform (negative SDR) losses, fine-tuning from a model, resuming.

use std::path::{Path, PathBuf};

use polyphon_audio::{write_wav, WavFormat};
use polyphon_core::manifest::{write_manifest, ManifestEntry, Split};
use polyphon_train::{train_separation, SeparationTrainConfig};

fn tone(hz: f32, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| 0.3 * (i as f32 * 2.0 * std::f32::consts::PI * hz / 16_000.0).sin())
        .collect()
}

/// Two training pairs and one validation pair of 1 s, laid out as `polyphon synth mixtures`.
fn pairs(dir: &Path) -> PathBuf {
    let mut entries = Vec::new();
    for (name, bass, flute, split) in [
        ("p0", 55.0, 880.0, Split::Train),
        ("p1", 62.0, 990.0, Split::Train),
        ("p2", 58.0, 930.0, Split::Valid),
    ] {
        std::fs::create_dir_all(dir.join(name)).unwrap();
        let n = 16_000;
        let stems = [tone(bass, n), tone(flute, n)];
        let mix: Vec<f32> = stems[0].iter().zip(&stems[1]).map(|(a, b)| a + b).collect();
        let mut files = Vec::new();
        for (family, samples) in ["bass", "flute"].iter().zip(&stems) {
            let file = format!("{name}/{family}.wav");
            write_wav(dir.join(&file), samples, 16_000, 1, WavFormat::Float32).unwrap();
            files.push(file);
        }
        write_wav(
            dir.join(format!("{name}/mix.wav")),
            &mix,
            16_000,
            1,
            WavFormat::Float32,
        )
        .unwrap();
        entries.push(ManifestEntry {
            file: format!("{name}/mix.wav"),
            split,
            synthesizer: "test".into(),
            labels_csv: String::new(),
            labels_midi: String::new(),
            duration: 1.0,
            sample_rate: 16_000,
            source: None,
            instruments: vec![],
            families: vec!["bass".into(), "flute".into()],
            stems: files,
        });
    }
    let manifest = dir.join("mixtures.jsonl");
    write_manifest(&manifest, &entries).unwrap();
    manifest
}

fn config(loss: &str, epochs: usize) -> SeparationTrainConfig {
    SeparationTrainConfig {
        loss: loss.into(),
        epochs,
        batch_size: 2,
        max_batches_per_epoch: 1,
        patch_hop: 128,
        ..SeparationTrainConfig::default()
    }
}

#[test]
fn sdr_fine_tuning_starts_from_a_model_and_resumes() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = pairs(dir.path());
    let cache = dir.path().join("cache");
    let l1_run = dir.path().join("l1");
    let l1 = train_separation(&config("l1", 1), &manifest, &cache, &l1_run, false, |_| {}).unwrap();
    assert_eq!(l1.epochs.len(), 1);

    let sdr_run = dir.path().join("sdr");
    let tuned = SeparationTrainConfig {
        init: Some(l1.best_model.display().to_string()),
        learning_rate: 1e-4,
        ..config("sdr", 1)
    };
    let first = train_separation(&tuned, &manifest, &cache, &sdr_run, false, |_| {}).unwrap();
    let loss = first.epochs[0].valid_loss;
    // A negative SDR in dB: finite, and far from the magnitude losses' scale of 1e-3.
    assert!(loss.is_finite() && loss.abs() > 0.05, "{loss}");
    assert!(sdr_run.join("model.json").exists());

    let more = SeparationTrainConfig {
        epochs: 2,
        ..tuned.clone()
    };
    let resumed = train_separation(&more, &manifest, &cache, &sdr_run, true, |_| {}).unwrap();
    assert_eq!(resumed.epochs.len(), 2);
    assert_eq!(resumed.epochs[0], first.epochs[0]);

    // A model of other sources cannot seed this run.
    let wrong = SeparationTrainConfig {
        sources: vec!["flute".into(), "bass".into()],
        ..tuned
    };
    let error = train_separation(
        &wrong,
        &manifest,
        &cache,
        &dir.path().join("w"),
        false,
        |_| {},
    )
    .expect_err("sources differ");
    assert!(error.to_string().contains("model of bass,flute"), "{error}");
    assert!(
        !dir.path().join("w").exists(),
        "a refused run leaves no folder"
    );
}

#[test]
fn sigmoid_masks_train_with_the_new_energy_penalty() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = pairs(dir.path());
    let cache = dir.path().join("cache");
    let run = |weight: f64, out: &str| {
        let config = SeparationTrainConfig {
            mask: "sigmoid".into(),
            new_energy_weight: weight,
            ..config("l1", 1)
        };
        train_separation(
            &config,
            &manifest,
            &cache,
            &dir.path().join(out),
            false,
            |_| {},
        )
        .unwrap()
        .epochs[0]
            .valid_loss
    };
    // Same seed, same first step: the penalty can only add to the loss.
    let (plain, penalised) = (run(0.0, "plain"), run(10.0, "penalised"));
    assert!(
        penalised.is_finite() && penalised >= plain,
        "{plain} vs {penalised}"
    );
}
