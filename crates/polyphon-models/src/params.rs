//! Parameter counts.
//!
//! The paper reports Lasagne's `count_params`, which counts every parameter array of the
//! network, trainable or not: a `BatchNormLayer` holds 4 values per channel (beta, gamma and
//! the running mean and inverse standard deviation), and `batch_norm()` removes the bias of the
//! layer it wraps. burn's [`BatchNorm`](burn::nn::BatchNorm) holds the same 4 values per
//! channel (gamma, beta, running mean and running variance) and burn's
//! [`Module::num_params`] counts all of them, so for these networks the two counts agree.
//! [`trainable_param_count`] leaves the running statistics out: it is the number of values
//! the optimiser updates.

use burn::module::{Module, ModuleVisitor, Param};
use burn::tensor::Tensor;

/// Field names of burn's batch-norm running statistics.
const RUNNING_STATISTICS: [&str; 2] = ["running_mean", "running_var"];

/// The count the paper reports (Lasagne's `count_params`): trainable parameters plus the
/// batch-norm running statistics.
pub fn lasagne_param_count<M: Module>(module: &M) -> usize {
    module.num_params()
}

/// Parameters that receive gradients: [`lasagne_param_count`] less the running statistics.
pub fn trainable_param_count<M: Module>(module: &M) -> usize {
    let mut counter = TrainableCounter::default();
    module.visit(&mut counter);
    counter.count
}

/// Number of trainable parameter *tensors* (what an optimiser keeps state for).
pub fn trainable_tensor_count<M: Module>(module: &M) -> usize {
    let mut counter = TrainableCounter::default();
    module.visit(&mut counter);
    counter.tensors
}

#[derive(Default)]
struct TrainableCounter {
    path: Vec<String>,
    count: usize,
    tensors: usize,
}

impl ModuleVisitor for TrainableCounter {
    fn enter_module(&mut self, name: &str, _container_type: &str) {
        self.path.push(name.to_string());
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.path.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let running = self
            .path
            .last()
            .is_some_and(|name| RUNNING_STATISTICS.contains(&name.as_str()));
        if !running {
            self.count += param.lazy_shape().num_elements();
            self.tensors += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcription::{Architecture, Network};
    use burn::tensor::Device;

    /// Batch-norm channels of each network: 2 trainable + 2 running values each.
    fn bn_channels(architecture: Architecture) -> usize {
        match architecture {
            Architecture::ConvNet => 32 + 32 + 64 + 512,
            Architecture::SmallConvNet => 8 * 4 + 16,
            Architecture::AuNet => 2 * (2 * (32 + 32 + 64 + 64)) + 2 * 192,
        }
    }

    #[test]
    fn counts_equal_the_paper() {
        let device = Device::flex();
        for architecture in Architecture::ALL {
            let network = Network::new(architecture, &device);
            let total = lasagne_param_count(&network);
            assert_eq!(total, architecture.paper_param_count(), "{architecture}");
            assert_eq!(
                trainable_param_count(&network),
                total - 2 * bn_channels(architecture),
                "{architecture}"
            );
        }
    }

    #[test]
    fn convnet_counts_by_layer() {
        let convs = 288 + 9216 + 18432;
        let dense = 3520 * 512 + 512 * 88 + 88;
        let bn = (32 + 32 + 64 + 512) * 4;
        assert_eq!(convs + dense + bn, 1_877_880);
        assert_eq!(
            trainable_param_count(&crate::transcription::ConvNet::new(&Device::flex())),
            1_877_880 - 2 * 640
        );
    }
}
