//! One frame of BSS Eval v4: the estimate's decomposition with the global filters, and its
//! four energy ratios (museval's `_bss_decomp_mtifilt` and `_bss_crit`, `bss_eval_images`
//! version).
//!
//! In a frame the references are cut to the frame, filtered (full convolution, L − 1 samples
//! longer than the frame) and compared with the estimate's frame zero-padded to that length:
//!
//! * `s_true`: the reference source image, padded;
//! * `P_own`: its own reference filtered by the own-source filters, `e_spat = P_own − s_true`;
//! * `P_all`: all references filtered by the all-source filters,
//!   `e_interf = P_all − s_true − e_spat`;
//! * `e_artif = estimate − s_true − e_spat − e_interf`;
//!
//! SDR = ‖s_true‖² / ‖e_spat + e_interf + e_artif‖², ISR = ‖s_true‖² / ‖e_spat‖²,
//! SIR = ‖s_true + e_spat‖² / ‖e_interf‖², SAR = ‖s_true + e_spat + e_interf‖² / ‖e_artif‖²,
//! in dB (a zero denominator gives +∞, as museval's `_safe_db`).
//!
//! The convolutions go through FFTs of the next power of two at or above `frame + L − 1`.

use std::collections::HashMap;
use std::sync::Arc;

use realfft::num_complex::Complex;
use realfft::{ComplexToReal, RealFftPlanner, RealToComplex};

use super::filters::Filters;

/// SDR, ISR, SIR, SAR of one source in one frame, dB.
#[derive(Debug, Clone, Copy)]
pub(crate) struct FrameScores {
    pub sdr: f64,
    pub isr: f64,
    pub sir: f64,
    pub sar: f64,
}

/// FFT plans and filter spectra for one transform size.
struct SizedPlan {
    forward: Arc<dyn RealToComplex<f64>>,
    inverse: Arc<dyn ComplexToReal<f64>>,
    /// `[estimate][channel c][source channel p]` spectra of the all-source filters
    all: Vec<Vec<Vec<Vec<Complex<f64>>>>>,
    /// `[estimate][channel c][own channel]` spectra of the own-source filters
    own: Vec<Vec<Vec<Vec<Complex<f64>>>>>,
}

/// Scores frames with the filters computed once over the whole signal.
pub(crate) struct FrameScorer<'a> {
    filters: &'a [Filters],
    channels: usize,
    taps: usize,
    planner: RealFftPlanner<f64>,
    plans: HashMap<usize, SizedPlan>,
}

impl<'a> FrameScorer<'a> {
    pub(crate) fn new(filters: &'a [Filters], channels: usize, taps: usize) -> Self {
        FrameScorer {
            filters,
            channels,
            taps,
            planner: RealFftPlanner::new(),
            plans: HashMap::new(),
        }
    }

    fn plan(&mut self, fft_len: usize) -> &SizedPlan {
        let (filters, taps, channels) = (self.filters, self.taps, self.channels);
        let planner = &mut self.planner;
        self.plans.entry(fft_len).or_insert_with(|| {
            let forward = planner.plan_fft_forward(fft_len);
            let inverse = planner.plan_fft_inverse(fft_len);
            let spectrum = |coefficients: &[f64]| {
                let mut buffer = vec![0.0; fft_len];
                buffer[..taps].copy_from_slice(coefficients);
                let mut out = forward.make_output_vec();
                forward
                    .process(&mut buffer, &mut out)
                    .expect("buffer sizes match the plan");
                out
            };
            let spectra = |per_channel: &[Vec<f64>]| -> Vec<Vec<Vec<Complex<f64>>>> {
                per_channel
                    .iter()
                    .map(|flat| flat.chunks(taps).map(spectrum).collect())
                    .collect()
            };
            let all = filters.iter().map(|f| spectra(&f.all)).collect();
            let own = filters.iter().map(|f| spectra(&f.own)).collect();
            debug_assert!(filters.iter().all(|f| f.own.len() == channels));
            SizedPlan {
                forward,
                inverse,
                all,
                own,
            }
        })
    }

    /// Scores of every source in the frame `range` of `references` and `estimates`
    /// (`[source][channel][sample]`).
    pub(crate) fn score(
        &mut self,
        references: &[Vec<Vec<f64>>],
        estimates: &[Vec<Vec<f64>>],
        range: std::ops::Range<usize>,
    ) -> Vec<FrameScores> {
        let (channels, taps) = (self.channels, self.taps);
        let frame = range.len();
        let out_len = frame + taps - 1;
        let fft_len = out_len.next_power_of_two();
        let plan = self.plan(fft_len);

        // spectra of every reference channel in the frame
        let mut buffer = vec![0.0; fft_len];
        let ref_spectra: Vec<Vec<Vec<Complex<f64>>>> = references
            .iter()
            .map(|source| {
                source
                    .iter()
                    .map(|x| {
                        buffer.fill(0.0);
                        buffer[..frame].copy_from_slice(&x[range.clone()]);
                        let mut out = plan.forward.make_output_vec();
                        plan.forward
                            .process(&mut buffer, &mut out)
                            .expect("buffer sizes match the plan");
                        out
                    })
                    .collect()
            })
            .collect();
        let bins = fft_len / 2 + 1;
        let mut filtered = |terms: &mut dyn Iterator<Item = (&[Complex<f64>], &[Complex<f64>])>| {
            let mut sum = vec![Complex::<f64>::default(); bins];
            for (x, h) in terms {
                for ((s, a), b) in sum.iter_mut().zip(x).zip(h) {
                    *s += a * b;
                }
            }
            sum[0].im = 0.0;
            sum[bins - 1].im = 0.0;
            plan.inverse
                .process(&mut sum, &mut buffer)
                .expect("buffer sizes match the plan");
            let scale = 1.0 / fft_len as f64;
            buffer[..out_len]
                .iter()
                .map(|v| v * scale)
                .collect::<Vec<f64>>()
        };

        let mut scores = Vec::with_capacity(references.len());
        for j in 0..references.len() {
            let mut energy_true = 0.0;
            let mut energy_error = 0.0;
            let mut energy_spat = 0.0;
            let mut energy_own = 0.0;
            let mut energy_interf = 0.0;
            let mut energy_all = 0.0;
            let mut energy_artif = 0.0;
            for c in 0..channels {
                let own = filtered(
                    &mut (0..channels)
                        .map(|k| (ref_spectra[j][k].as_slice(), plan.own[j][c][k].as_slice())),
                );
                let all = filtered(
                    &mut ref_spectra
                        .iter()
                        .flatten()
                        .enumerate()
                        .map(|(p, x)| (x.as_slice(), plan.all[j][c][p].as_slice())),
                );
                let reference = &references[j][c][range.clone()];
                let estimate = &estimates[j][c][range.clone()];
                for n in 0..out_len {
                    let s_true = reference.get(n).copied().unwrap_or(0.0);
                    let est = estimate.get(n).copied().unwrap_or(0.0);
                    let e_spat = own[n] - s_true;
                    let e_interf = all[n] - s_true - e_spat;
                    let e_artif = -s_true - e_spat - e_interf + est;
                    let error = e_spat + e_interf + e_artif;
                    let s_own = s_true + e_spat;
                    let s_all = s_true + e_spat + e_interf;
                    energy_true += s_true * s_true;
                    energy_error += error * error;
                    energy_spat += e_spat * e_spat;
                    energy_own += s_own * s_own;
                    energy_interf += e_interf * e_interf;
                    energy_all += s_all * s_all;
                    energy_artif += e_artif * e_artif;
                }
            }
            scores.push(FrameScores {
                sdr: safe_db(energy_true, energy_error),
                isr: safe_db(energy_true, energy_spat),
                sir: safe_db(energy_own, energy_interf),
                sar: safe_db(energy_all, energy_artif),
            });
        }
        scores
    }
}

/// museval's `_safe_db`: +∞ for a zero denominator, else `10 log10(num / den)`.
fn safe_db(num: f64, den: f64) -> f64 {
    if den == 0.0 {
        f64::INFINITY
    } else {
        10.0 * (num / den).log10()
    }
}
