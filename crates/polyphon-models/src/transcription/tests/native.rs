//! The native ConvNet path against burn's forward pass.

use std::path::Path;

use super::features;
use crate::fold::largest_difference;
use crate::transcription::{Architecture, Engine, NativeConvNet, Network, TranscriptionModel};

/// The burn engine's probabilities and the native engine's, of the same model.
fn both(model: &TranscriptionModel, x: &[f32], frames: usize) -> (Vec<f32>, Vec<f32>) {
    let burn = model.clone().with_engine(Engine::Burn).unwrap();
    let native = model.clone().with_engine(Engine::Native).unwrap();
    assert_eq!(
        (burn.engine(), native.engine()),
        (Engine::Burn, Engine::Native)
    );
    (
        burn.predict(x, frames).unwrap(),
        native.predict(x, frames).unwrap(),
    )
}

fn native_of(model: &TranscriptionModel) -> NativeConvNet {
    let Network::ConvNet(net) = model.network() else {
        panic!("not a ConvNet");
    };
    NativeConvNet::new(net).unwrap()
}

#[test]
fn random_weights_give_burns_probabilities_for_any_length() {
    let model = TranscriptionModel::untrained(Architecture::ConvNet);
    let native = native_of(&model);
    // Lengths around the block size and the edges: one frame, a few, several blocks.
    for frames in [1, 2, 5, 31, 32, 33, 100] {
        let x = features(frames, frames as u32);
        let (burn, ours) = both(&model, &x, frames);
        assert_eq!(ours, native.predict(&x));
        let worst = largest_difference(&ours, &burn);
        assert!(worst < 1e-4, "{frames} frames: differs by {worst}");
    }
    assert!(native.predict(&[]).is_empty());
}

/// The bundled model: real batch-norm statistics, so the folding is exercised.
#[test]
fn the_bundled_weights_give_burns_probabilities() {
    let sidecar =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/convnet-pieces/model.json");
    let model = TranscriptionModel::load(sidecar).unwrap();
    let native = native_of(&model);
    let frames = 150;
    let x = features(frames, 7);
    let (burn, ours) = both(&model, &x, frames);
    assert_eq!(ours, native.predict(&x));
    let worst = largest_difference(&ours, &burn);
    assert!(worst < 1e-4, "differs by {worst}");
}

#[test]
fn the_native_engine_is_the_convnets_default_and_the_others_refuse_it() {
    let convnet = TranscriptionModel::untrained(Architecture::ConvNet);
    assert_eq!(convnet.engine(), Engine::Native);
    for architecture in [Architecture::SmallConvNet, Architecture::AuNet] {
        let model = TranscriptionModel::untrained(architecture);
        assert_eq!(model.engine(), Engine::Burn);
        let error = model.with_engine(Engine::Native).unwrap_err().to_string();
        assert!(error.contains("ConvNet only"), "{error}");
    }
}

/// burn's whole-sequence forward pass against its per-window one, in inference mode.
#[test]
fn sequences_give_the_per_window_logits() {
    use burn::tensor::{Tensor, TensorData};

    let sidecar =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/convnet-pieces/model.json");
    let model = TranscriptionModel::load(sidecar).unwrap();
    let Network::ConvNet(net) = model.network() else {
        panic!("not a ConvNet");
    };
    let (sequences, frames) = (2, 9);
    let bins = crate::transcription::INPUT_BINS;
    let x = features(sequences * (frames + 4), 3);
    let device = model.device();
    let input = Tensor::<4>::from_data(
        TensorData::new(x.clone(), [sequences, 1, frames + 4, bins]),
        device,
    );
    let shared: Vec<f32> = net
        .forward_sequences(input)
        .into_data()
        .try_to_vec()
        .unwrap();
    // The same frames as separate 5-row windows.
    let mut windows = Vec::new();
    for s in 0..sequences {
        for t in 0..frames {
            let start = (s * (frames + 4) + t) * bins;
            windows.extend_from_slice(&x[start..start + 5 * bins]);
        }
    }
    let input = Tensor::<4>::from_data(
        TensorData::new(windows, [sequences * frames, 1, 5, bins]),
        device,
    );
    let per_window: Vec<f32> = net.forward(input).into_data().try_to_vec().unwrap();
    let worst = largest_difference(&shared, &per_window);
    assert!(worst < 1e-3, "logits differ by {worst}");
}

/// The native training step's gradients against burn's autodiff of the same batch, dropout
/// off (the masks are the only thing drawn differently), batch norms in training mode.
#[test]
fn native_gradients_equal_burns_autodiff() {
    use burn::module::Param;
    use burn::tensor::{Tensor, TensorData};

    use crate::transcription::native_train::{gradients, Dropouts};
    use crate::transcription::ConvNet;
    use crate::{bce_loss, training_device};

    let device = training_device();
    device.seed(11);
    let net = ConvNet::new(&device).with_dropout(0.0, 0.0);
    let (sequences, frames) = (2, 6);
    let bins = crate::transcription::INPUT_BINS;
    let x = features(sequences * (frames + 4), 5);
    let y: Vec<f32> = (0..sequences * frames * 88)
        .map(|i| ((i * 7) % 5 == 0) as u8 as f32)
        .collect();
    let input = Tensor::<4>::from_data(
        TensorData::new(x.clone(), [sequences, 1, frames + 4, bins]),
        &device,
    );
    let target = Tensor::<2>::from_data(
        TensorData::new(y.clone(), [sequences * frames, 88]),
        &device,
    );
    let loss = bce_loss(net.forward_sequences(input), target);
    let burn_loss = loss.clone().into_scalar::<f32>();
    let burn = loss.backward();
    let none = Dropouts {
        convolution: 0.0,
        hidden: 0.0,
    };
    let (native_loss, native) = gradients(&net, &x, &y, sequences, none, 0).unwrap();
    assert!(
        (burn_loss - native_loss).abs() < 1e-5,
        "{burn_loss} vs {native_loss}"
    );
    fn compare<const D: usize>(
        name: &str,
        param: &Param<Tensor<D>>,
        burn: &burn::tensor::Gradients,
        native: &burn::optim::GradientsParams,
    ) {
        let theirs: Vec<f32> = param
            .val()
            .grad(burn)
            .unwrap()
            .into_data()
            .try_to_vec()
            .unwrap();
        let ours: Vec<f32> = native
            .get::<D>(param.id)
            .unwrap()
            .into_data()
            .try_to_vec()
            .unwrap();
        let scale = theirs.iter().fold(0f32, |m, v| m.max(v.abs())).max(1e-12);
        let worst = largest_difference(&ours, &theirs) / scale;
        assert!(
            worst < 1e-4 && scale > 1e-9,
            "{name}: differs by {worst} of its largest value"
        );
    }
    compare("conv1", &net.conv1.conv.weight, &burn, &native);
    compare("bn1 gamma", &net.conv1.bn.gamma, &burn, &native);
    compare("bn1 beta", &net.conv1.bn.beta, &burn, &native);
    compare("conv2", &net.conv2.conv.weight, &burn, &native);
    compare("bn2 gamma", &net.conv2.bn.gamma, &burn, &native);
    compare("conv3", &net.conv3.conv.weight, &burn, &native);
    compare("bn3 beta", &net.conv3.bn.beta, &burn, &native);
    compare("hidden", &net.hidden.weight, &burn, &native);
    compare("hidden bn gamma", &net.hidden_bn.gamma, &burn, &native);
    compare("output", &net.output.weight, &burn, &native);
    compare(
        "output bias",
        net.output.bias.as_ref().unwrap(),
        &burn,
        &native,
    );
}
