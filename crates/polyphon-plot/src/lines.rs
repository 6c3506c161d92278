//! Line charts over epochs or any other x, one or more series sharing the y axis.

use std::path::Path;

use plotters::prelude::*;

use crate::{save_png, Result};

/// One line: its legend label and its points.
pub struct Series<'a> {
    pub label: &'a str,
    pub points: Vec<(f64, f64)>,
}

/// matplotlib's first colours: enough that the six instrument families (plus a threshold)
/// of a classification timeline each get their own.
const COLOURS: [RGBColor; 7] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(127, 127, 127),
];

/// Draws panels side by side, each a titled line chart: `panels` holds (title, y label,
/// series). Written as a PNG at `path`.
pub fn line_chart(path: &Path, x_label: &str, panels: &[(&str, &str, Vec<Series>)]) -> Result<()> {
    let width = 480 * panels.len().max(1) as u32;
    save_png(path, width, 360, |root| {
        let areas = root.split_evenly((1, panels.len().max(1)));
        for ((title, y_label, series), area) in panels.iter().zip(&areas) {
            draw_panel(area, title, x_label, y_label, series).map_err(|e| e.to_string())?;
        }
        Ok(())
    })
}

fn draw_panel(
    area: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
) -> std::result::Result<(), Box<dyn std::error::Error>> {
    let points = series.iter().flat_map(|s| s.points.iter());
    let (x_min, x_max, y_min, y_max) = points.fold(
        (
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ),
        |(a, b, c, d), &(x, y)| (a.min(x), b.max(x), c.min(y), d.max(y)),
    );
    let (x_min, x_max) = padded(x_min, x_max);
    let (y_min, y_max) = padded(y_min, y_max);
    let mut chart = ChartBuilder::on(area)
        .caption(title, ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(36)
        .y_label_area_size(52)
        .build_cartesian_2d(x_min..x_max, y_min..y_max)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc(y_label)
        .label_style(("sans-serif", 12))
        .draw()?;
    for (index, line) in series.iter().enumerate() {
        let colour = COLOURS[index % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(
                line.points.iter().copied(),
                colour.stroke_width(2),
            ))?
            .label(line.label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 16, y)], colour.stroke_width(2)));
        chart.draw_series(
            line.points
                .iter()
                .map(|&point| Circle::new(point, 3, colour.filled())),
        )?;
    }
    chart
        .configure_series_labels()
        .label_font(("sans-serif", 12))
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

/// A non-empty range around `[low, high]`, with 5 % margins (or ±0.5 for a single value).
fn padded(low: f64, high: f64) -> (f64, f64) {
    if !low.is_finite() || !high.is_finite() {
        return (0.0, 1.0);
    }
    let margin = if high > low { (high - low) * 0.05 } else { 0.5 };
    (low - margin, high + margin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_a_png_with_drawn_pixels_and_no_temporary() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("loss.png");
        let loss = Series {
            label: "train loss",
            points: vec![(0.0, 0.3), (1.0, 0.2), (2.0, 0.15)],
        };
        let f1 = Series {
            label: "valid F1",
            points: vec![(0.0, 0.5), (1.0, 0.6), (2.0, 0.65)],
        };
        line_chart(
            &path,
            "epoch",
            &[("loss", "BCE", vec![loss]), ("validation", "F1", vec![f1])],
        )
        .unwrap();
        let image = image::open(&path).unwrap().to_rgb8();
        assert_eq!(image.dimensions(), (960, 360));
        let blue = image.pixels().filter(|p| p.0 == [31, 119, 180]).count();
        assert!(blue > 50, "{blue} pixels of the first series' colour");
        let dark = image
            .pixels()
            .filter(|p| p.0[0] < 60 && p.0[1] < 60 && p.0[2] < 60)
            .count();
        assert!(dark > 500, "text and axes drawn: {dark} dark pixels");
        let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(entries.len(), 1, "only the chart is left");
    }

    #[test]
    fn single_points_and_empty_series_still_draw() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("one.png");
        let one = Series {
            label: "only",
            points: vec![(0.0, 0.4)],
        };
        line_chart(&path, "epoch", &[("one", "y", vec![one])]).unwrap();
        assert!(path.exists());
    }

    #[test]
    fn unwritable_path_is_an_error() {
        let missing = Path::new("/nonexistent-folder/loss.png");
        let series = Series {
            label: "x",
            points: vec![(0.0, 1.0)],
        };
        assert!(line_chart(missing, "epoch", &[("t", "y", vec![series])]).is_err());
    }
}
