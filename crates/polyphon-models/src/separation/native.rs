//! The spectrogram U-Net's inference without burn: batch norm folded into the convolutions,
//! weights laid out once for `gemm`, activations fused, every layer one matrix product on
//! all cores.
//!
//! Activations are `[frame][bin][channel]`, channels contiguous. A stride-2 convolution
//! gathers each output position's 5 × 5 × channels patch into a row (the patches of a
//! stride-2 kernel do not overlap evenly enough to read in place) and multiplies the rows by
//! the kernel. A transposed convolution multiplies every input position by the kernel first,
//! giving its 25 contributions, and each output position then sums the (at most 9)
//! contributions that land on it: a gather, so output rows run in parallel without races.

use rayon::prelude::*;

use super::blocks::{Down, Up};
use super::unet::UNet;
use super::MaskActivation;
use crate::fold::{batch_norm_affine, values};
use crate::matrix::{multiply, Threads, View};
use crate::Result;

const KERNEL: usize = 5;
const TAPS: usize = KERNEL * KERNEL;
const PAD: usize = 2;
/// The encoder's leaky-ReLU slope (Jansson et al.).
const LEAK: f32 = 0.2;

/// What follows a layer's convolution.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Activation {
    Leaky,
    Relu,
    Logits,
}

/// One level: kernel with batch norm folded, bias, widths.
#[derive(Debug, Clone)]
struct Level {
    /// Encoder: `[(ky · 5 + kx) · inputs + in][out]`; decoder: `[in][(ky · 5 + kx) · outputs + out]`.
    weights: Vec<f32>,
    bias: Vec<f32>,
    inputs: usize,
    outputs: usize,
    activation: Activation,
}

/// The U-Net's weights as the native path uses them; see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct NativeUNet {
    down: Vec<Level>,
    up: Vec<Level>,
}

/// A convolution's bias through a batch norm in inference, as `(scale, shift)` per channel:
/// `bn(conv(x) + b) = scale · conv(x) + shift`.
fn fold(bias: Vec<f32>, bn: Option<&burn::nn::BatchNorm>) -> Result<(Vec<f32>, Vec<f32>)> {
    let Some(bn) = bn else {
        return Ok((vec![1.0; bias.len()], bias));
    };
    let (scale, shift) = batch_norm_affine(bn)?;
    let shift = (0..bias.len())
        .map(|o| bias[o] * scale[o] + shift[o])
        .collect();
    Ok((scale, shift))
}

fn bias_of(
    bias: &Option<burn::module::Param<burn::tensor::Tensor<1>>>,
    n: usize,
) -> Result<Vec<f32>> {
    match bias {
        Some(bias) => values(bias.val()),
        None => Ok(vec![0.0; n]),
    }
}

impl Level {
    fn down(level: &Down) -> Result<Self> {
        let [outputs, inputs, _, _] = level.conv.weight.dims();
        let kernel = values(level.conv.weight.val())?;
        let (scale, bias) = fold(bias_of(&level.conv.bias, outputs)?, Some(&level.bn))?;
        let mut weights = vec![0.0; TAPS * inputs * outputs];
        for o in 0..outputs {
            for i in 0..inputs {
                for tap in 0..TAPS {
                    weights[(tap * inputs + i) * outputs + o] =
                        kernel[(o * inputs + i) * TAPS + tap] * scale[o];
                }
            }
        }
        let activation = Activation::Leaky;
        Ok(Self {
            weights,
            bias,
            inputs,
            outputs,
            activation,
        })
    }

    fn up(level: &Up) -> Result<Self> {
        let [inputs, outputs, _, _] = level.conv.weight.dims();
        let kernel = values(level.conv.weight.val())?;
        let (scale, bias) = fold(bias_of(&level.conv.bias, outputs)?, level.bn.as_ref())?;
        let mut weights = vec![0.0; inputs * TAPS * outputs];
        for i in 0..inputs {
            for o in 0..outputs {
                for tap in 0..TAPS {
                    weights[(i * TAPS + tap) * outputs + o] =
                        kernel[(i * outputs + o) * TAPS + tap] * scale[o];
                }
            }
        }
        let activation = match level.bn {
            Some(_) => Activation::Relu,
            None => Activation::Logits,
        };
        Ok(Self {
            weights,
            bias,
            inputs,
            outputs,
            activation,
        })
    }

    /// Adds the bias and applies the activation to rows of `outputs` values.
    fn finish(&self, rows: &mut [f32]) {
        for row in rows.chunks_exact_mut(self.outputs) {
            for (v, b) in row.iter_mut().zip(&self.bias) {
                let x = *v + b;
                *v = match self.activation {
                    Activation::Leaky if x < 0.0 => LEAK * x,
                    Activation::Relu => x.max(0.0),
                    _ => x,
                };
            }
        }
    }

    /// Stride-2 convolution, padding 2: `[h][w][inputs]` → `[h/2][w/2][outputs]`.
    fn encode(&self, x: &[f32], h: usize, w: usize) -> Vec<f32> {
        let (ho, wo, ci) = (h / 2, w / 2, self.inputs);
        let k = TAPS * ci;
        let mut patches = vec![0.0; ho * wo * k];
        patches
            .par_chunks_mut(wo * k)
            .enumerate()
            .for_each(|(y, rows)| {
                for (ox, patch) in rows.chunks_exact_mut(k).enumerate() {
                    for ky in 0..KERNEL {
                        let Some(iy) = (2 * y + ky).checked_sub(PAD).filter(|&iy| iy < h) else {
                            continue;
                        };
                        // Kernel columns kx whose input column 2·ox + kx − 2 lies in 0..w.
                        let first = PAD.saturating_sub(2 * ox);
                        let last = KERNEL.min(w + PAD - 2 * ox);
                        if first >= last {
                            continue;
                        }
                        let ix = 2 * ox + first - PAD;
                        let len = (last - first) * ci;
                        patch[(ky * KERNEL + first) * ci..][..len]
                            .copy_from_slice(&x[(iy * w + ix) * ci..][..len]);
                    }
                }
            });
        let mut out = vec![0.0; ho * wo * self.outputs];
        let kernel = View::dense(&self.weights, k, self.outputs);
        multiply(
            &mut out,
            View::dense(&patches, ho * wo, k),
            kernel,
            false,
            Threads::All,
        );
        out.par_chunks_mut(wo * self.outputs)
            .for_each(|row| self.finish(row));
        out
    }

    /// Stride-2 transposed convolution, padding 2 and output padding 1:
    /// `[h][w][inputs]` → `[2h][2w][outputs]`.
    fn decode(&self, x: &[f32], h: usize, w: usize) -> Vec<f32> {
        let co = self.outputs;
        let spread = TAPS * co;
        let mut contributions = vec![0.0; h * w * spread];
        let kernel = View::dense(&self.weights, self.inputs, spread);
        let input = View::dense(x, h * w, self.inputs);
        multiply(&mut contributions, input, kernel, false, Threads::All);
        // Output row y takes input row r with kernel row ky where y = 2r + ky − 2: the same
        // few pairs for every output of one parity, listed once per position.
        let taps = |size: usize| -> Vec<Vec<(usize, usize)>> {
            (0..2 * size)
                .map(|y| {
                    (0..KERNEL)
                        .filter_map(|k| {
                            let t = (y + PAD).checked_sub(k)?;
                            (t % 2 == 0 && t / 2 < size).then_some((t / 2, k))
                        })
                        .collect()
                })
                .collect()
        };
        let (rows, columns) = (taps(h), taps(w));
        let mut out = vec![0.0; 4 * h * w * co];
        out.par_chunks_mut(2 * w * co)
            .enumerate()
            .for_each(|(y, row)| {
                for (value, column_taps) in row.chunks_exact_mut(co).zip(&columns) {
                    for &(r, ky) in &rows[y] {
                        for &(c, kx) in column_taps {
                            let at = ((r * w + c) * TAPS + ky * KERNEL + kx) * co;
                            let part = &contributions[at..][..co];
                            value.iter_mut().zip(part).for_each(|(v, p)| *v += p);
                        }
                    }
                }
                self.finish(row);
            });
        out
    }
}

impl NativeUNet {
    /// Lays out a trained U-Net's weights (inference mode: running statistics).
    pub fn new(net: &UNet) -> Result<Self> {
        Ok(Self {
            down: net.down.iter().map(Level::down).collect::<Result<_>>()?,
            up: net.up.iter().map(Level::up).collect::<Result<_>>()?,
        })
    }

    /// Sources the network separates.
    pub fn sources(&self) -> usize {
        self.up.last().map_or(0, |level| level.outputs)
    }

    /// Mask logits `[frame][bin][source]` of `log(1 + |X|)` `[frame][bin]`; `frames` and
    /// `bins` must be multiples of [`UNet::MULTIPLE`].
    pub fn logits(&self, input: &[f32], frames: usize, bins: usize) -> Vec<f32> {
        debug_assert_eq!(input.len(), frames * bins);
        let (mut h, mut w) = (frames, bins);
        let mut skips = Vec::with_capacity(self.down.len());
        let mut x = input.to_vec();
        for level in &self.down {
            x = level.encode(&x, h, w);
            (h, w) = (h / 2, w / 2);
            skips.push((x.clone(), level.outputs));
        }
        skips.pop(); // the bottleneck is not a skip
        for level in &self.up {
            x = level.decode(&x, h, w);
            (h, w) = (2 * h, 2 * w);
            if let Some((skip, width)) = skips.pop() {
                x = concatenate_channels(&x, level.outputs, &skip, width);
            }
        }
        x
    }

    /// One mask per source, each `[frame][bin]`, from the logits by `activation`.
    pub fn masks(
        &self,
        input: &[f32],
        frames: usize,
        bins: usize,
        activation: MaskActivation,
    ) -> Vec<Vec<f32>> {
        let sources = self.sources();
        let logits = self.logits(input, frames, bins);
        let mask = |source: usize| -> Vec<f32> {
            let mut mask = vec![0.0; frames * bins];
            mask.par_chunks_mut(bins)
                .zip(logits.par_chunks(bins * sources))
                .for_each(|(out, row)| {
                    for (m, values) in out.iter_mut().zip(row.chunks_exact(sources)) {
                        let v = values[source];
                        *m = match activation {
                            MaskActivation::Sigmoid => 1.0 / (1.0 + (-v).exp()),
                            MaskActivation::Softmax => {
                                let top = values.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                                let total: f32 = values.iter().map(|u| (u - top).exp()).sum();
                                (v - top).exp() / total
                            }
                        };
                    }
                });
            mask
        };
        (0..sources).map(mask).collect()
    }
}

/// `[position][a channels]` and `[position][b channels]` side by side.
fn concatenate_channels(a: &[f32], a_width: usize, b: &[f32], b_width: usize) -> Vec<f32> {
    let width = a_width + b_width;
    let mut out = vec![0.0; a.len() + b.len()];
    out.par_chunks_mut(width)
        .zip(a.par_chunks(a_width).zip(b.par_chunks(b_width)))
        .for_each(|(out, (left, right))| {
            out[..a_width].copy_from_slice(left);
            out[a_width..].copy_from_slice(right);
        });
    out
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use burn::tensor::{Tensor, TensorData};

    use super::*;
    use crate::fold::largest_difference;
    use crate::separation::{SeparationModel, SEPARATION_BINS};
    use crate::{default_device, Engine};

    fn input(frames: usize, bins: usize) -> Vec<f32> {
        (0..frames * bins)
            .map(|i| ((i * 7919) % 1013) as f32 / 400.0)
            .collect()
    }

    /// burn's logits `(1, sources, frames, bins)` rearranged as `[frame][bin][source]`.
    fn burn_logits(net: &UNet, x: &[f32], frames: usize, bins: usize) -> Vec<f32> {
        let data = TensorData::new(x.to_vec(), [1, 1, frames, bins]);
        let logits = net.forward(Tensor::from_data(data, &default_device()));
        let sources = logits.dims()[1];
        let planar = values(logits).unwrap();
        let mut out = vec![0.0; planar.len()];
        for (index, value) in planar.into_iter().enumerate() {
            let (source, position) = (index / (frames * bins), index % (frames * bins));
            out[position * sources + source] = value;
        }
        out
    }

    #[test]
    fn random_weights_give_burns_logits() {
        let net = UNet::new(3, &default_device());
        let native = NativeUNet::new(&net).unwrap();
        assert_eq!(native.sources(), 3);
        for (frames, bins) in [(128, 128), (256, 128)] {
            let x = input(frames, bins);
            let ours = native.logits(&x, frames, bins);
            assert!(ours.iter().any(|v| v.abs() > 1e-2), "logits all near zero");
            let worst = largest_difference(&ours, &burn_logits(&net, &x, frames, bins));
            assert!(worst < 1e-4, "{frames} × {bins}: differs by {worst}");
        }
    }

    /// The bundled model: real batch-norm statistics, so the folding is exercised, through
    /// the masks `separate` uses.
    #[test]
    fn the_bundled_weights_give_burns_masks() {
        let sidecar =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../models/unet-bass-flute/model.json");
        let model = SeparationModel::load(sidecar).unwrap();
        assert_eq!(model.engine(), Engine::Native);
        let burn = model.clone().with_engine(Engine::Burn).unwrap();
        assert_eq!(burn.engine(), Engine::Burn);
        let frames = 700; // two windows
        let magnitudes = input(frames, SEPARATION_BINS + 1);
        let ours = model.masks(&magnitudes, frames).unwrap();
        let theirs = burn.masks(&magnitudes, frames).unwrap();
        for (a, b) in ours.iter().zip(&theirs) {
            let worst = largest_difference(a, b);
            assert!(worst < 1e-4, "masks differ by {worst}");
        }
    }
}
