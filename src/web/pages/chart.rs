//! Trend charts drawn on the server as SVG with plotters: the values as a line with a dot per
//! result, the reference range as a shaded band whenever the test has one (an open range such
//! as `<5` shades from the chart's edge). Served as an image, since the page's CSP forbids the
//! style attributes inline SVG would need. Text is plain SVG `<text>`, so no fonts are needed
//! on the server.
//!
//! Two sizes: the wide chart for desktops, and a narrow one drawn for a 390 px phone, with
//! larger text relative to its width and fewer ticks, so that scaling the image to the screen
//! never shrinks its labels below legibility. The page picks one with `<picture>`.

use crate::record::results::words::number_text;
use crate::record::results::Trend;
use crate::record::view::date_text;
use chrono::{DateTime, NaiveDateTime};
use plotters::prelude::*;

/// The size a chart is drawn for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    Wide,
    Narrow,
}

struct Layout {
    width: u32,
    height: u32,
    font: u32,
    x_ticks: usize,
    y_ticks: usize,
    y_label_area: u32,
    dot: u32,
}

impl Size {
    /// `narrow` from the query string; anything else is the wide chart.
    pub fn parse(s: Option<&str>) -> Self {
        if s == Some("narrow") {
            Self::Narrow
        } else {
            Self::Wide
        }
    }

    fn layout(self) -> Layout {
        match self {
            // Shown at up to 760 px. Plotters writes a font's size divided by 1.24 into the
            // SVG: 18 is 14.5 px text.
            Self::Wide => Layout {
                width: 760,
                height: 320,
                font: 18,
                x_ticks: 5,
                y_ticks: 6,
                y_label_area: 64,
                dot: 5,
            },
            // Shown 340-360 px wide on a 390 px phone: 18 (14.5 px in the SVG) stays 14 px.
            Self::Narrow => Layout {
                width: 360,
                height: 260,
                font: 18,
                x_ticks: 3,
                y_ticks: 4,
                y_label_area: 60,
                dot: 5,
            },
        }
    }
}

const LINE: RGBColor = RGBColor(0, 94, 184);
const BAND: RGBColor = RGBColor(204, 230, 214);
const INK: RGBColor = RGBColor(11, 12, 12);
const GRID: RGBColor = RGBColor(216, 218, 220);

/// Days since the epoch, the chart's x axis.
fn days(t: &NaiveDateTime) -> f64 {
    t.and_utc().timestamp() as f64 / 86_400.0
}

/// A tick's date: in full on the wide chart; on the narrow one short enough that three fit
/// side by side (`5 Feb`, or `Feb 2024` when the trend spans most of a year or more).
fn day_label(x: f64, size: Size, span_days: f64) -> String {
    let secs = (x * 86_400.0).round() as i64;
    let Some(d) = DateTime::from_timestamp(secs, 0).map(|d| d.date_naive()) else {
        return String::new();
    };
    match size {
        Size::Wide => date_text(d),
        Size::Narrow if span_days <= 300.0 => d.format("%-d %b").to_string(),
        Size::Narrow => d.format("%b %Y").to_string(),
    }
}

fn number_label(y: &f64) -> String {
    let s = format!("{y:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The chart for one test as an SVG document.
pub fn render(t: &Trend, size: Size) -> Result<String, String> {
    let mut svg = String::new();
    draw(t, size, &mut svg).map_err(|e| format!("drawing: {e}"))?;
    Ok(svg)
}

fn draw(t: &Trend, size: Size, out: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let l = size.layout();
    let xs: Vec<f64> = t.points.iter().map(|(at, _)| days(at)).collect();
    let mut ys: Vec<f64> = t.points.iter().map(|(_, v)| *v).collect();
    if let Some(b) = t.band {
        ys.extend(b.low.into_iter().chain(b.high).filter(|v| v.is_finite()));
    }
    let (x0, x1) = bounds(&xs, 1.0);
    // A little room either side so the first and last dots are not cut by the axes.
    let room = (x1 - x0) * 0.04;
    let (x0, x1) = (x0 - room, x1 + room);
    let x_label = |x: &f64| day_label(*x, size, x1 - x0);
    let (y0, y1) = bounds(&ys, 0.0);
    let pad = ((y1 - y0) * 0.1).max(f64::EPSILON);
    // Concentrations and counts are never negative: the axis does not go below 0 for them.
    let floor = if y0 >= 0.0 { 0.0 } else { f64::NEG_INFINITY };
    let (y0, y1) = ((y0 - pad).max(floor), y1 + pad);

    let root = SVGBackend::with_string(out, (l.width, l.height)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .margin(10)
        .x_label_area_size(l.font * 2 + 4)
        .y_label_area_size(l.y_label_area)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let text = ("sans-serif", l.font).into_font().color(&INK);
    chart
        .configure_mesh()
        .x_labels(l.x_ticks)
        .y_labels(l.y_ticks)
        .x_label_formatter(&x_label)
        .y_label_formatter(&number_label)
        .y_desc(t.unit.clone())
        .label_style(text.clone())
        .axis_desc_style(text)
        .axis_style(INK)
        .max_light_lines(0)
        .bold_line_style(GRID)
        .draw()?;
    if let Some(b) = t.band {
        let lo = b.low.unwrap_or(y0).clamp(y0, y1);
        let hi = b.high.unwrap_or(y1).clamp(y0, y1);
        if hi > lo {
            chart.draw_series(std::iter::once(Rectangle::new(
                [(x0, lo), (x1, hi)],
                BAND.filled(),
            )))?;
        }
    }
    let points: Vec<(f64, f64)> = xs
        .iter()
        .copied()
        .zip(t.points.iter().map(|p| p.1))
        .collect();
    chart.draw_series(LineSeries::new(points.clone(), LINE.stroke_width(3)))?;
    chart.draw_series(
        points
            .into_iter()
            .map(|p| Circle::new(p, l.dot, LINE.filled())),
    )?;
    root.present()?;
    Ok(())
}

/// The smallest and largest value, widened by `pad` either side when they are equal.
fn bounds(v: &[f64], pad: f64) -> (f64, f64) {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() || !hi.is_finite() {
        return (0.0, 1.0);
    }
    if (hi - lo).abs() < f64::EPSILON {
        let pad = if pad > 0.0 {
            pad
        } else {
            lo.abs().max(1.0) * 0.1
        };
        return (lo - pad, hi + pad);
    }
    (lo, hi)
}

/// The trend in words, for the image's alt text: first and last value, and how many.
pub fn describe(t: &Trend) -> String {
    let unit = if t.unit.is_empty() {
        String::new()
    } else {
        format!(" {}", t.unit)
    };
    match (t.points.first(), t.points.last()) {
        (Some(first), Some(last)) if t.points.len() >= 2 => format!(
            "{} values, from {}{unit} on {} to {}{unit} on {}",
            t.points.len(),
            number_text(first.1),
            date_text(first.0.date()),
            number_text(last.1),
            date_text(last.0.date()),
        ),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests;
