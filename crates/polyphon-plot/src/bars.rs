//! Grouped bar charts of shares: for each group (a note combination, say) one bar per series
//! (exact, added, omitted), on a 0–1 axis, with the group's label lines under it.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::render_png;

/// One group of bars.
pub struct BarGroup {
    /// Lines written under the group, top line first (e.g. a chord's notes, highest first,
    /// then its frame count).
    pub labels: Vec<String>,
    /// One share in [0, 1] per series; `None` draws no bar.
    pub values: Vec<Option<f64>>,
}

const PLOT_HEIGHT: u32 = 300;
const GROUP_WIDTH: u32 = 60;
const LEFT: u32 = 60;
const RIGHT: u32 = 20;
const LINE: u32 = 16;
const MIN_WIDTH: u32 = 520;

/// The chart as PNG bytes: `title` on top, the series' names and colours in a legend, a
/// 0–1 axis named `y_label`, and the groups left to right.
pub fn grouped_bars_png(
    title: &str,
    y_label: &str,
    series: &[(&str, RGBColor)],
    groups: &[BarGroup],
) -> Result<Vec<u8>, String> {
    let lines = groups.iter().map(|g| g.labels.len()).max().unwrap_or(0) as u32;
    let width = (LEFT + RIGHT + GROUP_WIDTH * groups.len().max(1) as u32).max(MIN_WIDTH);
    let label_height = 12 + lines * LINE;
    let height = 50 + PLOT_HEIGHT + 40 + label_height;
    render_png(width, height, |root| {
        draw(root, title, y_label, series, groups, label_height).map_err(|e| e.to_string())
    })
}

fn draw(
    root: &DrawingArea<BitMapBackend, plotters::coord::Shift>,
    title: &str,
    y_label: &str,
    series: &[(&str, RGBColor)],
    groups: &[BarGroup],
    label_height: u32,
) -> Result<(), Box<dyn std::error::Error>> {
    let (chart_area, label_area) = root.split_vertically(root.dim_in_pixel().1 - label_height);
    let mut chart = ChartBuilder::on(&chart_area)
        .caption(title, ("sans-serif", 18))
        .margin_left(10)
        .margin_right(RIGHT)
        .x_label_area_size(0)
        .y_label_area_size(LEFT - 10)
        .build_cartesian_2d(0f64..groups.len().max(1) as f64, 0f64..1f64)?;
    chart
        .configure_mesh()
        .disable_x_mesh()
        .disable_x_axis()
        .y_labels(5)
        .y_desc(y_label)
        .y_label_formatter(&|v| format!("{v:.2}"))
        .draw()?;
    let bar = 0.8 / series.len().max(1) as f64;
    for (index, (name, colour)) in series.iter().enumerate() {
        let bars = groups.iter().enumerate().filter_map(|(g, group)| {
            let value = group.values.get(index).copied().flatten()?;
            let left = g as f64 + 0.1 + index as f64 * bar;
            let top = value.clamp(0.0, 1.0);
            Some(Rectangle::new(
                [(left, 0.0), (left + bar * 0.9, top)],
                colour.filled(),
            ))
        });
        chart
            .draw_series(bars)?
            .label(*name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], colour.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    if groups.is_empty() {
        let centre = chart.backend_coord(&(0.5, 0.5));
        let grey = BLACK.mix(0.6);
        let style = TextStyle::from(("sans-serif", 16).into_font())
            .color(&grey)
            .pos(Pos::new(HPos::Center, VPos::Center));
        chart_area.draw_text("nothing to show", &style, centre)?;
    }
    let style =
        TextStyle::from(("sans-serif", 13).into_font()).pos(Pos::new(HPos::Center, VPos::Top));
    for (g, group) in groups.iter().enumerate() {
        let (x, _) = chart.backend_coord(&(g as f64 + 0.5, 0.0));
        for (line, text) in group.labels.iter().enumerate() {
            label_area.draw_text(text, &style, (x, 6 + line as i32 * LINE as i32))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLOURS: [RGBColor; 2] = [RGBColor(44, 160, 44), RGBColor(214, 39, 40)];

    fn chart(groups: &[BarGroup]) -> image::RgbImage {
        let series = [("exact", COLOURS[0]), ("added", COLOURS[1])];
        let bytes = grouped_bars_png("test", "share", &series, groups).unwrap();
        image::load_from_memory(&bytes).unwrap().to_rgb8()
    }

    /// The longest unbroken run of `colour` pixels down any column: a bar's height (the
    /// legend's swatch of the same colour is a separate, short run).
    fn bar_height(image: &image::RgbImage, colour: RGBColor) -> u32 {
        let target = image::Rgb([colour.0, colour.1, colour.2]);
        let longest_run = |x: u32| {
            let (mut run, mut best) = (0, 0);
            for y in 0..image.height() {
                run = if *image.get_pixel(x, y) == target {
                    run + 1
                } else {
                    0
                };
                best = best.max(run);
            }
            best
        };
        (0..image.width()).map(longest_run).max().unwrap_or(0)
    }

    fn group(values: [f64; 2], labels: &[&str]) -> BarGroup {
        BarGroup {
            labels: labels.iter().map(|s| s.to_string()).collect(),
            values: values.iter().map(|&v| Some(v)).collect(),
        }
    }

    #[test]
    fn bars_are_as_tall_as_their_shares() {
        let image = chart(&[group([1.0, 0.5], &["C4", "E4", "12"])]);
        let (full, half) = (
            bar_height(&image, COLOURS[0]),
            bar_height(&image, COLOURS[1]),
        );
        assert!(full > 200, "{full}");
        assert!(
            (half as f64 / full as f64 - 0.5).abs() < 0.02,
            "{half} of {full}"
        );
    }

    #[test]
    fn the_chart_grows_with_groups_and_label_lines() {
        let few = chart(&[group([0.2, 0.1], &["C4", "1"])]);
        let many: Vec<BarGroup> = (0..20)
            .map(|_| group([0.2, 0.1], &["B4", "G4", "E4", "C4", "3"]))
            .collect();
        let large = chart(&many);
        assert!(large.width() > few.width() && large.height() > few.height());
        let empty = chart(&[]);
        assert_eq!(empty.width(), MIN_WIDTH);
    }
}
