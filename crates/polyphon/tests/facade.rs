//! The library facade as a user calls it: bundled models, samples in memory, streams and files.

use std::path::{Path, PathBuf};

use polyphon::audio::{read_mono, write_wav, Downmix, WavFormat};
use polyphon::{Classifier, Separator, Transcriber};

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
}

/// The first `seconds` of the Maple Leaf Rag example as written 16-bit samples, and a WAV of
/// them, so that file and samples hold the same numbers.
fn rag_excerpt(seconds: f64, dir: &Path) -> (Vec<f32>, PathBuf) {
    let rag = read_mono(
        example("maple_leaf_rag_timgm6mb.wav"),
        None,
        Downmix::Madmom,
    )
    .unwrap();
    let n = (seconds * rag.sample_rate as f64) as usize;
    let path = dir.join("excerpt.wav");
    write_wav(
        &path,
        &rag.samples[..n],
        rag.sample_rate,
        1,
        WavFormat::Int16,
    )
    .unwrap();
    let back = read_mono(&path, None, Downmix::Madmom).unwrap();
    (back.samples, path)
}

#[test]
fn samples_in_memory_blocks_and_files_give_the_same_notes() {
    let dir = tempfile::tempdir().unwrap();
    let (samples, path) = rag_excerpt(8.0, dir.path());
    let transcriber = Transcriber::bundled().unwrap();
    let from_file = transcriber.transcribe_file(&path).unwrap();
    assert!(from_file.len() > 40, "{} notes", from_file.len());
    assert_eq!(transcriber.transcribe(&samples, 44_100).unwrap(), from_file);
    let mut stream = transcriber.stream(44_100).unwrap();
    for block in samples.chunks(4_097) {
        stream.push(block).unwrap();
    }
    assert_eq!(stream.finish().unwrap(), from_file);
}

#[test]
fn other_rates_are_resampled_to_the_front_end_and_keep_the_notes() {
    let dir = tempfile::tempdir().unwrap();
    let (samples, _) = rag_excerpt(8.0, dir.path());
    let transcriber = Transcriber::bundled().unwrap();
    let native = transcriber.transcribe(&samples, 44_100).unwrap();
    // Every other sample: the same music at 22.05 kHz (its top octave gone, which the
    // front-end's 8 kHz ceiling never read).
    let halved: Vec<f32> = samples.iter().step_by(2).copied().collect();
    let resampled = transcriber.transcribe(&halved, 22_050).unwrap();
    let pitches = |notes: &[polyphon::Note]| {
        let mut keys: Vec<u8> = notes.iter().map(|n| n.key()).collect();
        keys.sort_unstable();
        keys.dedup();
        keys
    };
    assert_eq!(pitches(&native), pitches(&resampled));
    assert!(resampled.iter().all(|n| n.offset <= 8.01));
}

#[test]
fn bad_samples_and_unknown_models_are_clear_errors() {
    let transcriber = Transcriber::bundled().unwrap();
    let error = transcriber
        .transcribe(&[0.0, f32::NAN], 44_100)
        .unwrap_err();
    assert!(
        error
            .to_string()
            .contains("sample 1 is not a finite number"),
        "{error}"
    );
    assert!(transcriber.transcribe(&[], 44_100).unwrap().is_empty());
    let error = Transcriber::from_name_or_path("no-such-model").unwrap_err();
    assert!(error.to_string().contains("convnet-pieces"), "{error}");
    assert!(Separator::from_name_or_path("no-such-model").is_err());
    assert!(Classifier::from_name_or_path("no-such-model").is_err());
}

#[test]
fn the_classifier_gives_the_same_probabilities_for_a_clip_and_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tone.wav");
    let rate = 16_000;
    let tone: Vec<f32> = (0..rate * 3)
        .map(|i| {
            let t = i as f32 / rate as f32;
            (1..6)
                .map(|h| 0.1 / h as f32 * (2.0 * std::f32::consts::PI * 220.0 * h as f32 * t).sin())
                .sum()
        })
        .collect();
    write_wav(&path, &tone, rate as u32, 1, WavFormat::Float32).unwrap();
    let classifier = Classifier::bundled().unwrap();
    let clip = classifier.classify(&tone, rate as u32).unwrap();
    assert_eq!(clip.len(), 6);
    assert!(clip.iter().all(|p| (0.0..=1.0).contains(p)));
    assert_eq!(clip, classifier.classify_files(&[path]).unwrap());
    let described = classifier.describe(&clip, &classifier.thresholds(None).unwrap());
    assert!(!described.is_empty());
}

/// Segments of 0.8 s over the 2 s chord: 0.8 + 1.2 (the last 0.4 s joins the one before);
/// a clip shorter than 0.5 s is refused rather than given a confident family.
#[test]
fn segments_never_end_with_a_clip_too_short_to_classify() {
    let classifier = Classifier::bundled().unwrap();
    let segments = classifier
        .classify_segments(&example("piano_chord.wav"), 0.8)
        .unwrap();
    let spans: Vec<(f64, f64)> = segments.iter().map(|(a, b, _)| (*a, *b)).collect();
    assert_eq!(spans.len(), 2, "{spans:?}");
    assert!((spans[0].1 - 0.8).abs() < 1e-3 && (spans[1].1 - 2.0).abs() < 1e-3);
    let dir = tempfile::tempdir().unwrap();
    let (_, short) = rag_excerpt(0.3, dir.path());
    let message = classifier.classify_segments(&short, 4.0).unwrap_err();
    assert!(
        message.to_string().contains("too short to classify"),
        "{message}"
    );
    let message = classifier.classify_files(&[short]).unwrap_err();
    assert!(
        message.to_string().contains("too short to classify"),
        "{message}"
    );
}

#[test]
fn separated_stems_have_the_mixture_shape_and_sum_back_to_it() {
    let mix = read_mono(example("bass_flute_mix.wav"), None, Downmix::Mean).unwrap();
    let separator = Separator::bundled().unwrap();
    assert_eq!(separator.sources(), ["bass", "flute"]);
    let stems = separator
        .separate(std::slice::from_ref(&mix.samples), mix.sample_rate)
        .unwrap();
    assert_eq!(stems.len(), 2);
    let worst = (0..mix.samples.len())
        .map(|i| (stems[0][0][i] + stems[1][0][i] - mix.samples[i]).abs())
        .fold(0f32, f32::max);
    assert!(worst < 1e-3, "the stems miss the mixture by {worst}");
}
