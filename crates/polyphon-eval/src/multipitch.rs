//! Frame-level (multi-pitch) metrics, as `mir_eval.multipitch` (0.8.2).
//!
//! Input: for each side, frame times in seconds and per frame the sounding frequencies in Hz.
//! If the estimate's times differ from the reference's, the estimate is resampled onto them
//! by nearest neighbour (frames outside the estimate's time span become empty). Frequencies
//! are converted to continuous MIDI numbers and, frame by frame, matched within half a
//! semitone by maximum bipartite matching. Counts are summed over all frames ("macro"):
//!
//! * precision = TP / (estimated pitches), recall = TP / (reference pitches),
//! * accuracy = TP / (TP + FP + FN) = TP / Σ(n_est + n_ref − TP),
//! * F1 = 2·P·R / (P + R) (0 when P + R = 0). mir_eval.multipitch reports no F-measure; this
//!   is the usual one derived from its precision and recall.
//!
//! mir_eval's error scores and chroma variants are not computed.

use crate::matching::HitGraph;
use crate::transcription::f_measure;
use crate::validate::{validate_multipitch, Side, ValidationError};

/// A match requires the MIDI numbers to be within this many semitones.
const MATCH_WINDOW_SEMITONES: f64 = 0.5;

/// The frame-level scores.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct MultipitchScores {
    pub precision: f64,
    pub recall: f64,
    pub accuracy: f64,
    pub f1: f64,
}

/// Frame times and the frequencies (Hz) sounding in each frame.
#[derive(Debug, Clone, Copy)]
pub struct MultipitchSeries<'a> {
    pub times: &'a [f64],
    pub frequencies: &'a [Vec<f64>],
}

/// Precision, recall, accuracy and F1 of `estimate` against `reference`, as
/// `mir_eval.multipitch.metrics`.
pub fn metrics(
    reference: MultipitchSeries,
    estimate: MultipitchSeries,
) -> Result<MultipitchScores, ValidationError> {
    validate(reference, estimate)?;
    let est_frequencies = if same_time_base(reference.times, estimate.times) {
        estimate.frequencies.to_vec()
    } else {
        resample_multipitch(estimate.times, estimate.frequencies, reference.times)
    };
    let ref_midi = frequencies_to_midi(reference.frequencies);
    let est_midi = frequencies_to_midi(&est_frequencies);
    let counts = FrameCounts::of(&ref_midi, &est_midi);
    Ok(counts.scores())
}

/// `mir_eval.multipitch.validate` for both sides.
pub fn validate(
    reference: MultipitchSeries,
    estimate: MultipitchSeries,
) -> Result<(), ValidationError> {
    validate_multipitch(Side::Reference, reference.times, reference.frequencies)?;
    validate_multipitch(Side::Estimate, estimate.times, estimate.frequencies)
}

/// mir_eval resamples unless the sizes agree and `np.allclose(est, ref)` holds.
fn same_time_base(reference: &[f64], estimate: &[f64]) -> bool {
    const RTOL: f64 = 1e-5;
    const ATOL: f64 = 1e-8;
    reference.len() == estimate.len()
        && reference
            .iter()
            .zip(estimate)
            .all(|(&r, &e)| (e - r).abs() <= ATOL + RTOL * r.abs())
}

/// Nearest-neighbour resampling onto `target_times`, as `mir_eval.multipitch.resample_multipitch`
/// (scipy `interp1d(kind="nearest")`: a target exactly halfway takes the earlier frame;
/// targets before the first or after the last time get no pitches).
pub fn resample_multipitch(
    times: &[f64],
    frequencies: &[Vec<f64>],
    target_times: &[f64],
) -> Vec<Vec<f64>> {
    let (Some(&first), Some(&last)) = (times.first(), times.last()) else {
        return vec![Vec::new(); target_times.len()];
    };
    // Halfway points between neighbours, computed as scipy does (halve, then add).
    let bounds: Vec<f64> = times.windows(2).map(|w| w[1] / 2.0 + w[0] / 2.0).collect();
    target_times
        .iter()
        .map(|&t| {
            if t < first || t > last {
                return Vec::new();
            }
            let index = bounds.partition_point(|&b| b < t).min(times.len() - 1);
            frequencies[index].clone()
        })
        .collect()
}

/// Continuous MIDI numbers, `69 + 12·log2(f / 440)`, as `mir_eval.multipitch.frequencies_to_midi`.
pub fn frequencies_to_midi(frequencies: &[Vec<f64>]) -> Vec<Vec<f64>> {
    frequencies
        .iter()
        .map(|frame| {
            frame
                .iter()
                .map(|f| 69.0 + 12.0 * (f / 440.0).log2())
                .collect()
        })
        .collect()
}

/// True positives and pitch counts summed over all frames.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FrameCounts {
    pub true_positives: usize,
    pub n_ref: usize,
    pub n_est: usize,
}

impl FrameCounts {
    /// Counts frame by frame; frames beyond the shorter list are ignored, as Python's `zip`.
    pub fn of(ref_midi: &[Vec<f64>], est_midi: &[Vec<f64>]) -> Self {
        let true_positives = ref_midi
            .iter()
            .zip(est_midi)
            .map(|(r, e)| frame_true_positives(r, e))
            .sum();
        FrameCounts {
            true_positives,
            n_ref: ref_midi.iter().map(Vec::len).sum(),
            n_est: est_midi.iter().map(Vec::len).sum(),
        }
    }

    /// `mir_eval.multipitch.compute_accuracy`, plus F1 from its precision and recall.
    pub fn scores(&self) -> MultipitchScores {
        let tp = self.true_positives as f64;
        let ratio = |denominator: usize| {
            if denominator > 0 {
                tp / denominator as f64
            } else {
                0.0
            }
        };
        let precision = ratio(self.n_est);
        let recall = ratio(self.n_ref);
        MultipitchScores {
            precision,
            recall,
            accuracy: ratio(self.n_est + self.n_ref - self.true_positives),
            f1: f_measure(precision, recall, 1.0),
        }
    }
}

/// Size of the maximum matching between one frame's pitches, within half a semitone.
fn frame_true_positives(ref_midi: &[f64], est_midi: &[f64]) -> usize {
    // mir_eval's `_fast_hit_windows` tests `est - w <= ref <= est + w`, not `|ref - est| <= w`;
    // the two can differ by rounding right at the window edge.
    let w = MATCH_WINDOW_SEMITONES;
    let is_hit =
        |r: usize, e: usize| ref_midi[r] >= est_midi[e] - w && ref_midi[r] <= est_midi[e] + w;
    HitGraph::from_hits(ref_midi.len(), est_midi.len(), is_hit)
        .maximum_matching()
        .len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resampling_takes_nearest_earlier_on_ties_and_empties_outside() {
        let times = [0.0, 1.0, 2.0];
        let freqs = vec![vec![100.0], vec![200.0], vec![300.0]];
        let out = resample_multipitch(&times, &freqs, &[-0.1, 0.5, 0.6, 2.0, 2.1]);
        assert_eq!(
            out,
            vec![vec![], vec![100.0], vec![200.0], vec![300.0], vec![]]
        );
    }

    #[test]
    fn accuracy_counts_misses_and_false_alarms() {
        let times = [0.0, 0.01];
        let reference = vec![vec![440.0, 880.0], vec![440.0]];
        let estimate = vec![vec![440.0], vec![450.0, 1000.0]];
        let scores = metrics(
            MultipitchSeries {
                times: &times,
                frequencies: &reference,
            },
            MultipitchSeries {
                times: &times,
                frequencies: &estimate,
            },
        )
        .unwrap();
        // 450 Hz is 0.39 semitones above 440 Hz: a hit. TP = 2, n_ref = 3, n_est = 3.
        assert!((scores.precision - 2.0 / 3.0).abs() < 1e-15);
        assert!((scores.recall - 2.0 / 3.0).abs() < 1e-15);
        assert!((scores.accuracy - 0.5).abs() < 1e-15);
    }

    #[test]
    fn all_empty_scores_zero() {
        let counts = FrameCounts::default();
        assert_eq!(
            counts.scores(),
            MultipitchScores {
                precision: 0.0,
                recall: 0.0,
                accuracy: 0.0,
                f1: 0.0
            }
        );
    }
}
