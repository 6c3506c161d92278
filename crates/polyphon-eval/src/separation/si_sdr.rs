//! Scale-invariant SDR (Le Roux, Wisdom, Erdogan and Hershey, "SDR – half-baked or well
//! done?", ICASSP 2019), as torchmetrics' `scale_invariant_signal_distortion_ratio` computes
//! it with `zero_mean=False`:
//!
//! ```text
//! α = (⟨ŝ, s⟩ + ε) / (‖s‖² + ε),   SI-SDR = 10 log10((‖α s‖² + ε) / (‖α s − ŝ‖² + ε))
//! ```
//!
//! over the whole signal of one channel, ε the float64 machine epsilon (torchmetrics takes
//! the epsilon of the input's dtype; polyphon's inputs are f64). A multichannel source scores
//! the mean of its channels' SI-SDRs (torchmetrics on a `(channels, samples)` tensor, then
//! `.mean()`).

/// SI-SDR in dB of one estimated channel against its reference (equal lengths).
pub fn si_sdr_channel(reference: &[f64], estimate: &[f64]) -> f64 {
    assert_eq!(
        reference.len(),
        estimate.len(),
        "SI-SDR needs equal lengths"
    );
    let eps = f64::EPSILON;
    let dot: f64 = reference.iter().zip(estimate).map(|(s, e)| s * e).sum();
    let energy: f64 = reference.iter().map(|s| s * s).sum();
    let alpha = (dot + eps) / (energy + eps);
    let mut target = 0.0;
    let mut noise = 0.0;
    for (s, e) in reference.iter().zip(estimate) {
        let t = alpha * s;
        target += t * t;
        noise += (t - e) * (t - e);
    }
    10.0 * ((target + eps) / (noise + eps)).log10()
}

/// SI-SDR in dB of one source, `[channel][sample]`: the mean over channels.
pub fn si_sdr(reference: &[Vec<f64>], estimate: &[Vec<f64>]) -> f64 {
    assert_eq!(
        reference.len(),
        estimate.len(),
        "SI-SDR needs equal channel counts"
    );
    let sum: f64 = reference
        .iter()
        .zip(estimate)
        .map(|(s, e)| si_sdr_channel(s, e))
        .sum();
    sum / reference.len() as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaled_copy_plus_orthogonal_noise() {
        // s = [1, 0, 1, 0], noise orthogonal to s; α = 1 for ŝ = s + n
        let s = [1.0, 0.0, 1.0, 0.0];
        let e = [1.0, 0.1, 1.0, -0.1];
        let want = 10.0 * (2.0f64 / 0.02).log10();
        assert!((si_sdr_channel(&s, &e) - want).abs() < 1e-9);
        // the scale of the estimate does not matter
        let e3: Vec<f64> = e.iter().map(|v| 3.0 * v).collect();
        assert!((si_sdr_channel(&s, &e3) - want).abs() < 1e-9);
        // mean over channels
        let two = si_sdr(&[s.to_vec(), s.to_vec()], &[e.to_vec(), e3]);
        assert!((two - want).abs() < 1e-9);
    }
}
