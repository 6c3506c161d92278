//! Batch norm and dropout follow the device and the module's mode: on an autodiff device a
//! freshly made network trains (batch statistics, dropout); `valid()` gives the inference copy
//! (running statistics, no dropout).

use burn::module::Module;
use burn::tensor::Tensor;

use super::random_input;
use crate::training_device;
use crate::transcription::{AuNet, ConvNet, SmallConvNet};

fn differ<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> bool {
    !a.all_close(b, Some(0.0), Some(0.0))
}

#[test]
fn convnet_train_mode_is_stochastic_and_eval_mode_deterministic() {
    let device = training_device();
    let model = ConvNet::new(&device);
    let input = random_input([4, 1, 5, 229], &device);
    assert!(differ(
        model.forward(input.clone()),
        model.forward(input.clone())
    ));

    let eval = model.valid();
    let input = input.inner();
    let first = eval.forward(input.clone());
    assert_eq!(first.dims(), [4, 88]);
    assert!(!differ(first.clone(), eval.forward(input.clone())));
    // One frame alone gives the same output as inside a batch: no batch statistics.
    let single = eval.forward(input.narrow(0, 0, 1));
    assert!(single.all_close(first.narrow(0, 0, 1), Some(1e-5), Some(1e-5)));
}

#[test]
fn small_convnet_train_mode_is_stochastic_and_eval_mode_deterministic() {
    let device = training_device();
    let model = SmallConvNet::new(&device);
    let input = random_input([4, 1, 5, 229], &device);
    assert!(differ(
        model.forward(input.clone()),
        model.forward(input.clone())
    ));
    let eval = model.valid();
    let input = input.inner();
    let first = eval.forward(input.clone());
    assert_eq!(first.dims(), [4, 23]);
    assert!(!differ(first, eval.forward(input)));
}

#[test]
fn aunet_eval_mode_is_deterministic_and_train_mode_uses_batch_statistics() {
    let device = training_device();
    let model = AuNet::new(&device);
    let input = random_input([1, 1, 256, 256], &device);
    // No dropout in the AUNet: train mode is deterministic but normalises with the batch's
    // statistics, so it differs from the eval mode's running statistics.
    let train = model.forward(input.clone()).inner();
    let eval = model.valid();
    let first = eval.forward(input.clone().inner());
    assert_eq!(first.dims(), [1, 256, 88]);
    assert!(!differ(first.clone(), eval.forward(input.inner())));
    assert!(differ(train, first));
}
