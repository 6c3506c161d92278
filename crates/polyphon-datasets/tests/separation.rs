//! Separation patches: only mixtures of exactly the named sources, magnitudes of the mixture
//! and of each stem on the same patch, the network input `ln(1 + |X|)`.

use std::path::Path;

use polyphon_audio::{write_wav, WavFormat};
use polyphon_core::manifest::{write_manifest, ManifestEntry, Split};
use polyphon_datasets::{FeatureCache, SeparationBatcher, SeparationSet};

fn tone(hz: f32, n: usize) -> Vec<f32> {
    (0..n)
        .map(|i| 0.3 * (i as f32 * 2.0 * std::f32::consts::PI * hz / 16_000.0).sin())
        .collect()
}

/// `name/` holding mix.wav and one stem per family, as `polyphon synth mixtures` lays it out.
fn mixture(dir: &Path, name: &str, families: &[(&str, f32)]) -> ManifestEntry {
    std::fs::create_dir_all(dir.join(name)).unwrap();
    let n = 16_000;
    let mut mix = vec![0f32; n];
    let mut stems = Vec::new();
    for (i, (family, hz)) in families.iter().enumerate() {
        let stem = tone(*hz, n);
        mix.iter_mut().zip(&stem).for_each(|(m, s)| *m += s);
        let file = format!("{name}/stem-{i}-{family}.wav");
        write_wav(dir.join(&file), &stem, 16_000, 1, WavFormat::Float32).unwrap();
        stems.push(file);
    }
    write_wav(
        dir.join(format!("{name}/mix.wav")),
        &mix,
        16_000,
        1,
        WavFormat::Float32,
    )
    .unwrap();
    ManifestEntry {
        file: format!("{name}/mix.wav"),
        split: Split::Train,
        synthesizer: "test".into(),
        labels_csv: String::new(),
        labels_midi: String::new(),
        duration: 1.0,
        sample_rate: 16_000,
        source: None,
        instruments: vec![],
        families: families.iter().map(|(f, _)| f.to_string()).collect(),
        stems,
    }
}

#[test]
fn pairs_load_and_patch_with_stems_aligned() {
    let dir = tempfile::tempdir().unwrap();
    let entries = vec![
        mixture(dir.path(), "pair-0", &[("bass", 60.0), ("flute", 900.0)]),
        mixture(
            dir.path(),
            "mix-1",
            &[("bass", 70.0), ("flute", 800.0), ("organ", 300.0)],
        ),
    ];
    let manifest = dir.path().join("m.jsonl");
    write_manifest(&manifest, &entries).unwrap();
    let cache = FeatureCache::new(dir.path().join("cache"), "s", SeparationSet::spec()).unwrap();
    let sources = vec!["bass".to_string(), "flute".to_string()];
    let set = SeparationSet::load(&manifest, Split::Train, &cache, &sources).unwrap();
    // The three-instrument mixture has no target for the organ: left out.
    assert_eq!(set.pieces.len(), 1);
    // 1 s at hop 256 → 63 frames: patches of 32 every 16 frames start at 0, 16, 32.
    let mut batcher = SeparationBatcher::new(&set, 8, 32, 512, 16, 0);
    let batch = batcher.next_batch(&set).unwrap();
    assert_eq!(
        (batch.size, batch.sources, batch.frames, batch.bins),
        (3, 2, 32, 512)
    );
    for (input, magnitude) in batch.inputs.iter().zip(&batch.mixture) {
        assert!((input - magnitude.ln_1p()).abs() < 1e-6);
    }
    // The bass stem's energy sits in the low bins, the flute's higher up.
    let patch = 32 * 512;
    let energy = |source: usize, bins: std::ops::Range<usize>| -> f32 {
        let values = &batch.targets[source * patch..(source + 1) * patch];
        values
            .chunks(512)
            .map(|row| row[bins.clone()].iter().sum::<f32>())
            .sum()
    };
    assert!(energy(0, 0..10) > 10.0 * energy(1, 0..10));
    assert!(energy(1, 50..66) > 10.0 * energy(0, 50..66)); // 900 Hz is bin 57.6
    assert!(SeparationSet::load(&manifest, Split::Test, &cache, &sources).is_err());
}

#[test]
fn waves_follow_each_patch_and_match_the_cached_magnitudes() {
    let dir = tempfile::tempdir().unwrap();
    let entries = vec![mixture(
        dir.path(),
        "pair-0",
        &[("bass", 60.0), ("flute", 900.0)],
    )];
    let manifest = dir.path().join("m.jsonl");
    write_manifest(&manifest, &entries).unwrap();
    let cache = FeatureCache::new(dir.path().join("cache"), "s", SeparationSet::spec()).unwrap();
    let sources = vec!["bass".to_string(), "flute".to_string()];
    let set = SeparationSet::load_with_waves(&manifest, Split::Train, &cache, &sources).unwrap();
    let (frames, bins) = (16, 512);
    let mut batcher = SeparationBatcher::new(&set, 8, frames, bins, 16, 0);
    let batch = batcher.next_batch(&set).unwrap();
    assert_eq!(batch.wave_len, polyphon_datasets::wave_len(frames));
    assert_eq!(batch.wave_len, frames * 256 - 768);
    // |real + i imag| is the cached magnitude of the same patch.
    for ((re, im), magnitude) in batch
        .mixture_real
        .iter()
        .zip(&batch.mixture_imag)
        .zip(&batch.mixture)
    {
        assert!((re.hypot(*im) - magnitude).abs() < 1e-3 * (1.0 + magnitude));
    }
    // Patches are shuffled: find each one's start by its waves, which must be the stems'
    // samples from 256 samples after its first frame centre.
    let bass = tone(60.0, 16_000);
    let flute = tone(900.0, 16_000);
    for i in 0..batch.size {
        let wave = |s: usize| &batch.waves[(i * 2 + s) * batch.wave_len..][..batch.wave_len];
        let start = (0..63)
            .find(|&start| {
                let first = start * 256 + 256;
                let end = (first + batch.wave_len).min(16_000);
                wave(0)[..end - first]
                    .iter()
                    .zip(&bass[first..end])
                    .all(|(a, b)| (a - b).abs() < 1e-6)
            })
            .expect("every patch's bass wave is a slice of the bass stem");
        let first = start * 256 + 256;
        let end = (first + batch.wave_len).min(16_000);
        assert!(wave(1)[..end - first]
            .iter()
            .zip(&flute[first..end])
            .all(|(a, b)| (a - b).abs() < 1e-6));
    }
    // Without waves the fields stay empty.
    let plain = SeparationSet::load(&manifest, Split::Train, &cache, &sources).unwrap();
    let batch = SeparationBatcher::new(&plain, 8, frames, bins, 16, 0)
        .next_batch(&plain)
        .unwrap();
    assert!(batch.waves.is_empty() && batch.mixture_real.is_empty() && batch.wave_len == 0);
}
