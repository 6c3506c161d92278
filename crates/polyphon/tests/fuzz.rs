//! Fuzzing of every reader that takes a file from a user: audio (WAV, FLAC, MP3, Ogg
//! Vorbis, and WAV through resampling and the STFT of the transcription front-end), MIDI and CSV note lists, data-set manifests, `.npy` arrays, and model files
//! (sidecar and weights). Each target reads seeded mutations of valid seed files and must
//! answer with a value or an error: a panic fails the test, an abort or a hang fails the run.
//!
//! Why not cargo-fuzz: it needs a nightly compiler and a sanitizer build of the whole tree
//! (burn included), which the stable CI cannot afford in its minute. Mutating valid seeds
//! (bit flips, boundary values in 16- and 32-bit fields, cuts, insertions, repeats: the
//! "havoc" stage of AFL) reaches the headers and chunk tables where the size fields live,
//! which random bytes never get past. Half the mutations land in a file's first 512 bytes.
//!
//! `POLYPHON_FUZZ_CASES` sets the inputs per target (default 500, the CI run);
//! `POLYPHON_FUZZ_SEED` the seed (default 1). Before each input is read it is written to
//! `target/fuzz/<target>.last`, so an input that aborts the process is kept. Every file in
//! `tests/fuzz-corpus/<target>/` (inputs that once failed) is read first, every run.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use polyphon::audio::{write_wav, WavFormat};
use polyphon::models::transcription::{Architecture, TranscriptionModel};
use polyphon::notes::manifest::{write_manifest, ManifestEntry, Split};
use polyphon::notes::{write_csv, write_midi, Note, SeededRng};
use polyphon::spectra::{Extractor, FeatureSpec};

/// Boundary values that size fields meet: zero, one, sign bits, all ones.
const INTERESTING: [u32; 9] = [
    0,
    1,
    0x7F,
    0x80,
    0xFF,
    0x7FFF,
    0xFFFF,
    0x7FFF_FFFF,
    0xFFFF_FFFF,
];

fn cases() -> usize {
    std::env::var("POLYPHON_FUZZ_CASES")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(500)
}

fn seed() -> u64 {
    std::env::var("POLYPHON_FUZZ_SEED")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1)
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A position to mutate: half the time in the first 512 bytes, where the headers are.
fn position(rng: &mut SeededRng, len: usize) -> usize {
    let span = match rng.below(2) {
        0 => len.min(512),
        _ => len,
    };
    rng.below(span.max(1) as u64) as usize
}

/// One to eight havoc mutations of `seed`.
fn mutate(seed: &[u8], rng: &mut SeededRng) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..1 + rng.below(8) {
        if data.is_empty() {
            data.push(rng.below(256) as u8);
        }
        let at = position(rng, data.len());
        match rng.below(8) {
            0 => data[at] ^= 1 << rng.below(8),
            1 => data[at] = rng.below(256) as u8,
            2 | 3 => {
                let value = *rng.choose(&INTERESTING);
                let bytes = match rng.below(4) {
                    0 => value.to_le_bytes().to_vec(),
                    1 => value.to_be_bytes().to_vec(),
                    2 => (value as u16).to_le_bytes().to_vec(),
                    _ => (value as u16).to_be_bytes().to_vec(),
                };
                let end = (at + bytes.len()).min(data.len());
                data[at..end].copy_from_slice(&bytes[..end - at]);
            }
            4 => data.truncate(at),
            5 => {
                let count = 1 + rng.below(16) as usize;
                let bytes: Vec<u8> = (0..count).map(|_| rng.below(256) as u8).collect();
                data.splice(at..at, bytes);
            }
            6 => {
                let end = (at + 1 + rng.below(64) as usize).min(data.len());
                let copy = data[at..end].to_vec();
                let to = position(rng, data.len());
                data.splice(to..to, copy);
            }
            _ => {
                let end = (at + 1 + rng.below(64) as usize).min(data.len());
                data.drain(at..end);
            }
        }
    }
    data
}

/// Reads every corpus file, the seeds (each must read without error: `read` says whether
/// it did), then `cases()` mutations of the seeds; panics naming the input that panicked.
fn fuzz(target: &str, seeds: &[Vec<u8>], read: impl Fn(&[u8]) -> bool) {
    let scratch = workspace().join("target/fuzz");
    std::fs::create_dir_all(&scratch).unwrap();
    let last = scratch.join(format!("{target}.last"));
    let corpus_dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-corpus")
        .join(target);
    let mut corpus: Vec<Vec<u8>> = std::fs::read_dir(&corpus_dir)
        .map(|entries| {
            entries
                .map(|entry| std::fs::read(entry.unwrap().path()).unwrap())
                .collect()
        })
        .unwrap_or_default();
    let regressions = corpus.len();
    corpus.extend(seeds.iter().cloned());
    let mut rng = SeededRng::new(seed(), target);
    let (mut slowest, mut mutated, mut refused) = (Duration::ZERO, 0usize, 0usize);
    for case in 0..regressions + seeds.len() + cases() {
        let input = match corpus.get(case) {
            Some(input) => input.clone(),
            None => {
                let pick = rng.below(seeds.len() as u64) as usize;
                mutate(&seeds[pick], &mut rng)
            }
        };
        std::fs::write(&last, &input).unwrap();
        let started = Instant::now();
        let outcome = catch_unwind(AssertUnwindSafe(|| read(&input)));
        slowest = slowest.max(started.elapsed());
        let Ok(read_well) = outcome else {
            let kept = scratch.join(format!("{target}-{case}.crash"));
            std::fs::copy(&last, &kept).unwrap();
            panic!(
                "{target}: input {case} panicked; kept as {}",
                kept.display()
            );
        };
        let is_seed = (regressions..regressions + seeds.len()).contains(&case);
        assert!(read_well || !is_seed, "{target}: seed {case} does not read");
        mutated += usize::from(case >= regressions + seeds.len());
        refused += usize::from(!read_well && !is_seed);
    }
    println!(
        "fuzz {target}: {regressions} corpus + {} seeds + {mutated} mutated inputs, no panic, \
         {refused} refused with an error; slowest {:.1} ms",
        seeds.len(),
        slowest.as_secs_f64() * 1e3
    );
}

/// Writes `bytes` to a scratch file named `name` and returns its path.
fn scratch_file(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

fn rag_notes(count: usize) -> Vec<Note> {
    let path = workspace().join("examples/maple_leaf_rag_timgm6mb.csv");
    let mut notes = polyphon::notes::read_csv(path).unwrap();
    notes.truncate(count);
    notes
}

#[test]
fn fuzz_audio_decoding() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = workspace().join("crates/polyphon-audio/tests/fixtures");
    let short: Vec<f32> = (0..2206).map(|i| (i as f32 * 0.05).sin() * 0.5).collect();
    let wav16 = dir.path().join("short16.wav");
    write_wav(&wav16, &short, 22_050, 1, WavFormat::Int16).unwrap();
    let wav32 = dir.path().join("short32.wav");
    write_wav(&wav32, &short, 44_100, 2, WavFormat::Float32).unwrap();
    let mut seeds: Vec<Vec<u8>> = [wav16, wav32]
        .iter()
        .map(|path| std::fs::read(path).unwrap())
        .collect();
    for name in ["sweep.flac", "sweep.mp3", "sweep.ogg"] {
        seeds.push(std::fs::read(fixtures.join(name)).unwrap());
    }
    // The extension is only a hint to the probe; one name serves every format.
    fuzz("audio", &seeds, |bytes| {
        let path = scratch_file(dir.path(), "input.audio", bytes);
        polyphon::audio::read(&path).is_ok()
    });
}

/// The transcription front-end over mutated WAV headers: whatever rate and channel count a
/// header gives reaches the resampler and the STFT.
#[test]
fn fuzz_audio_features() {
    let dir = tempfile::tempdir().unwrap();
    let short: Vec<f32> = (0..1600).map(|i| (i as f32 * 0.05).sin() * 0.5).collect();
    let seeds: Vec<Vec<u8>> = [(16_000, 1), (48_000, 2)]
        .iter()
        .map(|&(rate, channels)| {
            let path = dir.path().join(format!("seed-{rate}.wav"));
            write_wav(&path, &short, rate, channels, WavFormat::Int16).unwrap();
            std::fs::read(path).unwrap()
        })
        .collect();
    let extractor = Extractor::new(FeatureSpec::kelz2016()).unwrap();
    fuzz("features", &seeds, |bytes| {
        let path = scratch_file(dir.path(), "input.wav", bytes);
        extractor.extract_file(&path, false).is_ok()
    });
}

#[test]
fn fuzz_midi_notes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.mid");
    write_midi(&path, &rag_notes(40), 0, "seed").unwrap();
    let seeds = [std::fs::read(&path).unwrap()];
    fuzz("midi", &seeds, |bytes| {
        let path = scratch_file(dir.path(), "input.mid", bytes);
        let notes = polyphon::notes::read_notes(&path);
        polyphon::notes::read_midi_parts(&path).is_ok() && notes.is_ok()
    });
}

#[test]
fn fuzz_csv_notes() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.csv");
    write_csv(&path, &rag_notes(40)).unwrap();
    let seeds = [std::fs::read(&path).unwrap()];
    fuzz("csv", &seeds, |bytes| {
        let path = scratch_file(dir.path(), "input.csv", bytes);
        polyphon::notes::read_notes(&path).is_ok()
    });
}

#[test]
fn fuzz_manifests() {
    let dir = tempfile::tempdir().unwrap();
    let entry = |file: &str, split| ManifestEntry {
        file: file.into(),
        split,
        synthesizer: "TimGM6mb.sf2:000:000".into(),
        labels_csv: format!("{file}.csv"),
        labels_midi: format!("{file}.mid"),
        duration: 4.0,
        sample_rate: 16_000,
        source: Some("piece".into()),
        instruments: vec!["keyboard_synthetic_000".into()],
        families: vec!["keyboard".into()],
        stems: Vec::new(),
    };
    let path = dir.path().join("seed.jsonl");
    let entries = [entry("a.wav", Split::Train), entry("b.wav", Split::Valid)];
    write_manifest(&path, &entries).unwrap();
    let seeds = [std::fs::read(&path).unwrap()];
    fuzz("manifest", &seeds, |bytes| {
        let path = scratch_file(dir.path(), "input.jsonl", bytes);
        polyphon::notes::read_manifest(&path).is_ok()
    });
}

#[test]
fn fuzz_npy_arrays() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.npy");
    let mut writer = polyphon::spectra::NpyWriter::create(&path, &[8]).unwrap();
    writer
        .write_rows(&(0..64).map(|i| i as f32).collect::<Vec<_>>())
        .unwrap();
    writer.finish().unwrap();
    let seeds = [std::fs::read(&path).unwrap()];
    fuzz("npy", &seeds, |bytes| {
        let path = scratch_file(dir.path(), "input.npy", bytes);
        polyphon::spectra::read_npy_f32(&path).is_ok()
    });
}

/// A model's sidecar and weights, each mutated with the other intact. The weights are read
/// under a sidecar without a checksum, so that the mutations reach the weight parser rather
/// than stopping at the checksum.
#[test]
fn fuzz_model_files() {
    let dir = tempfile::tempdir().unwrap();
    let sidecar = dir.path().join("small.json");
    TranscriptionModel::untrained(Architecture::SmallConvNet)
        .save(&sidecar)
        .unwrap();
    let text = std::fs::read_to_string(&sidecar).unwrap();
    let weights = std::fs::read(dir.path().join("small.bpk")).unwrap();
    let mut unchecked: serde_json::Value = serde_json::from_str(&text).unwrap();
    unchecked.as_object_mut().unwrap().remove("weights_sha256");
    let unchecked = unchecked.to_string();
    let device = polyphon::models::default_device();
    fuzz("model-sidecar", &[text.clone().into_bytes()], |bytes| {
        let sidecar = String::from_utf8_lossy(bytes);
        TranscriptionModel::from_memory("model", &sidecar, &weights, &device).is_ok()
    });
    fuzz("model-weights", std::slice::from_ref(&weights), |bytes| {
        TranscriptionModel::from_memory("model", &unchecked, bytes, &device).is_ok()
    });
}
