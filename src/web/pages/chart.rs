//! Trend charts drawn on the server as SVG with plotters: the values as a line with a dot per
//! result, the reference range as a shaded band. Served as an image, since the page's CSP
//! forbids the style attributes inline SVG would need. Text is plain SVG `<text>`, so no fonts
//! are needed on the server.

use crate::record::timeline::Test;
use crate::record::view::date_text;
use chrono::{DateTime, NaiveDateTime};
use plotters::prelude::*;

const WIDTH: u32 = 760;
const HEIGHT: u32 = 320;
const LINE: RGBColor = RGBColor(0, 94, 184);
const BAND: RGBColor = RGBColor(204, 230, 214);
const INK: RGBColor = RGBColor(11, 12, 12);
const GRID: RGBColor = RGBColor(216, 218, 220);

/// Days since the epoch, the chart's x axis.
fn days(t: &NaiveDateTime) -> f64 {
    t.and_utc().timestamp() as f64 / 86_400.0
}

fn day_label(x: &f64) -> String {
    let secs = (x * 86_400.0).round() as i64;
    DateTime::from_timestamp(secs, 0)
        .map(|d| date_text(d.date_naive()))
        .unwrap_or_default()
}

fn number_label(y: &f64) -> String {
    let s = format!("{y:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// The chart for one test as an SVG document.
pub fn render(t: &Test) -> Result<String, String> {
    let mut svg = String::new();
    draw(t, &mut svg).map_err(|e| format!("drawing: {e}"))?;
    Ok(svg)
}

fn draw(t: &Test, out: &mut String) -> Result<(), Box<dyn std::error::Error>> {
    let xs: Vec<f64> = t.points.iter().map(|(at, _)| days(at)).collect();
    let mut ys: Vec<f64> = t.points.iter().map(|(_, v)| *v).collect();
    if let Some((lo, hi)) = t.range {
        ys.extend([lo, hi]);
    }
    let (x0, x1) = bounds(&xs, 1.0);
    // A little room either side so the first and last dots are not cut by the axes.
    let room = (x1 - x0) * 0.04;
    let (x0, x1) = (x0 - room, x1 + room);
    let (y0, y1) = bounds(&ys, 0.0);
    let pad = ((y1 - y0) * 0.1).max(f64::EPSILON);
    let (y0, y1) = (y0 - pad, y1 + pad);

    let root = SVGBackend::with_string(out, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y0..y1)?;
    let text = ("sans-serif", 18).into_font().color(&INK);
    chart
        .configure_mesh()
        .x_labels(5)
        .y_labels(6)
        .x_label_formatter(&day_label)
        .y_label_formatter(&number_label)
        .y_desc(t.unit.clone().unwrap_or_default())
        .label_style(text.clone())
        .axis_desc_style(text)
        .axis_style(INK)
        .max_light_lines(0)
        .bold_line_style(GRID)
        .draw()?;
    if let Some((lo, hi)) = t.range {
        chart.draw_series(std::iter::once(Rectangle::new(
            [(x0, lo), (x1, hi)],
            BAND.filled(),
        )))?;
    }
    let points: Vec<(f64, f64)> = xs
        .iter()
        .copied()
        .zip(t.points.iter().map(|p| p.1))
        .collect();
    chart.draw_series(LineSeries::new(points.clone(), LINE.stroke_width(3)))?;
    chart.draw_series(points.into_iter().map(|p| Circle::new(p, 5, LINE.filled())))?;
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
pub fn describe(t: &Test) -> String {
    let unit = t
        .unit
        .as_deref()
        .map(|u| format!(" {u}"))
        .unwrap_or_default();
    match (t.points.first(), t.points.last()) {
        (Some(first), Some(last)) if t.points.len() >= 2 => format!(
            "{} values, from {}{unit} on {} to {}{unit} on {}",
            t.points.len(),
            number_label(&first.1),
            date_text(first.0.date()),
            number_label(&last.1),
            date_text(last.0.date()),
        ),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2024, 2, d)
            .and_then(|x| x.and_hms_opt(11, 5, 0))
            .unwrap()
    }

    #[test]
    fn renders_svg_with_text_and_no_style_attributes() {
        let t = Test {
            key: "hb".into(),
            title: "Haemoglobin".into(),
            rows: Vec::new(),
            points: vec![(at(3), 98.0), (at(10), 104.0), (at(17), 121.0)],
            unit: Some("g/L".into()),
            range: Some((115.0, 165.0)),
        };
        let svg = render(&t).unwrap();
        assert!(svg.starts_with("<svg"), "{svg}");
        assert!(svg.contains("<text"), "axis labels are drawn");
        assert!(svg.contains("3 Feb 2024") || svg.contains("Feb 2024"));
        assert!(!svg.contains("style="), "the CSP forbids inline styles");
        assert_eq!(
            describe(&t),
            "3 values, from 98 g/L on 3 Feb 2024 to 121 g/L on 17 Feb 2024"
        );
    }

    #[test]
    fn equal_values_and_single_dates_still_draw() {
        let t = Test {
            key: "k".into(),
            title: "Potassium".into(),
            rows: Vec::new(),
            points: vec![(at(3), 4.1), (at(3), 4.1)],
            unit: None,
            range: None,
        };
        assert!(render(&t).unwrap().contains("<svg"));
    }
}
