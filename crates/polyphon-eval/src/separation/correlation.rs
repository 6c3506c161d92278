//! Short-lag cross-correlations of long signals, by FFT in blocks.
//!
//! BSS Eval needs `c_ab(k) = Σ_m a[m] · b[m + k]` (signals zero outside their length) for the
//! lags `|k| < L` (L = 512 filter taps) only. museval takes one FFT of the whole padded signal
//! per channel; here the sum over m is cut into blocks of B samples and each block's
//! contribution is a circular correlation of size N ≥ B + 2(L − 1), which is exact (no wrap
//! reaches the lags kept). The blocks' cross-spectra are summed and transformed back once per
//! pair at the end (the inverse FFT is linear), so the memory is flat in signal length.

use realfft::num_complex::Complex;
use realfft::RealFftPlanner;

/// FFT size of a block; each block covers `BLOCK_FFT - 2 (L - 1)` samples of the first signal.
const BLOCK_FFT: usize = 1 << 14;

/// Which correlations to take: `c_ab` for each `(a, b)`, indices into the signal list.
pub(crate) struct Correlations {
    max_lag: usize,
    values: Vec<Vec<f64>>,
}

impl Correlations {
    /// `c_ab(k)` of the `pair`-th requested pair, `-(L-1) <= k <= L-1`.
    pub(crate) fn get(&self, pair: usize, lag: isize) -> f64 {
        self.values[pair][(lag + self.max_lag as isize) as usize]
    }
}

/// Cross-correlations `c_ab(k)` for `|k| <= max_lag` of equally long `signals`, for every
/// pair in `pairs`.
pub(crate) fn correlations(
    signals: &[&[f64]],
    pairs: &[(usize, usize)],
    max_lag: usize,
) -> Correlations {
    let n = signals.first().map_or(0, |s| s.len());
    let mut fft_len = BLOCK_FFT;
    while fft_len < 4 * max_lag + 2 {
        fft_len *= 2;
    }
    // shorter signals need no bigger transform than one block of all of them
    while fft_len / 2 > n + 2 * max_lag && fft_len > 2 {
        fft_len /= 2;
    }
    let block = fft_len - 2 * max_lag;
    let bins = fft_len / 2 + 1;

    let mut planner = RealFftPlanner::<f64>::new();
    let forward = planner.plan_fft_forward(fft_len);
    let inverse = planner.plan_fft_inverse(fft_len);
    let mut scratch = forward.make_scratch_vec();

    // which signals appear first (as a block) and second (as a segment) in some pair
    let mut as_block = vec![false; signals.len()];
    let mut as_segment = vec![false; signals.len()];
    for &(a, b) in pairs {
        as_block[a] = true;
        as_segment[b] = true;
    }
    let mut block_spectra = vec![vec![Complex::default(); bins]; signals.len()];
    let mut segment_spectra = vec![vec![Complex::default(); bins]; signals.len()];
    let mut sums = vec![vec![Complex::<f64>::default(); bins]; pairs.len()];
    let mut buffer = vec![0.0; fft_len];

    let mut start = 0;
    while start < n {
        let len = block.min(n - start);
        for (index, signal) in signals.iter().enumerate() {
            if as_block[index] {
                buffer.fill(0.0);
                buffer[..len].copy_from_slice(&signal[start..start + len]);
                forward
                    .process_with_scratch(&mut buffer, &mut block_spectra[index], &mut scratch)
                    .expect("buffer sizes match the plan");
            }
            if as_segment[index] {
                // b[start - max_lag ..), zero outside the signal
                buffer.fill(0.0);
                let first = start.saturating_sub(max_lag);
                let last = (start + len + max_lag).min(n);
                let offset = first + max_lag - start;
                buffer[offset..offset + (last - first)].copy_from_slice(&signal[first..last]);
                forward
                    .process_with_scratch(&mut buffer, &mut segment_spectra[index], &mut scratch)
                    .expect("buffer sizes match the plan");
            }
        }
        for (sum, &(a, b)) in sums.iter_mut().zip(pairs) {
            for ((s, x), y) in sum
                .iter_mut()
                .zip(&block_spectra[a])
                .zip(&segment_spectra[b])
            {
                *s += x.conj() * y;
            }
        }
        start += len;
    }

    // Circular correlation u = k + max_lag of the block with its segment.
    let mut inverse_scratch = inverse.make_scratch_vec();
    let values = sums
        .into_iter()
        .map(|mut sum| {
            sum[0].im = 0.0;
            sum[bins - 1].im = 0.0;
            inverse
                .process_with_scratch(&mut sum, &mut buffer, &mut inverse_scratch)
                .expect("buffer sizes match the plan");
            buffer[..2 * max_lag + 1]
                .iter()
                .map(|v| v / fft_len as f64)
                .collect()
        })
        .collect();
    Correlations { max_lag, values }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct(a: &[f64], b: &[f64], k: isize) -> f64 {
        (0..a.len())
            .filter_map(|m| {
                let j = m as isize + k;
                (0..b.len() as isize)
                    .contains(&j)
                    .then(|| a[m] * b[j as usize])
            })
            .sum()
    }

    #[test]
    fn blocked_correlation_equals_the_direct_sum() {
        // several blocks, a partial last one, and a signal shorter than one block
        for n in [40_000usize, 700, 3] {
            let a: Vec<f64> = (0..n).map(|i| ((i * 7919) % 101) as f64 - 50.0).collect();
            let b: Vec<f64> = (0..n).map(|i| ((i * 104_729) % 89) as f64 - 44.0).collect();
            let max_lag = 511;
            let c = correlations(&[&a, &b], &[(0, 1), (1, 1), (1, 0)], max_lag);
            for k in [-511isize, -300, -1, 0, 1, 2, 255, 511] {
                for (pair, (x, y)) in [(&a, &b), (&b, &b), (&b, &a)].iter().enumerate() {
                    let want = direct(x, y, k);
                    let got = c.get(pair, k);
                    assert!(
                        (want - got).abs() <= 1e-9 * want.abs().max(1.0) * n as f64,
                        "n {n} lag {k} pair {pair}: {got} vs {want}"
                    );
                }
            }
        }
    }
}
