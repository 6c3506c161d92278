//! On-the-fly mixtures: features equal to the cached ones for a single part, labels the union
//! of the parts, a seeded order.

use std::path::{Path, PathBuf};

use polyphon_audio::{write_wav, WavFormat};
use polyphon_core::manifest::{write_manifest, ManifestEntry, Split};
use polyphon_core::{write_csv, Note};
use polyphon_datasets::{
    Batches, FeatureCache, FrameBatcher, MixingBatcher, MixingOptions, TranscriptionSet,
};
use polyphon_features::FeatureSpec;

const LOWEST: u8 = 49;
const KEYS: usize = 23;

/// Two tones, C4 (key 60) in the first 0.8 s of a 1 s file and E4 (64) from 0.2 s to 0.6 s of
/// a 0.7 s file.
fn two_tones(dir: &Path) -> PathBuf {
    let mut entries = Vec::new();
    for (name, hz, pitch, onset, offset, seconds) in [
        ("c4", 261.63, 60, 0.0, 0.8, 1.0),
        ("e4", 329.63, 64, 0.2, 0.6, 0.7),
    ] {
        let samples: Vec<f32> = (0..(44_100.0 * seconds) as usize)
            .map(|i| {
                let t = i as f64 / 44_100.0;
                let on = (onset..offset).contains(&t) as u8 as f64;
                (on * 0.3 * (t * 2.0 * std::f64::consts::PI * hz).sin()) as f32
            })
            .collect();
        write_wav(
            dir.join(format!("{name}.wav")),
            &samples,
            44_100,
            1,
            WavFormat::Float32,
        )
        .unwrap();
        write_csv(
            dir.join(format!("{name}.csv")),
            &[Note::new(onset, offset, pitch, 100)],
        )
        .unwrap();
        entries.push(ManifestEntry {
            file: format!("{name}.wav"),
            split: Split::Train,
            synthesizer: "test:000:000".into(),
            labels_csv: format!("{name}.csv"),
            labels_midi: format!("{name}.mid"),
            duration: seconds,
            sample_rate: 44_100,
            source: None,
            instruments: vec![],
            families: vec![],
            stems: vec![],
        });
    }
    let manifest = dir.join("set.jsonl");
    write_manifest(&manifest, &entries).unwrap();
    manifest
}

fn options(max_parts: usize, with_parts: bool) -> MixingOptions {
    MixingOptions {
        max_parts,
        gain_db: (0.0, 0.0),
        max_delay: 0.0,
        batch_size: 64,
        batches_per_epoch: 3,
        with_parts,
        excluded_pairs: vec![],
        seed: 5,
    }
}

fn batcher(manifest: &Path, options: MixingOptions) -> MixingBatcher {
    let spec = FeatureSpec::kelz2016();
    MixingBatcher::load(manifest, Split::Train, spec, (LOWEST, KEYS), 2, options).unwrap()
}

#[test]
fn one_part_at_unit_gain_gives_the_files_own_frames_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = two_tones(dir.path());
    let cache = FeatureCache::new(dir.path().join("cache"), "k", FeatureSpec::kelz2016()).unwrap();
    let set = TranscriptionSet::load(&manifest, Split::Train, &cache, LOWEST, KEYS).unwrap();
    // Every (window, labels) the frame batcher can produce.
    let mut frames = FrameBatcher::new(&set, 1000, 2, 0);
    let all = frames.next_batch(&set).unwrap();
    let width = 5 * 229;

    let mut mixing = batcher(&manifest, options(1, false));
    let empty = TranscriptionSet { pieces: vec![] };
    let batch = mixing.next_batch(&empty).unwrap();
    assert_eq!(batch.input_shape, [64, 1, 5, 229]);
    assert!(batch.parts.is_empty());
    for i in 0..batch.size {
        let input = &batch.inputs[i * width..(i + 1) * width];
        let labels = &batch.targets[i * KEYS..(i + 1) * KEYS];
        let found = (0..all.size).any(|j| {
            let close = all.inputs[j * width..(j + 1) * width]
                .iter()
                .zip(input)
                .all(|(a, b)| (a - b).abs() <= 1e-6);
            close && &all.targets[j * KEYS..(j + 1) * KEYS] == labels
        });
        assert!(found, "example {i} is no frame of the files");
    }
}

#[test]
fn two_parts_label_the_union_and_return_each_part_alone() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = two_tones(dir.path());
    let mut mixing = batcher(&manifest, options(2, true));
    let empty = TranscriptionSet { pieces: vec![] };
    let width = 5 * 229;
    let mut both = 0;
    for _ in 0..3 {
        let batch = mixing.next_batch(&empty).unwrap();
        assert_eq!(batch.parts.len(), 2);
        for i in 0..batch.size {
            let labels = &batch.targets[i * KEYS..(i + 1) * KEYS];
            let on: Vec<usize> = (0..KEYS).filter(|&k| labels[k] == 1.0).collect();
            assert!(on.iter().all(|&k| k == 60 - 49 || k == 64 - 49), "{on:?}");
            both += (on.len() == 2) as usize;
            let second = &batch.parts[1][i * width..(i + 1) * width];
            // A mixture that sounds two notes has two parts: the second slot is not silent.
            if on.len() == 2 {
                assert!(second.iter().any(|&v| v > 0.0));
            }
        }
    }
    assert!(both > 0, "no example sounded both notes");
    assert!(mixing.next_batch(&empty).is_none(), "an epoch is 3 batches");
}

#[test]
fn batches_are_seeded_per_epoch() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = two_tones(dir.path());
    let empty = TranscriptionSet { pieces: vec![] };
    let mut a = batcher(&manifest, options(2, false));
    let mut b = batcher(&manifest, options(2, false));
    assert_eq!(a.next_batch(&empty), b.next_batch(&empty));
    b.start_epoch(1);
    let next_a = a.next_batch(&empty).unwrap();
    assert_ne!(Some(next_a), b.next_batch(&empty));
    let mut c = batcher(
        &manifest,
        MixingOptions {
            seed: 6,
            ..options(2, false)
        },
    );
    a.start_epoch(0);
    assert_ne!(a.next_batch(&empty), c.next_batch(&empty));
}

#[test]
fn excluded_pairs_never_sound_together() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = two_tones(dir.path());
    let options = MixingOptions {
        excluded_pairs: vec![(60, 64)],
        ..options(2, false)
    };
    let mut mixing = batcher(&manifest, options);
    let empty = TranscriptionSet { pieces: vec![] };
    while let Some(batch) = mixing.next_batch(&empty) {
        for labels in batch.targets.chunks(KEYS) {
            assert!(labels.iter().sum::<f32>() <= 1.0);
        }
    }
}
