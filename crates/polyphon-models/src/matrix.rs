//! Matrix products of strided views through `gemm`, the crate burn's flex backend uses, for
//! the native paths: a view reads a slice as rows and columns at any step, so overlapping
//! rows (a convolution's windows, no im2col copy) and transposes cost nothing.

/// A matrix read from a slice: element `(i, j)` is `data[i · row_step + j · col_step]`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct View<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    row_step: usize,
    col_step: usize,
}

impl<'a> View<'a> {
    /// `rows × cols`, rows `row_step` values apart, columns contiguous (rows may overlap).
    pub fn rows(data: &'a [f32], rows: usize, cols: usize, row_step: usize) -> Self {
        Self {
            data,
            rows,
            cols,
            row_step,
            col_step: 1,
        }
    }

    /// A row-major `rows × cols` matrix.
    pub fn dense(data: &'a [f32], rows: usize, cols: usize) -> Self {
        Self::rows(data, rows, cols, cols)
    }

    /// The transpose: the same values, rows and columns swapped.
    pub fn t(self) -> Self {
        Self {
            rows: self.cols,
            cols: self.rows,
            row_step: self.col_step,
            col_step: self.row_step,
            ..self
        }
    }

    /// Columns `from .. from + cols` of the view.
    pub fn columns(self, from: usize, cols: usize) -> Self {
        Self {
            data: &self.data[from * self.col_step..],
            cols,
            ..self
        }
    }

    fn last_index(&self) -> usize {
        (self.rows.max(1) - 1) * self.row_step + (self.cols.max(1) - 1) * self.col_step
    }
}

/// Whether a product runs on one thread (inside a parallel loop) or on all of rayon's.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Threads {
    One,
    All,
}

/// `dst = a × b` (or `dst += a × b` with `accumulate`), `dst` row-major `a.rows × b.cols`.
pub(crate) fn multiply(dst: &mut [f32], a: View, b: View, accumulate: bool, threads: Threads) {
    let (m, k, n) = (a.rows, a.cols, b.cols);
    assert_eq!(k, b.rows, "inner dimensions differ");
    if m == 0 || n == 0 {
        return;
    }
    assert!(dst.len() >= m * n, "destination too short");
    if k == 0 {
        if !accumulate {
            dst[..m * n].fill(0.0);
        }
        return;
    }
    assert!(
        a.last_index() < a.data.len(),
        "left matrix outside its slice"
    );
    assert!(
        b.last_index() < b.data.len(),
        "right matrix outside its slice"
    );
    let parallelism = match (threads, rayon::current_num_threads()) {
        (Threads::All, n) if n > 1 => gemm::Parallelism::Rayon(n),
        _ => gemm::Parallelism::None,
    };
    // SAFETY: the asserts keep every element read or written inside its slice, and `dst`
    // is exclusively borrowed, so it overlaps neither input.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            n as isize,
            accumulate,
            a.data.as_ptr(),
            a.col_step as isize,
            a.row_step as isize,
            b.data.as_ptr(),
            b.col_step as isize,
            b.row_step as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            parallelism,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The product by the definition, for comparison.
    fn naive(a: View, b: View) -> Vec<f32> {
        let at = |v: &View, i: usize, j: usize| v.data[i * v.row_step + j * v.col_step];
        let mut out = vec![0.0; a.rows * b.cols];
        for i in 0..a.rows {
            for j in 0..b.cols {
                out[i * b.cols + j] = (0..a.cols).map(|k| at(&a, i, k) * at(&b, k, j)).sum();
            }
        }
        out
    }

    #[test]
    fn overlapping_rows_transposes_and_accumulation_multiply_as_defined() {
        let data: Vec<f32> = (0..200).map(|i| ((i * 37) % 23) as f32 - 11.0).collect();
        // 10 overlapping rows of 12 values, 4 apart; a 12 × 5 matrix; its transpose's use.
        let a = View::rows(&data, 10, 12, 4);
        let b = View::dense(&data[60..], 12, 5);
        let mut out = vec![0.0; 50];
        multiply(&mut out, a, b, false, Threads::One);
        assert_eq!(out, naive(a, b));
        let twice: Vec<f32> = out.iter().map(|v| 2.0 * v).collect();
        multiply(&mut out, a, b, true, Threads::All);
        assert_eq!(out, twice);
        let mut t = vec![0.0; 12 * 12];
        multiply(&mut t, a.t(), a, false, Threads::One);
        assert_eq!(t, naive(a.t(), a));
        let mut cols = vec![0.0; 20];
        multiply(&mut cols, a, b.columns(3, 2), false, Threads::One);
        assert_eq!(cols, naive(a, b.columns(3, 2)));
    }
}
