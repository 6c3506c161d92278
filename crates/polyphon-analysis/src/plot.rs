//! Bar charts in the style of the paper's figures 3–6: for each combination, the share of its
//! frames transcribed exactly, with notes added and with notes omitted; drawn by polyphon-plot.

use polyphon_plot::{grouped_bars_png, BarGroup, RGBColor};

use crate::summary::CombinationRow;

pub const EXACT_COLOUR: RGBColor = RGBColor(44, 160, 44);
pub const ADDED_COLOUR: RGBColor = RGBColor(214, 39, 40);
pub const OMITTED_COLOUR: RGBColor = RGBColor(31, 119, 180);

/// One chart as PNG bytes: per combination three bars (exact, added, omitted) above its
/// notes, highest on top as on a staff, and its frame count.
pub fn bar_chart_png(title: &str, rows: &[&CombinationRow]) -> Result<Vec<u8>, String> {
    let series = [
        ("exact", EXACT_COLOUR),
        ("added", ADDED_COLOUR),
        ("omitted", OMITTED_COLOUR),
    ];
    let groups: Vec<BarGroup> = rows.iter().map(|row| bar_group(row)).collect();
    grouped_bars_png(title, "share of frames", &series, &groups)
}

fn bar_group(row: &CombinationRow) -> BarGroup {
    let mut labels: Vec<String> = row.combination.note_names().into_iter().rev().collect();
    if labels.is_empty() {
        labels.push("-".into());
    }
    labels.push(row.counts.frames.to_string());
    let counts = &row.counts;
    BarGroup {
        labels,
        values: vec![
            counts.exact_share(),
            counts.added_share(),
            counts.omitted_share(),
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{FrameCounts, Group};

    #[test]
    fn a_group_shows_its_shares_and_its_notes_highest_first() {
        let row = CombinationRow {
            combination: "C4,E4".parse().unwrap(),
            group: Group::Shared,
            counts: FrameCounts {
                frames: 4,
                exact: 1,
                added: 2,
                omitted: 4,
            },
            training_frames: 1,
        };
        let group = bar_group(&row);
        assert_eq!(group.labels, ["E4", "C4", "4"]);
        assert_eq!(group.values, [Some(0.25), Some(0.5), Some(1.0)]);
        let png = bar_chart_png("test", &[&row]).unwrap();
        assert!(png.starts_with(b"\x89PNG"));
    }
}
