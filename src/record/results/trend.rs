//! One test's trend: its rows newest first, its values in one unit oldest first, the
//! reference band, and the summary line when its newest standing value is abnormal.

use super::build::{instant, lab_result, plotted_number, taken, when, Group};
use super::codes::Unconvertible;
use super::range::{self, Band};
use super::units;
use super::words::{self, flag_words, is_critical, is_withdrawn};
use super::{Flagged, Row, Trend};
use chrono::NaiveDateTime;
use std::collections::BTreeMap;

/// One test's trend, and its summary line when its newest value is abnormal.
pub(super) fn trend(
    key: String,
    g: &Group<'_>,
    anchor: String,
) -> (Trend, Option<(Option<NaiveDateTime>, Flagged)>) {
    let newest = g.entries.first();
    let name = g.mapped.map_or_else(
        || newest.map(|e| e.entry.title.clone()).unwrap_or_default(),
        |t| t.name.clone(),
    );
    let raw_unit = g.unit();
    let unit = raw_unit.as_deref().map(units::display).unwrap_or_default();
    let decimals = g.mapped.and_then(|t| t.decimals);
    let mut points = Vec::new();
    let mut rows = Vec::new();
    let mut refused: BTreeMap<String, usize> = BTreeMap::new();
    let mut band: Option<(Band, String)> = None;
    let mut flagged = None;
    for e in &g.entries {
        let Some(res) = lab_result(e) else { continue };
        let withdrawn = is_withdrawn(e.entry.status.as_deref());
        let at = taken(e).and_then(instant);
        let conversion = g.conversion(res, raw_unit.as_deref());
        let own_band = res
            .reference_range
            .as_deref()
            .and_then(|t| range::parse(t, res.unit.as_deref()));
        if band.is_none() && !withdrawn {
            if let (Some(b), Ok(c)) = (own_band, &conversion) {
                if let Some(b) = b.converted(c) {
                    let sent = words::range_text(res).unwrap_or_default();
                    let range = if c.is_identity() {
                        sent
                    } else {
                        format!("{}, sent as {sent}", band_text(&b, &unit, decimals))
                    };
                    let note = format!("{range}, {}, {}", e.provenance.organisation, when(e));
                    band = Some((b, note));
                }
            }
        }
        let number = plotted_number(res);
        let mut converted = None;
        let mut off_trend = None;
        match (number, &conversion) {
            (Some(_), _) if withdrawn => {
                off_trend = Some("Not on the trend: withdrawn by the laboratory".to_owned());
            }
            (Some(_), _) if at.is_none() => {
                off_trend = Some("Not on the trend: no date".to_owned());
            }
            (Some(v), Ok(c)) => {
                let same_unit = match (res.unit.as_deref(), raw_unit.as_deref()) {
                    (Some(a), Some(b)) => units::same(a, b),
                    (None, None) => true,
                    _ => false,
                };
                let shown = c.apply(v);
                if !same_unit {
                    converted = Some(
                        format!("{} {unit}", words::converted_text(shown, decimals))
                            .trim()
                            .to_owned(),
                    );
                }
                if let Some(at) = at {
                    points.push((at, shown));
                }
            }
            (Some(_), Err(why)) => {
                let reason = refusal(why, &unit);
                off_trend = Some(format!("Not on the trend: {reason}"));
                *refused.entry(reason).or_default() += 1;
            }
            (None, _) => {}
        }
        let flag = res
            .abnormal_flag
            .as_deref()
            .and_then(flag_words)
            .or_else(|| {
                let v = number?;
                own_band?.outside(v).map(|above| {
                    if above {
                        "Above the reference range".to_owned()
                    } else {
                        "Below the reference range".to_owned()
                    }
                })
            });
        let row = Row {
            value: words::value_with_unit(res),
            converted,
            range: words::range_text(res),
            flag,
            when: when(e),
            source: e.provenance.organisation.clone(),
            status: words::status_words(e.entry.status.as_deref()),
            off_trend,
        };
        if flagged.is_none() && !withdrawn {
            // Only the newest standing value decides whether the test is in the summary.
            flagged = Some(row.flag.clone().map(|flag| {
                (
                    at,
                    Flagged {
                        test: name.clone(),
                        value: row.value.clone(),
                        critical: is_critical(&flag),
                        flag,
                        range: row.range.clone(),
                        when: row.when.clone(),
                        source: row.source.clone(),
                        anchor: anchor.clone(),
                    },
                )
            }));
        }
        rows.push(row);
    }
    points.sort_by_key(|p| p.0);
    let apart = refused
        .into_iter()
        .map(|(reason, n)| {
            let values = if n == 1 {
                "1 value is".to_owned()
            } else {
                format!("{n} values are")
            };
            format!("{values} not on the trend: {reason}.")
        })
        .collect();
    let (band, band_note) = band.map_or((None, None), |(b, n)| (Some(b), Some(n)));
    let local_note = match (g.mapped, newest) {
        (None, Some(e)) if key.starts_with("s:") => Some(format!(
            "{}'s own test code{}, not in the lab code table: trended apart from other \
             laboratories' results.",
            e.provenance.organisation,
            e.entry
                .code
                .as_deref()
                .map(|c| format!(" {c}"))
                .unwrap_or_default()
        )),
        _ => None,
    };
    let trend = Trend {
        local_note,
        key,
        name,
        anchor,
        unit,
        rows,
        points,
        band,
        band_note,
        apart,
    };
    (trend, flagged.flatten())
}

/// A converted band in the trend's unit: `115-165 g/L`, `<44 µmol/L`.
fn band_text(b: &Band, unit: &str, decimals: Option<usize>) -> String {
    let n = |v: f64| words::converted_text(v, decimals);
    let limits = match (b.low, b.high) {
        (Some(l), Some(h)) => format!("{}-{}", n(l), n(h)),
        (None, Some(h)) => format!("<{}", n(h)),
        (Some(l), None) => format!(">{}", n(l)),
        (None, None) => String::new(),
    };
    format!("{limits} {unit}").trim().to_owned()
}

fn refusal(why: &Unconvertible, unit: &str) -> String {
    let trend_unit = if unit.is_empty() {
        "the trend has no unit".to_owned()
    } else {
        format!("the trend is in {unit}")
    };
    match why {
        Unconvertible::NoUnit => format!("sent without a unit, and {trend_unit}"),
        Unconvertible::Unit(u) => {
            format!(
                "{} does not convert exactly, and {trend_unit}",
                units::display(u)
            )
        }
    }
}
