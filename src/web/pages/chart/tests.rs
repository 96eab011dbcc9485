use super::*;
use crate::record::results::range::Band;
use chrono::NaiveDate;

fn at(d: u32) -> NaiveDateTime {
    NaiveDate::from_ymd_opt(2024, 2, d)
        .and_then(|x| x.and_hms_opt(11, 5, 0))
        .unwrap()
}

fn trend(points: Vec<(NaiveDateTime, f64)>, unit: &str, band: Option<Band>) -> Trend {
    Trend {
        key: "c:hb".into(),
        name: "Haemoglobin".into(),
        anchor: "test-1".into(),
        unit: unit.into(),
        rows: Vec::new(),
        points,
        band,
        band_note: None,
        apart: Vec::new(),
        local_note: None,
    }
}

/// The band's fill as plotters writes it.
fn band_fill() -> String {
    format!("#{:02X}{:02X}{:02X}", BAND.0, BAND.1, BAND.2)
}

#[test]
fn renders_svg_with_text_a_view_box_and_no_style_attributes() {
    let band = Band {
        low: Some(115.0),
        high: Some(165.0),
    };
    let t = trend(
        vec![(at(3), 98.0), (at(10), 104.0), (at(17), 121.0)],
        "g/L",
        Some(band),
    );
    let svg = render(&t, Size::Wide).unwrap();
    assert!(svg.starts_with("<svg"), "{svg}");
    assert!(
        svg.contains("viewBox=\"0 0 760 320\""),
        "it scales to its box"
    );
    assert!(svg.contains("<text"), "axis labels are drawn");
    assert!(svg.contains("Feb 2024"));
    assert!(!svg.contains("style="), "the CSP forbids inline styles");
    assert!(svg.contains(&band_fill()), "the reference band is drawn");
    assert_eq!(
        describe(&t),
        "3 values, from 98 g/L on 3 Feb 2024 to 121 g/L on 17 Feb 2024"
    );
}

#[test]
fn the_narrow_chart_is_drawn_for_a_phone_with_legible_text_and_few_ticks() {
    let points = (1..=20).map(|d| (at(d), 90.0 + d as f64)).collect();
    let t = trend(points, "g/L", None);
    let svg = render(&t, Size::Narrow).unwrap();
    assert!(svg.contains("viewBox=\"0 0 360 260\""), "{svg}");
    // Every label is at least 14 px in a 360 px drawing shown 340-360 px wide.
    let sizes: Vec<f64> = svg
        .split("font-size=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next()?.parse().ok())
        .collect();
    assert!(
        !sizes.is_empty() && sizes.iter().all(|s| *s >= 14.0),
        "{sizes:?}"
    );
    // Three or so short dates that fit side by side, not "5 Feb 2024" crowding each other.
    let dates: Vec<&str> = svg
        .split("<text")
        .skip(1)
        .filter_map(|t| t.split('>').nth(1)?.split('<').next())
        .map(str::trim)
        .filter(|t| t.ends_with(" Feb"))
        .collect();
    assert!((2..=4).contains(&dates.len()), "{dates:?}");
    assert!(dates.iter().all(|d| d.len() <= 6), "{dates:?}");
    assert!(!svg.contains("Feb 2024"), "no year on a short span");
    assert_eq!(Size::parse(Some("narrow")), Size::Narrow);
    assert_eq!(Size::parse(Some("huge")), Size::Wide);
}

#[test]
fn regression_a_less_than_reference_range_still_draws_its_band() {
    // CRP "<5": the band runs from the bottom of the chart to 5.
    let band = Band {
        low: None,
        high: Some(5.0),
    };
    let t = trend(vec![(at(3), 45.0), (at(6), 88.0)], "mg/L", Some(band));
    assert!(render(&t, Size::Wide).unwrap().contains(&band_fill()));
    let above = Band {
        low: Some(60.0),
        high: None,
    };
    let t = trend(vec![(at(3), 45.0), (at(6), 52.0)], "", Some(above));
    assert!(render(&t, Size::Narrow).unwrap().contains(&band_fill()));
}

#[test]
fn equal_values_and_single_dates_still_draw() {
    let t = trend(vec![(at(3), 4.1), (at(3), 4.1)], "", None);
    let svg = render(&t, Size::Wide).unwrap();
    assert!(svg.contains("<svg"));
    assert!(!svg.contains(&band_fill()), "no band without a range");
}
