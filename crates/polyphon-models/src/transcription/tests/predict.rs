use burn::tensor::{Tensor, TensorData};
use polyphon_features::stack_context;

use super::features;
use crate::transcription::{Architecture, ConvNet, Network, TranscriptionModel, INPUT_BINS};
use crate::ModelError;

#[test]
fn convnet_predictions_equal_the_network_on_stacked_context() {
    let frames = 37;
    let features = features(frames, 1);
    let model = TranscriptionModel::untrained(Architecture::ConvNet).with_chunk_frames(8);
    let predicted = model.predict(&features, frames).unwrap();
    assert_eq!(predicted.len(), frames * 88);
    assert!(predicted.iter().all(|p| (0.0..=1.0).contains(p)));

    let Network::ConvNet(net) = model.network() else {
        unreachable!()
    };
    let stacked = stack_context(&features, INPUT_BINS, 2);
    let input = Tensor::<4>::from_data(
        TensorData::new(stacked, [frames, 1, 5, INPUT_BINS]),
        model.device(),
    );
    let expected: Vec<f32> = burn::tensor::activation::sigmoid(ConvNet::forward(net, input))
        .into_data()
        .try_into_vec_as()
        .unwrap();
    for (a, b) in predicted.iter().zip(&expected) {
        assert!((a - b).abs() < 1e-5, "{a} vs {b}");
    }
}

#[test]
fn chunk_size_does_not_change_predictions() {
    for architecture in [Architecture::SmallConvNet, Architecture::AuNet] {
        let frames = if architecture == Architecture::AuNet {
            300
        } else {
            41
        };
        let features = features(frames, 2);
        let model = TranscriptionModel::untrained(architecture);
        let whole = model
            .clone()
            .with_chunk_frames(4096)
            .predict(&features, frames)
            .unwrap();
        let chunked = model
            .with_chunk_frames(3)
            .predict(&features, frames)
            .unwrap();
        assert_eq!(whole.len(), frames * architecture.num_outputs());
        for (a, b) in whole.iter().zip(&chunked) {
            assert!((a - b).abs() < 1e-5, "{architecture}: {a} vs {b}");
        }
    }
}

#[test]
fn aunet_predicts_every_frame_of_short_inputs() {
    let model = TranscriptionModel::untrained(Architecture::AuNet);
    for frames in [0, 1] {
        let predicted = model.predict(&features(frames, 3), frames).unwrap();
        assert_eq!(predicted.len(), frames * 88);
        assert!(predicted
            .iter()
            .all(|p| p.is_finite() && (0.0..=1.0).contains(p)));
    }
}

#[test]
fn wrong_feature_length_is_an_error() {
    let model = TranscriptionModel::untrained(Architecture::SmallConvNet);
    let err = model.predict(&[0.0; 228], 1).unwrap_err();
    assert!(matches!(
        err,
        ModelError::FeatureLength { expected: 229, .. }
    ));
}

#[test]
fn a_network_from_training_runs_on_the_plain_device() {
    let network = Network::new(Architecture::SmallConvNet, &crate::training_device());
    let model = TranscriptionModel::new(network);
    assert!(!model.device().is_autodiff());
    let features = features(9, 7);
    let first = model.predict(&features, 9).unwrap();
    assert_eq!(first, model.predict(&features, 9).unwrap());
}
