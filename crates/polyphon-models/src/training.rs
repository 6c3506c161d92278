//! Loss and optimiser: the pieces a training loop needs from the models.
//!
//! ```ignore
//! let device = polyphon_models::training_device(); // flex + autodiff
//! let mut model = ConvNet::new(&device);
//! let mut optimizer = adam();
//! for (inputs, targets) in batches {
//!     let loss = bce_loss(model.forward(inputs), targets);
//!     model = step(&mut optimizer, model, loss, 1e-3);
//! }
//! let inference_model = model.valid(); // plain device: running statistics, no dropout
//! ```

use burn::module::Module;
use burn::optim::{AdamConfig, GradientsParams, ModuleOptimizer};
use burn::tensor::activation::{log_sigmoid, sigmoid};
use burn::tensor::Tensor;

/// Mean binary cross-entropy of sigmoid outputs, computed from the logits in the stable form
/// `(1 − t)·x − log σ(x)` (equal to `−t·log σ(x) − (1 − t)·log(1 − σ(x))`).
/// Targets may be soft (anything in [0, 1]).
pub fn bce_loss<const D: usize>(logits: Tensor<D>, targets: Tensor<D>) -> Tensor<1> {
    assert_eq!(
        logits.dims(),
        targets.dims(),
        "logits and targets must have the same shape"
    );
    let negative = targets.neg().add_scalar(1.0);
    (negative * logits.clone() - log_sigmoid(logits)).mean()
}

/// A penalty that asks a network to respond to a mixture as to its parts together: the mean
/// squared difference between `σ(mix_logits)` and the probabilistic union `1 − Π(1 − σ(part))`
/// of its responses to each part alone (all shaped `(examples, keys)`).
///
/// A network that has disentangled the notes answers a mixture with the union of what it
/// hears in each part; one that has memorised combinations need not. Gradients flow into both
/// sides, so the parts' responses are also pulled towards consistency.
pub fn union_consistency_loss(mix_logits: Tensor<2>, part_logits: Vec<Tensor<2>>) -> Tensor<1> {
    let mix = sigmoid(mix_logits);
    let silent = part_logits
        .into_iter()
        .map(|logits| sigmoid(logits).neg().add_scalar(1.0))
        .reduce(|a, b| a * b)
        .expect("a mixture has at least one part");
    let union = silent.neg().add_scalar(1.0);
    (mix - union).powf_scalar(2.0).mean()
}

/// Adam with Lasagne's defaults (β₁ 0.9, β₂ 0.999, ε 1e-8); the learning rate is given to
/// each [`step`].
pub fn adam() -> ModuleOptimizer {
    AdamConfig::new()
        .with_beta_1(0.9)
        .with_beta_2(0.999)
        .with_epsilon(1e-8)
        .init()
}

/// One optimisation step: back-propagates `loss` (computed by `model` on an autodiff device)
/// and returns the updated model.
pub fn step<M: Module>(
    optimizer: &mut ModuleOptimizer,
    model: M,
    loss: Tensor<1>,
    learning_rate: f64,
) -> M {
    let gradients = GradientsParams::from_grads(loss.backward(), &model);
    optimizer.step(learning_rate, model, gradients)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcription::{AuNet, ConvNet, SmallConvNet};
    use crate::{trainable_tensor_count, training_device};
    use burn::module::{Flag, ModuleMapper, Param};
    use burn::tensor::{Device, Distribution};

    fn loss_value(loss: &Tensor<1>) -> f32 {
        loss.clone().into_scalar::<f32>()
    }

    #[test]
    fn union_consistency_is_zero_for_a_consistent_response_and_squared_otherwise() {
        let device = Device::flex();
        let logit = |p: f32| (p / (1.0 - p)).ln();
        let tensor = |values: [f32; 2]| Tensor::<1>::from_floats(values, &device).reshape([1, 2]);
        // Parts 0.5 and 0.2 on key 0, 0.1 and 0.1 on key 1: unions 0.6 and 0.19.
        let parts = || {
            vec![
                tensor([logit(0.5), logit(0.1)]),
                tensor([logit(0.2), logit(0.1)]),
            ]
        };
        let consistent = union_consistency_loss(tensor([logit(0.6), logit(0.19)]), parts());
        assert!(loss_value(&consistent).abs() < 1e-6);
        let off = union_consistency_loss(tensor([logit(0.9), logit(0.19)]), parts());
        let expected = (0.9f32 - 0.6).powi(2) / 2.0;
        assert!(
            (loss_value(&off) - expected).abs() < 1e-5,
            "{}",
            loss_value(&off)
        );
    }

    #[test]
    fn bce_matches_the_definition() {
        let device = Device::flex();
        let logits = [-3.0f32, -0.5, 0.0, 0.7, 4.0, 30.0];
        let targets = [0.0f32, 1.0, 0.5, 1.0, 0.0, 1.0];
        let loss = bce_loss(
            Tensor::<1>::from_floats(logits, &device),
            Tensor::<1>::from_floats(targets, &device),
        );
        let expected: f64 = logits
            .iter()
            .zip(targets)
            .map(|(&x, t)| {
                let p = 1.0 / (1.0 + (-x as f64).exp());
                let t = t as f64;
                -(t * p.ln() + (1.0 - t) * (1.0 - p).max(1e-300).ln())
            })
            .sum::<f64>()
            / logits.len() as f64;
        assert!((loss_value(&loss) as f64 - expected).abs() < 1e-5);
        // Large logits stay finite.
        let extreme = bce_loss(
            Tensor::<1>::from_floats([-200.0f32, 200.0], &device),
            Tensor::<1>::from_floats([1.0f32, 0.0], &device),
        );
        assert!((loss_value(&extreme) - 200.0).abs() < 1e-3);
    }

    fn random_targets<const D: usize>(shape: [usize; D], device: &Device) -> Tensor<D> {
        Tensor::<D>::random(shape, Distribution::Bernoulli(0.2), device)
    }

    /// Switches dropout off (batch norm keeps using batch statistics), so that the loss of a
    /// fixed batch is a deterministic function of the parameters.
    fn without_dropout<M: Module>(model: M) -> M {
        #[derive(Default)]
        struct Mapper(Vec<String>);
        impl ModuleMapper for Mapper {
            fn enter_module(&mut self, name: &str, _container_type: &str) {
                self.0.push(name.to_string());
            }
            fn exit_module(&mut self, _name: &str, _container_type: &str) {
                self.0.pop();
            }
            fn map_flag(&mut self, flag: Param<Flag>) -> Param<Flag> {
                let dropout = self.0.iter().any(|name| name.contains("dropout"));
                if dropout {
                    flag.with_value(false)
                } else {
                    flag
                }
            }
        }
        model.map(&mut Mapper::default())
    }

    /// Evaluates the loss of a fixed batch, takes one Adam [`step`], and checks that the loss
    /// of the same batch went down.
    fn assert_one_step_reduces_loss<M, F, const D: usize>(
        model: M,
        inputs: Tensor<4>,
        targets: Tensor<D>,
        forward: F,
    ) where
        M: Module,
        F: Fn(&M, Tensor<4>) -> Tensor<D>,
    {
        let model = without_dropout(model);
        let before = bce_loss(forward(&model, inputs.clone()), targets.clone());
        let before_value = loss_value(&before);
        let model = step(&mut adam(), model, before, 1e-3);
        let after = loss_value(&bce_loss(forward(&model, inputs), targets));
        assert!(after < before_value, "loss {before_value} -> {after}");
    }

    #[test]
    fn adam_step_reduces_convnet_loss() {
        let device = training_device();
        let inputs = Tensor::<4>::random([8, 1, 5, 229], Distribution::Default, &device);
        let targets = random_targets([8, 88], &device);
        assert_one_step_reduces_loss(ConvNet::new(&device), inputs, targets, ConvNet::forward);
    }

    #[test]
    fn adam_step_reduces_small_convnet_loss() {
        let device = training_device();
        let inputs = Tensor::<4>::random([8, 1, 5, 229], Distribution::Default, &device);
        let targets = random_targets([8, 23], &device);
        assert_one_step_reduces_loss(
            SmallConvNet::new(&device),
            inputs,
            targets,
            SmallConvNet::forward,
        );
    }

    #[test]
    fn adam_step_reduces_aunet_loss() {
        let device = training_device();
        let inputs = Tensor::<4>::random([1, 1, 256, 256], Distribution::Default, &device);
        let targets = random_targets([1, 256, 88], &device);
        assert_one_step_reduces_loss(AuNet::new(&device), inputs, targets, AuNet::forward);
    }

    #[test]
    fn every_trainable_tensor_gets_a_gradient() {
        let device = training_device();
        let model = SmallConvNet::new(&device);
        let inputs = Tensor::<4>::random([4, 1, 5, 229], Distribution::Default, &device);
        let loss = bce_loss(model.forward(inputs), random_targets([4, 23], &device));
        let gradients = GradientsParams::from_grads(loss.backward(), &model);
        // 4 convolutions, 5 batch norms (gamma, beta), hidden weight, output weight and bias.
        assert_eq!(trainable_tensor_count(&model), 4 + 5 * 2 + 3);
        assert_eq!(gradients.len(), trainable_tensor_count(&model));
    }
}
