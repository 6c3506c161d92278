//! A frame-wise network: the same small MLP on every spectrogram frame, then mean and max
//! over time, then a dense head.
//!
//! | layer                                    | output              |
//! |------------------------------------------|---------------------|
//! | input, one frame at a time               | frames × 128 bands  |
//! | dense W → ReLU → dense W/2 → ReLU        | frames × W/2        |
//! | mean and max over frames, concatenated   | W                   |
//! | dense W/4 → ReLU → dropout 0.5 → dense N | N logits            |
//!
//! The width W is [`DEFAULT_FRAME_WIDTH`] (256) unless a run sets `--frame-width`: a
//! network that does not fit its own training mixtures needs more units, and the frame
//! layers' cost grows with W² per frame, so the default stays what a 2-core CPU trains in
//! under an hour.
//!
//! Why: the `mlp` pools the image first (mean and spread of each band), so in a mixture the
//! bands of all instruments are averaged before the network sees them; an in-distribution
//! control showed it stalls at the same Hamming accuracy on heard and unheard instruments.
//! Here every frame's whole spectrum goes through non-linear layers before pooling, so a frame
//! can be recognised as holding, say, a flute's harmonics, and the max keeps an instrument that
//! is quiet but present somewhere. The frame layers are one matrix product over all frames,
//! which the CPU backend runs far faster than the convolutions of the `cnn` and `resnet18`.
//!
//! `frame-mlp-segments` pools the mean and max in 4 equal time segments instead of over the
//! whole clip (head input 4 · 256). Pooling over the whole clip loses the frames' order, so a
//! note that swells and one that decays through the same frames look alike; the segments
//! keep the envelope coarsely, as the `mlp`'s 4-segment statistics do.
//!
//! `frame-conv-segments` also gives the second frame layer the first layer's features of the
//! frames [`CONTEXT_SPREAD`] frames before and after (a convolution over time of 3 taps,
//! dilated; zeros beyond the clip), so each frame feature sees 5 frames, 80 ms. A single
//! frame of a mixture is a heap of partials; which of them start, stop or wobble together
//! is what tells sources apart, and one frame cannot show it. The shifted copies are
//! concatenated and go through one matrix product: the CPU backend runs that far faster than
//! a convolution.

use burn::module::Module;
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use polyphon_features::segment_frames;

/// Units of the first frame layer; the second has half as many and the head a quarter.
pub const DEFAULT_FRAME_WIDTH: usize = 256;
/// Frames between the taps of `frame-conv-segments`'s temporal layer: 2 hops, 32 ms at
/// 16 kHz and hop 256, so the 3 taps span a typical attack without blurring a fast passage.
pub const CONTEXT_SPREAD: usize = 2;
/// The frame layer (0-based) that reads the neighbours' features when the spread is not 0.
const CONTEXT_LAYER: usize = 1;

/// See the [module documentation](self).
#[derive(Module, Debug)]
pub struct FrameMlp {
    frame_layers: Vec<Linear>,
    head: Linear,
    dropout: Dropout,
    output: Linear,
    /// Time segments pooled separately (1: the whole clip).
    segments: usize,
    /// Frames between the taps of the second frame layer (0: it reads one frame).
    spread: usize,
}

impl FrameMlp {
    /// `segments`: time segments whose mean and max the head reads (1: the whole clip);
    /// `spread`: frames between the second frame layer's 3 taps (0: one tap, no context);
    /// `frame_width`: units of the first frame layer (W in the table above).
    pub fn new(
        bins: usize,
        classes: usize,
        segments: usize,
        spread: usize,
        frame_width: usize,
        device: &Device,
    ) -> Self {
        let taps = if spread == 0 { 1 } else { 3 };
        let head_hidden = frame_width / 4;
        let mut width = bins;
        let mut frame_layers = Vec::new();
        for (layer, units) in [frame_width, frame_width / 2].into_iter().enumerate() {
            let inputs = if layer == CONTEXT_LAYER {
                taps * width
            } else {
                width
            };
            frame_layers.push(LinearConfig::new(inputs, units).init(device));
            width = units;
        }
        Self {
            frame_layers,
            head: LinearConfig::new(2 * width * segments, head_hidden).init(device),
            dropout: DropoutConfig::new(0.5).init(),
            output: LinearConfig::new(head_hidden, classes).init(device),
            segments,
            spread,
        }
    }

    /// Logits `(batch, classes)` of images `(batch, 1, bins, frames)`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let [batch, _, bins, frames] = images.dims();
        // (batch, frames, bins): a linear layer acts on the last dimension, every frame alike.
        let mut x: Tensor<3> = images.reshape([batch, bins, frames]).swap_dims(1, 2);
        for (index, layer) in self.frame_layers.iter().enumerate() {
            if index == CONTEXT_LAYER && self.spread > 0 {
                x = with_neighbours(x, self.spread);
            }
            x = relu(layer.forward(x));
        }
        let pooled = mean_and_max_in_ranges(x, self.segments);
        let hidden = self.dropout.forward(relu(self.head.forward(pooled)));
        self.output.forward(hidden)
    }
}

/// `(batch, length, width)` → `(batch, ranges · 2 · width)`: the mean and the max over each
/// of `ranges` equal ranges of the second axis, laid out range by range as `[mean, max]`.
pub(super) fn mean_and_max_in_ranges(x: Tensor<3>, ranges: usize) -> Tensor<2> {
    let [batch, length, width] = x.dims();
    let mut parts = Vec::with_capacity(2 * ranges);
    for range in 0..ranges {
        let part = x
            .clone()
            .slice([0..batch, segment_frames(length, ranges, range), 0..width]);
        parts.push(part.clone().mean_dim(1).reshape([batch, width]));
        parts.push(part.max_dim(1).reshape([batch, width]));
    }
    Tensor::cat(parts, 1)
}

/// `(batch, frames, width)` → `(batch, frames, 3 · width)`: each frame's features beside
/// those `spread` frames before and after it (zeros beyond the clip).
fn with_neighbours(x: Tensor<3>, spread: usize) -> Tensor<3> {
    let [batch, frames, width] = x.dims();
    let device = x.device();
    let pad = || Tensor::<3>::zeros([batch, spread, width], &device);
    let padded = Tensor::cat(vec![pad(), x, pad()], 1);
    let shifted = |start: usize| {
        padded
            .clone()
            .slice([0..batch, start..start + frames, 0..width])
    };
    Tensor::cat(vec![shifted(0), shifted(spread), shifted(2 * spread)], 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::TensorData;

    const BINS: usize = 16;
    const FRAMES: usize = 8;

    /// An image whose frames differ from each other, and the same frames in reverse order.
    fn image_and_reversed() -> (Vec<f32>, Vec<f32>) {
        let values: Vec<f32> = (0..BINS * FRAMES)
            .map(|i| ((i * 7) % 11) as f32 / 11.0)
            .collect();
        let reversed = (0..BINS * FRAMES)
            .map(|i| values[(i / FRAMES) * FRAMES + FRAMES - 1 - i % FRAMES])
            .collect();
        (values, reversed)
    }

    fn logits(net: &FrameMlp, values: Vec<f32>) -> Vec<f32> {
        let image = TensorData::new(values, [1, 1, BINS, FRAMES]);
        net.forward(Tensor::<4>::from_data(image, &Device::flex()))
            .into_data()
            .try_to_vec::<f32>()
            .unwrap()
    }

    fn differ(a: &[f32], b: &[f32]) -> bool {
        a.iter().zip(b).any(|(x, y)| (x - y).abs() > 1e-4)
    }

    #[test]
    fn the_frames_order_does_not_matter_but_their_spectra_do() {
        let net = FrameMlp::new(BINS, 3, 1, 0, 32, &Device::flex());
        let (values, reversed) = image_and_reversed();
        let a = logits(&net, values.clone());
        let b = logits(&net, reversed);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-5, "{a:?} {b:?}");
        }
        let flipped: Vec<f32> = values.iter().map(|v| 1.0 - v).collect();
        assert!(differ(&a, &logits(&net, flipped)));
    }

    #[test]
    fn each_frame_sits_beside_its_neighbours_with_zeros_beyond_the_clip() {
        // Frames 1..=5 of one feature, and 10..=50 of another.
        let values: Vec<f32> = (1..=5).flat_map(|t| [t as f32, 10.0 * t as f32]).collect();
        let x = Tensor::<3>::from_data(TensorData::new(values, [1, 5, 2]), &Device::flex());
        let out = with_neighbours(x, 2)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let frame = |t: usize| out[t * 6..(t + 1) * 6].to_vec();
        assert_eq!(frame(0), [0.0, 0.0, 1.0, 10.0, 3.0, 30.0]);
        assert_eq!(frame(2), [1.0, 10.0, 3.0, 30.0, 5.0, 50.0]);
        assert_eq!(frame(4), [3.0, 30.0, 5.0, 50.0, 0.0, 0.0]);
    }

    #[test]
    fn with_context_a_frame_feature_depends_on_the_neighbours() {
        // One segment: without context any reordering of frames is invisible to the output;
        // with it, swapping frames within pairs moves each frame's neighbours.
        let (values, _) = image_and_reversed();
        let swapped: Vec<f32> = (0..BINS * FRAMES).map(|i| values[i ^ 1]).collect();
        let plain = FrameMlp::new(BINS, 3, 1, 0, 32, &Device::flex());
        assert!(!differ(
            &logits(&plain, values.clone()),
            &logits(&plain, swapped.clone())
        ));
        let net = FrameMlp::new(BINS, 3, 1, 1, 32, &Device::flex());
        assert!(differ(&logits(&net, values), &logits(&net, swapped)));
    }

    #[test]
    fn pooled_in_segments_the_frames_order_matters() {
        let net = FrameMlp::new(BINS, 3, 4, 0, 32, &Device::flex());
        let (values, reversed) = image_and_reversed();
        let a = logits(&net, values.clone());
        assert!(differ(&a, &logits(&net, reversed)), "{a:?}");
        // Reordering frames within each 2-frame segment changes nothing.
        let swapped: Vec<f32> = (0..BINS * FRAMES).map(|i| values[i ^ 1]).collect();
        let b = logits(&net, swapped);
        for (x, y) in a.iter().zip(&b) {
            assert!((x - y).abs() < 1e-5, "{a:?} {b:?}");
        }
    }
}
