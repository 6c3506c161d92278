//! Losses of the two tasks, from logits.

use burn::tensor::activation::{log_softmax, sigmoid};
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::bce_loss;

/// How logits are scored against targets `(batch, classes)` in {0, 1}.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Loss {
    /// Single-label: softmax cross-entropy against one-hot targets.
    Ce,
    /// Multi-label: sigmoid binary cross-entropy.
    Bce,
    /// Multi-label: mean absolute error of the sigmoid outputs (a seed's choice).
    L1,
    /// Multi-label: mean squared error of the sigmoid outputs (a seed's choice).
    Mse,
}

impl Loss {
    pub fn name(self) -> &'static str {
        match self {
            Self::Ce => "ce",
            Self::Bce => "bce",
            Self::L1 => "l1",
            Self::Mse => "mse",
        }
    }

    /// Single-label models turn logits into probabilities with a softmax, the others with a
    /// sigmoid per class.
    pub fn is_single_label(self) -> bool {
        self == Self::Ce
    }

    /// Mean loss of a batch.
    pub fn of(self, logits: Tensor<2>, targets: Tensor<2>) -> Tensor<1> {
        match self {
            Self::Ce => {
                let [batch, _] = logits.dims();
                (targets * log_softmax(logits, 1))
                    .sum()
                    .neg()
                    .div_scalar(batch as f64)
            }
            Self::Bce => bce_loss(logits, targets),
            Self::L1 => (sigmoid(logits) - targets).abs().mean(),
            Self::Mse => (sigmoid(logits) - targets).powf_scalar(2.0).mean(),
        }
    }
}

impl std::str::FromStr for Loss {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "ce" => Ok(Self::Ce),
            "bce" => Ok(Self::Bce),
            "l1" => Ok(Self::L1),
            "mse" => Ok(Self::Mse),
            _ => Err(format!("unknown loss '{text}' (ce, bce, l1, mse)")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    #[test]
    fn cross_entropy_is_the_negative_log_softmax_of_the_true_class() {
        let device = Device::flex();
        let logits =
            Tensor::<1>::from_floats([1.0f32, 2.0, 0.5, 0.0, 0.0, 3.0], &device).reshape([2, 3]);
        let targets =
            Tensor::<1>::from_floats([0.0f32, 1.0, 0.0, 0.0, 0.0, 1.0], &device).reshape([2, 3]);
        let value: f32 = Loss::Ce.of(logits, targets).into_scalar();
        let nll = |x: [f64; 3], k: usize| -(x[k] - x.iter().map(|v| v.exp()).sum::<f64>().ln());
        let expected = (nll([1.0, 2.0, 0.5], 1) + nll([0.0, 0.0, 3.0], 2)) / 2.0;
        assert!(
            (value as f64 - expected).abs() < 1e-5,
            "{value} vs {expected}"
        );
    }

    #[test]
    fn l1_and_mse_score_sigmoid_outputs() {
        let device = Device::flex();
        let logits = Tensor::<1>::from_floats([0.0f32, 0.0], &device).reshape([1, 2]);
        let targets = Tensor::<1>::from_floats([1.0f32, 0.0], &device).reshape([1, 2]);
        let l1: f32 = Loss::L1.of(logits.clone(), targets.clone()).into_scalar();
        let mse: f32 = Loss::Mse.of(logits, targets).into_scalar();
        assert!((l1 - 0.5).abs() < 1e-6 && (mse - 0.25).abs() < 1e-6);
    }
}
