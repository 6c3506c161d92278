//! Classification scores, each defined as scikit-learn 1.7 computes it (checked against
//! fixtures made by `tools/make_instrument_fixtures.py`).

use serde::{Deserialize, Serialize};

/// `sklearn.metrics.accuracy_score` of class indices. Empty input gives 0.
pub fn accuracy(truth: &[usize], predicted: &[usize]) -> f64 {
    let correct = truth.iter().zip(predicted).filter(|(t, p)| t == p).count();
    ratio(correct, truth.len())
}

/// `sklearn.metrics.confusion_matrix(truth, predicted, labels=range(n_classes))`: row = true
/// class, column = predicted class.
pub fn confusion_matrix(truth: &[usize], predicted: &[usize], n_classes: usize) -> Vec<Vec<u64>> {
    let mut matrix = vec![vec![0u64; n_classes]; n_classes];
    for (&t, &p) in truth.iter().zip(predicted) {
        matrix[t][p] += 1;
    }
    matrix
}

/// Precision, recall and F1 of one class, as `precision_recall_fscore_support(average=None)`
/// with `zero_division=0` (the value sklearn's default `"warn"` also gives).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassScores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    /// Files where the class is present.
    pub support: usize,
}

impl ClassScores {
    fn from_counts(tp: usize, fp: usize, fn_: usize) -> Self {
        Self {
            precision: ratio(tp, tp + fp),
            recall: ratio(tp, tp + fn_),
            // sklearn computes F1 from the counts, not from rounded P and R.
            f1: ratio(2 * tp, 2 * tp + fp + fn_),
            support: tp + fn_,
        }
    }
}

/// Multi-label scores over `n` files and `k` classes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MultiLabelReport {
    pub per_class: Vec<ClassScores>,
    /// Files whose whole label set is right (`accuracy_score` on multi-label input).
    pub exact_match: f64,
    /// `1 - hamming_loss`: the fraction of (file, class) decisions that are right.
    pub hamming_accuracy: f64,
    /// `average_precision_score(truth, scores, average=None)`.
    pub average_precision: Vec<f64>,
    /// `average_precision_score(truth, scores, average="macro")`.
    pub mean_average_precision: f64,
    /// Unweighted mean of the per-class F1 (`f1_score(average="macro")`).
    pub macro_f1: f64,
}

/// Scores row-major `(n, k)` decisions and scores against row-major truth.
pub fn multi_label_report(
    truth: &[bool],
    predicted: &[bool],
    scores: &[f64],
    k: usize,
) -> MultiLabelReport {
    assert!(k > 0 && truth.len() == predicted.len() && truth.len() == scores.len());
    let n = truth.len() / k;
    let column = |values: &[bool], class: usize| -> Vec<bool> {
        (0..n).map(|row| values[row * k + class]).collect()
    };
    let per_class: Vec<ClassScores> = (0..k)
        .map(|class| class_scores(&column(truth, class), &column(predicted, class)))
        .collect();
    let average_precision: Vec<f64> = (0..k)
        .map(|class| {
            let class_scores: Vec<f64> = (0..n).map(|row| scores[row * k + class]).collect();
            average_precision(&column(truth, class), &class_scores)
        })
        .collect();
    let exact = (0..n)
        .filter(|row| truth[row * k..(row + 1) * k] == predicted[row * k..(row + 1) * k])
        .count();
    let agree = truth.iter().zip(predicted).filter(|(t, p)| t == p).count();
    MultiLabelReport {
        macro_f1: mean(per_class.iter().map(|c| c.f1)),
        mean_average_precision: mean(average_precision.iter().copied()),
        per_class,
        exact_match: ratio(exact, n),
        hamming_accuracy: ratio(agree, truth.len()),
        average_precision,
    }
}

/// Scores of one binary column.
pub fn class_scores(truth: &[bool], predicted: &[bool]) -> ClassScores {
    let count = |want_t: bool, want_p: bool| {
        truth
            .iter()
            .zip(predicted)
            .filter(|&(&t, &p)| t == want_t && p == want_p)
            .count()
    };
    ClassScores::from_counts(count(true, true), count(false, true), count(true, false))
}

/// `sklearn.metrics.average_precision_score` of one binary column: the sum over distinct
/// score thresholds, highest first, of `(R_i - R_{i-1}) * P_i` (no interpolation). Tied
/// scores form one threshold. A column without positives scores 0, as sklearn gives.
pub fn average_precision(truth: &[bool], scores: &[f64]) -> f64 {
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]));
    let positives = truth.iter().filter(|&&t| t).count();
    if positives == 0 {
        return 0.0;
    }
    let (mut tp, mut seen, mut previous_recall, mut sum) = (0usize, 0usize, 0.0, 0.0);
    for (position, &index) in order.iter().enumerate() {
        tp += truth[index] as usize;
        seen += 1;
        let last_of_tie = order
            .get(position + 1)
            .is_none_or(|&next| scores[next] != scores[index]);
        if last_of_tie {
            let recall = tp as f64 / positives as f64;
            sum += (recall - previous_recall) * (tp as f64 / seen as f64);
            previous_recall = recall;
        }
    }
    sum
}

fn ratio(numerator: usize, denominator: usize) -> f64 {
    if denominator == 0 {
        0.0
    } else {
        numerator as f64 / denominator as f64
    }
}

fn mean(values: impl ExactSizeIterator<Item = f64>) -> f64 {
    let n = values.len();
    if n == 0 {
        0.0
    } else {
        values.sum::<f64>() / n as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_rows_are_true_classes() {
        let m = confusion_matrix(&[0, 0, 1, 2], &[0, 1, 1, 0], 3);
        assert_eq!(m, vec![vec![1, 1, 0], vec![0, 1, 0], vec![1, 0, 0]]);
        assert_eq!(accuracy(&[0, 0, 1, 2], &[0, 1, 1, 0]), 0.5);
    }

    #[test]
    fn average_precision_of_a_perfect_and_a_tied_ranking() {
        assert_eq!(
            average_precision(&[true, false, true], &[0.9, 0.1, 0.8]),
            1.0
        );
        // All tied: one threshold, precision = prevalence.
        assert_eq!(
            average_precision(&[true, false, false, false], &[0.5; 4]),
            0.25
        );
        assert_eq!(average_precision(&[false, false], &[0.5, 0.2]), 0.0);
    }

    #[test]
    fn a_class_never_predicted_nor_present_scores_zero() {
        let scores = class_scores(&[false, false], &[false, false]);
        assert_eq!(
            (scores.precision, scores.recall, scores.f1),
            (0.0, 0.0, 0.0)
        );
    }
}
