//! Separation metrics against museval 0.4.1 itself: every fixture under
//! `tests/fixtures/separation/<case>/` (written by `tools/make_separation_fixtures.py`) holds
//! 16-bit WAVs and museval's framewise SDR/ISR/SIR/SAR, their nanmedian, and SI-SDR. polyphon
//! must agree within 1e-3 dB on every frame, every median and SI-SDR, and NaN where museval
//! has NaN.

use std::path::{Path, PathBuf};

use polyphon_eval::separation::evaluate_separation;
use serde_json::Value;

const TOLERANCE_DB: f64 = 1e-3;
const METRICS: [&str; 4] = ["sdr", "isr", "sir", "sar"];

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/separation")
}

/// `[channel][sample]` of a 16-bit WAV, as soundfile reads it (int / 32768).
fn read_wav(path: &Path) -> (Vec<Vec<f64>>, u32) {
    let mut reader = hound::WavReader::open(path).unwrap();
    let spec = reader.spec();
    assert_eq!(spec.bits_per_sample, 16);
    let channels = spec.channels as usize;
    let mut out = vec![Vec::new(); channels];
    for (i, sample) in reader.samples::<i16>().enumerate() {
        out[i % channels].push(sample.unwrap() as f64 / 32768.0);
    }
    (out, spec.sample_rate)
}

fn expected_value(v: &Value) -> f64 {
    v.as_f64().unwrap_or(f64::NAN) // null is NaN
}

fn check(what: &str, got: f64, want: f64, max_diff: &mut f64) {
    if want.is_nan() {
        assert!(got.is_nan(), "{what}: museval NaN, polyphon {got}");
        return;
    }
    let diff = (got - want).abs();
    assert!(
        diff <= TOLERANCE_DB,
        "{what}: polyphon {got} dB, museval {want} dB"
    );
    *max_diff = max_diff.max(diff);
}

#[test]
fn equals_museval_on_every_fixture() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("expected.json").exists())
        .collect();
    cases.sort();
    assert!(cases.len() >= 5, "fixtures missing: {cases:?}");
    let mut max_diff = [0.0f64; 6]; // sdr isr sir sar, medians, si-sdr
    let mut nan_frames = 0;
    for case in &cases {
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        let expected: Value =
            serde_json::from_str(&std::fs::read_to_string(case.join("expected.json")).unwrap())
                .unwrap();
        let sources: Vec<String> = expected["sources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect();
        let rate = expected["sample_rate"].as_u64().unwrap() as usize;
        let window = expected["window"].as_u64().unwrap() as usize;
        let hop = expected["hop"].as_u64().unwrap() as usize;
        let read = |side: &str| -> Vec<Vec<Vec<f64>>> {
            sources
                .iter()
                .map(|s| {
                    let (x, r) = read_wav(&case.join(side).join(format!("{s}.wav")));
                    assert_eq!(r as usize, rate);
                    x
                })
                .collect()
        };
        let (refs, ests) = (read("ref"), read("est"));
        assert_eq!(
            ests[0][0].len() as u64,
            expected["estimate_samples"].as_u64().unwrap()
        );

        // evaluate_separation is museval.evaluate with win = hop = 1 s, as the fixtures
        assert_eq!((window, hop), (rate, rate));
        let started = std::time::Instant::now();
        let report = evaluate_separation(&refs, &ests, rate).unwrap();
        println!("{name}: {:.2} s", started.elapsed().as_secs_f64());
        for (j, source) in sources.iter().enumerate() {
            for (m, metric) in METRICS.iter().enumerate() {
                let want = expected["framewise"][source][metric].as_array().unwrap();
                let frames = &report[j].frames;
                let got = [&frames.sdr, &frames.isr, &frames.sir, &frames.sar][m];
                assert_eq!(got.len(), want.len(), "{name} {source} {metric}: frames");
                for (t, (g, w)) in got.iter().zip(want).enumerate() {
                    let w = expected_value(w);
                    nan_frames += usize::from(w.is_nan());
                    check(
                        &format!("{name} {source} {metric} frame {t}"),
                        *g,
                        w,
                        &mut max_diff[m],
                    );
                }
                let scores = report[j].scores;
                let median = [scores.sdr, scores.isr, scores.sir, scores.sar][m];
                check(
                    &format!("{name} {source} median {metric}"),
                    median,
                    expected_value(&expected["median"][source][metric]),
                    &mut max_diff[4],
                );
            }
            check(
                &format!("{name} {source} si-sdr"),
                report[j].scores.si_sdr,
                expected_value(&expected["si_sdr"][source]),
                &mut max_diff[5],
            );
        }
    }
    assert!(nan_frames > 0, "the silent-frame case lost its NaN frame");
    println!(
        "max |polyphon - museval| dB over {} cases: sdr {:.2e} isr {:.2e} sir {:.2e} sar {:.2e} medians {:.2e} si-sdr {:.2e}",
        cases.len(),
        max_diff[0],
        max_diff[1],
        max_diff[2],
        max_diff[3],
        max_diff[4],
        max_diff[5]
    );
}
