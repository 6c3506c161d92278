//! Times `evaluate_separation` on a 10 s, 44.1 kHz, stereo, 2-source clip of noise-like
//! signals: `cargo run --release -p polyphon-eval --example separation_timing`.
use std::time::Instant;

fn noise(seed: u64, n: usize) -> Vec<f64> {
    let mut state = seed;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
        })
        .collect()
}

fn main() {
    let rate = 44_100;
    let n = 10 * rate;
    let refs: Vec<Vec<Vec<f64>>> = (0..2)
        .map(|s| (0..2).map(|c| noise(10 * s + c, n)).collect())
        .collect();
    let ests: Vec<Vec<Vec<f64>>> = refs
        .iter()
        .enumerate()
        .map(|(s, source)| {
            source
                .iter()
                .enumerate()
                .map(|(c, x)| {
                    let e = noise(100 + 10 * s as u64 + c as u64, n);
                    x.iter().zip(&e).map(|(a, b)| a + 0.1 * b).collect()
                })
                .collect()
        })
        .collect();
    let start = Instant::now();
    let report = polyphon_eval::evaluate_separation(&refs, &ests, rate).unwrap();
    let elapsed = start.elapsed();
    for (j, r) in report.iter().enumerate() {
        println!("source {j}: {:?}", r.scores);
    }
    println!(
        "10 s stereo, 2 sources, 44.1 kHz: {:.3} s",
        elapsed.as_secs_f64()
    );
}
