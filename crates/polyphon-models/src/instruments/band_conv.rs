//! `band-conv`: convolutions along the band axis of the pooled spectrum, then mean and max
//! over the bands in 6 ranges.
//!
//! | layer                                               | output (channels × bands) |
//! |-----------------------------------------------------|---------------------------|
//! | pooled image: mean and std per band in 4 segments   | 8 × bands                 |
//! | conv 5 taps, dilation 1, 2, 4, 8 → ReLU (each)      | 32, 32, 64, 64 × bands    |
//! | mean and max over each of 6 ranges of bands         | 6 · 128                   |
//! | dense 64 → ReLU → dropout 0.5 → dense N             | N logits                  |
//!
//! Why: on logarithmic bands a change of pitch moves a note's harmonics along the band axis
//! without changing their spacing, so a timbre is a pattern that slides. The `mlp` gives
//! every band its own weights and has to learn each family's pattern at every pitch from the
//! training notes; its errors on unseen SoundFonts are notes taken for the family that
//! usually plays in their register (a low FM guitar note called bass). Shared convolution
//! weights see the same pattern at every pitch; pooling over ranges of about an octave keeps
//! the register only coarsely (with one range, [`BandConv::new`]'s `regions` = 1, it is
//! gone). The dilations give each output a window of 61 bands, 2.5 octaves of the
//! 24-per-octave scale: a note's first five harmonics. Below about 270 Hz the log scale's
//! bands are single FFT bins, linearly spaced, so the sliding holds only above that. This is
//! the idea of convolving over log frequency for instrument recognition (Lostanlen & Cella
//! 2016, on the constant-Q transform), on the pooled spectrum rather than the image, so it
//! trains in seconds per epoch.
//!
//! Measured (docs/results.md): on unseen SoundFonts' notes it is far below
//! the `mlp` (89–92 % against 96–97 %; with one range 86 %), so it is kept for comparison,
//! not used: an instrument's body resonances sit at fixed frequencies, not at fixed
//! distances from the pitch, and the per-band weights use them.

use burn::module::Module;
use burn::nn::conv::{Conv1d, Conv1dConfig};
use burn::nn::{Dropout, DropoutConfig, Linear, LinearConfig, PaddingConfig1d};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use super::frames::mean_and_max_in_ranges;
use super::mlp::{pool, SEGMENTS};

/// Output channels and dilation of each convolution over the bands.
const LAYERS: [(usize, usize); 4] = [(32, 1), (32, 2), (64, 4), (64, 8)];
const TAPS: usize = 5;
const HIDDEN: usize = 64;
/// Ranges of bands pooled separately by `band-conv`: 146 log bands in 6 give about an octave
/// each above 270 Hz.
pub const REGIONS: usize = 6;

/// See the [module documentation](self).
#[derive(Module, Debug)]
pub struct BandConv {
    convs: Vec<Conv1d>,
    hidden: Linear,
    dropout: Dropout,
    output: Linear,
    /// Equal ranges of bands pooled separately (1: all bands, no register left).
    regions: usize,
}

impl BandConv {
    /// `regions`: ranges of bands whose mean and max the head reads (1: all bands).
    pub fn new(classes: usize, regions: usize, device: &Device) -> Self {
        let mut channels = 2 * SEGMENTS;
        let mut convs = Vec::with_capacity(LAYERS.len());
        for (outputs, dilation) in LAYERS {
            // `Same` padding ignores the dilation: pad each side by half the dilated span.
            let half_span = dilation * (TAPS - 1) / 2;
            convs.push(
                Conv1dConfig::new(channels, outputs, TAPS)
                    .with_dilation(dilation)
                    .with_padding(PaddingConfig1d::Explicit(half_span, half_span))
                    .init(device),
            );
            channels = outputs;
        }
        Self {
            convs,
            hidden: LinearConfig::new(2 * channels * regions, HIDDEN).init(device),
            dropout: DropoutConfig::new(0.5).init(),
            output: LinearConfig::new(HIDDEN, classes).init(device),
            regions,
        }
    }

    /// Logits `(batch, classes)` of images `(batch, 1, bins, frames)`.
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        let [batch, _, bins, _] = images.dims();
        // `pool` lays the statistics out segment by segment, each `bins` long: as channels.
        let mut x: Tensor<3> = pool(images, SEGMENTS).reshape([batch, 2 * SEGMENTS, bins]);
        for conv in &self.convs {
            x = relu(conv.forward(x));
        }
        // Bands as the second axis: the ranges are taken along it.
        let pooled = mean_and_max_in_ranges(x.swap_dims(1, 2), self.regions);
        let hidden = relu(self.hidden.forward(pooled));
        self.output.forward(self.dropout.forward(hidden))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::instruments::Mlp;

    /// The partials of a harmonic note, in bands above the fundamental at 24 per octave.
    const HARMONICS: [usize; 5] = [0, 24, 38, 48, 56];

    /// An image of silence (-1) with decaying partials at `fundamental` + each offset.
    fn note_image(
        device: &Device,
        bins: usize,
        fundamental: usize,
        offsets: &[usize],
    ) -> Tensor<4> {
        let frames = 40;
        let mut values = vec![-1.0f32; bins * frames];
        for (rank, offset) in offsets.iter().enumerate() {
            for frame in 0..frames {
                let decay = frame as f32 / frames as f32;
                values[(fundamental + offset) * frames + frame] = 1.0 - 0.3 * rank as f32 - decay;
            }
        }
        Tensor::<1>::from_floats(values.as_slice(), device).reshape([1, 1, bins, frames])
    }

    /// Largest change of a logit. The untrained networks' logits are small: a real change
    /// of the input moves them by about 1e-4, a reordered float sum by 1e-8.
    fn largest_difference(a: Tensor<2>, b: Tensor<2>) -> f32 {
        (a - b).abs().max().into_scalar()
    }

    #[test]
    fn moving_a_note_along_the_bands_keeps_the_output() {
        let device = Device::flex();
        let bins = 200;
        // Both notes' windows (30 bands each side) stay clear of the windows that reach the
        // zero padding at either edge.
        let low = note_image(&device, bins, 70, &HARMONICS);
        let high = note_image(&device, bins, 82, &HARMONICS);
        let net = BandConv::new(4, 1, &device);
        let moved = largest_difference(net.forward(low.clone()), net.forward(high.clone()));
        assert!(moved < 1e-6, "band-conv moved by {moved}");
        // In regions the register is kept: two octaves up is another input.
        let net = BandConv::new(4, REGIONS, &device);
        let two_octaves_up = note_image(&device, bins, 70 + 48, &HARMONICS);
        let moved = largest_difference(net.forward(low.clone()), net.forward(two_octaves_up));
        assert!(moved > 1e-6, "band-conv in regions moved by only {moved}");
        // The control: the MLP's per-band weights see a different input.
        let mlp = Mlp::new(bins, &[64, 32], 4, &device);
        let moved = largest_difference(mlp.forward(low), mlp.forward(high));
        assert!(moved > 1e-3, "the mlp moved by only {moved}");
    }

    #[test]
    fn a_different_spacing_of_the_partials_changes_the_output() {
        let device = Device::flex();
        let net = BandConv::new(4, 1, &device);
        let note = note_image(&device, 200, 70, &HARMONICS);
        // The third partial an octave higher: another timbre at the same pitch.
        let other = note_image(&device, 200, 70, &[0, 24, 62, 48, 56]);
        let changed = largest_difference(net.forward(note), net.forward(other));
        assert!(changed > 1e-6, "band-conv changed by only {changed}");
    }
}
