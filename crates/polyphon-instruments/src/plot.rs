//! The confusion matrix as a PNG: cells shaded by the share of their true class, counts
//! written in them; the validation curves of the boosters; a classification timeline.

use std::path::Path;

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::{ClassFit, Result};

const CELL: i32 = 90;
const LEFT: i32 = 110;
const TOP: i32 = 60;

/// Draws `matrix` (rows: true class, columns: predicted class) with `classes` as labels.
pub fn confusion_png(
    path: &Path,
    matrix: &[Vec<u64>],
    classes: &[String],
    title: &str,
) -> Result<()> {
    let k = classes.len() as i32;
    let width = (LEFT + k * CELL + 20) as u32;
    let height = (TOP + k * CELL + 70) as u32;
    polyphon_plot::save_png(path, width, height, |root| {
        draw(root, matrix, classes, title).map_err(|e| e.to_string())
    })?;
    Ok(())
}

/// Validation log loss against the number of trees, one line per class.
pub fn valid_loss_png(path: &Path, fits: &[ClassFit]) -> Result<()> {
    let series: Vec<polyphon_plot::Series> = fits
        .iter()
        .map(|fit| polyphon_plot::Series {
            label: &fit.class,
            points: (0..fit.valid_log_loss.len())
                .map(|trees| (trees as f64, fit.valid_log_loss[trees]))
                .collect(),
        })
        .collect();
    let panel = ("validation log loss per class", "log loss", series);
    polyphon_plot::line_chart(path, "trees", &[panel])?;
    Ok(())
}

type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

fn draw(
    root: &Area,
    matrix: &[Vec<u64>],
    classes: &[String],
    title: &str,
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let k = classes.len() as i32;
    let centred = |size| {
        TextStyle::from(("sans-serif", size).into_font()).pos(Pos::new(HPos::Center, VPos::Center))
    };
    root.draw(&Text::new(title, (LEFT + k * CELL / 2, 22), centred(18)))?;
    for (row, counts) in matrix.iter().enumerate() {
        let total: u64 = counts.iter().sum::<u64>().max(1);
        for (col, &count) in counts.iter().enumerate() {
            let share = count as f64 / total as f64;
            let x = LEFT + col as i32 * CELL;
            let y = TOP + row as i32 * CELL;
            let shade = (255.0 * (1.0 - 0.8 * share)) as u8;
            let fill = RGBColor(shade, shade, 255);
            root.draw(&Rectangle::new(
                [(x, y), (x + CELL, y + CELL)],
                fill.filled(),
            ))?;
            root.draw(&Rectangle::new(
                [(x, y), (x + CELL, y + CELL)],
                BLACK.stroke_width(1),
            ))?;
            let text = if share > 0.6 { WHITE } else { BLACK };
            let style = centred(16).color(&text);
            root.draw(&Text::new(
                count.to_string(),
                (x + CELL / 2, y + CELL / 2),
                style,
            ))?;
        }
    }
    for (index, class) in classes.iter().enumerate() {
        let middle = index as i32 * CELL + CELL / 2;
        let label = TextStyle::from(("sans-serif", 14).into_font())
            .pos(Pos::new(HPos::Right, VPos::Center));
        root.draw(&Text::new(class.as_str(), (LEFT - 8, TOP + middle), label))?;
        root.draw(&Text::new(
            class.as_str(),
            (LEFT + middle, TOP + k * CELL + 14),
            centred(14),
        ))?;
    }
    root.draw(&Text::new(
        "predicted",
        (LEFT + k * CELL / 2, TOP + k * CELL + 42),
        centred(14),
    ))?;
    root.draw(&Text::new("true", (LEFT / 2 - 20, TOP - 14), centred(14)))?;
    Ok(())
}

/// Each class's probability per segment over time (one line per class through the segments'
/// centres), each labelled with its threshold, and the threshold as a flat line when all
/// classes share it: `segments` holds (start s, end s, probabilities).
pub fn timeline_png(
    path: &Path,
    title: &str,
    classes: &[String],
    segments: &[(f64, f64, Vec<f64>)],
    thresholds: &[f64],
) -> Result<()> {
    let centre = |(start, end, _): &(f64, f64, Vec<f64>)| (start + end) / 2.0;
    let labels: Vec<String> = classes
        .iter()
        .zip(thresholds)
        .map(|(class, t)| format!("{class} (present at {t:.2})"))
        .collect();
    let mut series: Vec<polyphon_plot::Series> = labels
        .iter()
        .enumerate()
        .map(|(k, label)| polyphon_plot::Series {
            label,
            points: segments.iter().map(|s| (centre(s), s.2[k])).collect(),
        })
        .collect();
    let span = (
        segments.first().map_or(0.0, |s| s.0),
        segments.last().map_or(1.0, |s| s.1),
    );
    if let Some(&shared) = thresholds
        .first()
        .filter(|&&t| thresholds.iter().all(|&u| u == t))
    {
        series.push(polyphon_plot::Series {
            label: "threshold",
            points: vec![(span.0, shared), (span.1, shared)],
        });
    }
    Ok(polyphon_plot::line_chart(
        path,
        "time (s)",
        &[(title, "probability", series)],
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_png() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("confusion.png");
        let classes: Vec<String> = ["bass", "flute"].iter().map(|c| c.to_string()).collect();
        confusion_png(&path, &[vec![5, 1], vec![0, 6]], &classes, "test").unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
    }
}
