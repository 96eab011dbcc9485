//! `GET /dashboard/<condition>`: one condition's figures — weekly trend, map of areas with hot
//! spots, age/sex pyramid — each a picture with its table, and
//! `GET /dashboard/<condition>/<table>.csv` the same tables as downloads. Everything comes from
//! `population::published`, already suppressed; every view and download is audited.

use super::dashboard_svg as svg;
use super::{Page, UserBar};
use crate::audit::Action;
use crate::population::areas::Hexes;
use crate::population::compute::SEXES;
use crate::population::published::{Area, Published};
use crate::population::{published, ConditionSet};
use crate::web::guards::Analyst;
use crate::web::privacy::csv_export::cell;
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::http::{ContentType, Header, Status};
use rocket::{get, routes, Responder, Route, State};

pub fn routes() -> Vec<Route> {
    routes![condition, download]
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard_condition.html")]
pub struct ConditionPage {
    pub bar: Option<UserBar>,
    pub p: Published,
    pub week: usize,
    pub trend_svg: String,
    pub map_svg: String,
    pub pyramid_svg: String,
    pub level_note: String,
}

impl ConditionPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }
    pub fn t(&self) -> i64 {
        self.p.threshold
    }
    pub fn week_name(&self) -> &str {
        self.p.weeks.get(self.week).map_or("", String::as_str)
    }
    pub fn last_week(&self) -> &str {
        self.p.weeks.last().map_or("", String::as_str)
    }
    /// "06:00 on 2026-12-03, data to 02:14 on 2026-12-03".
    pub fn freshness(&self) -> String {
        let at = |t: &str| {
            format!(
                "{} on {}",
                t.get(11..16).unwrap_or(t),
                t.get(..10).unwrap_or("")
            )
        };
        if self.p.computed_at.is_empty() {
            return "not yet computed (the population job runs nightly)".into();
        }
        let mut s = at(&self.p.computed_at);
        if let Some(d) = &self.p.data_to {
            s.push_str(&format!(", data to {}", at(d)));
        }
        s
    }
    pub fn levels(&self) -> [(&'static str, &'static str); 2] {
        [("la", "local authority"), ("district", "postcode district")]
    }
    pub fn cell_of<'a>(&self, a: &'a Area) -> Option<&'a crate::population::published::AreaWeek> {
        a.weeks.get(self.week)
    }
    pub fn hot_spot_lines(&self) -> Vec<String> {
        self.p
            .hot_spots
            .iter()
            .map(|(w, level, area)| {
                let name = self
                    .p
                    .areas
                    .iter()
                    .find(|a| &a.level == level && &a.code == area)
                    .map_or(area.as_str(), |a| a.name.as_str());
                match level.as_str() {
                    "la" => format!("{w}: local authority {name}"),
                    _ => format!("{w}: postcode district {name}"),
                }
            })
            .collect()
    }
    pub fn areas_of(&self, level: &str) -> Vec<&Area> {
        self.p.areas.iter().filter(|a| a.level == level).collect()
    }
    pub fn rate_text(rate: &Option<f64>) -> String {
        rate.map_or("–".into(), |r| format!("{r:.0}"))
    }
    pub fn change_text(change: &Option<i64>) -> String {
        change.map_or("–".into(), |c| format!("{c:+}"))
    }
}

fn load(web: &Web, analyst: &Analyst, key: &str) -> Result<Option<Published>, ServerError> {
    let set = ConditionSet::load(web.config.population.conditions.as_deref())?;
    Ok(published(
        analyst.0.store(),
        &set,
        &web.config.population,
        key,
    )?)
}

#[get("/dashboard/<key>?<week>", rank = 2)]
fn condition(
    mut analyst: Analyst,
    web: &State<Web>,
    key: &str,
    week: Option<&str>,
) -> Result<Result<Page<ConditionPage>, Status>, ServerError> {
    let Some(p) = load(web, &analyst, key)? else {
        return Ok(Err(Status::NotFound));
    };
    let week = week
        .and_then(|w| p.weeks.iter().position(|x| x == w))
        .unwrap_or(p.weeks.len().saturating_sub(1));
    let hexes = Hexes::load(web.config.population.boundaries.as_deref())?;
    let districts: Vec<&Area> = p.areas.iter().filter(|a| a.level == "district").collect();
    let week_name = p.weeks.get(week).cloned().unwrap_or_default();
    let t = p.threshold;
    let page = ConditionPage {
        bar: UserBar::of(&analyst.0),
        trend_svg: svg::trend(&p.trend, &format!("{}: people new each week", p.name), t),
        map_svg: svg::map(
            &hexes,
            &districts,
            week,
            &format!(
                "{}: rate per 100,000 by postcode district, week {week_name}",
                p.name
            ),
            t,
        ),
        pyramid_svg: svg::pyramid(
            &p.pyramid,
            &format!(
                "{}: people by age band and sex, week {}",
                p.name,
                p.weeks.last().map_or("", String::as_str)
            ),
            t,
        ),
        level_note: format!("{:.1} %", crate::population::poisson::LEVEL * 100.0),
        week,
        p,
    };
    analyst.0.audit(
        web,
        Action::DashboardView,
        None,
        &format!("dashboard {key} {week_name}"),
        "ok",
    )?;
    Ok(Ok(Page::ok(page)))
}

/// A CSV download.
#[derive(Responder)]
pub struct Csv {
    body: (ContentType, Vec<u8>),
    disposition: Header<'static>,
}

#[get("/dashboard/<key>/<file>", rank = 2)]
fn download(
    mut analyst: Analyst,
    web: &State<Web>,
    key: &str,
    file: &str,
) -> Result<Result<Csv, Status>, ServerError> {
    let Some(p) = load(web, &analyst, key)? else {
        return Ok(Err(Status::NotFound));
    };
    let Some(rows) = table(&p, file) else {
        return Ok(Err(Status::NotFound));
    };
    let mut w = csv::Writer::from_writer(Vec::new());
    for r in rows {
        w.write_record(r.iter().map(|c| cell(c).into_owned()))
            .map_err(|e| crate::error::Error::Invalid(format!("writing CSV: {e}")))?;
    }
    let body = w
        .into_inner()
        .map_err(|e| crate::error::Error::Invalid(format!("writing CSV: {e}")))?;
    analyst.0.audit(
        web,
        Action::DashboardDownload,
        None,
        &format!("dashboard {key} {file}"),
        "ok",
    )?;
    Ok(Ok(Csv {
        body: (ContentType::CSV, body),
        disposition: Header::new(
            "Content-Disposition",
            format!("attachment; filename=\"{}-{file}\"", p.key),
        ),
    }))
}

/// The rows of one downloadable table, header first: `trend.csv`, `areas.csv`,
/// `areas-current.csv`, `age-sex.csv`, `ethnicity.csv`.
pub fn table(p: &Published, file: &str) -> Option<Vec<Vec<String>>> {
    let t = p.threshold;
    let rate = |r: &Option<f64>| r.map(|r| format!("{r:.1}")).unwrap_or_default();
    let mut rows = Vec::new();
    match file {
        "trend.csv" => {
            rows.push(
                ["week", "new", "current", "new_per_100000", "change"]
                    .map(String::from)
                    .to_vec(),
            );
            for r in &p.trend {
                rows.push(vec![
                    r.week.clone(),
                    r.new.text(t),
                    r.current.text(t),
                    rate(&r.rate),
                    r.change.map(|c| c.to_string()).unwrap_or_default(),
                ]);
            }
        }
        "areas.csv" => {
            rows.push(
                [
                    "level",
                    "area",
                    "name",
                    "parent",
                    "week",
                    "new",
                    "new_per_100000",
                    "change",
                    "hot_spot",
                ]
                .map(String::from)
                .to_vec(),
            );
            for a in &p.areas {
                for (w, c) in p.weeks.iter().zip(&a.weeks) {
                    rows.push(vec![
                        a.level.clone(),
                        a.code.clone(),
                        a.name.clone(),
                        a.parent.clone().unwrap_or_default(),
                        w.clone(),
                        c.new.text(t),
                        rate(&c.rate),
                        c.change.map(|c| c.to_string()).unwrap_or_default(),
                        if c.hot_spot { "yes" } else { "" }.into(),
                    ]);
                }
            }
        }
        "areas-current.csv" => {
            rows.push(
                [
                    "level",
                    "area",
                    "name",
                    "parent",
                    "week",
                    "current",
                    "current_per_100000",
                ]
                .map(String::from)
                .to_vec(),
            );
            let last = p.weeks.last().cloned().unwrap_or_default();
            for a in &p.areas {
                rows.push(vec![
                    a.level.clone(),
                    a.code.clone(),
                    a.name.clone(),
                    a.parent.clone().unwrap_or_default(),
                    last.clone(),
                    a.current.text(t),
                    rate(&a.current_rate),
                ]);
            }
        }
        "ethnicity.csv" => {
            rows.push(
                ["ethnic_group", "current", "current_per_100000"]
                    .map(String::from)
                    .to_vec(),
            );
            for r in &p.ethnicity {
                rows.push(vec![r.group.to_owned(), r.current.text(t), rate(&r.rate)]);
            }
            rows.push(vec![
                "total".to_owned(),
                p.pyramid_total.text(t),
                String::new(),
            ]);
        }
        "age-sex.csv" => {
            let mut head = vec!["age_band".to_owned()];
            head.extend(SEXES.iter().map(|s| (*s).to_owned()));
            rows.push(head);
            for r in &p.pyramid {
                let mut row = vec![r.band.to_owned()];
                row.extend(r.cells.iter().map(|c| c.text(t)));
                rows.push(row);
            }
            let mut total = vec!["total".to_owned(), p.pyramid_total.text(t)];
            total.resize(1 + SEXES.len(), String::new());
            rows.push(total);
        }
        _ => return None,
    }
    Some(rows)
}
