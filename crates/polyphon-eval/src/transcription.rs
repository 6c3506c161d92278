//! Note-level transcription metrics, as `mir_eval.transcription` (0.8.2).
//!
//! Notes are intervals `[onset, offset]` in seconds with a pitch in Hz. An estimated note
//! matches a reference note when
//! 1. their onsets are within `onset_tolerance` (50 ms),
//! 2. their pitches are within `pitch_tolerance` cents (50),
//! 3. unless `offset_ratio` is `None`: their offsets are within
//!    `max(offset_ratio × reference duration, offset_min_tolerance)`.
//!
//! Onset and offset distances are rounded to 4 decimals before the comparison (as mir_eval
//! does, so that a distance of exactly 50 ms is not lost to float error); pitch distances are
//! not rounded. Each note is matched at most once, by mir_eval's maximum bipartite matching.

use crate::matching::HitGraph;
use crate::validate::{validate_notes, Side, ValidationError};

/// mir_eval rounds onset/offset distances to this many decimals (`N_DECIMALS`).
const DISTANCE_DECIMALS: i32 = 4;

/// The parameters of [`precision_recall_f1_overlap`]; `Default` gives mir_eval's defaults.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NoteMatchOptions {
    /// Largest onset deviation in seconds.
    pub onset_tolerance: f64,
    /// Largest pitch deviation in cents.
    pub pitch_tolerance: f64,
    /// Offset tolerance as a fraction of the reference duration; `None` ignores offsets.
    pub offset_ratio: Option<f64>,
    /// Smallest offset tolerance in seconds.
    pub offset_min_tolerance: f64,
    /// Compare with `<` instead of `<=`.
    pub strict: bool,
    /// Weight of recall in the F-measure.
    pub beta: f64,
}

impl Default for NoteMatchOptions {
    fn default() -> Self {
        NoteMatchOptions {
            onset_tolerance: 0.05,
            pitch_tolerance: 50.0,
            offset_ratio: Some(0.2),
            offset_min_tolerance: 0.05,
            strict: false,
            beta: 1.0,
        }
    }
}

impl NoteMatchOptions {
    /// mir_eval's defaults with offsets ignored: the "onset" (no offset) scores.
    pub fn onset_only() -> Self {
        NoteMatchOptions {
            offset_ratio: None,
            ..Self::default()
        }
    }
}

/// The four numbers mir_eval's `precision_recall_f1_overlap` returns.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct NoteScores {
    pub precision: f64,
    pub recall: f64,
    pub f_measure: f64,
    pub average_overlap_ratio: f64,
}

/// Precision, recall, F-measure and average overlap ratio of the estimated notes, as
/// `mir_eval.transcription.precision_recall_f1_overlap`. All four are 0 when either list is
/// empty.
pub fn precision_recall_f1_overlap(
    ref_intervals: &[[f64; 2]],
    ref_pitches: &[f64],
    est_intervals: &[[f64; 2]],
    est_pitches: &[f64],
    options: &NoteMatchOptions,
) -> Result<NoteScores, ValidationError> {
    validate(ref_intervals, ref_pitches, est_intervals, est_pitches)?;
    let n_ref = ref_intervals.len();
    let n_est = est_intervals.len();
    if n_ref == 0 || n_est == 0 {
        return Ok(NoteScores {
            precision: 0.0,
            recall: 0.0,
            f_measure: 0.0,
            average_overlap_ratio: 0.0,
        });
    }
    let matching = match_notes(
        ref_intervals,
        ref_pitches,
        est_intervals,
        est_pitches,
        options,
    );
    let precision = matching.len() as f64 / n_est as f64;
    let recall = matching.len() as f64 / n_ref as f64;
    Ok(NoteScores {
        precision,
        recall,
        f_measure: f_measure(precision, recall, options.beta),
        average_overlap_ratio: average_overlap_ratio(ref_intervals, est_intervals, &matching),
    })
}

/// `mir_eval.transcription.validate`: both note lists well-formed, pitches in Hz.
pub fn validate(
    ref_intervals: &[[f64; 2]],
    ref_pitches: &[f64],
    est_intervals: &[[f64; 2]],
    est_pitches: &[f64],
) -> Result<(), ValidationError> {
    validate_notes(Side::Reference, ref_intervals, ref_pitches)?;
    validate_notes(Side::Estimate, est_intervals, est_pitches)
}

/// The maximum matching of `mir_eval.transcription.match_notes`: `(ref, est)` index pairs,
/// sorted by reference index. Expects validated input.
pub fn match_notes(
    ref_intervals: &[[f64; 2]],
    ref_pitches: &[f64],
    est_intervals: &[[f64; 2]],
    est_pitches: &[f64],
    options: &NoteMatchOptions,
) -> Vec<(usize, usize)> {
    let within = |distance: f64, tolerance: f64| {
        if options.strict {
            distance < tolerance
        } else {
            distance <= tolerance
        }
    };
    let ref_log2: Vec<f64> = ref_pitches.iter().map(|p| p.log2()).collect();
    let est_log2: Vec<f64> = est_pitches.iter().map(|p| p.log2()).collect();
    let is_hit = |r: usize, e: usize| {
        let [ref_on, ref_off] = ref_intervals[r];
        let [est_on, est_off] = est_intervals[e];
        let onset_ok = within(rounded_distance(ref_on, est_on), options.onset_tolerance);
        let pitch_cents = (1200.0 * (ref_log2[r] - est_log2[e])).abs();
        let pitch_ok = within(pitch_cents, options.pitch_tolerance);
        let offset_ok = options.offset_ratio.is_none_or(|ratio| {
            let tolerance = offset_tolerance(ref_off - ref_on, ratio, options.offset_min_tolerance);
            within(rounded_distance(ref_off, est_off), tolerance)
        });
        onset_ok && pitch_ok && offset_ok
    };
    let by_onset = EstimatesByOnset::new(est_intervals);
    // Wide enough that rounding the distance can never admit a pair outside the window.
    let window = options.onset_tolerance + 1e-3;
    let row_hits = |r: usize| {
        let mut row: Vec<usize> = by_onset
            .near(ref_intervals[r][0], window)
            .filter(|&e| is_hit(r, e))
            .collect();
        row.sort_unstable();
        row
    };
    HitGraph::from_rows(ref_intervals.len(), est_intervals.len(), row_hits).maximum_matching()
}

/// Estimate indices sorted by onset, to visit only estimates near a reference onset
/// instead of all n_ref × n_est pairs.
struct EstimatesByOnset {
    onsets: Vec<f64>,
    indices: Vec<usize>,
}

impl EstimatesByOnset {
    fn new(est_intervals: &[[f64; 2]]) -> Self {
        let mut indices: Vec<usize> = (0..est_intervals.len()).collect();
        indices.sort_by(|&a, &b| est_intervals[a][0].total_cmp(&est_intervals[b][0]));
        let onsets = indices.iter().map(|&i| est_intervals[i][0]).collect();
        EstimatesByOnset { onsets, indices }
    }

    /// Estimates whose onset lies within `window` of `onset`.
    fn near(&self, onset: f64, window: f64) -> impl Iterator<Item = usize> + '_ {
        let start = self.onsets.partition_point(|&t| t < onset - window);
        let end = self.onsets.partition_point(|&t| t <= onset + window);
        self.indices[start..end.max(start)].iter().copied()
    }
}

/// The offset tolerance of a reference note: a fraction of its duration, but at least the
/// minimum.
pub fn offset_tolerance(ref_duration: f64, offset_ratio: f64, offset_min_tolerance: f64) -> f64 {
    (offset_ratio * ref_duration.abs()).max(offset_min_tolerance)
}

/// `|a - b|` rounded as `np.around(x, 4)`: scale, round half to even, scale back.
fn rounded_distance(a: f64, b: f64) -> f64 {
    let scale = 10f64.powi(DISTANCE_DECIMALS);
    ((a - b).abs() * scale).round_ties_even() / scale
}

/// Mean over matched pairs of (overlap duration) / (span from first onset to last offset),
/// as `mir_eval.transcription.average_overlap_ratio`; 0 without matches.
pub fn average_overlap_ratio(
    ref_intervals: &[[f64; 2]],
    est_intervals: &[[f64; 2]],
    matching: &[(usize, usize)],
) -> f64 {
    if matching.is_empty() {
        return 0.0;
    }
    let sum: f64 = matching
        .iter()
        .map(|&(r, e)| overlap_ratio(ref_intervals[r], est_intervals[e]))
        .sum();
    sum / matching.len() as f64
}

fn overlap_ratio([ref_on, ref_off]: [f64; 2], [est_on, est_off]: [f64; 2]) -> f64 {
    (ref_off.min(est_off) - ref_on.max(est_on)) / (ref_off.max(est_off) - ref_on.min(est_on))
}

/// The weighted F-measure of `mir_eval.util.f_measure`; 0 when both inputs are 0.
pub fn f_measure(precision: f64, recall: f64, beta: f64) -> f64 {
    if precision == 0.0 && recall == 0.0 {
        return 0.0;
    }
    let beta2 = beta * beta;
    (1.0 + beta2) * precision * recall / (beta2 * precision + recall)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(
        ref_intervals: &[[f64; 2]],
        ref_pitches: &[f64],
        est_intervals: &[[f64; 2]],
        est_pitches: &[f64],
        options: &NoteMatchOptions,
    ) -> NoteScores {
        precision_recall_f1_overlap(
            ref_intervals,
            ref_pitches,
            est_intervals,
            est_pitches,
            options,
        )
        .unwrap()
    }

    #[test]
    fn identical_notes_score_one() {
        let intervals = [[0.0, 0.5], [0.25, 1.0]];
        let pitches = [440.0, 220.0];
        let s = scores(
            &intervals,
            &pitches,
            &intervals,
            &pitches,
            &Default::default(),
        );
        assert_eq!((s.precision, s.recall, s.f_measure), (1.0, 1.0, 1.0));
        assert_eq!(s.average_overlap_ratio, 1.0);
    }

    #[test]
    fn empty_estimate_scores_zero() {
        let s = scores(&[[0.0, 0.5]], &[440.0], &[], &[], &Default::default());
        assert_eq!(s.f_measure, 0.0);
    }

    #[test]
    fn onset_exactly_at_tolerance_matches_unless_strict() {
        // 0.75 - 0.7 is 0.050000000000000044 in floating point; rounding restores 0.05.
        let reference = [[0.7, 1.0]];
        let estimate = [[0.75, 1.0]];
        let pitch = [440.0];
        let loose = scores(&reference, &pitch, &estimate, &pitch, &Default::default());
        assert_eq!(loose.precision, 1.0);
        let strict = NoteMatchOptions {
            strict: true,
            ..Default::default()
        };
        let strict = scores(&reference, &pitch, &estimate, &pitch, &strict);
        assert_eq!(strict.precision, 0.0);
    }

    #[test]
    fn offset_tolerance_is_ratio_of_duration_or_minimum() {
        assert_eq!(offset_tolerance(2.0, 0.2, 0.05), 0.4);
        assert_eq!(offset_tolerance(0.1, 0.2, 0.05), 0.05);
    }

    #[test]
    fn f_measure_weights_recall_by_beta() {
        assert_eq!(f_measure(0.0, 0.0, 1.0), 0.0);
        assert!((f_measure(0.5, 1.0, 1.0) - 2.0 / 3.0).abs() < 1e-15);
        assert!((f_measure(0.5, 1.0, 2.0) - 5.0 * 0.5 / (4.0 * 0.5 + 1.0)).abs() < 1e-15);
    }
}
