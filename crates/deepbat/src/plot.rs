//! Drawing a trace figure: three stacked panels sharing a time axis in hours, the arrival
//! rate per minute, then the hourly index of dispersion in its count form and in its
//! interval form (log scale, with the Poisson value 1 as a dashed line). One legend above
//! the panels names the series.
//!
//! The same drawing goes to two backends: SVG text and an RGB buffer encoded as PNG. Text
//! is laid out with the DejaVu Sans font compiled into the binary, so the output does not
//! depend on the fonts installed on the machine.

use anyhow::{Result, anyhow};
use deepbat_core::trace::burstiness::{HourIdc, MAX_INTERVAL_LAG};
use plotters::coord::Shift;
use plotters::prelude::*;

/// Width and height of the figure, pixels (SVG user units).
const SIZE: (u32, u32) = (1200, 1080);

/// Series colours, the Okabe-Ito palette (distinguishable with colour-blindness).
const COLORS: [RGBColor; 7] = [
    RGBColor(0, 114, 178),
    RGBColor(213, 94, 0),
    RGBColor(0, 158, 115),
    RGBColor(204, 121, 167),
    RGBColor(230, 159, 0),
    RGBColor(86, 180, 233),
    RGBColor(0, 0, 0),
];

/// The font family name the drawing asks for; [`register_font`] provides it.
const FONT: &str = "sans-serif";

/// One trace's series, with time measured from the start of its plotted range.
pub struct Series {
    /// Legend name.
    pub label: String,
    /// Arrivals per second in each minute, from minute 0.
    pub rate_per_minute: Vec<f64>,
    /// The index of dispersion of each hour with arrivals; `hour` counts from the start.
    pub hours: Vec<HourIdc>,
}

/// What one figure shows.
pub struct Figure {
    /// Title above the panels, if any.
    pub title: Option<String>,
    /// Window of the count form, seconds.
    pub window_s: f64,
    /// The traces, in legend order.
    pub series: Vec<Series>,
}

/// The figure as SVG text.
pub fn svg(figure: &Figure) -> Result<String> {
    register_font()?;
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        draw(&root, figure).map_err(|e| anyhow!("cannot draw the SVG plot: {e}"))?;
        root.present()
            .map_err(|e| anyhow!("cannot draw the SVG plot: {e}"))?;
    }
    Ok(text)
}

/// The figure as PNG bytes.
pub fn png(figure: &Figure) -> Result<Vec<u8>> {
    register_font()?;
    let (width, height) = SIZE;
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        draw(&root, figure).map_err(|e| anyhow!("cannot draw the PNG plot: {e}"))?;
        root.present()
            .map_err(|e| anyhow!("cannot draw the PNG plot: {e}"))?;
    }

    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::High);
    let mut writer = encoder.write_header()?;
    writer.write_image_data(&rgb)?;
    writer.finish()?;
    Ok(bytes)
}

/// Makes DejaVu Sans the font of [`FONT`]; registering again replaces it with itself.
fn register_font() -> Result<()> {
    plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
        .map_err(|_| anyhow!("the built-in DejaVu Sans font could not be read"))
}

type DrawResult<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, figure: &Figure) -> DrawResult<DB> {
    root.fill(&WHITE)?;
    let inner = root.margin(10, 4, 4, 10);
    let area = match &figure.title {
        Some(title) => inner.titled(title, (FONT, 28))?,
        None => inner,
    };
    let (legend_area, area) = area.split_vertically(legend_height(figure));
    draw_legend(&legend_area, figure)?;
    let panels = area.split_evenly((3, 1));
    let hours = span_hours(figure);

    draw_rate(&panels[0], figure, hours)?;
    let counts = format!(
        "Index of dispersion per hour, count form ({} s windows)",
        figure.window_s
    );
    draw_idc(&panels[1], figure, hours, &counts, |h| h.counts)?;
    let intervals = format!(
        "Index of dispersion per hour, interval form (sums of min({MAX_INTERVAL_LAG}, n/30) gaps)"
    );
    draw_idc(&panels[2], figure, hours, &intervals, |h| h.intervals)?;
    Ok(())
}

/// Whole hours the longest series covers, at least 1.
fn span_hours(figure: &Figure) -> f64 {
    let longest = figure
        .series
        .iter()
        .map(|s| {
            let by_rate = s.rate_per_minute.len() as f64 / 60.0;
            let by_idc = s.hours.last().map_or(0.0, |h| f64::from(h.hour) + 1.0);
            by_rate.max(by_idc)
        })
        .fold(0.0, f64::max);
    longest.ceil().max(1.0)
}

/// Legend entries per row, and the height of one row, pixels.
const LEGEND_COLUMNS: usize = 2;
const LEGEND_ROW: u32 = 26;

/// Height of the legend strip: the series and the Poisson line, two to a row.
fn legend_height(figure: &Figure) -> u32 {
    let rows = (figure.series.len() + 1).div_ceil(LEGEND_COLUMNS);
    rows as u32 * LEGEND_ROW + 10
}

/// One legend for all panels, above them, so that no panel loses room to it.
fn draw_legend<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    figure: &Figure,
) -> DrawResult<DB> {
    let (width, _) = area.dim_in_pixel();
    let column_width = (width as i32 - 100) / LEGEND_COLUMNS as i32;
    let place = |entry: usize| {
        let column = (entry % LEGEND_COLUMNS) as i32;
        let row = (entry / LEGEND_COLUMNS) as i32;
        (90 + column * column_width, 16 + row * LEGEND_ROW as i32)
    };
    let text = |label: &str, (x, y): (i32, i32)| {
        Text::new(label.to_string(), (x + 44, y - 9), (FONT, 17).into_font())
    };

    for (index, series) in figure.series.iter().enumerate() {
        let (x, y) = place(index);
        let style = color(index).stroke_width(4);
        area.draw(&PathElement::new([(x, y), (x + 34, y)], style))?;
        area.draw(&text(&series.label, (x, y)))?;
    }
    let (x, y) = place(figure.series.len());
    let dashed = BLACK.mix(0.55).stroke_width(1);
    for dash in 0..3 {
        let start = x + dash * 12;
        area.draw(&PathElement::new([(start, y), (start + 7, y)], dashed))?;
    }
    area.draw(&text("Poisson process (index of dispersion 1)", (x, y)))?;
    Ok(())
}

fn color(index: usize) -> RGBColor {
    COLORS[index % COLORS.len()]
}

fn draw_rate<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    figure: &Figure,
    hours: f64,
) -> DrawResult<DB> {
    let top = figure
        .series
        .iter()
        .flat_map(|s| s.rate_per_minute.iter().copied())
        .fold(0.0, f64::max);
    let y_max = if top > 0.0 { top * 1.1 } else { 1.0 };

    let mut chart = ChartBuilder::on(area)
        .caption("Arrival rate per minute", (FONT, 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..hours, 0.0..y_max)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_labels(x_labels(hours))
        .x_label_formatter(&|v| format_tick(*v))
        .x_desc("hours from the start")
        .y_label_formatter(&|v| format_tick(*v))
        .y_desc("arrivals per second")
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .draw()?;

    for (index, series) in figure.series.iter().enumerate() {
        let color = color(index);
        // A point at the middle of each minute.
        let points = series
            .rate_per_minute
            .iter()
            .enumerate()
            .map(|(minute, &rate)| ((minute as f64 + 0.5) / 60.0, rate));
        chart.draw_series(LineSeries::new(points, color.stroke_width(1)))?;
    }
    Ok(())
}

fn draw_idc<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    figure: &Figure,
    hours: f64,
    caption: &str,
    value: impl Fn(&HourIdc) -> f64,
) -> DrawResult<DB> {
    // Log scale: only positive finite values can be shown; the range always holds 1.
    let shown = |h: &&HourIdc| value(h).is_finite() && value(h) > 0.0;
    let (low, high) = figure
        .series
        .iter()
        .flat_map(|s| s.hours.iter().filter(shown).map(&value))
        .fold((1.0f64, 1.0f64), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let y_range = (low / 1.5..high * 1.5).log_scale();

    let mut chart = ChartBuilder::on(area)
        .caption(caption, (FONT, 22))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(0.0..hours, y_range)?;
    chart
        .configure_mesh()
        .light_line_style(TRANSPARENT)
        .x_labels(x_labels(hours))
        .x_label_formatter(&|v| format_tick(*v))
        .x_desc("hours from the start")
        .y_desc("index of dispersion (log)")
        .y_label_formatter(&|v| format_idc(*v))
        .label_style((FONT, 15))
        .axis_desc_style((FONT, 16))
        .draw()?;

    let reference = BLACK.mix(0.55).stroke_width(1);
    chart.draw_series(DashedLineSeries::new(
        [(0.0, 1.0), (hours, 1.0)],
        7,
        5,
        reference,
    ))?;

    for (index, series) in figure.series.iter().enumerate() {
        let color = color(index);
        let points: Vec<(u32, f64)> = series
            .hours
            .iter()
            .filter(shown)
            .map(|h| (h.hour, value(h)))
            .collect();
        // One line per run of consecutive hours, so a missing hour leaves a gap.
        for run in points.chunk_by(|a, b| b.0 == a.0 + 1) {
            let line = run.iter().map(|&(hour, v)| (f64::from(hour) + 0.5, v));
            chart.draw_series(LineSeries::new(line, color.stroke_width(2)))?;
        }
        chart.draw_series(
            points
                .iter()
                .map(|&(hour, v)| Circle::new((f64::from(hour) + 0.5, v), 3, color.filled())),
        )?;
    }
    Ok(())
}

/// How many ticks the time axis gets: one an hour up to a day, about a dozen beyond.
fn x_labels(hours: f64) -> usize {
    if hours <= 24.0 {
        hours as usize + 1
    } else {
        12
    }
}

/// A linear axis tick: whole numbers without decimals, others with one.
fn format_tick(value: f64) -> String {
    if value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

/// A log axis tick: only 1, 2 and 5 times a power of ten are labelled (the others would
/// crowd the top of each decade); whole numbers from 1 up, two decimals below.
fn format_idc(value: f64) -> String {
    let mantissa = value / 10f64.powf(value.log10().floor());
    let labelled = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .any(|m| (mantissa - m).abs() < 1e-6);
    if !labelled {
        String::new()
    } else if value >= 1.0 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.2}");
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure() -> Figure {
        let hour = |hour, counts, intervals| HourIdc {
            hour,
            arrivals: 100,
            counts,
            intervals,
            interval_lag: 4,
        };
        Figure {
            title: Some("test".into()),
            window_s: 1.0,
            series: vec![
                Series {
                    label: "a".into(),
                    rate_per_minute: vec![1.0; 90],
                    hours: vec![hour(0, 1.2, 3.0), hour(1, f64::NAN, 0.0)],
                },
                Series {
                    label: "b".into(),
                    rate_per_minute: vec![2.0; 30],
                    hours: vec![hour(2, 40.0, 25.0)],
                },
            ],
        }
    }

    #[test]
    fn the_time_axis_covers_the_longest_series_in_whole_hours() {
        // Series a: 90 minutes = 1.5 h; series b has IDC in hour 2, so it reaches 3 h.
        assert_eq!(span_hours(&figure()), 3.0);
        let empty = Figure {
            title: None,
            window_s: 1.0,
            series: Vec::new(),
        };
        assert_eq!(span_hours(&empty), 1.0);
    }

    #[test]
    fn both_backends_draw_nan_and_zero_values_without_failing() {
        let figure = figure();
        let svg = svg(&figure).unwrap();
        assert!(
            svg.contains("<svg") && svg.contains("Poisson process"),
            "{svg:.200}"
        );
        let png = png(&figure).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    }

    #[test]
    fn axis_labels_are_short_and_sparse() {
        assert_eq!(format_idc(100.0), "100");
        assert_eq!(format_idc(2.0), "2");
        assert_eq!(format_idc(0.5), "0.5");
        assert_eq!(format_idc(0.2), "0.2");
        assert_eq!(format_idc(7.0), "");
        assert_eq!(format_idc(0.3), "");
        assert_eq!(format_tick(3.0), "3");
        assert_eq!(format_tick(2.5), "2.5");
        assert_eq!(x_labels(8.0), 9);
        assert_eq!(x_labels(528.0), 12);
    }
}
