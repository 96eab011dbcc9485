//! The dashboard's pictures as plain SVG, drawn from published (already suppressed) figures:
//! a weekly trend line, a hexagon map of areas coloured by rate with hot spots marked, and an
//! age/sex pyramid. Each is `role="img"` with a title; the same numbers are in a table beside it.

use crate::population::areas::Hexes;
use crate::population::published::{Area, PyramidRow, TrendRow};
use crate::population::suppress::Shown;
use std::fmt::Write as _;

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Weekly new counts as a line; hidden weeks break the line and are marked on the axis.
pub fn trend(rows: &[TrendRow], title: &str, threshold: i64) -> String {
    let (w, h, left, bottom) = (640.0, 240.0, 48.0, 36.0);
    let max = rows
        .iter()
        .filter_map(|r| r.new.count())
        .max()
        .unwrap_or(0)
        .max(threshold) as f64;
    let step = (w - left - 10.0) / (rows.len().max(2) - 1) as f64;
    let x = |i: usize| left + step * i as f64;
    let y = |n: i64| (h - bottom) - (n as f64 / max) * (h - bottom - 12.0);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"trend-title\" class=\"chart\"><title id=\"trend-title\">{}</title>",
        esc(title)
    );
    let _ = write!(
        s,
        "<line x1=\"{left}\" y1=\"{0}\" x2=\"{1}\" y2=\"{0}\" class=\"axis\"/>",
        h - bottom,
        w - 10.0
    );
    let _ = write!(s, "<text x=\"4\" y=\"16\" class=\"tick\">{}</text><text x=\"4\" y=\"{}\" class=\"tick\">0</text>", max as i64, h - bottom);
    let mut run: Vec<String> = Vec::new();
    let flush = |run: &mut Vec<String>, s: &mut String| {
        if run.len() > 1 {
            let _ = write!(s, "<polyline class=\"line\" points=\"{}\"/>", run.join(" "));
        }
        run.clear();
    };
    for (i, r) in rows.iter().enumerate() {
        match r.new {
            Shown::Count(n) => {
                run.push(format!("{:.1},{:.1}", x(i), y(n)));
                let _ = write!(s, "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" class=\"point\"><title>{}: {n}</title></circle>", x(i), y(n), esc(&r.week));
            }
            other => {
                flush(&mut run, &mut s);
                let _ = write!(
                    s,
                    "<text x=\"{:.1}\" y=\"{:.1}\" class=\"hidden-mark\">{}</text>",
                    x(i) - 6.0,
                    h - bottom - 4.0,
                    esc(&other.text(threshold))
                );
            }
        }
        if i % 4 == 0 || i + 1 == rows.len() {
            let _ = write!(
                s,
                "<text x=\"{:.1}\" y=\"{}\" class=\"tick\">{}</text>",
                x(i) - 20.0,
                h - 8.0,
                esc(r.week.get(5..).unwrap_or(&r.week))
            );
        }
    }
    flush(&mut run, &mut s);
    s.push_str("</svg>");
    s
}

/// The shade (0 lightest … 4 darkest) of a rate among the week's shown rates.
fn shade(rate: f64, max: f64) -> usize {
    if max <= 0.0 {
        return 0;
    }
    ((rate / max) * 4.0).round().clamp(0.0, 4.0) as usize
}

/// Districts as hexagons, coloured by the week's rate; hot spots outlined and marked.
pub fn map(hexes: &Hexes, districts: &[&Area], week: usize, title: &str, threshold: i64) -> String {
    let size = 30.0_f64;
    let (hw, hh) = (3f64.sqrt() * size, 1.5 * size);
    let min_q = hexes.hexes.values().map(|h| h.q).min().unwrap_or(0);
    let max_q = hexes.hexes.values().map(|h| h.q).max().unwrap_or(0);
    let min_r = hexes.hexes.values().map(|h| h.r).min().unwrap_or(0);
    let max_r = hexes.hexes.values().map(|h| h.r).max().unwrap_or(0);
    let odd_shift = hexes.layout.starts_with("odd");
    let width = (f64::from(max_q - min_q) + 1.5) * hw + 20.0;
    let height = f64::from(max_r - min_r) * hh + 2.0 * size + 20.0;
    let max_rate = districts
        .iter()
        .filter_map(|a| a.weeks.get(week).and_then(|c| c.rate))
        .fold(0.0, f64::max);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width:.0} {height:.0}\" role=\"img\" aria-labelledby=\"map-title\" class=\"chart map\"><title id=\"map-title\">{}</title>",
        esc(title)
    );
    for (code, hex) in &hexes.hexes {
        // HexJSON rows count upwards; the picture's y grows downwards.
        let row = max_r - hex.r;
        let shifted = (hex.r.rem_euclid(2) == 1) == odd_shift;
        let cx =
            10.0 + hw / 2.0 + f64::from(hex.q - min_q) * hw + if shifted { hw / 2.0 } else { 0.0 };
        let cy = 10.0 + size + f64::from(row) * hh;
        let points: Vec<String> = (0..6)
            .map(|k| {
                let a = std::f64::consts::PI / 180.0 * (60.0 * f64::from(k) - 30.0);
                format!("{:.1},{:.1}", cx + size * a.cos(), cy + size * a.sin())
            })
            .collect();
        let cell = districts
            .iter()
            .find(|a| &a.code == code)
            .and_then(|a| a.weeks.get(week));
        let (class, words) = match cell {
            Some(c) => {
                let count = c.new.text(threshold);
                let rate = c
                    .rate
                    .map_or("rate not shown".into(), |r| format!("{r:.0} per 100,000"));
                let hot = if c.hot_spot { ", hot spot" } else { "" };
                let class = match c.rate {
                    Some(r) => format!(
                        "shade-{}{}",
                        shade(r, max_rate),
                        if c.hot_spot { " hot-spot" } else { "" }
                    ),
                    None => "no-rate".into(),
                };
                (class, format!("{code}: {count} new, {rate}{hot}"))
            }
            None => ("no-data".into(), format!("{code}: no figures")),
        };
        let _ = write!(
            s,
            "<g class=\"area\" data-area=\"{0}\"><polygon points=\"{1}\" class=\"{2}\"><title>{3}</title></polygon><text x=\"{4:.1}\" y=\"{5:.1}\" class=\"area-label\">{0}{6}</text></g>",
            esc(code),
            points.join(" "),
            class,
            esc(&words),
            cx - 14.0,
            cy + 4.0,
            if cell.is_some_and(|c| c.hot_spot) { " ▲" } else { "" }
        );
    }
    s.push_str("</svg>");
    s
}

/// Females to the left, males to the right, youngest at the bottom; hidden cells have no bar.
pub fn pyramid(rows: &[PyramidRow], title: &str, threshold: i64) -> String {
    let (w, bar_h) = (640.0, 20.0);
    let h = bar_h * rows.len() as f64 + 40.0;
    let mid = w / 2.0;
    let max = rows
        .iter()
        .flat_map(|r| r.cells.iter().take(2))
        .filter_map(|c| c.count())
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let scale = (mid - 70.0) / max;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-labelledby=\"pyramid-title\" class=\"chart\"><title id=\"pyramid-title\">{}</title>",
        esc(title)
    );
    let _ = write!(s, "<text x=\"10\" y=\"14\" class=\"tick\">Female</text><text x=\"{}\" y=\"14\" class=\"tick\">Male</text>", w - 50.0);
    for (i, r) in rows.iter().rev().enumerate() {
        let y = 24.0 + i as f64 * bar_h;
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"tick band\">{}</text>",
            mid - 22.0,
            y + 14.0,
            esc(r.band)
        );
        for (side, cell) in r.cells.iter().take(2).enumerate() {
            let label = cell.text(threshold);
            if let Shown::Count(n) = cell {
                let len = *n as f64 * scale;
                let x = if side == 0 {
                    mid - 30.0 - len
                } else {
                    mid + 30.0
                };
                let _ = write!(s, "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{len:.1}\" height=\"{:.1}\" class=\"bar sex-{side}\"><title>{} {}: {label}</title></rect>", bar_h - 4.0, esc(r.band), ["female", "male"][side]);
            } else {
                let x = if side == 0 { mid - 60.0 } else { mid + 34.0 };
                let _ = write!(
                    s,
                    "<text x=\"{x:.1}\" y=\"{:.1}\" class=\"hidden-mark\">{}</text>",
                    y + 14.0,
                    esc(&label)
                );
            }
        }
    }
    s.push_str("</svg>");
    s
}
