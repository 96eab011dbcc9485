//! Reading a person through the gate, and recording the access a profile gives itself
//! (self-claim, broken glass). Every reader calls these rather than the store.

use super::gate::{Gate, Grant, HitLevel, Opened, Restrictions, NOTIFICATION_GRANT};
use super::relationship::time_of;
use super::relationship::EVIDENCE;
use super::Profile;
use crate::audit::{Action, Actor};
use crate::error::{Error, Result};
use crate::model::Demographics;
use crate::notify::evaluate as notify;
use crate::store::{AuditEvent, NewAlert, Store};
use chrono::{DateTime, Duration, SecondsFormat, Utc};

fn text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// Self-claimed relationship or broken glass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Claim {
    SelfClaim,
    BreakGlass,
}

impl Claim {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SelfClaim => "self-claim",
            Self::BreakGlass => "break-glass",
        }
    }
}

/// A person named on a page that does not open their record: identity only.
#[derive(Debug, Clone)]
pub struct Identified {
    /// The live person (a merged-away id leads to the person it was merged into).
    pub person_id: i64,
    /// Name, date of birth, sex and NHS number only.
    pub demographics: Demographics,
}

/// What a claim produced: the alert reference the privacy officer will see, and when it lapses.
#[derive(Debug, Clone)]
pub struct Claimed {
    pub reference: String,
    pub expires_at: String,
}

impl Gate {
    /// The record behind `id` (a merged-away id leads to the person it was merged into) as
    /// `who` may see it. Does not audit: the caller records the view before showing it.
    pub fn open_person(
        &self,
        store: &Store,
        who: &Profile,
        id: i64,
        now: DateTime<Utc>,
        show_sensitive: bool,
    ) -> Result<Opened> {
        let Some(live) = store.resolve_person(id)? else {
            return Ok(self.open(who, None, &[], &Restrictions::default(), now, false));
        };
        let record = store.person_record(live)?;
        let mut grants = store.grants(who.id, live, &text(now))?;
        grants.extend(self.notification_grant(store, who, live, now)?);
        let restrictions = Restrictions {
            objection: store.objects_to_sharing(live)?,
        };
        Ok(self.open(who, record, &grants, &restrictions, now, show_sensitive))
    }

    /// Who person `id` is, for the page that refuses to open their record: the name, date of
    /// birth and NHS number a search row already shows `who` without a relationship, so the
    /// reader knows whose record they are about to claim or break glass on. `None` for a role
    /// that may not search (it would learn more here than from a search) and for no such person.
    /// The caller audits what it shows.
    pub fn identify(&self, store: &Store, who: &Profile, id: i64) -> Result<Option<Identified>> {
        if self.hit(who, false, false).is_none() {
            return Ok(None);
        }
        let Some(live) = store.resolve_person(id)? else {
            return Ok(None);
        };
        let Some(record) = store.person_record_of(live, &[])? else {
            return Ok(None);
        };
        let listed = self.listed_hit(store, who, live, &record.demographics, HitLevel::Identity)?;
        Ok(Some(Identified {
            person_id: live,
            demographics: listed.demographics,
        }))
    }

    /// The latest notification to `who`'s organisation about person `person_id` as a grant in
    /// force until `notification_relationship_hours` after it, where the access settings make
    /// a notification a reason to open the record; `None` otherwise.
    pub fn notification_grant(
        &self,
        store: &Store,
        who: &Profile,
        person_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Option<Grant>> {
        let hours = self.notification_hours();
        if hours <= 0 {
            return Ok(None);
        }
        let since = now - Duration::hours(hours);
        let Some(raised) =
            store.latest_notification_to(&format!("org:{}", who.org), person_id, &text(since))?
        else {
            return Ok(None);
        };
        let Some(until) = time_of(&raised).map(|t| t + Duration::hours(hours)) else {
            return Ok(None);
        };
        Ok(Some(Grant {
            id: 0,
            kind: NOTIFICATION_GRANT.to_owned(),
            reason_code: String::new(),
            reason: String::new(),
            expires_at: text(until),
        }))
    }

    /// Whether `who` has a care relationship (inferred or granted) with a live person: what a
    /// search hit may show depends on it.
    pub fn related(
        &self,
        store: &Store,
        who: &Profile,
        person_id: i64,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        let Some(record) = store.person_record_of(person_id, &EVIDENCE)? else {
            return Ok(false);
        };
        let mut grants = store.grants(who.id, person_id, &text(now))?;
        grants.extend(self.notification_grant(store, who, person_id, now)?);
        Ok(!self.relationships(who, &record, &grants, now).is_empty())
    }

    /// Records a self-claim or broken glass for `who` on person `id`, raises the privacy
    /// officer's alert and audits it, in one transaction. The caller has checked the password
    /// for broken glass and that the role may do this.
    #[allow(clippy::too_many_arguments)]
    pub fn claim(
        &self,
        store: &mut Store,
        who: &Profile,
        claim: Claim,
        id: i64,
        reason_code: &str,
        reason: &str,
        now: DateTime<Utc>,
        ip: Option<&str>,
    ) -> Result<Claimed> {
        let reasons: &[(&str, &str)] = match claim {
            Claim::SelfClaim => &super::CLAIM_REASONS,
            Claim::BreakGlass => &super::GLASS_REASONS,
        };
        if !super::reason_known(reasons, reason_code) {
            return Err(Error::Invalid("choose one of the listed reasons".into()));
        }
        let reason = reason.trim();
        if reason.chars().count() < 10 {
            return Err(Error::Invalid(
                "say why in a few words (at least 10 characters)".into(),
            ));
        }
        let actor = Actor::session(who, ip);
        let action = match claim {
            Claim::SelfClaim => Action::SelfClaim,
            Claim::BreakGlass => Action::BreakGlassStart,
        };
        let Some(live) = store.resolve_person(id)? else {
            // Refused, but recorded: probing for ids must leave a trace, and the caller answers
            // exactly as for a person who exists (see `web::pages::access`).
            let tx = store.begin()?;
            let detail = format!("record {id}: no such person");
            tx.audit(
                &AuditEvent {
                    detail: Some(&detail),
                    outcome: "denied",
                    ..actor.event(action)
                },
                &text(now),
            )?;
            tx.commit()?;
            return Err(Error::NotFound("no such person".into()));
        };
        let hours = match claim {
            Claim::SelfClaim => self.config.self_claim_hours,
            Claim::BreakGlass => self.config.break_glass_hours,
        };
        let now_text = text(now);
        let expires_at = text(now + Duration::hours(hours));
        let objection = store.objects_to_sharing(live)?;
        let tx = store.begin()?;
        let grant = tx.add_grant(
            claim.as_str(),
            who.id,
            live,
            reason_code,
            reason,
            &now_text,
            &expires_at,
        )?;
        let alert = NewAlert {
            kind: claim.as_str(),
            grant_id: Some(grant),
            user_id: who.user_id,
            person_id: Some(live),
            raised_by_user_id: Some(who.user_id),
            raised_by: &who.username,
            detail: None,
        };
        let reference = tx.raise_alert(&alert, &now_text)?;
        let rules = &self.notifications;
        notify::privacy_alert_raised(&tx, rules, alert.kind, &reference, Some(live), &now_text)?;
        let detail = format!("{reference} {reason_code}: {reason}");
        let why = format!("{reason_code}: {reason}");
        tx.audit(
            &AuditEvent {
                person_id: Some(live),
                reason: Some(&why),
                detail: Some(&detail),
                ..actor.event(action)
            },
            &now_text,
        )?;
        if claim == Claim::BreakGlass && objection && self.config.break_glass_overrides_objection {
            let kind = "objection-override";
            let override_ref = tx.raise_alert(&NewAlert { kind, ..alert }, &now_text)?;
            notify::privacy_alert_raised(&tx, rules, kind, &override_ref, Some(live), &now_text)?;
        }
        tx.commit()?;
        Ok(Claimed {
            reference,
            expires_at,
        })
    }

    /// Ends the broken glass `who` holds on person `id` before it lapses; returns whether
    /// there was any. Audited as `break-glass-end` in the same transaction.
    pub fn end_break_glass(
        &self,
        store: &mut Store,
        who: &Profile,
        id: i64,
        now: DateTime<Utc>,
        ip: Option<&str>,
    ) -> Result<bool> {
        let Some(live) = store.resolve_person(id)? else {
            return Ok(false);
        };
        let actor = Actor::session(who, ip);
        let now = text(now);
        let tx = store.begin()?;
        let ended = tx.end_grants(Claim::BreakGlass.as_str(), who.id, live, &now)?;
        if ended > 0 {
            tx.audit(
                &AuditEvent {
                    person_id: Some(live),
                    detail: Some("ended by the user"),
                    ..actor.event(Action::BreakGlassEnd)
                },
                &now,
            )?;
        }
        tx.commit()?;
        Ok(ended > 0)
    }
}
