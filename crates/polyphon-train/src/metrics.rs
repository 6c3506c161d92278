use serde::{Deserialize, Serialize};

/// Frame-level scores over all frames and keys (micro-averaged, as mir_eval.multipitch counts).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct FrameScores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
}

/// Counts of a thresholded prediction against binary labels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Counts {
    pub true_positives: u64,
    pub false_positives: u64,
    pub false_negatives: u64,
}

impl Counts {
    pub fn add(&mut self, probabilities: &[f32], labels: &[bool], threshold: f32) {
        for (&p, &label) in probabilities.iter().zip(labels) {
            match (p >= threshold, label) {
                (true, true) => self.true_positives += 1,
                (true, false) => self.false_positives += 1,
                (false, true) => self.false_negatives += 1,
                (false, false) => {}
            }
        }
    }

    pub fn scores(&self) -> FrameScores {
        FrameScores::from_counts(
            self.true_positives,
            self.false_positives,
            self.false_negatives,
        )
    }
}

impl FrameScores {
    /// Precision, recall and F1 of key-frame counts (0 where a denominator is 0).
    pub fn from_counts(true_positives: u64, false_positives: u64, false_negatives: u64) -> Self {
        let ratio = |a: u64, b: u64| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let tp = true_positives;
        let precision = ratio(tp, tp + false_positives);
        let recall = ratio(tp, tp + false_negatives);
        let f1 = if precision + recall == 0.0 {
            0.0
        } else {
            2.0 * precision * recall / (precision + recall)
        };
        FrameScores {
            precision,
            recall,
            f1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_scores_by_hand() {
        let mut counts = Counts::default();
        counts.add(&[0.9, 0.6, 0.2, 0.1], &[true, false, true, false], 0.5);
        assert_eq!(
            counts,
            Counts {
                true_positives: 1,
                false_positives: 1,
                false_negatives: 1
            }
        );
        let scores = counts.scores();
        assert_eq!(
            (scores.precision, scores.recall, scores.f1),
            (0.5, 0.5, 0.5)
        );
        assert_eq!(Counts::default().scores().f1, 0.0);
    }
}
