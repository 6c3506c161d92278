//! A tiny synthesized set through cache, labels and batches.

use std::path::Path;

use polyphon_audio::{write_wav, WavFormat};
use polyphon_core::manifest::{write_manifest, ManifestEntry, Split};
use polyphon_core::{write_csv, Note};
use polyphon_datasets::{
    Batches, FeatureCache, FrameBatcher, PatchBatcher, SequenceBatcher, TranscriptionSet,
};
use polyphon_features::FeatureSpec;

fn tone(path: &Path, seconds: f32) {
    let samples: Vec<f32> = (0..(44_100.0 * seconds) as usize)
        .map(|i| (i as f32 * 2.0 * std::f32::consts::PI * 261.63 / 44_100.0).sin() * 0.3)
        .collect();
    write_wav(path, &samples, 44_100, 1, WavFormat::Float32).unwrap();
}

fn entry(name: &str, split: Split) -> ManifestEntry {
    ManifestEntry {
        file: format!("{name}.wav"),
        split,
        synthesizer: "test:000:000".into(),
        labels_csv: format!("{name}.csv"),
        labels_midi: format!("{name}.mid"),
        duration: 1.0,
        sample_rate: 44_100,
        source: None,
        instruments: vec![],
        families: vec![],
        stems: vec![],
    }
}

fn tiny_set(dir: &Path) -> std::path::PathBuf {
    for (name, seconds) in [("a", 1.0), ("b", 0.5), ("c", 0.3)] {
        tone(&dir.join(format!("{name}.wav")), seconds);
        write_csv(
            dir.join(format!("{name}.csv")),
            &[Note::new(0.1, seconds as f64 - 0.1, 60, 100)],
        )
        .unwrap();
    }
    let manifest = dir.join("set.jsonl");
    let entries = vec![
        entry("a", Split::Train),
        entry("b", Split::Train),
        entry("c", Split::Valid),
    ];
    write_manifest(&manifest, &entries).unwrap();
    manifest
}

#[test]
fn split_loads_with_labels_on_the_feature_grid() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = tiny_set(dir.path());
    let cache =
        FeatureCache::new(dir.path().join("cache"), "kelz", FeatureSpec::kelz2016()).unwrap();
    let train = TranscriptionSet::load(&manifest, Split::Train, &cache, 21, 88).unwrap();
    assert_eq!(train.pieces.len(), 2);
    assert_eq!(train.frames(), 100 + 50);
    let a = train.pieces.iter().find(|p| p.file == "a.wav").unwrap();
    // Frames 10..90 carry the note (onset 0.1 s, offset 0.9 s at 100 fps).
    let active: Vec<usize> = (0..100).filter(|&k| a.labels.is_active(k, 60)).collect();
    assert_eq!(active, (10..90).collect::<Vec<_>>());
    assert!(TranscriptionSet::load(&manifest, Split::Test, &cache, 21, 88).is_err());
}

#[test]
fn batches_cover_every_frame_once_per_epoch_in_a_seeded_order() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = tiny_set(dir.path());
    let cache =
        FeatureCache::new(dir.path().join("cache"), "kelz", FeatureSpec::kelz2016()).unwrap();
    let set = TranscriptionSet::load(&manifest, Split::Train, &cache, 21, 88).unwrap();
    let mut batcher = FrameBatcher::new(&set, 32, 2, 7);
    assert_eq!(batcher.batches_per_epoch(), 5);
    let mut sizes = Vec::new();
    let mut positives = 0.0;
    let mut first = None;
    while let Some(batch) = batcher.next_batch(&set) {
        assert_eq!(batch.inputs.len(), batch.size * 5 * 229);
        assert_eq!(batch.targets.len(), batch.size * 88);
        positives += batch.targets.iter().sum::<f32>();
        first.get_or_insert(batch.inputs.clone());
        sizes.push(batch.size);
    }
    assert_eq!(sizes.iter().sum::<usize>(), 150);
    // Note frames: 80 in a, 30 in b.
    assert_eq!(positives, 110.0);
    let mut again = FrameBatcher::new(&set, 32, 2, 7);
    assert_eq!(again.next_batch(&set).unwrap().inputs, first.unwrap());
    again.start_epoch(1);
    let mut other = FrameBatcher::new(&set, 32, 2, 7);
    other.start_epoch(1);
    assert_eq!(again.next_batch(&set), other.next_batch(&set));
}

#[test]
fn patches_tile_each_piece_zero_padded_with_their_labels() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = tiny_set(dir.path());
    let cache =
        FeatureCache::new(dir.path().join("cache"), "kelz", FeatureSpec::kelz2016()).unwrap();
    let set = TranscriptionSet::load(&manifest, Split::Train, &cache, 21, 88).unwrap();
    // a (100 frames): patches at 0, 32, 64; b (50 frames): one patch at 0.
    let mut batcher = PatchBatcher::new(&set, 2, 64, 256, 32, 3);
    assert_eq!(batcher.batches_per_epoch(), 2);
    let (mut patches, mut positives) = (0, 0.0);
    while let Some(batch) = batcher.next_batch(&set) {
        assert_eq!(batch.input_shape, [batch.size, 1, 64, 256]);
        assert_eq!(batch.inputs.len(), batch.size * 64 * 256);
        assert_eq!(batch.target_rows, batch.size * 64);
        assert_eq!(batch.targets.len(), batch.size * 64 * 88);
        // The padding bins 229..256 stay zero.
        for row in batch.inputs.chunks_exact(256) {
            assert!(row[229..].iter().all(|&v| v == 0.0));
        }
        patches += batch.size;
        positives += batch.targets.iter().sum::<f32>();
    }
    assert_eq!(patches, 4);
    // Note frames 10..90 of a seen through 0..64, 32..96 and 64..100, and b's 30.
    assert_eq!(positives, (54 + 58 + 26 + 30) as f32);
}

#[test]
fn sequences_tile_each_piece_with_context_and_their_frames_labels() {
    let dir = tempfile::tempdir().unwrap();
    let manifest = tiny_set(dir.path());
    let cache =
        FeatureCache::new(dir.path().join("cache"), "kelz", FeatureSpec::kelz2016()).unwrap();
    let set = TranscriptionSet::load(&manifest, Split::Train, &cache, 21, 88).unwrap();
    // a (100 frames): sequences at 0, 40, 60 (the last ends at the end); b (50): 0, 10.
    let mut batcher = SequenceBatcher::new(&set, 80, 40, 2, 5);
    assert_eq!(batcher.batches_per_epoch(), 3);
    let (mut sequences, mut positives) = (0, 0.0);
    while let Some(batch) = batcher.next_batch(&set) {
        let count = batch.input_shape[0];
        assert_eq!(batch.input_shape, [count, 1, 44, 229]);
        assert_eq!((batch.size, batch.target_rows), (count * 40, count * 40));
        assert_eq!(batch.targets.len(), count * 40 * 88);
        // Each sequence's first row is its first frame's context: inside a, or the piece's
        // first frame repeated.
        sequences += count;
        positives += batch.targets.iter().sum::<f32>();
    }
    assert_eq!(sequences, 5);
    // a: note frames 10..90 seen through 0..40, 40..80 and 60..100: 30 + 40 + 30; b: frames
    // 10..40 through 0..40 and 10..50: 30 + 30.
    assert_eq!(positives, (30 + 40 + 30 + 30 + 30) as f32);
    // The context of a's first sequence repeats its first frame.
    let piece = set.pieces.iter().position(|p| p.file == "a.wav").unwrap();
    let mut one = SequenceBatcher::new(&set, 40, 40, 2, 5);
    while let Some(batch) = one.next_batch(&set) {
        let row = |i: usize| &batch.inputs[i * 229..(i + 1) * 229];
        if row(2) == set.pieces[piece].features.row(0) {
            assert_eq!(row(0), row(2));
            assert_eq!(row(1), row(2));
        }
    }
}
