use std::f64::consts::PI;

/// Analysis window shapes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Window {
    /// `np.hanning(n)`: symmetric, zero at both ends (madmom's default).
    HannSymmetric,
    /// `scipy.signal.get_window('hann', n)`: periodic, the DFT-even form (librosa's default).
    HannPeriodic,
    /// No weighting.
    Rectangular,
}

impl Window {
    /// The `n` window coefficients, computed in f64 and rounded once.
    pub fn coefficients(self, n: usize) -> Vec<f32> {
        let denominator = match self {
            Window::HannSymmetric => n.saturating_sub(1).max(1) as f64,
            Window::HannPeriodic => n as f64,
            Window::Rectangular => return vec![1.0; n],
        };
        if n == 1 {
            return vec![1.0];
        }
        (0..n)
            .map(|i| (0.5 - 0.5 * (2.0 * PI * i as f64 / denominator).cos()) as f32)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn symmetric_hann_is_zero_at_both_ends_and_one_in_the_middle() {
        let w = Window::HannSymmetric.coefficients(5);
        assert_eq!(w, vec![0.0, 0.5, 1.0, 0.5, 0.0]);
    }

    #[test]
    fn periodic_hann_drops_the_last_zero() {
        let w = Window::HannPeriodic.coefficients(4);
        let expected = [0.0, 0.5, 1.0, 0.5];
        for (a, b) in w.iter().zip(expected) {
            assert!((a - b).abs() < 1e-7);
        }
    }
}
