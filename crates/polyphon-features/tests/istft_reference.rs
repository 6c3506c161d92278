//! The complex STFT and inverse STFT against librosa 0.11's `stft` and `istft` on the arrays
//! in `tests/fixtures/istft`, made by `tools/make_istft_fixtures.py`.

use std::path::PathBuf;

use polyphon_features::{read_npy_f32, Complex32, ComplexSpectrogram, ComplexStft};

/// Largest difference allowed, relative to the reference's largest magnitude.
const TOLERANCE: f32 = 1e-5;

fn fixture(name: &str) -> (Vec<usize>, Vec<f32>) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/istft")
        .join(name);
    read_npy_f32(path).unwrap()
}

/// A (frames, bins, 2) array as a spectrogram.
fn spectrogram(name: &str) -> ComplexSpectrogram {
    let (shape, values) = fixture(name);
    assert_eq!((shape.len(), shape[2]), (3, 2), "{name}: {shape:?}");
    let data = values
        .chunks_exact(2)
        .map(|c| Complex32::new(c[0], c[1]))
        .collect();
    ComplexSpectrogram::new(shape[0], shape[1], data).unwrap()
}

fn max_rel_diff(ours: &[f32], expected: &[f32]) -> f32 {
    assert_eq!(ours.len(), expected.len());
    let scale = expected.iter().map(|v| v.abs()).fold(0.0, f32::max);
    let diff = ours
        .iter()
        .zip(expected)
        .map(|(a, b)| (a - b).abs())
        .fold(0.0, f32::max);
    diff / scale
}

/// (case, n_fft, hop, istft lengths) as in the fixture script.
const CASES: [(&str, usize, usize, &[Option<usize>]); 3] = [
    ("sep1024", 1024, 256, &[Some(7999), None]),
    ("odd512", 512, 128, &[Some(3001), Some(3701), Some(2000)]),
    ("hop300", 1024, 300, &[Some(5000), None]),
];

#[test]
fn stft_equals_librosa() {
    for (case, n_fft, hop, _) in CASES {
        let (_, signal) = fixture(&format!("{case}.signal.npy"));
        let expected = spectrogram(&format!("{case}.stft.npy"));
        let ours = ComplexStft::new(n_fft, hop).unwrap().stft(&signal);
        assert_eq!(
            (ours.frames(), ours.bins()),
            (expected.frames(), expected.bins()),
            "{case}: shape"
        );
        let flat = |s: &ComplexSpectrogram| -> Vec<f32> {
            s.data().iter().flat_map(|c| [c.re, c.im]).collect()
        };
        let diff = max_rel_diff(&flat(&ours), &flat(&expected));
        eprintln!("{case}: stft max diff {diff:e} of the peak");
        assert!(
            diff <= TOLERANCE,
            "{case}: stft differs by {diff} of the peak"
        );
    }
}

#[test]
fn istft_equals_librosa() {
    for (case, n_fft, hop, lengths) in CASES {
        let masked = spectrogram(&format!("{case}.masked.npy"));
        let stft = ComplexStft::new(n_fft, hop).unwrap();
        for &length in lengths {
            let label = length.map_or("none".to_string(), |n| n.to_string());
            let (_, expected) = fixture(&format!("{case}.istft_{label}.npy"));
            let ours = stft.istft(&masked, length).unwrap();
            assert_eq!(ours.len(), expected.len(), "{case} length {label}");
            let diff = max_rel_diff(&ours, &expected);
            eprintln!("{case} length {label}: istft max diff {diff:e} of the peak");
            assert!(
                diff <= TOLERANCE,
                "{case} length {label}: {diff} of the peak"
            );
        }
    }
}
