//! Decoding real containers and refusing bad input with a clear error.

use std::path::{Path, PathBuf};

use polyphon_audio::{read_mono, AudioError, AudioReader, Downmix, MonoStream};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn sweep_reference() -> Vec<f32> {
    read_mono(fixture("sweep.wav"), None, Downmix::Mean)
        .unwrap()
        .samples
}

/// Normalised cross-correlation at the best lag within ±`max_lag` samples.
fn best_correlation(a: &[f32], b: &[f32], max_lag: usize) -> (f64, i64) {
    let mut best = (f64::MIN, 0);
    for lag in -(max_lag as i64)..=max_lag as i64 {
        let pairs = (0..a.len()).filter_map(|i| {
            let j = i as i64 + lag;
            (j >= 0 && (j as usize) < b.len()).then(|| (a[i] as f64, b[j as usize] as f64))
        });
        let (mut ab, mut aa, mut bb) = (0.0, 0.0, 0.0);
        for (x, y) in pairs {
            ab += x * y;
            aa += x * x;
            bb += y * y;
        }
        let r = ab / (aa * bb).sqrt();
        if r > best.0 {
            best = (r, lag);
        }
    }
    best
}

#[test]
fn flac_decodes_to_exactly_the_wav_samples() {
    let flac = read_mono(fixture("sweep.flac"), None, Downmix::Mean).unwrap();
    assert_eq!(flac.sample_rate, 44_100);
    assert_eq!(flac.samples, sweep_reference());
}

#[test]
fn lossy_codecs_decode_to_the_same_sweep() {
    let reference = sweep_reference();
    for name in ["sweep.ogg", "sweep.mp3"] {
        let decoded = read_mono(fixture(name), None, Downmix::Mean).unwrap();
        assert_eq!(decoded.sample_rate, 44_100, "{name}");
        // Encoders pad the start and end; the MP3's padding is trimmed, Vorbis keeps a few
        // hundred samples at the end.
        assert!(
            decoded.samples.len().abs_diff(reference.len()) < 4096,
            "{name}: {} samples",
            decoded.samples.len()
        );
        if name.ends_with(".mp3") {
            assert_eq!(decoded.samples.len(), reference.len());
        }
        let (r, lag) = best_correlation(&reference[4000..12_000], &decoded.samples[4000..], 1200);
        assert!(r > 0.95, "{name}: correlation {r} at lag {lag}");
        // The encoder's delay is trimmed (the MP3's LAME tag gives it): no lag.
        assert_eq!(lag, 0, "{name}: the decoded audio is late by {lag} samples");
    }
}

#[test]
fn resampled_stream_has_the_announced_length() {
    let mut stream = MonoStream::open(fixture("sweep.flac"), Some(16_000), Downmix::Mean).unwrap();
    let expected = stream.expected_len().unwrap();
    let mut samples = Vec::new();
    while stream.read_block(&mut samples).unwrap() {}
    assert_eq!(samples.len() as u64, expected);
    assert_eq!(expected, (88_200u64 * 16_000).div_ceil(44_100));
}

fn open_error(path: &Path) -> AudioError {
    match AudioReader::open(path, Downmix::Mean) {
        Err(e) => e,
        Ok(mut reader) => {
            let mut out = Vec::new();
            loop {
                match reader.read_block(&mut out) {
                    Ok(true) => continue,
                    Ok(false) => panic!("{} decoded without error", path.display()),
                    Err(e) => return e,
                }
            }
        }
    }
}

fn assert_names_file(error: &AudioError, path: &Path) {
    let message = error.to_string();
    assert!(
        message.contains(&path.display().to_string()),
        "message does not name the file: {message}"
    );
    assert!(
        !message.contains('\n'),
        "message is not one line: {message}"
    );
}

/// A 16-bit mono WAV header announcing `samples` samples, followed by `data_bytes` of data.
fn wav_bytes(format_tag: u16, bits: u16, samples: u32, data: &[u8]) -> Vec<u8> {
    let block_align = bits / 8;
    let data_len = samples * block_align as u32;
    let mut bytes = Vec::new();
    bytes.extend_from_slice(b"RIFF");
    bytes.extend_from_slice(&(36 + data_len).to_le_bytes());
    bytes.extend_from_slice(b"WAVEfmt ");
    bytes.extend_from_slice(&16u32.to_le_bytes());
    bytes.extend_from_slice(&format_tag.to_le_bytes());
    bytes.extend_from_slice(&1u16.to_le_bytes());
    bytes.extend_from_slice(&44_100u32.to_le_bytes());
    bytes.extend_from_slice(&(44_100 * block_align as u32).to_le_bytes());
    bytes.extend_from_slice(&block_align.to_le_bytes());
    bytes.extend_from_slice(&bits.to_le_bytes());
    bytes.extend_from_slice(b"data");
    bytes.extend_from_slice(&data_len.to_le_bytes());
    bytes.extend_from_slice(data);
    bytes
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

#[test]
fn missing_file() {
    let path = PathBuf::from("/nonexistent/polyphon/missing.wav");
    let error = open_error(&path);
    assert!(matches!(error, AudioError::Io { .. }), "{error:?}");
    assert_names_file(&error, &path);
}

#[test]
fn empty_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "empty.wav", b"");
    let error = open_error(&path);
    assert!(matches!(error, AudioError::EmptyFile { .. }), "{error:?}");
    assert_names_file(&error, &path);
}

#[test]
fn text_file_named_wav() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "notes.wav", b"these are not samples\n");
    let error = open_error(&path);
    assert!(
        matches!(error, AudioError::UnrecognisedFormat { .. }),
        "{error:?}"
    );
    assert_names_file(&error, &path);
}

#[test]
fn wav_truncated_inside_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = (0..2000u32)
        .flat_map(|i| (i as i16).to_le_bytes())
        .collect();
    let path = write(dir.path(), "cut.wav", &wav_bytes(1, 16, 44_100, &data));
    let error = open_error(&path);
    assert!(
        matches!(
            error,
            AudioError::Truncated {
                expected: 44_100,
                ..
            }
        ),
        "{error:?}"
    );
    assert_names_file(&error, &path);
}

#[test]
fn wav_truncated_inside_its_header() {
    let dir = tempfile::tempdir().unwrap();
    let whole = wav_bytes(1, 16, 10, &[0; 20]);
    let path = write(dir.path(), "header.wav", &whole[..30]);
    let error = open_error(&path);
    assert_names_file(&error, &path);
}

#[test]
fn wav_without_samples() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(dir.path(), "silent.wav", &wav_bytes(1, 16, 0, &[]));
    let error = open_error(&path);
    assert!(matches!(error, AudioError::NoSamples { .. }), "{error:?}");
    assert_names_file(&error, &path);
}

#[test]
fn float_wav_with_nan_samples() {
    let dir = tempfile::tempdir().unwrap();
    let data: Vec<u8> = [0.0f32, 0.5, f32::NAN, 0.1]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let path = write(dir.path(), "nan.wav", &wav_bytes(3, 32, 4, &data));
    let error = open_error(&path);
    assert!(
        matches!(error, AudioError::NonFinite { index: 2, .. }),
        "{error:?}"
    );
    assert_names_file(&error, &path);
}

#[test]
fn wav_with_an_unsupported_codec() {
    let dir = tempfile::tempdir().unwrap();
    // Format tag 0x0161 is Windows Media Audio, which no decoder here reads.
    let path = write(dir.path(), "wma.wav", &wav_bytes(0x0161, 16, 4, &[0; 8]));
    let error = open_error(&path);
    assert!(
        matches!(error, AudioError::UnsupportedCodec { .. }),
        "{error:?}"
    );
    assert_names_file(&error, &path);
}

/// WAV headers whose sample rate or channel count no audio has: a clear error naming the
/// file, before the decoder trusts them (a zero rate made it panic; a huge one sized buffers).
#[test]
fn wav_with_an_impossible_sample_rate_or_channel_count() {
    let dir = tempfile::tempdir().unwrap();
    let good = wav_bytes(1, 16, 4, &[0; 8]);
    let cases: [(&str, usize, &[u8], &str); 4] = [
        ("zero_rate.wav", 24, &0u32.to_le_bytes(), "sample rate 0 Hz"),
        (
            "huge_rate.wav",
            24,
            &0x7F00_AC44u32.to_le_bytes(),
            "sample rate 2130750532 Hz",
        ),
        ("no_channels.wav", 22, &0u16.to_le_bytes(), "0 channels"),
        (
            "many_channels.wav",
            22,
            &5000u16.to_le_bytes(),
            "5000 channels",
        ),
    ];
    for (name, offset, value, expected) in cases {
        let mut bytes = good.clone();
        bytes[offset..offset + value.len()].copy_from_slice(value);
        let path = write(dir.path(), name, &bytes);
        let error = open_error(&path);
        assert!(
            matches!(error, AudioError::InvalidAudio { .. }),
            "{name}: {error:?}"
        );
        assert!(error.to_string().contains(expected), "{name}: {error}");
        assert_names_file(&error, &path);
    }
    // The untouched header still decodes.
    let path = write(dir.path(), "good.wav", &good);
    assert_eq!(
        read_mono(&path, None, Downmix::Mean).unwrap().samples.len(),
        4
    );
}

#[test]
fn eight_bit_audio_reads_as_if_dithered() {
    let dir = tempfile::tempdir().unwrap();
    // Unsigned 8-bit: 128 is silence, one step is 1/128.
    let data = [128u8, 129, 127, 130, 126, 192, 64, 255];
    let path = write(dir.path(), "eight.wav", &wav_bytes(1, 8, 8, &data));
    let audio = read_mono(&path, None, Downmix::Mean).unwrap();
    let step = 1.0 / 128.0;
    let exact = [
        0.0,
        0.0,
        0.0,
        2.0 * step,
        -2.0 * step,
        0.5,
        -0.5,
        127.0 * step,
    ];
    for (read, exact) in audio.samples.iter().zip(exact) {
        match exact == 0.0 {
            true => assert_eq!(*read, 0.0),
            false => assert!(
                (read - exact).abs() < step && *read != exact,
                "{read} {exact}"
            ),
        }
    }
    let again = read_mono(&path, None, Downmix::Mean).unwrap();
    assert_eq!(again.samples, audio.samples, "the dither is seeded");
    // 16-bit audio is read as it is, to its last step.
    let quiet: Vec<u8> = [1i16, -1, 300]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let path = write(dir.path(), "sixteen.wav", &wav_bytes(1, 16, 3, &quiet));
    let audio = read_mono(&path, None, Downmix::Mean).unwrap();
    assert_eq!(audio.samples, [1.0, -1.0, 300.0].map(|v: f32| v / 32768.0));
}
