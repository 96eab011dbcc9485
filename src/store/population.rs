//! The population dashboard's reads of the record and its summary tables. The record is read
//! as counts need it (a person's area, age and sex; the entries the condition set names) and
//! the summary tables hold counts only.

use super::{Store, Tx};
use crate::error::{DbContext, Result};
use rusqlite::params;
use std::collections::HashMap;

/// What the figures need of a person; never leaves `population`.
pub struct PersonRow {
    pub id: i64,
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub postcode: Option<String>,
    /// The NHS ethnic category code, where a feed sent one.
    pub ethnicity: Option<String>,
    pub deceased: bool,
    /// An objection to sharing: the golden record's flag or a standing recorded objection.
    pub objected: bool,
}

#[derive(Debug, Clone)]
pub struct RunRow {
    pub computed_at: String,
    pub data_to: Option<String>,
    pub first_week: String,
    pub last_week: String,
    pub seconds: f64,
    /// The record's totals when the figures were computed ([`crate::store::Stats`] as JSON).
    pub record_totals: Option<String>,
}

#[derive(Debug, Clone)]
pub struct FigureRow {
    pub condition: String,
    pub measure: String,
    pub level: String,
    pub area: String,
    pub week: String,
    pub people: i64,
}

#[derive(Debug, Clone)]
pub struct AreaRow {
    pub level: String,
    pub area: String,
    pub name: String,
    pub parent: Option<String>,
    pub people: i64,
}

#[derive(Debug, Clone)]
pub struct HotSpotRow {
    pub condition: String,
    pub level: String,
    pub area: String,
    pub week: String,
    pub rate_lower: f64,
    pub region_rate: f64,
}

impl Store {
    pub fn population_people(&self, each: &mut dyn FnMut(PersonRow)) -> Result<()> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT p.id, p.birth_date, p.sex, p.postcode,
                        p.deceased OR p.death_date IS NOT NULL,
                        p.sharing_objection OR EXISTS (SELECT 1 FROM sharing_objection o
                            WHERE o.person_id = p.id AND o.withdrawn_at IS NULL),
                        CASE WHEN instr(p.demographics, '\"ethnicity\"')
                             THEN p.demographics ->> '$.ethnicity' END
                 FROM person p WHERE p.merged_into IS NULL",
            )
            .doing("reading people for the population figures")?;
        let rows = stmt
            .query_map([], |r| {
                Ok(PersonRow {
                    id: r.get(0)?,
                    birth_date: r.get(1)?,
                    sex: r.get(2)?,
                    postcode: r.get(3)?,
                    deceased: r.get(4)?,
                    objected: r.get(5)?,
                    ethnicity: r.get(6)?,
                })
            })
            .doing("reading people for the population figures")?;
        for row in rows {
            each(row.doing("reading people for the population figures")?);
        }
        Ok(())
    }

    /// Each source's record of a person → the (surviving) person it belongs to now, after
    /// merges: read once, so that the entry scan needs no join per entry.
    pub fn population_links(&self) -> Result<HashMap<i64, i64>> {
        let doing = "reading the links between sources' records and people";
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT sp.id, coalesce(p.merged_into, p.id)
                 FROM source_person sp JOIN person p ON p.id = sp.person_id",
            )
            .doing(doing)?;
        let rows = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .doing(doing)?;
        rows.collect::<rusqlite::Result<_>>().doing(doing)
    }
}

impl Store {
    pub fn population_run(&self) -> Result<Option<RunRow>> {
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT computed_at, data_to, first_week, last_week, seconds, record_totals
                 FROM population_run",
            )
            .doing("reading when the population figures were computed")?;
        let mut rows = stmt
            .query_map([], |r| {
                Ok(RunRow {
                    computed_at: r.get(0)?,
                    data_to: r.get(1)?,
                    first_week: r.get(2)?,
                    last_week: r.get(3)?,
                    seconds: r.get(4)?,
                    record_totals: r.get(5)?,
                })
            })
            .doing("reading when the population figures were computed")?;
        rows.next()
            .transpose()
            .doing("reading when the population figures were computed")
    }

    pub fn population_figures(&self, condition: &str) -> Result<Vec<FigureRow>> {
        let doing = "reading population figures";
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT condition, measure, level, area, week, people FROM population_figure
                 WHERE condition = ?1",
            )
            .doing(doing)?;
        let rows = stmt
            .query_map([condition], |r| {
                Ok(FigureRow {
                    condition: r.get(0)?,
                    measure: r.get(1)?,
                    level: r.get(2)?,
                    area: r.get(3)?,
                    week: r.get(4)?,
                    people: r.get(5)?,
                })
            })
            .doing(doing)?;
        rows.collect::<rusqlite::Result<_>>().doing(doing)
    }

    pub fn population_areas(&self) -> Result<Vec<AreaRow>> {
        let doing = "reading population areas";
        let mut stmt = self
            .conn()
            .prepare("SELECT level, area, name, parent, people FROM population_denominator ORDER BY level, area")
            .doing(doing)?;
        let rows = stmt
            .query_map([], |r| {
                Ok(AreaRow {
                    level: r.get(0)?,
                    area: r.get(1)?,
                    name: r.get(2)?,
                    parent: r.get(3)?,
                    people: r.get(4)?,
                })
            })
            .doing(doing)?;
        rows.collect::<rusqlite::Result<_>>().doing(doing)
    }

    pub fn population_hot_spots(&self, condition: &str) -> Result<Vec<HotSpotRow>> {
        let doing = "reading population hot spots";
        let mut stmt = self
            .conn()
            .prepare(
                "SELECT condition, level, area, week, rate_lower, region_rate
                 FROM population_hot_spot WHERE condition = ?1 ORDER BY week, level, area",
            )
            .doing(doing)?;
        let rows = stmt
            .query_map([condition], |r| {
                Ok(HotSpotRow {
                    condition: r.get(0)?,
                    level: r.get(1)?,
                    area: r.get(2)?,
                    week: r.get(3)?,
                    rate_lower: r.get(4)?,
                    region_rate: r.get(5)?,
                })
            })
            .doing(doing)?;
        rows.collect::<rusqlite::Result<_>>().doing(doing)
    }
}

impl Tx<'_> {
    /// Replaces the summary tables whole.
    pub fn replace_population(
        &self,
        run: &RunRow,
        figures: &[FigureRow],
        areas: &[AreaRow],
        hot_spots: &[HotSpotRow],
    ) -> Result<()> {
        let doing = "writing the population figures";
        let c = self.conn();
        c.execute_batch(
            "DELETE FROM population_figure; DELETE FROM population_denominator;
             DELETE FROM population_hot_spot; DELETE FROM population_run;",
        )
        .doing(doing)?;
        c.execute(
            "INSERT INTO population_run
                 (id, computed_at, data_to, first_week, last_week, seconds, record_totals)
             VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                run.computed_at,
                run.data_to,
                run.first_week,
                run.last_week,
                run.seconds,
                run.record_totals
            ],
        )
        .doing(doing)?;
        let mut f = c
            .prepare("INSERT INTO population_figure VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            .doing(doing)?;
        for x in figures {
            f.execute(params![
                x.condition,
                x.measure,
                x.level,
                x.area,
                x.week,
                x.people
            ])
            .doing(doing)?;
        }
        let mut a = c
            .prepare("INSERT INTO population_denominator VALUES (?1, ?2, ?3, ?4, ?5)")
            .doing(doing)?;
        for x in areas {
            a.execute(params![x.level, x.area, x.name, x.parent, x.people])
                .doing(doing)?;
        }
        let mut h = c
            .prepare("INSERT INTO population_hot_spot VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
            .doing(doing)?;
        for x in hot_spots {
            h.execute(params![
                x.condition,
                x.level,
                x.area,
                x.week,
                x.rate_lower,
                x.region_rate
            ])
            .doing(doing)?;
        }
        Ok(())
    }
}

impl Store {
    /// When the newest data in the record arrived: the figures' "data to".
    pub fn population_data_to(&self) -> Result<Option<String>> {
        self.conn()
            .query_row(
                "SELECT max(received_at) FROM feed_file WHERE state = 'imported'",
                [],
                |r| r.get(0),
            )
            .doing("reading when the newest data arrived")
    }
}
