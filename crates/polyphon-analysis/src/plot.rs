//! Bar charts in the style of the paper's figures 3–6: for each combination, the share of its
//! frames transcribed exactly, with notes added and with notes omitted.

use image::{Rgb, RgbImage};

use crate::canvas::{text_height, text_width, Canvas, Colour, BLACK, GREY, LIGHT_GREY};
use crate::summary::CombinationRow;

pub const EXACT_COLOUR: Colour = Rgb([44, 160, 44]);
pub const ADDED_COLOUR: Colour = Rgb([214, 39, 40]);
pub const OMITTED_COLOUR: Colour = Rgb([31, 119, 180]);

const SCALE: u32 = 2;
const BAR_WIDTH: u32 = 14;
const GROUP_GAP: u32 = 18;
const PLOT_HEIGHT: u32 = 240;
const LEFT: u32 = 70;
const RIGHT: u32 = 20;
const TOP: u32 = 20;
const LINE: u32 = 18;
const MIN_WIDTH: u32 = 480;

/// Draws one bar chart: a title, a legend, shares from 0 to 1 on the y axis, and per
/// combination three bars (exact, added, omitted) above its notes written one per line, lowest
/// at the bottom, and its frame count.
pub fn bar_chart(title: &str, rows: &[&CombinationRow]) -> RgbImage {
    let group_width = 3 * BAR_WIDTH + GROUP_GAP;
    let max_notes = rows.iter().map(|r| r.polyphony().max(1)).max().unwrap_or(1) as u32;
    let plot_width = (rows.len() as u32 * group_width).max(group_width);
    let width = (LEFT + plot_width + RIGHT)
        .max(text_width(title, SCALE) + 2 * RIGHT)
        .max(LEFT + legend_width() + RIGHT)
        .max(MIN_WIDTH);
    // Grid lines run across the whole image, bars start at the left.
    let plot_width = width - LEFT - RIGHT;
    let legend_y = legend_top();
    let plot_top = plot_top();
    let plot_bottom = plot_top + PLOT_HEIGHT;
    let height = plot_bottom + 10 + (max_notes + 1) * LINE + 10;

    let mut canvas = Canvas::new(width, height);
    canvas.text(i64::from(RIGHT), i64::from(TOP), title, SCALE, BLACK);
    draw_legend(&mut canvas, legend_y);
    draw_axis(&mut canvas, plot_top, plot_width);
    if rows.is_empty() {
        canvas.text(
            i64::from(LEFT + 10),
            i64::from(plot_top + PLOT_HEIGHT / 2),
            "no combinations",
            SCALE,
            GREY,
        );
    }
    for (index, row) in rows.iter().enumerate() {
        let left = LEFT + GROUP_GAP / 2 + index as u32 * group_width;
        let shares = [
            (row.counts.exact_share(), EXACT_COLOUR),
            (row.counts.added_share(), ADDED_COLOUR),
            (row.counts.omitted_share(), OMITTED_COLOUR),
        ];
        for (bar, (share, colour)) in shares.into_iter().enumerate() {
            let bar_height =
                (share.unwrap_or(0.0).clamp(0.0, 1.0) * f64::from(PLOT_HEIGHT)).round() as u32;
            let x = left + bar as u32 * BAR_WIDTH;
            canvas.fill_rect(
                i64::from(x),
                i64::from(plot_bottom - bar_height),
                BAR_WIDTH - 2,
                bar_height,
                colour,
            );
        }
        draw_label(&mut canvas, row, left + (3 * BAR_WIDTH) / 2, plot_bottom);
    }
    canvas.into_image()
}

fn legend_top() -> u32 {
    TOP + text_height(SCALE) + 12
}

fn plot_top() -> u32 {
    legend_top() + text_height(SCALE) + 20
}

const LEGEND: [(&str, Colour); 3] = [
    ("exact", EXACT_COLOUR),
    ("added", ADDED_COLOUR),
    ("omitted", OMITTED_COLOUR),
];
const LEGEND_NOTE: &str = "share of frames";

fn legend_entry_width(name: &str) -> u32 {
    text_height(SCALE) + 6 + text_width(name, SCALE) + 24
}

fn legend_width() -> u32 {
    LEGEND
        .iter()
        .map(|(name, _)| legend_entry_width(name))
        .sum::<u32>()
        + text_width(LEGEND_NOTE, SCALE)
}

fn draw_legend(canvas: &mut Canvas, y: u32) {
    let mut x = LEFT;
    for (name, colour) in LEGEND {
        let box_size = text_height(SCALE);
        canvas.fill_rect(i64::from(x), i64::from(y), box_size, box_size, colour);
        canvas.text(
            i64::from(x + box_size + 6),
            i64::from(y),
            name,
            SCALE,
            BLACK,
        );
        x += legend_entry_width(name);
    }
    canvas.text(i64::from(x), i64::from(y), LEGEND_NOTE, SCALE, GREY);
}

/// Grid lines at 0, 0.25, ..., 1 with their values, and the baseline.
fn draw_axis(canvas: &mut Canvas, plot_top: u32, plot_width: u32) {
    let plot_bottom = plot_top + PLOT_HEIGHT;
    for step in 0..=4u32 {
        let y = plot_bottom - step * PLOT_HEIGHT / 4;
        let colour = if step == 0 { BLACK } else { LIGHT_GREY };
        canvas.fill_rect(i64::from(LEFT), i64::from(y), plot_width, 1, colour);
        let label = ["0", "0.25", "0.5", "0.75", "1"][step as usize];
        let label_y = i64::from(y) - i64::from(text_height(SCALE) / 2);
        canvas.text_right(i64::from(LEFT - 8), label_y, label, SCALE, BLACK);
    }
    canvas.fill_rect(
        i64::from(LEFT),
        i64::from(plot_top),
        1,
        PLOT_HEIGHT + 1,
        BLACK,
    );
}

/// The combination's notes, highest on top as on a staff, then its frame count in grey.
fn draw_label(canvas: &mut Canvas, row: &CombinationRow, centre_x: u32, plot_bottom: u32) {
    let mut names = row.combination.note_names();
    if names.is_empty() {
        names.push("-".into());
    }
    let mut y = plot_bottom + 10;
    for name in names.iter().rev() {
        canvas.text_centred(i64::from(centre_x), i64::from(y), name, SCALE, BLACK);
        y += LINE;
    }
    let frames = row.counts.frames.to_string();
    canvas.text_centred(i64::from(centre_x), i64::from(y), &frames, SCALE, GREY);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{FrameCounts, Group};

    fn row(names: &str, counts: FrameCounts) -> CombinationRow {
        CombinationRow {
            combination: names.parse().unwrap(),
            group: Group::Shared,
            counts,
            training_frames: 1,
        }
    }

    fn column_height(image: &RgbImage, x: u32, colour: Colour) -> u32 {
        (plot_top()..image.height())
            .filter(|&y| *image.get_pixel(x, y) == colour)
            .count() as u32
    }

    #[test]
    fn bars_are_as_tall_as_their_shares() {
        let counts = FrameCounts {
            frames: 4,
            exact: 1,
            added: 2,
            omitted: 4,
        };
        let rows = [row("C4,E4", counts)];
        let image = bar_chart("test", &rows.iter().collect::<Vec<_>>());
        let left = LEFT + GROUP_GAP / 2;
        assert_eq!(
            column_height(&image, left + 1, EXACT_COLOUR),
            PLOT_HEIGHT / 4
        );
        assert_eq!(
            column_height(&image, left + BAR_WIDTH + 1, ADDED_COLOUR),
            PLOT_HEIGHT / 2
        );
        assert_eq!(
            column_height(&image, left + 2 * BAR_WIDTH + 1, OMITTED_COLOUR),
            PLOT_HEIGHT
        );
    }

    #[test]
    fn the_chart_grows_with_combinations_and_notes() {
        let counts = FrameCounts::default();
        let few = [row("C4", counts)];
        let many: Vec<CombinationRow> = (0..20)
            .map(|i| row(&format!("C{},E4,G4,B4", i % 8), counts))
            .collect();
        let small = bar_chart("a", &few.iter().collect::<Vec<_>>());
        let large = bar_chart("a", &many.iter().collect::<Vec<_>>());
        assert!(large.width() > small.width() && large.height() > small.height());
        let empty = bar_chart("nothing", &[]);
        assert_eq!(
            empty.width(),
            (LEFT + legend_width() + RIGHT).max(MIN_WIDTH)
        );
    }
}
