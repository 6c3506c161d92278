//! Reading trained weights back for the native paths: tensor values, and batch norm in
//! inference as a per-channel affine map to fold into the layer before it.

use burn::nn::BatchNorm;
use burn::tensor::Tensor;

use crate::{ModelError, Result};

/// A tensor's values as `f32`, in its row-major order.
pub(crate) fn values<const D: usize>(tensor: Tensor<D>) -> Result<Vec<f32>> {
    tensor
        .into_data()
        .try_into_vec_as::<f32>()
        .map_err(|err| ModelError::TensorData(format!("{err:?}")))
}

/// A batch norm in inference (running statistics) as `x · scale + shift` per channel.
pub(crate) fn batch_norm_affine(bn: &BatchNorm) -> Result<(Vec<f32>, Vec<f32>)> {
    let gamma = values(bn.gamma.val())?;
    let beta = values(bn.beta.val())?;
    let mean = values(bn.running_mean.value())?;
    let var = values(bn.running_var.value())?;
    let scale: Vec<f32> = gamma
        .iter()
        .zip(&var)
        .map(|(g, v)| (*g as f64 / (*v as f64 + bn.epsilon).sqrt()) as f32)
        .collect();
    let shift = beta
        .iter()
        .zip(&mean)
        .zip(&scale)
        .map(|((b, m), s)| b - m * s)
        .collect();
    Ok((scale, shift))
}

/// Largest absolute difference between two equally long slices (for the engines' tests).
#[cfg(test)]
pub(crate) fn largest_difference(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max)
}
