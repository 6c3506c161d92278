//! The front-ends against madmom 0.17 and librosa 0.11 on the clips in `tests/fixtures`,
//! made by `tools/make_frontend_fixtures.py`.

use std::path::PathBuf;

use polyphon_features::{
    extract, read_npy_f32, DbParams, DbReference, FeatureSpec, LogFilterbankParams,
    MelFilterbankParams, MelScale, SpectrumKind,
};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Features of `clip` under `spec`, and the reference array, as (frames, bins) each.
fn compare(spec: &FeatureSpec, clip: &str, reference: &str) -> (Vec<f32>, Vec<f32>) {
    let ours = extract(spec, fixture(clip)).unwrap();
    let (shape, expected) = read_npy_f32(fixture(reference)).unwrap();
    assert_eq!(
        (ours.num_frames, ours.num_bins),
        (shape[0], shape[1]),
        "shape of {clip} vs {reference}"
    );
    (ours.values, expected)
}

fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}

/// Largest |a - b| relative to the reference's largest magnitude.
fn max_rel_diff(a: &[f32], b: &[f32]) -> f32 {
    let scale = b.iter().map(|v| v.abs()).fold(0.0, f32::max);
    max_abs_diff(a, b) / scale
}

fn assert_logfilt(spec: &FeatureSpec, clip: &str, reference: &str, tolerance: f32) {
    let (ours, expected) = compare(spec, clip, reference);
    let diff = max_abs_diff(&ours, &expected);
    eprintln!("{reference}: max abs diff {diff:e}");
    assert!(diff <= tolerance, "{reference}: max abs diff {diff}");
}

#[test]
fn logfilt_equals_madmom_on_16_bit_mono_sweep() {
    assert_logfilt(
        &FeatureSpec::kelz2016(),
        "sweep.wav",
        "sweep.logfilt.npy",
        1e-4,
    );
}

#[test]
fn logfilt_equals_madmom_on_16_bit_stereo_piano() {
    assert_logfilt(
        &FeatureSpec::kelz2016(),
        "piano_chord.wav",
        "piano_chord.logfilt.npy",
        1e-4,
    );
}

#[test]
fn logfilt_equals_madmom_on_24_bit_stereo_noise() {
    assert_logfilt(
        &FeatureSpec::kelz2016(),
        "noise24.wav",
        "noise24.logfilt.npy",
        1e-4,
    );
}

#[test]
fn logfilt_equals_madmom_at_the_files_own_48_khz() {
    let spec =
        FeatureSpec::madmom_logfilt(48_000, 4096, 100.0, LogFilterbankParams::default()).unwrap();
    assert_logfilt(&spec, "stereo48k.wav", "stereo48k.logfilt.npy", 1e-4);
}

#[test]
fn logfilt_after_resampling_stays_close_to_madmom_on_soxr_output() {
    // Two different resamplers (rubato here, soxr for the reference): close, not equal.
    assert_logfilt(
        &FeatureSpec::kelz2016(),
        "stereo48k.wav",
        "stereo48k.logfilt44k.npy",
        1e-3,
    );
}

#[test]
fn magnitude_stft_equals_madmom() {
    let spec = FeatureSpec::madmom_stft(44_100, 2048, 100.0).unwrap();
    let ours = extract(&spec, fixture("piano_chord.wav")).unwrap();
    let (shape, expected) = read_npy_f32(fixture("piano_chord.stft.npy")).unwrap();
    assert_eq!(ours.num_frames, shape[0]);
    let ours: Vec<f32> = (0..ours.num_frames)
        .flat_map(|k| ours.row(k)[..shape[1]].to_vec())
        .collect();
    let diff = max_rel_diff(&ours, &expected);
    eprintln!("stft: max rel diff {diff:e}");
    assert!(diff <= 1e-5, "max rel diff {diff}");
}

fn librosa_mel(
    sample_rate: u32,
    n_fft: usize,
    hop: usize,
    power: SpectrumKind,
    params: MelFilterbankParams,
    db: Option<DbParams>,
) -> FeatureSpec {
    FeatureSpec::librosa_mel(sample_rate, n_fft, hop, power, params, db).unwrap()
}

fn assert_mel(spec: &FeatureSpec, clip: &str, reference: &str) {
    let (ours, expected) = compare(spec, clip, reference);
    let diff = max_rel_diff(&ours, &expected);
    eprintln!("{reference}: max rel diff {diff:e}");
    assert!(diff <= 1e-4, "{reference}: max relative diff {diff}");
}

#[test]
fn mel_equals_librosa_defaults_on_piano() {
    let spec = librosa_mel(
        44_100,
        2048,
        512,
        SpectrumKind::Power,
        MelFilterbankParams::default(),
        None,
    );
    assert_mel(&spec, "piano_chord.wav", "piano_chord.mel.npy");
}

#[test]
fn mel_equals_librosa_htk_magnitude_at_48_khz() {
    let params = MelFilterbankParams {
        n_mels: 64,
        fmin: 20.0,
        fmax: Some(8000.0),
        scale: MelScale::Htk,
        slaney_norm: true,
    };
    let spec = librosa_mel(48_000, 1024, 256, SpectrumKind::Magnitude, params, None);
    assert_mel(&spec, "stereo48k.wav", "stereo48k.mel_htk.npy");
}

#[test]
fn mel_equals_librosa_on_24_bit_noise() {
    let params = MelFilterbankParams {
        n_mels: 229,
        ..Default::default()
    };
    let spec = librosa_mel(44_100, 2048, 441, SpectrumKind::Power, params, None);
    assert_mel(&spec, "noise24.wav", "noise24.mel.npy");
}

#[test]
fn mel_db_equals_librosa_power_to_db_with_max_reference() {
    let db = DbParams {
        reference: DbReference::Max,
        amin: 1e-10,
        top_db: Some(80.0),
    };
    let spec = librosa_mel(
        44_100,
        2048,
        512,
        SpectrumKind::Power,
        MelFilterbankParams::default(),
        Some(db),
    );
    let (ours, expected) = compare(&spec, "piano_chord.wav", "piano_chord.mel_db.npy");
    let diff = max_abs_diff(&ours, &expected);
    eprintln!("mel dB: max abs diff {diff:e} dB");
    assert!(diff <= 1e-3, "max abs diff {diff} dB");
}
