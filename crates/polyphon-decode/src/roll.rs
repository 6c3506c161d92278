use std::path::Path;

use polyphon_features::image_crate::Rgb;
use polyphon_features::ColumnPooler;

use crate::{DecodeError, Note, Result};

/// Colour of the decoded notes' outlines, chosen to stand out from the magma heat map.
const OUTLINE: Rgb<u8> = Rgb([0, 230, 255]);

/// A piano roll image: the model's probabilities (time left to right, pitch upwards) with the
/// decoded notes outlined over them. Frames are max-pooled as they arrive, so memory stays
/// bounded however long the input is.
pub struct PianoRoll {
    pooler: ColumnPooler,
    lowest_pitch: u8,
    fps: f64,
}

impl PianoRoll {
    pub fn new(lowest_pitch: u8, fps: f64) -> Self {
        Self {
            pooler: ColumnPooler::new(1600),
            lowest_pitch,
            fps,
        }
    }

    /// Adds one frame of probabilities.
    pub fn push(&mut self, row: &[f32]) {
        self.pooler.push(row);
    }

    /// Draws the roll with `notes` outlined and writes it to `path` (atomically).
    pub fn write_png(self, notes: &[Note], path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let image_error = |e: polyphon_features::FeatureError| DecodeError::Image {
            path: path.to_path_buf(),
            detail: e.to_string(),
        };
        let (mut image, geometry) = self.pooler.into_image().render(path).map_err(image_error)?;
        let (width, height) = (image.width() as i64, image.height() as i64);
        for note in notes {
            let Some(bin) = (note.pitch as usize).checked_sub(self.lowest_pitch as usize) else {
                continue;
            };
            if bin >= geometry.bins {
                continue;
            }
            let left = geometry.x_of_frame(note.onset * self.fps) as i64;
            let right = (geometry.x_of_frame(note.offset * self.fps) as i64 - 1).max(left);
            let top = geometry.y_of_bin(bin) as i64;
            let bottom = top + geometry.row_height as i64 - 1;
            let mut plot = |x: i64, y: i64| {
                if (0..width).contains(&x) && (0..height).contains(&y) {
                    image.put_pixel(x as u32, y as u32, OUTLINE);
                }
            };
            for x in left..=right {
                plot(x, top);
                plot(x, bottom);
            }
            for y in top..=bottom {
                plot(left, y);
                plot(right, y);
            }
        }
        polyphon_features::save_png(&image, path).map_err(image_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roll_with_notes_is_written_as_png() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("roll.png");
        let mut roll = PianoRoll::new(21, 100.0);
        for k in 0..300 {
            let mut row = vec![0.0; 88];
            row[39] = if (50..150).contains(&k) { 0.9 } else { 0.05 };
            roll.push(&row);
        }
        roll.write_png(&[Note::new(0.5, 1.5, 60, 100)], &path)
            .unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert!(bytes.starts_with(b"\x89PNG"));
    }
}
