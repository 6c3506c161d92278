//! The tiny data set the training tests share.

use std::path::{Path, PathBuf};

use polyphon_audio::{write_wav, WavFormat};
use polyphon_core::manifest::{write_manifest, ManifestEntry, Split};
use polyphon_core::{write_csv, Note};

/// Two training files and one validation file of single piano-range tones.
pub fn tiny_set(dir: &Path) -> PathBuf {
    let files = [
        ("a", 60u8, Split::Train),
        ("b", 64, Split::Train),
        ("c", 62, Split::Valid),
    ];
    let mut entries = Vec::new();
    for (name, pitch, split) in files {
        let hz = 440.0 * 2f32.powf((pitch as f32 - 69.0) / 12.0);
        let samples: Vec<f32> = (0..22_050)
            .map(|i| (i as f32 * 2.0 * std::f32::consts::PI * hz / 44_100.0).sin() * 0.3)
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
            &[Note::new(0.0, 0.5, pitch, 100)],
        )
        .unwrap();
        entries.push(ManifestEntry {
            file: format!("{name}.wav"),
            split,
            synthesizer: "test:000:000".into(),
            labels_csv: format!("{name}.csv"),
            labels_midi: format!("{name}.mid"),
            duration: 0.5,
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
