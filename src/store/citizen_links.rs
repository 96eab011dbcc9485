//! Finding the person an identity provider's NHS number belongs to (see
//! `crate::citizen::oidc::link`).

use super::{Store, Tx};
use crate::error::{DbContext, Result};
use rusqlite::params;

/// A person an NHS number leads to: through their own (golden) NHS number, or through a source
/// record that sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NhsHolder {
    pub person_id: i64,
    /// Merged into another person: their record is now under that one.
    pub merged: bool,
    /// The person's own (verified) NHS number is another one: the number came only through a
    /// source record, as after a merge the retired person's records carry their old number
    /// into the surviving person.
    pub other_number: bool,
    /// A source sent this number for this person as verified (traced against the national
    /// register, or not said otherwise).
    pub verified: bool,
}

impl Store {
    /// Every person, live or merged away, whom `nhs` leads to.
    pub fn persons_with_nhs_number(&self, nhs: &str) -> Result<Vec<NhsHolder>> {
        self.conn()
            .prepare_cached(
                "SELECT p.id, p.merged_into IS NOT NULL, p.nhs_number IS NOT NULL AND p.nhs_number IS NOT ?1,
                        EXISTS (SELECT 1 FROM source_person v
                                WHERE v.person_id = p.id AND v.nhs_number = ?1
                                  AND v.nhs_number_status = 'verified')
                 FROM person p
                 WHERE p.id IN (SELECT id FROM person WHERE nhs_number = ?1
                                UNION SELECT person_id FROM source_person
                                WHERE nhs_number = ?1 AND person_id IS NOT NULL)
                 ORDER BY p.id LIMIT 20",
            )
            .and_then(|mut s| {
                s.query_map([nhs], |r| {
                    Ok(NhsHolder {
                        person_id: r.get(0)?,
                        merged: r.get(1)?,
                        other_number: r.get(2)?,
                        verified: r.get(3)?,
                    })
                })?
                .collect()
            })
            .doing("finding a person by NHS number")
    }
}

impl Tx<'_> {
    /// The person's citizen account, made when they have none (with the name, password hash and
    /// unconfirmed TOTP secret given); an existing account is left exactly as it is.
    pub fn citizen_account_for_provider(
        &self,
        person_id: i64,
        username: &str,
        password_hash: &str,
        totp_secret: &str,
        now: &str,
    ) -> Result<i64> {
        // Sealed like every other second-factor secret: a plain one would sign nobody in.
        let sealed = self
            .secrets
            .get(self.conn())?
            .seal(totp_secret, person_id)?;
        self.conn()
            .execute(
                "INSERT INTO citizen_account (person_id, username, password_hash, totp_secret, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (person_id) DO NOTHING",
                params![person_id, username, password_hash, sealed, now],
            )
            .doing("making a citizen's account")?;
        self.conn()
            .query_row(
                "SELECT id FROM citizen_account WHERE person_id = ?1",
                [person_id],
                |r| r.get(0),
            )
            .doing("making a citizen's account")
    }
}
