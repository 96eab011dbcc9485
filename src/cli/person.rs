//! `sharedcare person find|show` and `sharedcare export`.

use super::text::{say, tell};
use super::{print_json, Ctx};
use crate::access::{objections, view_as, Gate, Restrictions};
use crate::audit::Action;
use crate::audit::Actor;
use crate::clock::Clock;
use crate::error::{Error, Result};
use crate::model::NhsNumber;
use crate::record::{fhir_export, PersonRecord};
use crate::store::PersonHit;
use clap::{Args, Subcommand};

#[derive(Debug, Subcommand)]
pub enum PersonCommand {
    /// Find people by NHS number, or by name (optionally with date of birth).
    Find {
        #[arg(long, conflicts_with = "name", required_unless_present = "name")]
        nhs_number: Option<String>,
        #[arg(long)]
        name: Option<String>,
        /// Date of birth, YYYY-MM-DD or DD/MM/YYYY.
        #[arg(long)]
        dob: Option<String>,
    },
    /// Show a person's whole record, by person id or NHS number.
    Show {
        /// A person id or an NHS number.
        id: String,
        #[command(flatten)]
        reason: ReasonArg,
    },
    /// Record the person's objection to sharing: their data is then shown to each
    /// organisation only where it supplied it.
    Object {
        /// A person id or an NHS number.
        id: String,
        /// What the person said, or the form reference.
        #[arg(long)]
        reason: String,
        /// When the person objected, YYYY-MM-DD (default today).
        #[arg(long)]
        date: Option<String>,
    },
    /// Withdraw the objections recorded here (an objection sent by a feed stays until the feed
    /// withdraws it).
    WithdrawObjection {
        /// A person id or an NHS number.
        id: String,
    },
    /// Mark a person as a test person: the privacy officer's view-as may then show them as
    /// another role would, without a reason or an alert. Audited (`person-test-mark`).
    MarkTest {
        /// A person id or an NHS number.
        id: String,
    },
    /// Take the test-person mark away (`person-test-unmark`).
    UnmarkTest {
        /// A person id or an NHS number.
        id: String,
    },
    /// Search inside one person's record: entries whose text contains every word.
    Search {
        /// A person id or an NHS number.
        id: String,
        /// Words to find, e.g. "penicillin" or "dnacpr".
        text: String,
        #[command(flatten)]
        reason: ReasonArg,
    },
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    #[arg(long, conflicts_with = "person", required_unless_present = "person")]
    pub nhs_number: Option<String>,
    #[arg(long)]
    pub person: Option<i64>,
    #[command(flatten)]
    pub reason: ReasonArg,
}

/// Sensitive entries, a restricted person's address and location, and other organisations'
/// data under an objection are withheld from the terminal too, unless a reason is given; the
/// reason is recorded in the audit trail with the view.
#[derive(Debug, Args)]
pub struct ReasonArg {
    /// Why withheld data is needed (recorded): shows sensitive entries, a restricted person's
    /// whereabouts, and data an objection hides.
    #[arg(long = "reason")]
    pub reason: Option<String>,
}

pub fn run(ctx: &mut Ctx, cmd: PersonCommand) -> Result<u8> {
    match cmd {
        PersonCommand::Find {
            nhs_number,
            name,
            dob,
        } => {
            // What was asked, for the audit trail: the kind of search, never the words (a
            // name or number typed is patient data; the persons shown are recorded by id).
            let (mut hits, asked) = match (nhs_number, name) {
                (Some(n), _) => (
                    ctx.store.find_by_nhs_number(&nhs_digits(&n)?)?,
                    "by NHS number",
                ),
                (None, Some(name)) => {
                    let dob = dob.as_deref().map(parse_dob).transpose()?;
                    // The search box's search, its first page.
                    let mut query = crate::record::search::Query::parse(&name);
                    query.birth_date = dob
                        .as_deref()
                        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok());
                    let found = crate::record::search::run(&ctx.store, &query, 0)?.found;
                    let ids: Vec<i64> = found.iter().map(|f| f.person.id).collect();
                    let hits = ctx.store.person_hits(&ids)?;
                    let asked = if dob.is_some() {
                        "by name and date of birth"
                    } else {
                        "by name"
                    };
                    (hits, asked)
                }
                (None, None) => return Err(Error::Invalid("give --nhs-number or --name".into())),
            };
            // As `person show` without a reason: a restricted person's whereabouts are withheld.
            for h in hits.iter_mut().filter(|h| h.restricted) {
                h.postcode = None;
            }
            let shown: Vec<i64> = hits.iter().map(|h| h.id).collect();
            super::audit_shown(
                ctx,
                Action::CliList,
                &shown,
                &format!("person find {asked}: {} shown", shown.len()),
            )?;
            if ctx.json {
                print_json(&hits);
            } else if hits.is_empty() {
                say!("no one found");
            } else {
                for h in &hits {
                    say!("{}", hit_line(h));
                }
            }
            Ok(0)
        }
        PersonCommand::Object { id, reason, date } => {
            let person = find(ctx, &id)?.person_id;
            let date = match date {
                Some(d) => parse_dob(&d)?,
                None => super::CLOCK.now().date_naive().to_string(),
            };
            if reason.trim().is_empty() {
                return Err(Error::Invalid("give the objection's --reason".into()));
            }
            let date = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d")
                .map_err(|_| Error::Invalid("the date must look like 2025-03-31".into()))?;
            objections::record(
                &mut ctx.store,
                &Actor::operator(),
                person,
                &reason,
                date,
                super::CLOCK.now(),
            )?;
            say!("objection recorded for person {person}: each organisation now sees only what it supplied");
            Ok(0)
        }
        PersonCommand::MarkTest { id } => mark_test(ctx, &id, true),
        PersonCommand::UnmarkTest { id } => mark_test(ctx, &id, false),
        PersonCommand::WithdrawObjection { id } => {
            let person = find(ctx, &id)?.person_id;
            let n = match objections::withdraw(
                &mut ctx.store,
                &Actor::operator(),
                person,
                super::CLOCK.now(),
            ) {
                Err(Error::NotFound(_)) => 0,
                done => done?,
            };
            say!("{n} objection(s) withdrawn for person {person}");
            Ok(0)
        }
        PersonCommand::Show { id, reason } => {
            let record = load(ctx, &id, &reason, Action::CliShow)?;
            if ctx.json {
                print_json(&record);
            } else {
                print!(
                    "{}",
                    super::text::inert(&crate::record::text::render(&record))
                );
            }
            Ok(0)
        }
        PersonCommand::Search { id, text, reason } => {
            let mut record = load(ctx, &id, &reason, Action::CliSearch)?;
            let hits = ctx.store.search_record(record.person_id, &text)?;
            record.entries.retain(|e| hits.contains(&e.id));
            record
                .entries
                .sort_by_key(|e| hits.iter().position(|h| *h == e.id));
            if ctx.json {
                print_json(&record.entries);
            } else if record.entries.is_empty() {
                say!("nothing in this record matches \"{text}\"");
            } else {
                for e in &record.entries {
                    say!(
                        "{:<18} {}  ({}, {})",
                        e.entry.category.as_str(),
                        e.entry.title,
                        e.provenance.source_code,
                        e.entry.start.as_deref().unwrap_or("undated")
                    );
                }
            }
            Ok(0)
        }
    }
}

pub fn export(ctx: &mut Ctx, args: &ExportArgs) -> Result<u8> {
    let key = match (&args.nhs_number, args.person) {
        (Some(n), _) => n.clone(),
        (None, Some(id)) => id.to_string(),
        (None, None) => return Err(Error::Invalid("give --nhs-number or --person".into())),
    };
    let record = load(ctx, &key, &args.reason, Action::CliExport)?;
    print_json(&fhir_export::bundle(&record));
    Ok(0)
}

/// A person by id or NHS number, following merges, as the access gate lets the operator see
/// them; the view is audited as `action` before anything is printed.
fn load(ctx: &mut Ctx, key: &str, reason: &ReasonArg, action: Action) -> Result<PersonRecord> {
    let reason = reason.reason.as_deref().map(str::trim);
    if reason.is_some_and(|r| r.chars().count() < 10) {
        return Err(Error::Invalid(
            "say why in a few words: --reason needs at least 10 characters".into(),
        ));
    }
    let record = find(ctx, key)?;
    let gate = Gate::new(&ctx.config.access)?;
    let restrictions = Restrictions {
        objection: ctx.store.objects_to_sharing(record.person_id)?,
    };
    let visible = gate.open_as_operator(record, &restrictions, reason.is_some());
    let detail = match reason {
        Some(_) => "withheld data shown",
        None => "withheld data not shown",
    };
    super::audit_person(ctx, action, visible.record.person_id, detail, reason)?;
    if visible.withheld.sensitive + visible.withheld.by_objection > 0 || visible.withheld.restricted
    {
        tell!(
            "withheld: {} sensitive, {} under an objection{}; give --reason to include them",
            visible.withheld.sensitive,
            visible.withheld.by_objection,
            if visible.withheld.restricted {
                ", restricted address and location"
            } else {
                ""
            }
        );
    }
    Ok(visible.record)
}

/// A person by id or NHS number, following merges.
/// The live person an id or NHS number names, without reading their record.
pub fn find_id(ctx: &Ctx, key: &str) -> Result<i64> {
    find(ctx, key).map(|r| r.person_id)
}

fn find(ctx: &Ctx, key: &str) -> Result<PersonRecord> {
    let compact: String = key.chars().filter(|c| !c.is_whitespace()).collect();
    let person_id = if compact.len() == 10 && compact.bytes().all(|b| b.is_ascii_digit()) {
        let hits = ctx.store.find_by_nhs_number(&compact)?;
        match hits.as_slice() {
            [one] => one.id,
            [] => return Err(Error::NotFound(format!("no one with NHS number {key}"))),
            _ => {
                return Err(Error::Invalid(format!(
                    "{} people have NHS number {key} (unverified numbers can repeat); use a person id: {}",
                    hits.len(),
                    hits.iter().map(|h| h.id.to_string()).collect::<Vec<_>>().join(", ")
                )))
            }
        }
    } else {
        compact.parse::<i64>().map_err(|_| {
            Error::Invalid(format!("{key} is neither a person id nor an NHS number"))
        })?
    };
    let live = ctx
        .store
        .resolve_person(person_id)?
        .ok_or_else(|| Error::NotFound(format!("no person {person_id}")))?;
    ctx.store
        .person_record(live)?
        .ok_or_else(|| Error::NotFound(format!("no person {person_id}")))
}

fn nhs_digits(raw: &str) -> Result<String> {
    let digits = crate::model::nhs_number::standardise(raw);
    if digits.len() != 10 {
        return Err(Error::Invalid(format!(
            "{raw} is not an NHS number (10 digits)"
        )));
    }
    Ok(digits)
}

/// Marks or unmarks a test person (see `access::view_as`).
fn mark_test(ctx: &mut Ctx, key: &str, test: bool) -> Result<u8> {
    let person = find(ctx, key)?.person_id;
    let changed = view_as::mark_test_person(
        &mut ctx.store,
        &Actor::operator(),
        person,
        test,
        super::CLOCK.now(),
    )?;
    let state = match (test, changed) {
        (true, true) => "is now marked as a test person",
        (true, false) => "was already marked as a test person",
        (false, true) => "is no longer marked as a test person",
        (false, false) => "was not marked as a test person",
    };
    say!("person {person} {state}");
    Ok(0)
}

fn parse_dob(raw: &str) -> Result<String> {
    ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d %b %Y", "%d %B %Y"]
        .iter()
        .find_map(|f| chrono::NaiveDate::parse_from_str(raw.trim(), f).ok())
        .map(|d| d.to_string())
        .ok_or_else(|| {
            Error::Invalid(format!(
                "{raw} is not a date (try 1954-03-12 or 12/03/1954)"
            ))
        })
}

fn hit_line(h: &PersonHit) -> String {
    let nhs = h
        .nhs_number
        .as_deref()
        .and_then(|n| NhsNumber::parse(n).ok())
        .map(|n| n.formatted())
        .unwrap_or_else(|| "no NHS number".into());
    format!(
        "{:>6}  {:<12}  {}, {}  born {}  {}  {}{}",
        h.id,
        nhs,
        h.family.as_deref().unwrap_or("?").to_uppercase(),
        h.given.as_deref().unwrap_or("?"),
        h.birth_date.as_deref().unwrap_or("unknown"),
        h.sex.as_deref().unwrap_or(""),
        match (&h.postcode, h.restricted) {
            (_, true) => "postcode withheld (restricted)",
            (Some(p), false) => p.as_str(),
            (None, false) => "",
        },
        if h.deceased { "  DECEASED" } else { "" }
    )
}
