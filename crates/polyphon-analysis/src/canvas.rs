//! A small RGB drawing surface with a built-in 5×7 pixel font, enough for bar charts.
//!
//! Charts are drawn here rather than through a plotting library because a plotting library
//! needs a font renderer and font files to write text; a pixel font keeps the PNGs identical on
//! every machine and adds no dependency. Letters are drawn as capitals.

use image::{Rgb, RgbImage};

pub type Colour = Rgb<u8>;

pub const BLACK: Colour = Rgb([0, 0, 0]);
pub const WHITE: Colour = Rgb([255, 255, 255]);
pub const GREY: Colour = Rgb([120, 120, 120]);
pub const LIGHT_GREY: Colour = Rgb([225, 225, 225]);

/// Glyph cell: 5 columns and 7 rows of pixels, plus one column of spacing.
const GLYPH_WIDTH: u32 = 5;
const GLYPH_HEIGHT: u32 = 7;
const ADVANCE: u32 = GLYPH_WIDTH + 1;

/// An image being drawn on; every drawing call clips to the image.
pub struct Canvas {
    image: RgbImage,
}

impl Canvas {
    /// A white canvas.
    pub fn new(width: u32, height: u32) -> Self {
        Self {
            image: RgbImage::from_pixel(width.max(1), height.max(1), WHITE),
        }
    }

    pub fn width(&self) -> u32 {
        self.image.width()
    }

    pub fn height(&self) -> u32 {
        self.image.height()
    }

    pub fn into_image(self) -> RgbImage {
        self.image
    }

    /// Fills the rectangle with top-left corner `(x, y)`.
    pub fn fill_rect(&mut self, x: i64, y: i64, width: u32, height: u32, colour: Colour) {
        let x0 = x.max(0);
        let y0 = y.max(0);
        let x1 = (x + i64::from(width)).min(i64::from(self.width()));
        let y1 = (y + i64::from(height)).min(i64::from(self.height()));
        for py in y0..y1 {
            for px in x0..x1 {
                self.image.put_pixel(px as u32, py as u32, colour);
            }
        }
    }

    /// Writes `text` with its top-left corner at `(x, y)`, each font pixel `scale` pixels wide.
    pub fn text(&mut self, x: i64, y: i64, text: &str, scale: u32, colour: Colour) {
        let step = i64::from(scale);
        for (index, ch) in text.chars().enumerate() {
            let left = x + index as i64 * i64::from(ADVANCE) * step;
            for (row, bits) in glyph(ch).iter().enumerate() {
                for column in 0..GLYPH_WIDTH {
                    if bits & (1 << (GLYPH_WIDTH - 1 - column)) != 0 {
                        let px = left + i64::from(column) * step;
                        let py = y + row as i64 * step;
                        self.fill_rect(px, py, scale, scale, colour);
                    }
                }
            }
        }
    }

    /// Writes `text` centred horizontally on `centre_x`.
    pub fn text_centred(&mut self, centre_x: i64, y: i64, text: &str, scale: u32, colour: Colour) {
        let x = centre_x - i64::from(text_width(text, scale)) / 2;
        self.text(x, y, text, scale, colour);
    }

    /// Writes `text` ending at `right_x`.
    pub fn text_right(&mut self, right_x: i64, y: i64, text: &str, scale: u32, colour: Colour) {
        self.text(
            right_x - i64::from(text_width(text, scale)),
            y,
            text,
            scale,
            colour,
        );
    }
}

/// Pixel width of `text` at `scale`.
pub fn text_width(text: &str, scale: u32) -> u32 {
    let n = text.chars().count() as u32;
    (n * ADVANCE).saturating_sub(1) * scale
}

/// Pixel height of one line of text at `scale`.
pub fn text_height(scale: u32) -> u32 {
    GLYPH_HEIGHT * scale
}

/// The rows of a character, top first; bit 4 is the leftmost column. Lower case is drawn as
/// upper case and anything without a glyph as `?`.
fn glyph(ch: char) -> [u8; 7] {
    match ch.to_ascii_uppercase() {
        '0' => [0x0E, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0E],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '6' => [0x06, 0x08, 0x10, 0x1E, 0x11, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'D' => [0x1C, 0x12, 0x11, 0x11, 0x11, 0x12, 0x1C],
        'E' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x1F],
        'F' => [0x1F, 0x10, 0x10, 0x1E, 0x10, 0x10, 0x10],
        'G' => [0x0E, 0x11, 0x10, 0x17, 0x11, 0x11, 0x0F],
        'H' => [0x11, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'I' => [0x0E, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0E],
        'J' => [0x07, 0x02, 0x02, 0x02, 0x02, 0x12, 0x0C],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'L' => [0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x1F],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'N' => [0x11, 0x11, 0x19, 0x15, 0x13, 0x11, 0x11],
        'O' => [0x0E, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'P' => [0x1E, 0x11, 0x11, 0x1E, 0x10, 0x10, 0x10],
        'Q' => [0x0E, 0x11, 0x11, 0x11, 0x15, 0x12, 0x0D],
        'R' => [0x1E, 0x11, 0x11, 0x1E, 0x14, 0x12, 0x11],
        'S' => [0x0F, 0x10, 0x10, 0x0E, 0x01, 0x01, 0x1E],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'U' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x0E],
        'V' => [0x11, 0x11, 0x11, 0x11, 0x11, 0x0A, 0x04],
        'W' => [0x11, 0x11, 0x11, 0x15, 0x15, 0x15, 0x0A],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Y' => [0x11, 0x11, 0x0A, 0x04, 0x04, 0x04, 0x04],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        '#' => [0x0A, 0x0A, 0x1F, 0x0A, 0x1F, 0x0A, 0x0A],
        ',' => [0x00, 0x00, 0x00, 0x00, 0x0C, 0x04, 0x08],
        '.' => [0x00, 0x00, 0x00, 0x00, 0x00, 0x0C, 0x0C],
        '-' => [0x00, 0x00, 0x00, 0x0E, 0x00, 0x00, 0x00],
        '(' => [0x02, 0x04, 0x08, 0x08, 0x08, 0x04, 0x02],
        ')' => [0x08, 0x04, 0x02, 0x02, 0x02, 0x04, 0x08],
        '%' => [0x18, 0x19, 0x02, 0x04, 0x08, 0x13, 0x03],
        ':' => [0x00, 0x0C, 0x0C, 0x00, 0x0C, 0x0C, 0x00],
        '/' => [0x00, 0x01, 0x02, 0x04, 0x08, 0x10, 0x00],
        '+' => [0x00, 0x04, 0x04, 0x1F, 0x04, 0x04, 0x00],
        '=' => [0x00, 0x00, 0x1F, 0x00, 0x1F, 0x00, 0x00],
        ' ' => [0x00; 7],
        _ => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x00, 0x04],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text's pixels as `#` and `.`, one string per row.
    fn render(text: &str) -> Vec<String> {
        let mut canvas = Canvas::new(text_width(text, 1), text_height(1));
        canvas.text(0, 0, text, 1, BLACK);
        let image = canvas.into_image();
        (0..image.height())
            .map(|y| {
                (0..image.width())
                    .map(|x| {
                        if image.get_pixel(x, y)[0] == 0 {
                            '#'
                        } else {
                            '.'
                        }
                    })
                    .collect()
            })
            .collect()
    }

    #[test]
    fn glyphs_draw_their_bits_left_to_right() {
        assert_eq!(
            render("C#4"),
            [
                ".###...#.#.....#.",
                "#...#..#.#....##.",
                "#.....#####..#.#.",
                "#......#.#..#..#.",
                "#.....#####.#####",
                "#...#..#.#.....#.",
                ".###...#.#.....#.",
            ]
        );
    }

    #[test]
    fn drawing_clips_to_the_canvas() {
        let mut canvas = Canvas::new(4, 4);
        canvas.fill_rect(-2, 2, 10, 10, BLACK);
        canvas.text(-100, -100, "X", 3, BLACK);
        let image = canvas.into_image();
        assert_eq!(image.get_pixel(0, 3)[0], 0);
        assert_eq!(image.get_pixel(0, 1)[0], 255);
        assert_eq!(text_width("AB", 2), 22);
    }

    #[test]
    fn every_note_name_character_has_a_glyph() {
        let fallback = glyph('\u{1}');
        for ch in "ABCDEFG#0123456789-,()".chars() {
            assert_ne!(glyph(ch), fallback, "{ch}");
        }
        assert_eq!(glyph('a'), glyph('A'));
    }
}
