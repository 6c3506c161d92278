//! Inference frames per second of the (untrained) networks on this machine.
//!
//! `cargo run --release -p polyphon-models --example inference_speed [-- SECONDS [CHUNK...]]`
//! times `TranscriptionModel::predict` on SECONDS (default 60) of random features at 100
//! frames/s, for the ConvNet at each chunk size (default 256 512 1024) and once for the
//! SmallConvNet and the AUNet, then for the ConvNet's native path (`NativeConvNet`).

use std::time::Instant;

use polyphon_models::transcription::{
    Architecture, NativeConvNet, Network, TranscriptionModel, INPUT_BINS,
};

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: usize = args.next().map_or(60, |s| s.parse().expect("SECONDS"));
    let mut chunks: Vec<usize> = args.map(|s| s.parse().expect("CHUNK")).collect();
    if chunks.is_empty() {
        chunks = vec![256, 512, 1024];
    }
    let frames = seconds * 100;
    let mut state = 1u32;
    let features: Vec<f32> = (0..frames * INPUT_BINS)
        .map(|_| {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (state >> 8) as f32 / (1u32 << 24) as f32
        })
        .collect();
    println!("threads: {}", rayon_threads());
    let mut runs: Vec<(Architecture, usize)> = chunks
        .iter()
        .map(|&chunk| (Architecture::ConvNet, chunk))
        .collect();
    runs.push((Architecture::SmallConvNet, 1024));
    runs.push((Architecture::AuNet, 512));
    let model = TranscriptionModel::untrained(Architecture::ConvNet);
    let Network::ConvNet(net) = model.network() else {
        unreachable!()
    };
    let native = NativeConvNet::new(net).unwrap();
    native.predict(&features[..300 * INPUT_BINS]);
    let start = Instant::now();
    let out = native.predict(&features);
    let elapsed = start.elapsed().as_secs_f64();
    assert_eq!(out.len(), frames * 88);
    println!(
        "native ConvNet: {frames} frames in {elapsed:.2} s = {:.0} frames/s ({:.1}x realtime)",
        frames as f64 / elapsed,
        frames as f64 / 100.0 / elapsed
    );
    for (architecture, chunk) in runs {
        let model = TranscriptionModel::untrained(architecture)
            .with_engine(polyphon_models::transcription::Engine::Burn)
            .unwrap()
            .with_chunk_frames(chunk);
        // Warm-up on a short input.
        model.predict(&features[..300 * INPUT_BINS], 300).unwrap();
        let start = Instant::now();
        let out = model.predict(&features, frames).unwrap();
        let elapsed = start.elapsed().as_secs_f64();
        assert_eq!(out.len(), frames * architecture.num_outputs());
        println!(
            "{architecture:>13} chunk {chunk:>5}: {frames} frames in {elapsed:.2} s = {:.0} frames/s ({:.1}x realtime)",
            frames as f64 / elapsed,
            frames as f64 / 100.0 / elapsed
        );
    }
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}
