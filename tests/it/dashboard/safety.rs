//! Every dashboard page and download, read as an outsider would: counts at least 8 or "<8"
//! ("c" where withheld), no hidden count recoverable from the others, and nothing about any
//! person — no name, NHS number, full postcode or date of birth.

use super::super::server::Server;
use super::solver::{assert_unrecoverable, parse, Cell, Sum};
use super::{csv_rows, CONDITIONS};
use std::collections::BTreeMap;

const T: i64 = 8;

/// Words that identify people in the record: family names, NHS numbers, full postcodes and
/// dates of birth.
fn canaries(s: &Server) -> Vec<String> {
    let conn = s.env.sql();
    let mut st = conn
        .prepare("SELECT coalesce(family, ''), coalesce(nhs_number, ''), coalesce(postcode, ''), coalesce(birth_date, '') FROM person WHERE merged_into IS NULL")
        .unwrap();
    let rows: Vec<(String, String, String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let mut out: Vec<String> = Vec::new();
    for (family, nhs, postcode, born) in rows {
        if family.len() >= 4 {
            out.push(family);
        }
        out.extend([nhs, postcode, born].into_iter().filter(|x| x.len() >= 6));
    }
    out.sort();
    out.dedup();
    assert!(out.len() > 10_000, "{} canaries", out.len());
    out
}

fn assert_no_canary(what: &str, text: &str, canaries: &[String]) {
    let words: std::collections::HashSet<&str> = text
        .split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '-'))
        .filter(|w| !w.is_empty())
        .collect();
    for c in canaries {
        let found = if c.contains(' ') || c.contains('-') && c.len() == 10 {
            text.contains(c.as_str())
        } else {
            words.contains(c.as_str())
        };
        assert!(!found, "{what} shows {c:?}, which is about a person");
    }
}

pub fn assert_safe_everywhere(s: &Server, ana: &reqwest::blocking::Client) {
    let canaries = canaries(s);
    let get = |path: &str| {
        let r = ana.get(s.url(path)).send().unwrap();
        assert_eq!(r.status(), 200, "{path}");
        r.text().unwrap()
    };
    let front = get("/dashboard");
    assert_no_canary("/dashboard", &front, &canaries);
    for key in CONDITIONS {
        assert!(
            front.contains(&format!("/dashboard/{key}")),
            "/dashboard links to {key}"
        );
        let page = get(&format!("/dashboard/{key}"));
        assert_no_canary(key, &page, &canaries);
        assert!(
            !page.contains("/person/"),
            "{key}: the dashboard links to a person"
        );
        let trend = csv_rows(&get(&format!("/dashboard/{key}/trend.csv")));
        let areas = csv_rows(&get(&format!("/dashboard/{key}/areas.csv")));
        let ages = csv_rows(&get(&format!("/dashboard/{key}/age-sex.csv")));
        let now = csv_rows(&get(&format!("/dashboard/{key}/areas-current.csv")));
        let groups = csv_rows(&get(&format!("/dashboard/{key}/ethnicity.csv")));
        for (name, rows) in [
            ("trend", &trend),
            ("areas", &areas),
            ("age-sex", &ages),
            ("areas-current", &now),
            ("ethnicity", &groups),
        ] {
            let text: Vec<String> = rows.iter().map(|r| r.join(",")).collect();
            assert_no_canary(&format!("{key} {name}.csv"), &text.join("\n"), &canaries);
        }
        assert_tables_safe(key, &trend, &areas, &ages, &now, &groups);
    }
}

/// Cells [total, local authorities…, districts…] of area rows (`level`, `area`, …, `parent` in
/// column 3, the count in `column`) and the sums they obey, from index `first` on.
fn area_cells(
    total: Cell,
    rows: &[&Vec<String>],
    column: usize,
    first: usize,
) -> (Vec<Cell>, Vec<Sum>) {
    let las: Vec<&&Vec<String>> = rows.iter().filter(|r| r[0] == "la").collect();
    let districts: Vec<&&Vec<String>> = rows.iter().filter(|r| r[0] == "district").collect();
    let mut cells = vec![total];
    cells.extend(las.iter().map(|r| parse(&r[column], T)));
    cells.extend(districts.iter().map(|r| parse(&r[column], T)));
    let mut sums = vec![Sum {
        total: first,
        parts: (first + 1..=first + las.len()).collect(),
    }];
    for (j, la) in las.iter().enumerate() {
        let parts = districts
            .iter()
            .enumerate()
            .filter(|(_, d)| d[3] == la[1])
            .map(|(k, _)| first + 1 + las.len() + k)
            .collect();
        sums.push(Sum {
            total: first + 1 + j,
            parts,
        });
    }
    let placed: usize = sums[1..].iter().map(|s| s.parts.len()).sum();
    assert_eq!(
        placed,
        districts.len(),
        "every district is in a local authority"
    );
    (cells, sums)
}

/// Counts and marks only; no hidden count recoverable within a week (region = local
/// authorities = districts), within the pyramid (its total is the region's current count), in
/// the current count by area (the same total), across those two together, or between
/// neighbouring weeks of the current count.
fn assert_tables_safe(
    key: &str,
    trend: &[Vec<String>],
    areas: &[Vec<String>],
    ages: &[Vec<String>],
    now: &[Vec<String>],
    groups: &[Vec<String>],
) {
    assert_eq!(
        trend[0],
        ["week", "new", "current", "new_per_100000", "change"]
    );
    let new: BTreeMap<String, Cell> = trend[1..]
        .iter()
        .map(|r| (r[0].clone(), parse(&r[1], T)))
        .collect();
    let current: Vec<Cell> = trend[1..].iter().map(|r| parse(&r[2], T)).collect();
    for pair in current.windows(2) {
        if let [Cell::Count(a), Cell::Count(b)] = pair {
            let d = (a - b).abs();
            assert!(
                d == 0 || d >= T,
                "{key}: current moves by {d} between neighbouring weeks"
            );
        }
    }
    // Per week: cells [region, local authorities…, districts…] and their sums.
    assert_eq!(
        areas[0][..6],
        ["level", "area", "name", "parent", "week", "new"]
    );
    let mut weeks: BTreeMap<String, Vec<&Vec<String>>> = BTreeMap::new();
    for r in &areas[1..] {
        weeks.entry(r[4].clone()).or_default().push(r);
    }
    assert_eq!(weeks.len(), new.len(), "{key}: every week has its areas");
    for (week, rows) in weeks {
        let (cells, sums) = area_cells(new[&week], &rows, 5, 0);
        assert_unrecoverable(&format!("{key} areas {week}"), &cells, &sums);
    }
    // The pyramid: its total row equals the last week's current count.
    let total = ages.last().unwrap();
    assert_eq!(total[0], "total");
    assert_eq!(
        parse(&total[1], T),
        *current.last().unwrap(),
        "{key}: the pyramid's total"
    );
    let mut cells = vec![parse(&total[1], T)];
    for r in &ages[1..ages.len() - 1] {
        cells.extend(r[1..].iter().map(|c| parse(c, T)));
    }
    let sums = [Sum {
        total: 0,
        parts: (1..cells.len()).collect(),
    }];
    assert_unrecoverable(&format!("{key} age-sex"), &cells, &sums);

    // The current count by area, alone and with the pyramid: both split the same total.
    assert_eq!(
        now[0],
        [
            "level",
            "area",
            "name",
            "parent",
            "week",
            "current",
            "current_per_100000"
        ]
    );
    let rows: Vec<&Vec<String>> = now[1..].iter().collect();
    let (area_now, area_sums) = area_cells(*current.last().unwrap(), &rows, 5, 0);
    assert_unrecoverable(&format!("{key} areas-current"), &area_now, &area_sums);
    let offset = area_now.len() - 1;
    let mut joint = area_now;
    joint.extend(cells[1..].iter().copied());
    let mut joint_sums = area_sums;
    joint_sums.push(Sum {
        total: 0,
        parts: (offset + 1..joint.len()).collect(),
    });
    assert_unrecoverable(
        &format!("{key} areas-current with age-sex"),
        &joint,
        &joint_sums,
    );

    // By ethnic group: a third split of the same total, checked with the other two.
    assert_eq!(groups[0], ["ethnic_group", "current", "current_per_100000"]);
    let total = groups.last().unwrap();
    assert_eq!(total[0], "total");
    assert_eq!(
        parse(&total[1], T),
        joint[0],
        "{key}: the ethnic groups' total"
    );
    let first = joint.len();
    joint.extend(groups[1..groups.len() - 1].iter().map(|r| parse(&r[1], T)));
    joint_sums.push(Sum {
        total: 0,
        parts: (first..joint.len()).collect(),
    });
    assert_unrecoverable(
        &format!("{key} all splits of the current count"),
        &joint,
        &joint_sums,
    );
}
