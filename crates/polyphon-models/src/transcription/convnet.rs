//! ConvNet: Table 1 of Kelz & Widmer 2017 (the frame classifier of Kelz et al. 2016).
//!
//! | layer                          | output (channels × time × frequency) |
//! |--------------------------------|---------------------------------------|
//! | input                          | 1 × 5 × 229                           |
//! | conv 3×3, 32, same → BN → ReLU | 32 × 5 × 229                          |
//! | conv 3×3, 32, valid → BN → ReLU| 32 × 3 × 227                          |
//! | max-pool 1×2 → dropout 0.25    | 32 × 3 × 113                          |
//! | conv 3×3, 64, valid → BN → ReLU| 64 × 1 × 111                          |
//! | max-pool 1×2 → dropout 0.25    | 64 × 1 × 55 (flattened: 3520)         |
//! | dense 512 → BN → ReLU → dropout 0.5 | 512                              |
//! | dense 88 → sigmoid             | 88                                    |
//!
//! Convolutions and the hidden dense layer have no bias (the batch norm's beta replaces it).
//! Parameters: 1,877,880 counted as Lasagne does (batch norm: 4 values per channel).

use burn::module::Module;
use burn::nn::pool::MaxPool2d;
use burn::nn::{BatchNorm, Dropout, Linear};
use burn::tensor::activation::relu;
use burn::tensor::module::conv2d;
use burn::tensor::ops::ConvOptions;
use burn::tensor::{Device, Tensor};

use crate::layers::{batch_norm, dense, dropout, max_pool, ConvBn, Pad};

/// Context frames the ConvNets see: the centre frame and 2 on each side.
pub const CONTEXT_FRAMES: usize = 5;

/// See the [module documentation](self).
#[derive(Module, Debug)]
pub struct ConvNet {
    pub(super) conv1: ConvBn,
    pub(super) conv2: ConvBn,
    pub(super) conv3: ConvBn,
    pool: MaxPool2d,
    pub(super) conv_dropout: Dropout,
    pub(super) hidden: Linear,
    pub(super) hidden_bn: BatchNorm,
    pub(super) hidden_dropout: Dropout,
    pub(super) output: Linear,
}

impl ConvNet {
    pub const OUTPUTS: usize = 88;
    const FLAT: usize = 64 * 55;

    pub fn new(device: &Device) -> Self {
        Self {
            conv1: ConvBn::new([1, 32], [3, 3], Pad::Same, device),
            conv2: ConvBn::new([32, 32], [3, 3], Pad::Valid, device),
            conv3: ConvBn::new([32, 64], [3, 3], Pad::Valid, device),
            pool: max_pool([1, 2]),
            conv_dropout: dropout(0.25),
            hidden: dense(Self::FLAT, 512, false, true, device),
            hidden_bn: batch_norm(512, device),
            hidden_dropout: dropout(0.5),
            output: dense(512, Self::OUTPUTS, true, false, device),
        }
    }

    /// The same network with other dropout probabilities (after the convolution blocks, after
    /// the hidden layer); Table 1's are 0.25 and 0.5.
    pub fn with_dropout(mut self, convolution: f64, hidden: f64) -> Self {
        self.conv_dropout = dropout(convolution);
        self.hidden_dropout = dropout(hidden);
        self
    }

    /// Logits `(batch, 88)` of context windows `(batch, 1, 5, 229)`.
    pub fn forward(&self, input: Tensor<4>) -> Tensor<2> {
        let x = relu(self.conv1.forward(input));
        let x = relu(self.conv2.forward(x));
        let x = self.conv_dropout.forward(self.pool.forward(x));
        let x = relu(self.conv3.forward(x));
        let x = self.conv_dropout.forward(self.pool.forward(x));
        let [batch, ..] = x.dims();
        let x = x.reshape([batch, Self::FLAT]);
        let x = relu(self.hidden_bn.forward(self.hidden.forward(x)));
        self.output.forward(self.hidden_dropout.forward(x))
    }

    /// Logits `(sequences · frames, 88)` of whole sequences `(sequences, 1, frames + 4, 229)`
    /// (each with 2 context rows at both ends): the same function as [`forward`](Self::forward)
    /// on every frame's 5-frame window, with the convolutions computed once per row instead of
    /// once per window (see [`super::native`] for why this is exact). Batch norm in training
    /// takes its statistics over the rows computed here, not over the windows' rows.
    pub fn forward_sequences(&self, input: Tensor<4>) -> Tensor<2> {
        let [sequences, _, rows, _] = input.dims();
        let frames = rows - 4;
        let along = |x: Tensor<4>, from: usize, to: usize| x.narrow(2, from, to - from);
        let kernel_row = |weight: Tensor<4>, k: usize| weight.narrow(2, k, 1);
        let conv = |x: Tensor<4>, weight: Tensor<4>, pad: usize| {
            conv2d(
                x,
                weight,
                None,
                ConvOptions::new([1, 1], [0, pad], [1, 1], 1),
            )
        };
        let w1 = self.conv1.conv.weight.val();
        let a: Vec<Tensor<4>> = (0..3)
            .map(|k| conv(input.clone(), kernel_row(w1.clone(), k), 1))
            .collect();
        let full = along(a[0].clone(), 0, rows - 2)
            + along(a[1].clone(), 1, rows - 1)
            + along(a[2].clone(), 2, rows);
        let top = along(a[1].clone(), 0, frames) + along(a[2].clone(), 1, frames + 1);
        let bottom = along(a[0].clone(), 3, rows - 1) + along(a[1].clone(), 4, rows);
        // One batch norm over every row computed, then the three kinds apart again.
        let h = relu(
            self.conv1
                .bn
                .forward(Tensor::cat(vec![full, top, bottom], 2)),
        );
        let full = along(h.clone(), 0, frames + 2);
        let top = along(h.clone(), frames + 2, 2 * frames + 2);
        let bottom = along(h, 2 * frames + 2, 3 * frames + 2);
        let w2 = self.conv2.conv.weight.val();
        let p: Vec<Tensor<4>> = (0..3)
            .map(|k| conv(full.clone(), kernel_row(w2.clone(), k), 0))
            .collect();
        let p = |k: usize, from: usize| along(p[k].clone(), from, from + frames);
        let q0 = conv(top, kernel_row(w2.clone(), 0), 0) + p(1, 0) + p(2, 1);
        let q1 = p(0, 0) + p(1, 1) + p(2, 2);
        let q2 = p(0, 1) + p(1, 2) + conv(bottom, kernel_row(w2, 2), 0);
        let g = relu(self.conv2.bn.forward(Tensor::cat(vec![q0, q1, q2], 2)));
        let g = self.pool.forward(g);
        // (sequences, 32, 3 · frames, 113) → each window's three rows: (windows, 32, 3, 113).
        let [_, channels, _, bins] = g.dims();
        let g = g
            .reshape([sequences, channels, 3, frames, bins])
            .permute([0, 3, 1, 2, 4])
            .reshape([sequences * frames, channels, 3, bins]);
        let x = self.conv_dropout.forward(g);
        let x = relu(self.conv3.forward(x));
        let x = self.conv_dropout.forward(self.pool.forward(x));
        let x = x.reshape([sequences * frames, Self::FLAT]);
        let x = relu(self.hidden_bn.forward(self.hidden.forward(x)));
        self.output.forward(self.hidden_dropout.forward(x))
    }
}
