use std::path::Path;

use image::{ImageEncoder, RgbImage};
use polyphon_core::AtomicFile;

use crate::{FeatureError, Result};

/// Max-pools a stream of spectrogram frames into at most `2 * max_columns` image columns,
/// whatever the stream's length: when the columns fill up, neighbours merge and each
/// column starts covering twice as many frames.
pub struct ColumnPooler {
    max_columns: usize,
    frames_per_column: usize,
    columns: Vec<Vec<f32>>,
    in_last: usize,
}

impl ColumnPooler {
    pub fn new(max_columns: usize) -> Self {
        Self {
            max_columns: max_columns.max(1),
            frames_per_column: 1,
            columns: Vec::new(),
            in_last: 0,
        }
    }

    pub fn push(&mut self, row: &[f32]) {
        match self.columns.last_mut() {
            Some(last) if self.in_last < self.frames_per_column => {
                last.iter_mut().zip(row).for_each(|(a, b)| *a = a.max(*b));
                self.in_last += 1;
            }
            _ => {
                self.columns.push(row.to_vec());
                self.in_last = 1;
            }
        }
        if self.columns.len() == 2 * self.max_columns && self.in_last == self.frames_per_column {
            self.halve();
        }
    }

    fn halve(&mut self) {
        let merged = self
            .columns
            .chunks(2)
            .map(|pair| {
                let mut column = pair[0].clone();
                if let Some(second) = pair.get(1) {
                    column
                        .iter_mut()
                        .zip(second)
                        .for_each(|(a, b)| *a = a.max(*b));
                }
                column
            })
            .collect();
        self.columns = merged;
        self.frames_per_column *= 2;
        self.in_last = self.frames_per_column;
    }

    /// Rewrites every pooled value, e.g. to apply a scaling's global part afterwards
    /// (valid for monotone maps, which commute with max-pooling).
    pub fn map_values(&mut self, map: impl Fn(&mut [f32])) {
        self.columns.iter_mut().for_each(|column| map(column));
    }

    /// Frames summarised by each column.
    pub fn frames_per_column(&self) -> usize {
        self.frames_per_column
    }

    pub fn into_image(self) -> SpectrogramImage {
        SpectrogramImage {
            columns: self.columns,
            frames_per_column: self.frames_per_column,
        }
    }
}

/// A spectrogram drawn as a heat map: time left to right, low bins at the bottom.
pub struct SpectrogramImage {
    columns: Vec<Vec<f32>>,
    frames_per_column: usize,
}

/// Where frames and bins land in a rendered [`SpectrogramImage`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ImageGeometry {
    pub bins: usize,
    pub frames_per_column: usize,
    pub column_width: usize,
    pub row_height: usize,
}

impl ImageGeometry {
    /// Horizontal pixel where frame `frame` starts.
    pub fn x_of_frame(&self, frame: f64) -> f64 {
        frame / self.frames_per_column as f64 * self.column_width as f64
    }

    /// Top pixel row of bin `bin` (bin 0 is drawn at the bottom).
    pub fn y_of_bin(&self, bin: usize) -> usize {
        (self.bins - 1 - bin) * self.row_height
    }
}

impl SpectrogramImage {
    /// Writes a PNG (atomically), scaling values between their minimum and maximum.
    pub fn write_png(&self, path: impl AsRef<Path>) -> Result<()> {
        let (image, _) = self.render(path.as_ref())?;
        save_png(&image, path)
    }

    /// Draws the heat map; `path` only names the output in errors.
    pub fn render(&self, path: &Path) -> Result<(RgbImage, ImageGeometry)> {
        let width = self.columns.len();
        let bins = self.columns.first().map_or(0, Vec::len);
        if width == 0 || bins == 0 {
            return Err(FeatureError::Image {
                path: path.to_path_buf(),
                detail: "nothing to draw".into(),
            });
        }
        // Short inputs are stretched so the picture stays readable.
        let geometry = ImageGeometry {
            bins,
            frames_per_column: self.frames_per_column,
            column_width: 800usize.div_ceil(width).min(8),
            row_height: 400usize.div_ceil(bins),
        };
        let (low, high) = self.range();
        let mut image = RgbImage::new(
            (width * geometry.column_width) as u32,
            (bins * geometry.row_height) as u32,
        );
        for (x, column) in self.columns.iter().enumerate() {
            for (bin, &value) in column.iter().enumerate() {
                let level = ((value - low) / (high - low).max(f32::EPSILON)).clamp(0.0, 1.0);
                let colour = image::Rgb(magma(level));
                for dy in 0..geometry.row_height {
                    for dx in 0..geometry.column_width {
                        let y = geometry.y_of_bin(bin) + dy;
                        image.put_pixel((x * geometry.column_width + dx) as u32, y as u32, colour);
                    }
                }
            }
        }
        Ok((image, geometry))
    }

    fn range(&self) -> (f32, f32) {
        self.columns
            .iter()
            .flatten()
            .fold((f32::INFINITY, f32::NEG_INFINITY), |(lo, hi), &v| {
                (lo.min(v), hi.max(v))
            })
    }
}

/// Encodes `image` as PNG to `path`, atomically.
pub fn save_png(image: &RgbImage, path: impl AsRef<Path>) -> Result<()> {
    let path = path.as_ref();
    let mut file = AtomicFile::create(path)?;
    image::codecs::png::PngEncoder::new(&mut file)
        .write_image(
            image.as_raw(),
            image.width(),
            image.height(),
            image::ExtendedColorType::Rgb8,
        )
        .map_err(|e| FeatureError::Image {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })?;
    file.commit()?;
    Ok(())
}

/// A perceptually ordered dark-to-bright colour map, interpolated between magma's anchors.
fn magma(level: f32) -> [u8; 3] {
    const ANCHORS: [[f32; 3]; 6] = [
        [0.0, 0.0, 4.0],
        [59.0, 15.0, 112.0],
        [140.0, 41.0, 129.0],
        [222.0, 73.0, 104.0],
        [254.0, 159.0, 109.0],
        [252.0, 253.0, 191.0],
    ];
    let position = level * (ANCHORS.len() - 1) as f32;
    let i = (position.floor() as usize).min(ANCHORS.len() - 2);
    let t = position - i as f32;
    let mix = |c: usize| (ANCHORS[i][c] * (1.0 - t) + ANCHORS[i + 1][c] * t).round() as u8;
    [mix(0), mix(1), mix(2)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooling_bounds_the_columns_and_keeps_the_maximum() {
        let mut pooler = ColumnPooler::new(4);
        for i in 0..1000 {
            pooler.push(&[i as f32]);
        }
        let frames = pooler.frames_per_column();
        let image = pooler.into_image();
        assert!(image.columns.len() <= 8);
        assert_eq!(image.columns.len(), 1000usize.div_ceil(frames));
        assert_eq!(image.columns.last().unwrap()[0], 999.0);
        assert_eq!(image.columns[0][0], (frames - 1) as f32);
    }
}
