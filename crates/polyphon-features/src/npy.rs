//! NumPy `.npy` output, written as rows arrive.
//!
//! Written by hand rather than with the `npyz` crate because `npyz` needs the array's shape
//! before the first row, and a streamed spectrogram's length is known only at its end: here a
//! fixed-size header is reserved and patched with the final shape.

use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use polyphon_core::AtomicFile;

use crate::{FeatureError, Result};

const MAGIC: &[u8] = b"\x93NUMPY\x01\x00";
/// Total header size; a multiple of 64 as NumPy wants, with room for any 3-D shape.
const HEADER_LEN: usize = 128;

/// Writes a little-endian float32 array of shape `(rows, inner...)` row by row.
pub struct NpyWriter {
    file: AtomicFile,
    inner_shape: Vec<usize>,
    row_len: usize,
    rows: u64,
}

impl NpyWriter {
    /// Starts `path` (under a temporary name until [`finish`](Self::finish)).
    pub fn create(path: impl AsRef<Path>, inner_shape: &[usize]) -> Result<Self> {
        let mut file = AtomicFile::create(path)?;
        file.write_all(&[0u8; HEADER_LEN])
            .map_err(|e| io_error(file.target(), e))?;
        Ok(Self {
            file,
            inner_shape: inner_shape.to_vec(),
            row_len: inner_shape.iter().product(),
            rows: 0,
        })
    }

    /// Appends whole rows (`values.len()` must be a multiple of the row length).
    pub fn write_rows(&mut self, values: &[f32]) -> Result<()> {
        assert_eq!(values.len() % self.row_len.max(1), 0, "partial row");
        let mut bytes = Vec::with_capacity(values.len() * 4);
        for v in values {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        let target = self.file.target().to_path_buf();
        self.file
            .write_all(&bytes)
            .map_err(|e| io_error(&target, e))?;
        self.rows += (values.len() / self.row_len.max(1)) as u64;
        Ok(())
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// Rewrites every value written so far through `transform`, in bounded-size chunks.
    pub fn transform_in_place(&mut self, mut transform: impl FnMut(&mut [f32])) -> Result<()> {
        let target = self.file.target().to_path_buf();
        let file = self.file.flushed_file()?;
        let total = self.rows as usize * self.row_len;
        let chunk_values = (1 << 20).max(self.row_len);
        let mut bytes = vec![0u8; chunk_values * 4];
        let mut values = vec![0f32; chunk_values];
        let mut done = 0usize;
        while done < total {
            let n = chunk_values.min(total - done);
            let offset = (HEADER_LEN + done * 4) as u64;
            let io = |e| io_error(&target, e);
            file.seek(SeekFrom::Start(offset)).map_err(io)?;
            file.read_exact(&mut bytes[..n * 4]).map_err(io)?;
            for (v, b) in values.iter_mut().zip(bytes.chunks_exact(4)) {
                *v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
            }
            transform(&mut values[..n]);
            for (v, b) in values[..n].iter().zip(bytes.chunks_exact_mut(4)) {
                b.copy_from_slice(&v.to_le_bytes());
            }
            file.seek(SeekFrom::Start(offset)).map_err(io)?;
            file.write_all(&bytes[..n * 4]).map_err(io)?;
            done += n;
        }
        file.seek(SeekFrom::End(0))
            .map_err(|e| io_error(&target, e))?;
        Ok(())
    }

    /// Writes the final shape into the header and moves the file to its name.
    pub fn finish(mut self) -> Result<PathBuf> {
        let target = self.file.target().to_path_buf();
        let header = header_bytes(self.rows, &self.inner_shape);
        let file = self.file.flushed_file()?;
        file.seek(SeekFrom::Start(0))
            .and_then(|_| file.write_all(&header))
            .map_err(|e| io_error(&target, e))?;
        Ok(self.file.commit()?)
    }
}

fn header_bytes(rows: u64, inner_shape: &[usize]) -> Vec<u8> {
    let mut shape = rows.to_string();
    for dim in inner_shape {
        shape.push_str(&format!(", {dim}"));
    }
    if inner_shape.is_empty() {
        shape.push(',');
    }
    let dict = format!("{{'descr': '<f4', 'fortran_order': False, 'shape': ({shape}), }}");
    let mut header = MAGIC.to_vec();
    let text_len = HEADER_LEN - MAGIC.len() - 2;
    header.extend_from_slice(&(text_len as u16).to_le_bytes());
    header.extend_from_slice(dict.as_bytes());
    header.resize(HEADER_LEN - 1, b' ');
    header.push(b'\n');
    header
}

fn io_error(path: &Path, source: std::io::Error) -> FeatureError {
    FeatureError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Reads a little-endian float32 C-order `.npy` file: its shape and its values.
pub fn read_npy_f32(path: impl AsRef<Path>) -> Result<(Vec<usize>, Vec<f32>)> {
    let path = path.as_ref();
    let bad = |detail: &str| FeatureError::BadNpy {
        path: path.to_path_buf(),
        detail: detail.to_string(),
    };
    let bytes = std::fs::read(path).map_err(|e| io_error(path, e))?;
    if bytes.len() < 10 || &bytes[..6] != b"\x93NUMPY" {
        return Err(bad("missing NumPy magic"));
    }
    let (header_len, start) = match bytes[6] {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => return Err(bad("unknown version")),
    };
    let header = std::str::from_utf8(
        bytes
            .get(start..start + header_len)
            .ok_or(bad("short header"))?,
    )
    .map_err(|_| bad("header is not text"))?;
    if !header.contains("'<f4'") || header.contains("'fortran_order': True") {
        return Err(bad("only little-endian float32 in C order is read"));
    }
    let shape_text = header
        .split("'shape': (")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .ok_or(bad("no shape"))?;
    let shape = shape_text
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>().map_err(|_| bad("bad shape")))
        .collect::<Result<Vec<_>>>()?;
    let data = &bytes[start + header_len..];
    let count: usize = shape.iter().product();
    if data.len() != count * 4 {
        return Err(bad("data length does not match the shape"));
    }
    let values = data
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    Ok((shape, values))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_rows_read_back_with_their_final_shape() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.npy");
        let mut writer = NpyWriter::create(&path, &[3]).unwrap();
        writer.write_rows(&[1.0, 2.0, 3.0]).unwrap();
        writer.write_rows(&[4.0, 5.0, 6.0, 7.0, 8.0, 9.0]).unwrap();
        writer
            .transform_in_place(|v| v.iter_mut().for_each(|x| *x *= 2.0))
            .unwrap();
        assert!(!path.exists(), "nothing under the final name before finish");
        writer.finish().unwrap();
        let (shape, values) = read_npy_f32(&path).unwrap();
        assert_eq!(shape, vec![3, 3]);
        assert_eq!(
            values,
            vec![2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0]
        );
        assert_eq!(std::fs::read(&path).unwrap().len(), HEADER_LEN + 36);
    }
}
