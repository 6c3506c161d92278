//! The ConvNet's inference without burn: batch norm folded into the weights, weights laid
//! out once for `gemm`, buffers reused, and the convolutions shared between overlapping
//! windows, computing exactly what the per-window network computes.
//!
//! # Why sharing is exact
//!
//! The network sees each frame `t` as a 5-frame window (rows `t-2 .. t+2`, edge frames
//! repeated at the input's ends), and its first convolution pads *inside the window*: the rows
//! above and below the window count as zeros. Neighbouring windows therefore do not see the
//! same first-layer activations at their edges, and a plain whole-sequence pass would differ.
//! The first two convolutions are linear before their batch norm and rectifier, so with
//! `a_k(r)` the first kernel's time row `k` applied along frequency to input row `r`, a first-
//! layer activation is one of three sums:
//!
//! - inside a window: `full(r) = a_0(r-1) + a_1(r) + a_2(r+1)`;
//! - a window's top row: `top(r) = a_1(r) + a_2(r+1)`;
//! - its bottom row: `bottom(r) = a_0(r-1) + a_1(r)`.
//!
//! The second convolution (3 time rows `B_k`) gives each window three rows. Its middle row
//! reads only `full` activations; its top row reads `top(t-2)` and its bottom row `bottom(t+2)`
//! in one term each. So `B_0, B_1, B_2` are applied once per input row to `full`, `B_0` once
//! per window to `top` and `B_2` to `bottom`, and each window sums its three terms per row.
//! The third convolution reads the window's own three rows, and the dense layers its one
//! row: nothing more is shared there.
//!
//! Multiply-adds per frame: 10.5 M for the per-window network, 7.6 M here.
//!
//! # Layout
//!
//! Activations are `[row][frequency][channel]`, channels contiguous. A convolution over 3
//! frequencies of such a row is one matrix product whose left-hand rows are overlapping
//! 96-value views (`frequency .. frequency + 3` × 32 channels) one channel block apart, so no
//! im2col copy is made; the last two positions of each row read into the next row and are
//! dropped, as the valid convolution has two positions fewer.

use rayon::prelude::*;

use super::{ConvNet, CONTEXT_FRAMES, INPUT_BINS};
use crate::fold::{batch_norm_affine, values};
use crate::layers::ConvBn;
use crate::matrix::{multiply, Threads, View};
use crate::Result;

/// Channels of the first and second convolutions, and of the third.
pub(super) const C1: usize = 32;
pub(super) const C2: usize = 32;
pub(super) const C3: usize = 64;
/// Frequency positions after each valid convolution and pooling.
pub(super) const F2: usize = INPUT_BINS - 2; // 227
pub(super) const P2: usize = F2 / 2; // 113
pub(super) const F3: usize = P2 - 2; // 111
pub(super) const P3: usize = F3 / 2; // 55
pub(super) const FLAT: usize = P3 * C3; // 3520
pub(super) const HIDDEN: usize = 512;
pub(super) const OUTPUTS: usize = ConvNet::OUTPUTS;
/// Frames whose convolutions one thread computes at a time: the buffers stay within a few
/// megabytes, and the matrix products still have thousands of rows.
const BLOCK: usize = 32;

/// The ConvNet's weights as the native path uses them; see the [module documentation](self).
#[derive(Debug, Clone)]
pub struct NativeConvNet {
    /// First convolution, `[time row k][frequency j][channel]`, batch-norm scale folded in.
    w1: Vec<f32>,
    b1: Vec<f32>,
    /// Second convolution, all three time rows side by side: `[j·C1 + in][k·C2 + out]`.
    w2: Vec<f32>,
    b2: Vec<f32>,
    /// Third convolution, `[(j·3 + window row)·C2 + in][out]`.
    w3: Vec<f32>,
    b3: Vec<f32>,
    /// Hidden dense layer over the flattened `[frequency][channel]` features, batch norm
    /// folded in, and the output layer.
    w_hidden: Vec<f32>,
    b_hidden: Vec<f32>,
    w_out: Vec<f32>,
    b_out: Vec<f32>,
}

/// A 3×3 convolution's kernel `[out][in][time][frequency]` with its batch-norm scale, and
/// the batch norm's shift.
pub(super) fn conv_kernel(layer: &ConvBn) -> Result<(Vec<f32>, usize, usize, Vec<f32>)> {
    let [out, inputs, _, _] = layer.conv.weight.dims();
    let mut kernel = values(layer.conv.weight.val())?;
    let (scale, shift) = batch_norm_affine(&layer.bn)?;
    for (o, chunk) in kernel.chunks_mut(inputs * 9).enumerate() {
        chunk.iter_mut().for_each(|w| *w *= scale[o]);
    }
    Ok((kernel, out, inputs, shift))
}

impl NativeConvNet {
    /// Lays out a trained ConvNet's weights (inference mode: running statistics).
    pub fn new(net: &ConvNet) -> Result<Self> {
        let at = |kernel: &[f32], inputs: usize, o: usize, i: usize, k: usize, j: usize| {
            kernel[((o * inputs + i) * 3 + k) * 3 + j]
        };
        let (k1, _, _, b1) = conv_kernel(&net.conv1)?;
        let mut w1 = vec![0.0; 9 * C1];
        for (k, j, c) in itertools3(3, 3, C1) {
            w1[(k * 3 + j) * C1 + c] = at(&k1, 1, c, 0, k, j);
        }
        let (k2, _, _, b2) = conv_kernel(&net.conv2)?;
        let mut w2 = vec![0.0; 3 * C1 * 3 * C2];
        for (j, i, o) in itertools3(3, C1, C2) {
            for k in 0..3 {
                w2[(j * C1 + i) * 3 * C2 + k * C2 + o] = at(&k2, C1, o, i, k, j);
            }
        }
        let (k3, _, _, b3) = conv_kernel(&net.conv3)?;
        let mut w3 = vec![0.0; 9 * C2 * C3];
        for (j, q, i) in itertools3(3, 3, C2) {
            for o in 0..C3 {
                w3[((j * 3 + q) * C2 + i) * C3 + o] = at(&k3, C2, o, i, q, j);
            }
        }
        // burn flattens `[channel][1][frequency]`: input `c · P3 + f`; ours is `f · C3 + c`.
        let dense = values(net.hidden.weight.val())?;
        let (scale, b_hidden) = batch_norm_affine(&net.hidden_bn)?;
        let mut w_hidden = vec![0.0; FLAT * HIDDEN];
        for (f, c, h) in itertools3(P3, C3, HIDDEN) {
            w_hidden[(f * C3 + c) * HIDDEN + h] = dense[(c * P3 + f) * HIDDEN + h] * scale[h];
        }
        let w_out = values(net.output.weight.val())?;
        let b_out = match &net.output.bias {
            Some(bias) => values(bias.val())?,
            None => vec![0.0; OUTPUTS],
        };
        Ok(Self {
            w1,
            b1,
            w2,
            b2,
            w3,
            b3,
            w_hidden,
            b_hidden,
            w_out,
            b_out,
        })
    }

    /// Note probabilities `(frames, 88)` of a `(frames, 229)` row-major feature matrix, as
    /// [`super::TranscriptionModel::predict`] gives them for the ConvNet: each frame seen
    /// with 2 frames of context on each side, the edge frames repeated.
    pub fn predict(&self, features: &[f32]) -> Vec<f32> {
        let frames = features.len() / INPUT_BINS;
        if frames == 0 {
            return Vec::new();
        }
        let padded = pad_edges(features, frames);
        let mut flat = vec![0.0; frames * FLAT];
        flat.par_chunks_mut(BLOCK * FLAT).enumerate().for_each_init(
            Scratch::default,
            |scratch, (block, out)| {
                let first = block * BLOCK;
                let count = out.len() / FLAT;
                let rows = &padded[first * INPUT_BINS..(first + count + 4) * INPUT_BINS];
                self.convolutions(rows, count, scratch, out);
            },
        );
        self.dense(&flat, frames)
    }

    /// The three convolutions of `count` windows whose `count + 4` padded input rows are
    /// `rows`; writes their pooled, flattened features into `out` (`count × FLAT`).
    fn convolutions(&self, rows: &[f32], count: usize, s: &mut Scratch, out: &mut [f32]) {
        let total = count + 4;
        // First convolution, each kernel time row applied along frequency to every row.
        // Every value is written below, so a buffer of the right size is not cleared first.
        s.partial.resize(3 * total * INPUT_BINS * C1, 0.0);
        for (r, row) in rows.chunks_exact(INPUT_BINS).enumerate() {
            for k in 0..3 {
                let start = (k * total + r) * INPUT_BINS * C1;
                let partial = &mut s.partial[start..start + INPUT_BINS * C1];
                self.conv1_row(row, k, partial);
            }
        }
        let a = |k: usize, r: usize, f: usize| {
            let start = ((k * total + r) * INPUT_BINS + f) * C1;
            &s.partial[start..start + C1]
        };
        // Rectified activations: full ones for rows 1 ..= count + 2, a window's top row for
        // rows 0 .. count, its bottom row for rows 4 .. count + 4.
        let width = INPUT_BINS * C1;
        s.full.resize((count + 2) * width, 0.0);
        s.top.resize(count * width, 0.0);
        s.bottom.resize(count * width, 0.0);
        for r in 1..count + 3 {
            for f in 0..INPUT_BINS {
                let out = &mut s.full[((r - 1) * INPUT_BINS + f) * C1..][..C1];
                sum3_relu(out, [a(0, r - 1, f), a(1, r, f), a(2, r + 1, f)], &self.b1);
            }
        }
        for t in 0..count {
            for f in 0..INPUT_BINS {
                let out = &mut s.top[(t * INPUT_BINS + f) * C1..][..C1];
                sum3_relu(out, [a(1, t, f), a(2, t + 1, f), &ZEROS[..C1]], &self.b1);
                let out = &mut s.bottom[(t * INPUT_BINS + f) * C1..][..C1];
                sum3_relu(
                    out,
                    [a(0, t + 3, f), a(1, t + 4, f), &ZEROS[..C1]],
                    &self.b1,
                );
            }
        }
        // Second convolution: all three kernel rows on the full activations, the first on
        // the top rows, the last on the bottom rows.
        let views = |rows: usize| rows * INPUT_BINS - 2;
        s.p.resize(views(count + 2) * 3 * C2, 0.0);
        s.d_top.resize(views(count) * C2, 0.0);
        s.d_bottom.resize(views(count) * C2, 0.0);
        let (m_full, m_edge) = (views(count + 2), views(count));
        let w2 = View::dense(&self.w2, 3 * C1, 3 * C2);
        multiply(
            &mut s.p,
            View::rows(&s.full, m_full, 3 * C1, C1),
            w2,
            false,
            Threads::One,
        );
        let (top, bottom) = (w2.columns(0, C2), w2.columns(2 * C2, C2));
        multiply(
            &mut s.d_top,
            View::rows(&s.top, m_edge, 3 * C1, C1),
            top,
            false,
            Threads::One,
        );
        multiply(
            &mut s.d_bottom,
            View::rows(&s.bottom, m_edge, 3 * C1, C1),
            bottom,
            false,
            Threads::One,
        );
        self.second_layer_rows(count, s);
        // Third convolution over the window's three rows at once.
        let m3 = count * P2 - 2;
        s.c3.resize(m3 * C3, 0.0);
        let w3 = View::dense(&self.w3, 9 * C2, C3);
        multiply(
            &mut s.c3,
            View::rows(&s.g, m3, 9 * C2, 3 * C2),
            w3,
            false,
            Threads::One,
        );
        for (t, flat) in out.chunks_exact_mut(FLAT).enumerate() {
            for f in 0..P3 {
                let left = &s.c3[(t * P2 + 2 * f) * C3..][..C3];
                let right = &s.c3[(t * P2 + 2 * f + 1) * C3..][..C3];
                for c in 0..C3 {
                    let value = left[c].max(right[c]) + self.b3[c];
                    flat[f * C3 + c] = value.max(0.0);
                }
            }
        }
    }

    /// Input row `row` convolved along frequency with time row `k` of the first kernel
    /// (zeros beyond the band edges), into `out` (`INPUT_BINS × C1`).
    fn conv1_row(&self, row: &[f32], k: usize, out: &mut [f32]) {
        convolve_along_frequency(row, &self.w1[k * 3 * C1..][..3 * C1], out);
    }

    /// Each window's three second-layer rows, rectified and pooled along frequency, into
    /// `g` as `[window][pooled frequency][window row][channel]`: the layout in which the
    /// third convolution's inputs for one position are contiguous.
    fn second_layer_rows(&self, count: usize, s: &mut Scratch) {
        s.g.resize(count * P2 * 3 * C2, 0.0);
        let p = |r: usize, k: usize, f: usize| &s.p[((r * INPUT_BINS + f) * 3 + k) * C2..][..C2];
        let edge = |d: &[f32], t: usize, f: usize| -> [f32; C2] {
            let mut v = [0.0; C2];
            v.copy_from_slice(&d[(t * INPUT_BINS + f) * C2..][..C2]);
            v
        };
        for t in 0..count {
            // Rows of `p` are padded rows 1 .., so padded row `t + i` is `p` row `t + i - 1`.
            for fp in 0..P2 {
                for q in 0..3 {
                    let mut best = [f32::NEG_INFINITY; C2];
                    for f in [2 * fp, 2 * fp + 1] {
                        let sum = match q {
                            0 => add3(&edge(&s.d_top, t, f), p(t, 1, f), p(t + 1, 2, f)),
                            1 => add3(p(t, 0, f), p(t + 1, 1, f), p(t + 2, 2, f)),
                            _ => add3(p(t + 1, 0, f), p(t + 2, 1, f), &edge(&s.d_bottom, t, f)),
                        };
                        best.iter_mut().zip(sum).for_each(|(b, v)| *b = b.max(v));
                    }
                    let out = &mut s.g[((t * P2 + fp) * 3 + q) * C2..][..C2];
                    for ((o, b), bias) in out.iter_mut().zip(best).zip(&self.b2) {
                        *o = (b + bias).max(0.0);
                    }
                }
            }
        }
    }

    /// The dense layers over the flattened features of every frame, then the sigmoid.
    fn dense(&self, flat: &[f32], frames: usize) -> Vec<f32> {
        let mut hidden = vec![0.0; frames * HIDDEN];
        let w_hidden = View::dense(&self.w_hidden, FLAT, HIDDEN);
        multiply(
            &mut hidden,
            View::dense(flat, frames, FLAT),
            w_hidden,
            false,
            Threads::All,
        );
        for row in hidden.chunks_exact_mut(HIDDEN) {
            for (h, b) in row.iter_mut().zip(&self.b_hidden) {
                *h = (*h + b).max(0.0);
            }
        }
        let mut out = vec![0.0; frames * OUTPUTS];
        let w_out = View::dense(&self.w_out, HIDDEN, OUTPUTS);
        multiply(
            &mut out,
            View::dense(&hidden, frames, HIDDEN),
            w_out,
            false,
            Threads::All,
        );
        for row in out.chunks_exact_mut(OUTPUTS) {
            for (o, b) in row.iter_mut().zip(&self.b_out) {
                *o = 1.0 / (1.0 + (-(*o + b)).exp());
            }
        }
        out
    }
}

/// Buffers of one thread, kept between blocks.
#[derive(Default)]
struct Scratch {
    partial: Vec<f32>,
    full: Vec<f32>,
    top: Vec<f32>,
    bottom: Vec<f32>,
    p: Vec<f32>,
    d_top: Vec<f32>,
    d_bottom: Vec<f32>,
    g: Vec<f32>,
    c3: Vec<f32>,
}

const ZEROS: [f32; 64] = [0.0; 64];

/// `out = max(a + b + c + bias, 0)` element-wise.
fn sum3_relu(out: &mut [f32], [a, b, c]: [&[f32]; 3], bias: &[f32]) {
    for i in 0..out.len() {
        out[i] = (a[i] + b[i] + c[i] + bias[i]).max(0.0);
    }
}

fn add3(a: &[f32], b: &[f32], c: &[f32]) -> [f32; C2] {
    std::array::from_fn(|i| a[i] + b[i] + c[i])
}

/// `row` (`INPUT_BINS` values) convolved with one time row of the first kernel, `kernel`
/// `[frequency tap][channel]` (zeros beyond the band edges), into `out` `[frequency][channel]`.
pub(super) fn convolve_along_frequency(row: &[f32], kernel: &[f32], out: &mut [f32]) {
    let (w0, w1, w2) = (&kernel[..C1], &kernel[C1..2 * C1], &kernel[2 * C1..]);
    for (f, out) in out.chunks_exact_mut(C1).enumerate() {
        let left = f.checked_sub(1).map_or(0.0, |g| row[g]);
        let right = row.get(f + 1).copied().unwrap_or(0.0);
        let centre = row[f];
        for c in 0..C1 {
            out[c] = left * w0[c] + centre * w1[c] + right * w2[c];
        }
    }
}

/// All `(a, b, c)` below the bounds, `c` fastest.
fn itertools3(a: usize, b: usize, c: usize) -> impl Iterator<Item = (usize, usize, usize)> {
    (0..a).flat_map(move |x| (0..b).flat_map(move |y| (0..c).map(move |z| (x, y, z))))
}

/// The input with its first and last frames repeated twice, as the windows see it.
fn pad_edges(features: &[f32], frames: usize) -> Vec<f32> {
    let radius = CONTEXT_FRAMES / 2;
    let first = &features[..INPUT_BINS];
    let last = &features[(frames - 1) * INPUT_BINS..];
    let mut padded = Vec::with_capacity((frames + 2 * radius) * INPUT_BINS);
    (0..radius).for_each(|_| padded.extend_from_slice(first));
    padded.extend_from_slice(features);
    (0..radius).for_each(|_| padded.extend_from_slice(last));
    padded
}
