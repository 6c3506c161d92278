//! A shallow U-Net with a bidirectional LSTM over time at its bottleneck: two stride-2
//! encoder levels (16 and 32 channels), the bottleneck's 32 × 128 values of each frame
//! projected to 128, a BiLSTM of 2 × 128 units across the frames, projected back, then two
//! decoder levels with skip connections. The LSTM sees the whole patch, so the masks can use
//! context the U-Net's 5×5 kernels at two levels cannot reach.

use burn::module::Module;
use burn::nn::{BiLstm, BiLstmConfig, Linear, LinearConfig};
use burn::tensor::activation::relu;
use burn::tensor::{Device, Tensor};

use super::blocks::{Down, Up};

const WIDTHS: [usize; 2] = [16, 32];
const PROJECTION: usize = 128;
const HIDDEN: usize = 128;

/// See the [module documentation](self).
#[derive(Module, Debug)]
pub struct UNetBiLstm {
    down1: Down,
    down2: Down,
    project_in: Linear,
    lstm: BiLstm,
    project_out: Linear,
    up2: Up,
    up1: Up,
}

impl UNetBiLstm {
    /// Frames and bins must be divisible by this.
    pub const MULTIPLE: usize = 4;

    /// `bins`: the input's frequency bins (fixed: the projections read every bin).
    pub fn new(sources: usize, bins: usize, device: &Device) -> Self {
        let flat = WIDTHS[1] * bins / Self::MULTIPLE;
        Self {
            down1: Down::new([1, WIDTHS[0]], device),
            down2: Down::new([WIDTHS[0], WIDTHS[1]], device),
            project_in: LinearConfig::new(flat, PROJECTION).init(device),
            lstm: BiLstmConfig::new(PROJECTION, HIDDEN, true).init(device),
            project_out: LinearConfig::new(2 * HIDDEN, flat).init(device),
            up2: Up::new([2 * WIDTHS[1], WIDTHS[0]], true, device),
            up1: Up::output([2 * WIDTHS[0], sources], device),
        }
    }

    /// Mask logits `(batch, sources, frames, bins)` of an input `(batch, 1, frames, bins)`.
    pub fn forward(&self, input: Tensor<4>) -> Tensor<4> {
        let e1 = self.down1.forward(input);
        let e2 = self.down2.forward(e1.clone());
        let [batch, channels, frames, bins] = e2.dims();
        // (b, c, t, f) → (b, t, c·f): one vector per frame for the LSTM.
        let sequence = e2
            .clone()
            .swap_dims(1, 2)
            .reshape([batch, frames, channels * bins]);
        let x = relu(self.project_in.forward(sequence));
        let (x, _) = self.lstm.forward(x, None);
        let x = relu(self.project_out.forward(x))
            .reshape([batch, frames, channels, bins])
            .swap_dims(1, 2);
        let x = self.up2.forward(Tensor::cat(vec![x, e2], 1));
        self.up1.forward(Tensor::cat(vec![x, e1], 1))
    }
}
