//! The ConvNet's training step without burn's autodiff: the forward pass of
//! [`ConvNet::forward_sequences`] in training mode (batch statistics, dropout) and its
//! backward pass written out, on `gemm` products of strided views; burn's Adam then applies
//! the gradients, so checkpoints, resumption and the optimiser state stay burn's.
//!
//! Layouts are those of [`super::native`]: activations `[row][frequency][channel]`, the
//! convolutions as products of overlapping row views. A convolution's weight gradient is the
//! transposed view times the output gradient; its input gradient is the output gradient times
//! the transposed weights, whose overlapping rows are then added back into place.

use burn::module::Param;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Tensor, TensorData};
use polyphon_core::SeededRng;
use rayon::prelude::*;

use super::native::{convolve_along_frequency, C1, C2, C3, F2, F3, FLAT, HIDDEN, OUTPUTS, P2, P3};
use super::{ConvNet, INPUT_BINS};
use crate::fold::values;
use crate::matrix::{multiply, Threads, View};
use crate::{ModelError, Result};

/// Dropout probabilities of the ConvNet (Table 1): after each pooled convolution block, and
/// after the hidden layer.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Dropouts {
    pub convolution: f32,
    pub hidden: f32,
}

impl Dropouts {
    /// The probabilities `net` was built with.
    pub fn of(net: &ConvNet) -> Self {
        Self {
            convolution: net.conv_dropout.prob as f32,
            hidden: net.hidden_dropout.prob as f32,
        }
    }
}

impl Default for Dropouts {
    fn default() -> Self {
        Self {
            convolution: 0.25,
            hidden: 0.5,
        }
    }
}

/// One optimisation step on a batch of sequences `(sequences, frames + 4, 229)` (row-major,
/// 2 context rows at each end) and their targets `(sequences · frames, 88)`: returns the
/// updated network and the batch's loss (mean binary cross-entropy, before the step).
///
/// `net` lives on an autodiff device, as in burn's training; its batch-norm running
/// statistics are updated as burn's `BatchNorm` updates them. `dropout_seed` draws the
/// dropout masks.
#[allow(clippy::too_many_arguments)]
pub fn train_step_sequences(
    net: ConvNet,
    optimizer: &mut ModuleOptimizer,
    inputs: &[f32],
    targets: &[f32],
    sequences: usize,
    learning_rate: f64,
    dropouts: Dropouts,
    dropout_seed: u64,
) -> Result<(ConvNet, f32)> {
    let (loss, grads) = gradients(&net, inputs, targets, sequences, dropouts, dropout_seed)?;
    Ok((optimizer.step(learning_rate, net, grads), loss))
}

/// The loss and the gradient of every trainable parameter of `net` on a batch, as
/// [`train_step_sequences`] takes them, with the batch norms' running statistics updated.
pub(crate) fn gradients(
    net: &ConvNet,
    inputs: &[f32],
    targets: &[f32],
    sequences: usize,
    dropouts: Dropouts,
    dropout_seed: u64,
) -> Result<(f32, GradientsParams)> {
    let device = net.conv1.conv.weight.val().device();
    let params = Weights::of(net)?;
    let batch = Batch::new(inputs, targets, sequences)?;
    let mut rng = SeededRng::new(dropout_seed, "native-dropout");
    let forward = Forward::run(&params, &batch, dropouts, &mut rng);
    let gradients = forward.backward(&params, &batch);
    forward.update_running_statistics(net, net.conv1.bn.momentum);
    Ok((forward.loss, gradients.into_params(net, &device)))
}

/// The trainable weights in the native layouts.
struct Weights {
    /// `[k][j][c]`.
    w1: Vec<f32>,
    bn1: (Vec<f32>, Vec<f32>),
    /// `[j·C1 + in][k·C2 + out]`.
    w2: Vec<f32>,
    bn2: (Vec<f32>, Vec<f32>),
    /// `[(j·3 + q)·C2 + in][out]`.
    w3: Vec<f32>,
    bn3: (Vec<f32>, Vec<f32>),
    /// `[f·C3 + c][h]`.
    wh: Vec<f32>,
    bnh: (Vec<f32>, Vec<f32>),
    wo: Vec<f32>,
    bo: Vec<f32>,
    epsilon: [f64; 4],
}

fn gamma_beta(bn: &burn::nn::BatchNorm) -> Result<(Vec<f32>, Vec<f32>)> {
    Ok((values(bn.gamma.val())?, values(bn.beta.val())?))
}

/// Index of `[out][in][k][j]` in a 3×3 kernel.
fn kernel_at(inputs: usize, o: usize, i: usize, k: usize, j: usize) -> usize {
    ((o * inputs + i) * 3 + k) * 3 + j
}

impl Weights {
    fn of(net: &ConvNet) -> Result<Self> {
        let k1 = values(net.conv1.conv.weight.val())?;
        let mut w1 = vec![0.0; 9 * C1];
        for k in 0..3 {
            for j in 0..3 {
                for c in 0..C1 {
                    w1[(k * 3 + j) * C1 + c] = k1[kernel_at(1, c, 0, k, j)];
                }
            }
        }
        let k2 = values(net.conv2.conv.weight.val())?;
        let mut w2 = vec![0.0; 3 * C1 * 3 * C2];
        for j in 0..3 {
            for i in 0..C1 {
                for k in 0..3 {
                    for o in 0..C2 {
                        w2[(j * C1 + i) * 3 * C2 + k * C2 + o] = k2[kernel_at(C1, o, i, k, j)];
                    }
                }
            }
        }
        let k3 = values(net.conv3.conv.weight.val())?;
        let mut w3 = vec![0.0; 9 * C2 * C3];
        for j in 0..3 {
            for q in 0..3 {
                for i in 0..C2 {
                    for o in 0..C3 {
                        w3[((j * 3 + q) * C2 + i) * C3 + o] = k3[kernel_at(C2, o, i, q, j)];
                    }
                }
            }
        }
        let dense = values(net.hidden.weight.val())?;
        let mut wh = vec![0.0; FLAT * HIDDEN];
        for f in 0..P3 {
            for c in 0..C3 {
                let (ours, theirs) = ((f * C3 + c) * HIDDEN, (c * P3 + f) * HIDDEN);
                wh[ours..ours + HIDDEN].copy_from_slice(&dense[theirs..theirs + HIDDEN]);
            }
        }
        let bo = match &net.output.bias {
            Some(bias) => values(bias.val())?,
            None => vec![0.0; OUTPUTS],
        };
        Ok(Self {
            w1,
            bn1: gamma_beta(&net.conv1.bn)?,
            w2,
            bn2: gamma_beta(&net.conv2.bn)?,
            w3,
            bn3: gamma_beta(&net.conv3.bn)?,
            wh,
            bnh: gamma_beta(&net.hidden_bn)?,
            wo: values(net.output.weight.val())?,
            bo,
            epsilon: [
                net.conv1.bn.epsilon,
                net.conv2.bn.epsilon,
                net.conv3.bn.epsilon,
                net.hidden_bn.epsilon,
            ],
        })
    }
}

/// A batch's shape and data.
struct Batch<'a> {
    inputs: &'a [f32],
    targets: &'a [f32],
    sequences: usize,
    /// Frames per sequence, and input rows (`frames + 4`).
    frames: usize,
    rows: usize,
}

impl<'a> Batch<'a> {
    fn new(inputs: &'a [f32], targets: &'a [f32], sequences: usize) -> Result<Self> {
        let invalid = |what: String| ModelError::TensorData(what);
        if sequences == 0 || !inputs.len().is_multiple_of(sequences * INPUT_BINS) {
            return Err(invalid(format!(
                "{} input values are not {sequences} sequences of {INPUT_BINS}-bin rows",
                inputs.len()
            )));
        }
        let rows = inputs.len() / (sequences * INPUT_BINS);
        let frames = rows.saturating_sub(4);
        if frames == 0 || targets.len() != sequences * frames * OUTPUTS {
            return Err(invalid(format!(
                "{} targets for {sequences} sequences of {rows} rows",
                targets.len()
            )));
        }
        Ok(Self {
            inputs,
            targets,
            sequences,
            frames,
            rows,
        })
    }

    fn windows(&self) -> usize {
        self.sequences * self.frames
    }
}

/// A batch norm's training-mode pass over rows of `channels`: normalised values, statistics.
struct Norm {
    xhat: Vec<f32>,
    mean: Vec<f32>,
    var: Vec<f32>,
    epsilon: f64,
}

/// Rows per parallel task of a batch norm pass: fixed, so that the sums (added per task, then
/// task by task in order) and so training are the same on any number of threads.
const NORM_ROWS_PER_TASK: usize = 256;

/// Per-channel sums over rows of `channels`, `term(c, value)` summed in f64, task by task.
fn channel_sums(x: &[f32], channels: usize, term: impl Fn(usize, f32) -> f64 + Sync) -> Vec<f64> {
    let partial: Vec<Vec<f64>> = x
        .par_chunks(NORM_ROWS_PER_TASK * channels)
        .map(|rows| {
            let mut sums = vec![0f64; channels];
            for row in rows.chunks_exact(channels) {
                for (c, (s, v)) in sums.iter_mut().zip(row).enumerate() {
                    *s += term(c, *v);
                }
            }
            sums
        })
        .collect();
    sum_in_order(partial, channels)
}

fn sum_in_order(partial: Vec<Vec<f64>>, channels: usize) -> Vec<f64> {
    partial
        .into_iter()
        .fold(vec![0f64; channels], |mut total, part| {
            total.iter_mut().zip(part).for_each(|(t, p)| *t += p);
            total
        })
}

impl Norm {
    /// Normalises `x` (rows of `channels`) with its own mean and biased variance; returns the
    /// rectified `γ · x̂ + β`.
    fn forward(
        x: &[f32],
        channels: usize,
        (gamma, beta): &(Vec<f32>, Vec<f32>),
        epsilon: f64,
    ) -> (Self, Vec<f32>) {
        let n = (x.len() / channels) as f64;
        let mean: Vec<f64> = channel_sums(x, channels, |_, v| v as f64)
            .into_iter()
            .map(|s| s / n)
            .collect();
        let var: Vec<f64> = channel_sums(x, channels, |c, v| (v as f64 - mean[c]).powi(2))
            .into_iter()
            .map(|s| s / n)
            .collect();
        let scale: Vec<f32> = var
            .iter()
            .map(|v| (1.0 / (v + epsilon).sqrt()) as f32)
            .collect();
        let mean32: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
        let mut xhat = vec![0.0; x.len()];
        let mut out = vec![0.0; x.len()];
        let task = NORM_ROWS_PER_TASK * channels;
        xhat.par_chunks_mut(task)
            .zip(out.par_chunks_mut(task))
            .zip(x.par_chunks(task))
            .for_each(|((hats, ys), rows)| {
                for ((hat, y), row) in hats
                    .chunks_exact_mut(channels)
                    .zip(ys.chunks_exact_mut(channels))
                    .zip(rows.chunks_exact(channels))
                {
                    for c in 0..channels {
                        hat[c] = (row[c] - mean32[c]) * scale[c];
                        y[c] = (gamma[c] * hat[c] + beta[c]).max(0.0);
                    }
                }
            });
        let norm = Self {
            xhat,
            mean: mean32,
            var: var.iter().map(|&v| v as f32).collect(),
            epsilon,
        };
        (norm, out)
    }

    /// The gradient into the batch norm's input, given the gradient `dy` of its rectified
    /// output `y`; accumulates `γ`'s and `β`'s gradients into `dgamma`, `dbeta`.
    fn backward(
        &self,
        dy: &[f32],
        y: &[f32],
        gamma: &[f32],
        dgamma: &mut [f32],
        dbeta: &mut [f32],
    ) -> Vec<f32> {
        let channels = gamma.len();
        let n = (dy.len() / channels) as f64;
        let task = NORM_ROWS_PER_TASK * channels;
        // The rectifier's gradient, with the sums of it and of it times x̂ per channel.
        let mut dx = vec![0.0f32; dy.len()];
        let partial: Vec<(Vec<f64>, Vec<f64>)> = dx
            .par_chunks_mut(task)
            .zip(dy.par_chunks(task))
            .zip(y.par_chunks(task))
            .zip(self.xhat.par_chunks(task))
            .map(|(((d, g), out), hat)| {
                let (mut sum, mut dot) = (vec![0f64; channels], vec![0f64; channels]);
                for (((d, g), out), hat) in d
                    .chunks_exact_mut(channels)
                    .zip(g.chunks_exact(channels))
                    .zip(out.chunks_exact(channels))
                    .zip(hat.chunks_exact(channels))
                {
                    for c in 0..channels {
                        let v = if out[c] > 0.0 { g[c] } else { 0.0 };
                        d[c] = v;
                        sum[c] += v as f64;
                        dot[c] += (v * hat[c]) as f64;
                    }
                }
                (sum, dot)
            })
            .collect();
        let (sums, dots): (Vec<_>, Vec<_>) = partial.into_iter().unzip();
        let (sum, dot) = (sum_in_order(sums, channels), sum_in_order(dots, channels));
        for c in 0..channels {
            dbeta[c] += sum[c] as f32;
            dgamma[c] += dot[c] as f32;
        }
        let scale: Vec<f32> = (0..channels)
            .map(|c| gamma[c] / (self.var[c] as f64 + self.epsilon).sqrt() as f32)
            .collect();
        let mean_dy: Vec<f32> = sum.iter().map(|s| (s / n) as f32).collect();
        let mean_dot: Vec<f32> = dot.iter().map(|s| (s / n) as f32).collect();
        dx.par_chunks_mut(task)
            .zip(self.xhat.par_chunks(task))
            .for_each(|(ds, hats)| {
                for (d, hat) in ds
                    .chunks_exact_mut(channels)
                    .zip(hats.chunks_exact(channels))
                {
                    for c in 0..channels {
                        d[c] = scale[c] * (d[c] - mean_dy[c] - hat[c] * mean_dot[c]);
                    }
                }
            });
        dx
    }
}

/// Max-pools pairs of frequency positions of `rows` rows of `width` positions × `channels`
/// (the last position of an odd width dropped) into `out`, remembering which of each pair won.
fn pool_pairs(x: &[f32], rows: usize, width: usize, channels: usize) -> (Vec<f32>, Vec<bool>) {
    let pooled = width / 2;
    let mut out = vec![0.0; rows * pooled * channels];
    let mut second = vec![false; out.len()];
    let row_len = pooled * channels;
    out.par_chunks_mut(row_len)
        .zip(second.par_chunks_mut(row_len))
        .enumerate()
        .for_each(|(r, (out, second))| {
            for p in 0..pooled {
                let a = &x[(r * width + 2 * p) * channels..][..channels];
                let b = &x[(r * width + 2 * p + 1) * channels..][..channels];
                for c in 0..channels {
                    second[p * channels + c] = b[c] > a[c];
                    out[p * channels + c] = a[c].max(b[c]);
                }
            }
        });
    (out, second)
}

/// Inverted dropout's mask: `1 / (1 - p)` for kept values, 0 for dropped ones. Drawn in
/// parallel pieces, each from the generator moved ahead to its first value, so the mask is the
/// one a serial draw gives.
fn dropout_mask(len: usize, p: f32, rng: &mut SeededRng) -> Vec<f32> {
    const PIECE: usize = 1 << 14;
    if p <= 0.0 {
        return vec![1.0; len];
    }
    let keep = 1.0 / (1.0 - p);
    let mut mask = vec![0.0; len];
    let start = rng.clone();
    mask.par_chunks_mut(PIECE)
        .enumerate()
        .for_each(|(index, piece)| {
            let mut draws = start.ahead((index * PIECE) as u64);
            for m in piece {
                *m = if draws.unit() as f32 >= p { keep } else { 0.0 };
            }
        });
    *rng = start.ahead(len as u64);
    mask
}

/// What the forward pass keeps for the backward pass.
struct Forward {
    /// First-layer partial convolutions `[k][sequence][row][f][c]`.
    a_len: usize,
    /// Pre-activations and rectified activations of the first layer: full rows (`frames + 2`
    /// per sequence), then top rows, then bottom rows (`frames` each), `[row][f][c]`.
    norm1: Norm,
    h1: Vec<f32>,
    /// Second layer, `[window][q][f][c]`, and its pooling and dropout.
    norm2: Norm,
    y2: Vec<f32>,
    second2: Vec<bool>,
    mask2: Vec<f32>,
    /// The third layer's input `[window][pooled f][q][c]`.
    g: Vec<f32>,
    norm3: Norm,
    y3: Vec<f32>,
    second3: Vec<bool>,
    mask3: Vec<f32>,
    flat: Vec<f32>,
    normh: Norm,
    yh: Vec<f32>,
    maskh: Vec<f32>,
    u: Vec<f32>,
    /// `σ(logits)`.
    probabilities: Vec<f32>,
    loss: f32,
}

/// Rows of `INPUT_BINS × C1` values each.
const ROW1: usize = INPUT_BINS * C1;

impl Forward {
    fn run(w: &Weights, b: &Batch, dropouts: Dropouts, rng: &mut SeededRng) -> Self {
        let (s, t, r) = (b.sequences, b.frames, b.rows);
        // First layer: each kernel time row along frequency, on every input row.
        let a_len = s * r * ROW1;
        let mut a = vec![0.0; 3 * a_len];
        // Row `index` of `a` is kernel row `index / (s · r)` on input row `index % (s · r)`.
        a.par_chunks_mut(ROW1).enumerate().for_each(|(index, out)| {
            let (k, input_row) = (index / (s * r), index % (s * r));
            let row = &b.inputs[input_row * INPUT_BINS..][..INPUT_BINS];
            convolve_along_frequency(row, &w.w1[k * 3 * C1..][..3 * C1], out);
        });
        let a_row =
            |k: usize, seq: usize, row: usize| &a[k * a_len + (seq * r + row) * ROW1..][..ROW1];
        let rows1 = s * (3 * t + 2);
        let mut pre1 = vec![0.0; rows1 * ROW1];
        pre1.par_chunks_mut(ROW1)
            .enumerate()
            .for_each(|(index, out)| {
                let (kind, seq, i) = first_layer_row(index, s, t);
                let parts: [(usize, usize); 3] = match kind {
                    Kind::Full => [(0, i), (1, i + 1), (2, i + 2)],
                    Kind::Top => [(1, i), (2, i + 1), (3, 0)],
                    Kind::Bottom => [(0, i + 3), (1, i + 4), (3, 0)],
                };
                for (k, row) in parts {
                    if k < 3 {
                        let src = a_row(k, seq, row);
                        out.iter_mut().zip(src).for_each(|(o, v)| *o += v);
                    }
                }
            });
        drop(a);
        let (norm1, h1) = Norm::forward(&pre1, C1, &w.bn1, w.epsilon[0]);
        drop(pre1);
        // Second layer: all three kernel rows on the full activations, the first and last
        // on the top and bottom rows.
        let (full_rows, edge_rows) = (s * (t + 2), s * t);
        let (full, top, bottom) = split3(&h1, full_rows * ROW1, edge_rows * ROW1);
        let m_full = full_rows * INPUT_BINS - 2;
        let m_edge = edge_rows * INPUT_BINS - 2;
        let w2 = View::dense(&w.w2, 3 * C1, 3 * C2);
        let mut p = vec![0.0; m_full * 3 * C2];
        multiply(
            &mut p,
            View::rows(full, m_full, 3 * C1, C1),
            w2,
            false,
            Threads::All,
        );
        let mut d0 = vec![0.0; m_edge * C2];
        let mut d2 = vec![0.0; m_edge * C2];
        let top_view = View::rows(top, m_edge, 3 * C1, C1);
        let bottom_view = View::rows(bottom, m_edge, 3 * C1, C1);
        multiply(&mut d0, top_view, w2.columns(0, C2), false, Threads::All);
        multiply(
            &mut d2,
            bottom_view,
            w2.columns(2 * C2, C2),
            false,
            Threads::All,
        );
        let windows = b.windows();
        let mut pre2 = vec![0.0; windows * 3 * F2 * C2];
        let window_rows = pre2.par_chunks_mut(3 * F2 * C2).enumerate();
        window_rows.for_each(|(window, rows)| {
            let (seq, f_t) = (window / t, window % t);
            // `p` rows are the sequence's full rows; `d0`, `d2` rows its windows.
            let pk = |k: usize, i: usize, f: usize| {
                &p[((seq * (t + 2) + i) * INPUT_BINS + f) * 3 * C2 + k * C2..][..C2]
            };
            let edge = |d: &'_ [f32], f: usize| -> [f32; C2] {
                std::array::from_fn(|c| d[(window * INPUT_BINS + f) * C2 + c])
            };
            for f in 0..F2 {
                let terms: [[&[f32]; 3]; 3] = [
                    [&edge(&d0, f), pk(1, f_t, f), pk(2, f_t + 1, f)],
                    [pk(0, f_t, f), pk(1, f_t + 1, f), pk(2, f_t + 2, f)],
                    [pk(0, f_t + 1, f), pk(1, f_t + 2, f), &edge(&d2, f)],
                ];
                for (q, [x, y, z]) in terms.iter().enumerate() {
                    let out = &mut rows[(q * F2 + f) * C2..][..C2];
                    for c in 0..C2 {
                        out[c] = x[c] + y[c] + z[c];
                    }
                }
            }
        });
        drop(p);
        let (norm2, y2) = Norm::forward(&pre2, C2, &w.bn2, w.epsilon[1]);
        drop(pre2);
        let (pooled2, second2) = pool_pairs(&y2, windows * 3, F2, C2);
        let mask2 = dropout_mask(pooled2.len(), dropouts.convolution, rng);
        // `[window][q][pooled f][c]` → the third layer's `[window][pooled f][q][c]`.
        let mut g = vec![0.0; pooled2.len()];
        g.par_chunks_mut(P2 * 3 * C2)
            .enumerate()
            .for_each(|(window, g)| {
                for q in 0..3 {
                    for f in 0..P2 {
                        let from = ((window * 3 + q) * P2 + f) * C2;
                        let to = (f * 3 + q) * C2;
                        for c in 0..C2 {
                            g[to + c] = pooled2[from + c] * mask2[from + c];
                        }
                    }
                }
            });
        // Third layer: positions beyond 111 of each window are read across windows and dropped.
        let m3 = windows * P2 - 2;
        let mut c3 = vec![0.0; m3 * C3];
        let w3 = View::dense(&w.w3, 9 * C2, C3);
        multiply(
            &mut c3,
            View::rows(&g, m3, 9 * C2, 3 * C2),
            w3,
            false,
            Threads::All,
        );
        let mut pre3 = vec![0.0; windows * F3 * C3];
        for window in 0..windows {
            let from = window * P2 * C3;
            pre3[window * F3 * C3..][..F3 * C3].copy_from_slice(&c3[from..from + F3 * C3]);
        }
        drop(c3);
        let (norm3, y3) = Norm::forward(&pre3, C3, &w.bn3, w.epsilon[2]);
        drop(pre3);
        let (pooled3, second3) = pool_pairs(&y3, windows, F3, C3);
        let mask3 = dropout_mask(pooled3.len(), dropouts.convolution, rng);
        let flat: Vec<f32> = pooled3.iter().zip(&mask3).map(|(v, m)| v * m).collect();
        // Dense layers.
        let mut zh = vec![0.0; windows * HIDDEN];
        let wh = View::dense(&w.wh, FLAT, HIDDEN);
        multiply(
            &mut zh,
            View::dense(&flat, windows, FLAT),
            wh,
            false,
            Threads::All,
        );
        let (normh, yh) = Norm::forward(&zh, HIDDEN, &w.bnh, w.epsilon[3]);
        let maskh = dropout_mask(yh.len(), dropouts.hidden, rng);
        let u: Vec<f32> = yh.iter().zip(&maskh).map(|(v, m)| v * m).collect();
        let mut logits = vec![0.0; windows * OUTPUTS];
        let wo = View::dense(&w.wo, HIDDEN, OUTPUTS);
        multiply(
            &mut logits,
            View::dense(&u, windows, HIDDEN),
            wo,
            false,
            Threads::All,
        );
        let mut loss = 0f64;
        let mut probabilities = vec![0.0; logits.len()];
        for (i, (x, target)) in logits.iter().zip(b.targets).enumerate() {
            let x = x + w.bo[i % OUTPUTS];
            // (1 − t)·x − log σ(x), as polyphon_models::bce_loss computes it.
            let log_sigmoid = match x >= 0.0 {
                true => -(-x).exp().ln_1p(),
                false => x - x.exp().ln_1p(),
            };
            loss += ((1.0 - target) * x - log_sigmoid) as f64;
            probabilities[i] = 1.0 / (1.0 + (-x).exp());
        }
        Self {
            a_len,
            norm1,
            h1,
            norm2,
            y2,
            second2,
            mask2,
            g,
            norm3,
            y3,
            second3,
            mask3,
            flat,
            normh,
            yh,
            maskh,
            u,
            probabilities,
            loss: (loss / logits.len() as f64) as f32,
        }
    }

    fn backward(&self, w: &Weights, b: &Batch) -> Gradients {
        let (s, t, r) = (b.sequences, b.frames, b.rows);
        let windows = b.windows();
        let mut grads = Gradients::zeros();
        // Output layer: d(loss)/d(logit) = (σ − t) / n.
        let n = self.probabilities.len() as f32;
        let dlogits: Vec<f32> = self
            .probabilities
            .iter()
            .zip(b.targets)
            .map(|(p, t)| (p - t) / n)
            .collect();
        for row in dlogits.chunks_exact(OUTPUTS) {
            grads.bo.iter_mut().zip(row).for_each(|(g, d)| *g += d);
        }
        let u = View::dense(&self.u, windows, HIDDEN);
        let dlog = View::dense(&dlogits, windows, OUTPUTS);
        multiply(&mut grads.wo, u.t(), dlog, false, Threads::All);
        let mut du = vec![0.0; windows * HIDDEN];
        let wo = View::dense(&w.wo, HIDDEN, OUTPUTS);
        multiply(&mut du, dlog, wo.t(), false, Threads::All);
        du.iter_mut().zip(&self.maskh).for_each(|(d, m)| *d *= m);
        let dzh = self
            .normh
            .backward(&du, &self.yh, &w.bnh.0, &mut grads.bnh.0, &mut grads.bnh.1);
        // Hidden layer.
        let flat = View::dense(&self.flat, windows, FLAT);
        let dz = View::dense(&dzh, windows, HIDDEN);
        multiply(&mut grads.wh, flat.t(), dz, false, Threads::All);
        let mut dflat = vec![0.0; windows * FLAT];
        let wh = View::dense(&w.wh, FLAT, HIDDEN);
        multiply(&mut dflat, dz, wh.t(), false, Threads::All);
        // Third block: dropout, pooling, batch norm.
        let mut dy3 = vec![0.0; windows * F3 * C3];
        unpool(
            &dflat,
            &self.mask3,
            &self.second3,
            windows,
            F3,
            C3,
            &mut dy3,
        );
        let dpre3 =
            self.norm3
                .backward(&dy3, &self.y3, &w.bn3.0, &mut grads.bn3.0, &mut grads.bn3.1);
        // Third convolution: the dropped positions 111, 112 of each window get no gradient.
        let m3 = windows * P2 - 2;
        let mut dc3 = vec![0.0; m3 * C3];
        for window in 0..windows {
            let to = window * P2 * C3;
            dc3[to..to + F3 * C3].copy_from_slice(&dpre3[window * F3 * C3..][..F3 * C3]);
        }
        let g = View::rows(&self.g, m3, 9 * C2, 3 * C2);
        let dc3_view = View::dense(&dc3, m3, C3);
        multiply(&mut grads.w3, g.t(), dc3_view, false, Threads::All);
        let mut dcol3 = vec![0.0; m3 * 9 * C2];
        let w3 = View::dense(&w.w3, 9 * C2, C3);
        multiply(&mut dcol3, dc3_view, w3.t(), false, Threads::All);
        let mut dg = vec![0.0; windows * P2 * 3 * C2];
        add_overlapping_rows(&dcol3, 9 * C2, 3 * C2, &mut dg);
        // Second block: back to `[window][q][pooled f][c]`, dropout, pooling, batch norm.
        let mut dpooled2 = vec![0.0; dg.len()];
        dpooled2
            .par_chunks_mut(3 * P2 * C2)
            .enumerate()
            .for_each(|(window, dpooled)| {
                for q in 0..3 {
                    for f in 0..P2 {
                        let at = (q * P2 + f) * C2;
                        let from = ((window * P2 + f) * 3 + q) * C2;
                        dpooled[at..at + C2].copy_from_slice(&dg[from..from + C2]);
                    }
                }
            });
        let mut dy2 = vec![0.0; windows * 3 * F2 * C2];
        unpool(
            &dpooled2,
            &self.mask2,
            &self.second2,
            windows * 3,
            F2,
            C2,
            &mut dy2,
        );
        let dpre2 =
            self.norm2
                .backward(&dy2, &self.y2, &w.bn2.0, &mut grads.bn2.0, &mut grads.bn2.1);
        // The window sums back onto the partial products: P rows `[seq][full row][f]` with
        // all three kernel rows, D0 and D2 rows `[window][f]`.
        let (full_rows, edge_rows) = (s * (t + 2), s * t);
        let m_full = full_rows * INPUT_BINS - 2;
        let m_edge = edge_rows * INPUT_BINS - 2;
        let mut dp = vec![0.0; m_full * 3 * C2];
        let mut dd0 = vec![0.0; m_edge * C2];
        let mut dd2 = vec![0.0; m_edge * C2];
        // Each sequence writes only its own rows, so sequences run in parallel.
        let per_sequence = dp
            .par_chunks_mut((t + 2) * INPUT_BINS * 3 * C2)
            .zip(dd0.par_chunks_mut(t * INPUT_BINS * C2))
            .zip(dd2.par_chunks_mut(t * INPUT_BINS * C2))
            .enumerate();
        per_sequence.for_each(|(seq, ((dp, dd0), dd2))| {
            for f_t in 0..t {
                let window = seq * t + f_t;
                for f in 0..F2 {
                    let dq = |q: usize| &dpre2[((window * 3 + q) * F2 + f) * C2..][..C2];
                    let p_at = |k: usize, i: usize| (i * INPUT_BINS + f) * 3 * C2 + k * C2;
                    let edge_at = (f_t * INPUT_BINS + f) * C2;
                    add_into(&mut dd0[edge_at..edge_at + C2], dq(0));
                    add_into(&mut dp[p_at(1, f_t)..][..C2], dq(0));
                    add_into(&mut dp[p_at(2, f_t + 1)..][..C2], dq(0));
                    add_into(&mut dp[p_at(0, f_t)..][..C2], dq(1));
                    add_into(&mut dp[p_at(1, f_t + 1)..][..C2], dq(1));
                    add_into(&mut dp[p_at(2, f_t + 2)..][..C2], dq(1));
                    add_into(&mut dp[p_at(0, f_t + 1)..][..C2], dq(2));
                    add_into(&mut dp[p_at(1, f_t + 2)..][..C2], dq(2));
                    add_into(&mut dd2[edge_at..edge_at + C2], dq(2));
                }
            }
        });
        // Second convolution's weights: full rows against all three kernel rows, the top and
        // bottom rows against the first and last.
        let (full, top, bottom) = split3(&self.h1, full_rows * ROW1, edge_rows * ROW1);
        let full_view = View::rows(full, m_full, 3 * C1, C1);
        let top_view = View::rows(top, m_edge, 3 * C1, C1);
        let bottom_view = View::rows(bottom, m_edge, 3 * C1, C1);
        let dp_view = View::dense(&dp, m_full, 3 * C2);
        let (dd0_view, dd2_view) = (View::dense(&dd0, m_edge, C2), View::dense(&dd2, m_edge, C2));
        multiply(&mut grads.w2, full_view.t(), dp_view, false, Threads::All);
        let mut edge_grad = vec![0.0; 3 * C1 * C2];
        multiply(&mut edge_grad, top_view.t(), dd0_view, false, Threads::All);
        add_columns(&mut grads.w2, &edge_grad, 3 * C2, 0);
        multiply(
            &mut edge_grad,
            bottom_view.t(),
            dd2_view,
            false,
            Threads::All,
        );
        add_columns(&mut grads.w2, &edge_grad, 3 * C2, 2 * C2);
        // The first layer's activations.
        let w2 = View::dense(&w.w2, 3 * C1, 3 * C2);
        let mut dh1 = vec![0.0; self.h1.len()];
        {
            let (dfull, rest) = dh1.split_at_mut(full_rows * ROW1);
            let (dtop, dbottom) = rest.split_at_mut(edge_rows * ROW1);
            let mut dcol = vec![0.0; m_full * 3 * C1];
            multiply(&mut dcol, dp_view, w2.t(), false, Threads::All);
            add_overlapping_rows(&dcol, 3 * C1, C1, dfull);
            let mut dcol = vec![0.0; m_edge * 3 * C1];
            multiply(
                &mut dcol,
                dd0_view,
                w2.columns(0, C2).t(),
                false,
                Threads::All,
            );
            add_overlapping_rows(&dcol, 3 * C1, C1, dtop);
            multiply(
                &mut dcol,
                dd2_view,
                w2.columns(2 * C2, C2).t(),
                false,
                Threads::All,
            );
            add_overlapping_rows(&dcol, 3 * C1, C1, dbottom);
        }
        let dpre1 =
            self.norm1
                .backward(&dh1, &self.h1, &w.bn1.0, &mut grads.bn1.0, &mut grads.bn1.1);
        // Onto the partial convolutions of the input rows, then the first kernel.
        let mut da = vec![0.0; 3 * self.a_len];
        // Each kernel row's part of `da` is written by its own task.
        da.par_chunks_mut(self.a_len)
            .enumerate()
            .for_each(|(k, da)| {
                for (index, d) in dpre1.chunks_exact(ROW1).enumerate() {
                    let (kind, seq, i) = first_layer_row(index, s, t);
                    let row = match (kind, k) {
                        (Kind::Full, k) => i + k,
                        (Kind::Top, 1 | 2) => i + k - 1,
                        (Kind::Bottom, 0 | 1) => i + k + 3,
                        _ => continue,
                    };
                    let at = (seq * r + row) * ROW1;
                    add_into(&mut da[at..at + ROW1], d);
                }
            });
        grads.w1 = first_kernel_gradient(&da, self.a_len, b.inputs);
        grads
    }

    /// burn's running-statistics update for the four batch norms.
    fn update_running_statistics(&self, net: &ConvNet, momentum: f64) {
        let update = |bn: &burn::nn::BatchNorm, norm: &Norm| {
            let device = bn.running_mean.value_sync().device();
            let mix = |running: Tensor<1>, batch: &[f32]| {
                let batch =
                    Tensor::<1>::from_data(TensorData::new(batch.to_vec(), [batch.len()]), &device);
                running
                    .mul_scalar(1.0 - momentum)
                    .add(batch.mul_scalar(momentum))
            };
            bn.running_mean
                .update(mix(bn.running_mean.value_sync(), &norm.mean));
            bn.running_var
                .update(mix(bn.running_var.value_sync(), &norm.var));
        };
        update(&net.conv1.bn, &self.norm1);
        update(&net.conv2.bn, &self.norm2);
        update(&net.conv3.bn, &self.norm3);
        update(&net.hidden_bn, &self.normh);
    }
}

/// The three kinds of first-layer rows, in the order they are stored.
enum Kind {
    Full,
    Top,
    Bottom,
}

/// Row `index` of the first layer: its kind, sequence, and row within the sequence (full
/// rows count from the second input row; top and bottom rows by window).
fn first_layer_row(index: usize, sequences: usize, frames: usize) -> (Kind, usize, usize) {
    let full = sequences * (frames + 2);
    if index < full {
        return (Kind::Full, index / (frames + 2), index % (frames + 2));
    }
    let index = index - full;
    let kind = if index < sequences * frames {
        Kind::Top
    } else {
        Kind::Bottom
    };
    let index = index % (sequences * frames);
    (kind, index / frames, index % frames)
}

/// `x` split after `first` and after `first + second` values.
fn split3(x: &[f32], first: usize, second: usize) -> (&[f32], &[f32], &[f32]) {
    let (a, rest) = x.split_at(first);
    let (b, c) = rest.split_at(second);
    (a, b, c)
}

fn add_into(dst: &mut [f32], src: &[f32]) {
    dst.iter_mut().zip(src).for_each(|(d, s)| *d += s);
}

/// Adds a matrix of `edge.len() / width` rows into columns `from ..` of `dst` (rows of
/// `stride`).
fn add_columns(dst: &mut [f32], edge: &[f32], stride: usize, from: usize) {
    let width = C2;
    for (row, values) in edge.chunks_exact(width).enumerate() {
        add_into(&mut dst[row * stride + from..][..width], values);
    }
}

/// Adds rows of `width` values, each starting `step` values after the one before, back into
/// `dst`: the input gradient of a product whose left rows overlapped.
fn add_overlapping_rows(rows: &[f32], width: usize, step: usize, dst: &mut [f32]) {
    for (i, row) in rows.chunks_exact(width).enumerate() {
        add_into(&mut dst[i * step..i * step + width], row);
    }
}

/// The gradient of `pool_pairs` and dropout: each pooled gradient, through its mask, to the
/// position of its pair that won.
/// The first kernel's gradient `[time row k][frequency tap j][channel]` from the gradients
/// `da` of its partial convolutions `[k][input row][f][channel]`, summed over input rows in
/// fixed groups (then group by group, in order) so it does not depend on the thread count.
fn first_kernel_gradient(da: &[f32], a_len: usize, inputs: &[f32]) -> Vec<f32> {
    const ROWS_PER_TASK: usize = 64;
    let rows = inputs.len() / INPUT_BINS;
    let groups: Vec<Vec<f32>> = (0..rows.div_ceil(ROWS_PER_TASK))
        .into_par_iter()
        .map(|group| {
            let mut sums = vec![0.0; 9 * C1];
            let end = ((group + 1) * ROWS_PER_TASK).min(rows);
            for row_index in group * ROWS_PER_TASK..end {
                let row = &inputs[row_index * INPUT_BINS..][..INPUT_BINS];
                for k in 0..3 {
                    let d = &da[k * a_len + row_index * ROW1..][..ROW1];
                    let (left, rest) = sums[k * 3 * C1..][..3 * C1].split_at_mut(C1);
                    let (centre, right) = rest.split_at_mut(C1);
                    for (f, d) in d.chunks_exact(C1).enumerate() {
                        let x_left = f.checked_sub(1).map_or(0.0, |g| row[g]);
                        let x_right = row.get(f + 1).copied().unwrap_or(0.0);
                        let x_centre = row[f];
                        for c in 0..C1 {
                            left[c] += x_left * d[c];
                            centre[c] += x_centre * d[c];
                            right[c] += x_right * d[c];
                        }
                    }
                }
            }
            sums
        })
        .collect();
    groups
        .into_iter()
        .fold(vec![0.0; 9 * C1], |mut total, part| {
            total.iter_mut().zip(part).for_each(|(t, p)| *t += p);
            total
        })
}

fn unpool(
    dpooled: &[f32],
    mask: &[f32],
    second: &[bool],
    rows: usize,
    width: usize,
    channels: usize,
    dx: &mut [f32],
) {
    let pooled = width / 2;
    let row_len = pooled * channels;
    dx[..rows * width * channels]
        .par_chunks_mut(width * channels)
        .enumerate()
        .for_each(|(r, dx)| {
            for p in 0..pooled {
                let at = r * row_len + p * channels;
                for c in 0..channels {
                    let g = dpooled[at + c] * mask[at + c];
                    let position = 2 * p + second[at + c] as usize;
                    dx[position * channels + c] = g;
                }
            }
        });
}

/// The gradients, in the native layouts until [`Gradients::into_params`].
struct Gradients {
    w1: Vec<f32>,
    bn1: (Vec<f32>, Vec<f32>),
    w2: Vec<f32>,
    bn2: (Vec<f32>, Vec<f32>),
    w3: Vec<f32>,
    bn3: (Vec<f32>, Vec<f32>),
    wh: Vec<f32>,
    bnh: (Vec<f32>, Vec<f32>),
    wo: Vec<f32>,
    bo: Vec<f32>,
}

impl Gradients {
    fn zeros() -> Self {
        let bn = |n| (vec![0.0; n], vec![0.0; n]);
        Self {
            w1: vec![0.0; 9 * C1],
            bn1: bn(C1),
            w2: vec![0.0; 3 * C1 * 3 * C2],
            bn2: bn(C2),
            w3: vec![0.0; 9 * C2 * C3],
            bn3: bn(C3),
            wh: vec![0.0; FLAT * HIDDEN],
            bnh: bn(HIDDEN),
            wo: vec![0.0; HIDDEN * OUTPUTS],
            bo: vec![0.0; OUTPUTS],
        }
    }

    /// The gradients in burn's layouts, registered under `net`'s parameters.
    fn into_params(self, net: &ConvNet, device: &Device) -> GradientsParams {
        let mut k1 = vec![0.0; C1 * 9];
        for k in 0..3 {
            for j in 0..3 {
                for c in 0..C1 {
                    k1[kernel_at(1, c, 0, k, j)] = self.w1[(k * 3 + j) * C1 + c];
                }
            }
        }
        let mut k2 = vec![0.0; C2 * C1 * 9];
        for j in 0..3 {
            for i in 0..C1 {
                for k in 0..3 {
                    for o in 0..C2 {
                        k2[kernel_at(C1, o, i, k, j)] = self.w2[(j * C1 + i) * 3 * C2 + k * C2 + o];
                    }
                }
            }
        }
        let mut k3 = vec![0.0; C3 * C2 * 9];
        for j in 0..3 {
            for q in 0..3 {
                for i in 0..C2 {
                    for o in 0..C3 {
                        k3[kernel_at(C2, o, i, q, j)] = self.w3[((j * 3 + q) * C2 + i) * C3 + o];
                    }
                }
            }
        }
        let mut dense = vec![0.0; FLAT * HIDDEN];
        for f in 0..P3 {
            for c in 0..C3 {
                let (ours, theirs) = ((f * C3 + c) * HIDDEN, (c * P3 + f) * HIDDEN);
                dense[theirs..theirs + HIDDEN].copy_from_slice(&self.wh[ours..ours + HIDDEN]);
            }
        }
        let mut grads = GradientsParams::new();
        let mut add = |param: &Param<Tensor<1>>, values: Vec<f32>| {
            let len = values.len();
            grads.register(
                param.id,
                Tensor::<1>::from_data(TensorData::new(values, [len]), device),
            );
        };
        add(&net.conv1.bn.gamma, self.bn1.0);
        add(&net.conv1.bn.beta, self.bn1.1);
        add(&net.conv2.bn.gamma, self.bn2.0);
        add(&net.conv2.bn.beta, self.bn2.1);
        add(&net.conv3.bn.gamma, self.bn3.0);
        add(&net.conv3.bn.beta, self.bn3.1);
        add(&net.hidden_bn.gamma, self.bnh.0);
        add(&net.hidden_bn.beta, self.bnh.1);
        if let Some(bias) = &net.output.bias {
            add(bias, self.bo);
        }
        let kernel = |param: &Param<Tensor<4>>, values: Vec<f32>, inputs: usize, outputs: usize| {
            (
                param.id,
                Tensor::<4>::from_data(TensorData::new(values, [outputs, inputs, 3, 3]), device),
            )
        };
        for (id, tensor) in [
            kernel(&net.conv1.conv.weight, k1, 1, C1),
            kernel(&net.conv2.conv.weight, k2, C1, C2),
            kernel(&net.conv3.conv.weight, k3, C2, C3),
        ] {
            grads.register(id, tensor);
        }
        let matrix = |values: Vec<f32>, rows: usize, cols: usize| {
            Tensor::<2>::from_data(TensorData::new(values, [rows, cols]), device)
        };
        grads.register(net.hidden.weight.id, matrix(dense, FLAT, HIDDEN));
        grads.register(net.output.weight.id, matrix(self.wo, HIDDEN, OUTPUTS));
        grads
    }
}
