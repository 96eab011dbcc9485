//! What a source is and how its files arrive, checked once for both ways of changing it: the
//! `sharedcare source add|edit` command and the administrator's form on the feed pages. The
//! caller gathers text (a mapping file's contents, public key files' contents); everything is
//! validated before anything is saved, so a bad key or cadence changes nothing.
//!
//! [`save_source`] is the one way a source changes: it checks, saves the source with its
//! cadence, drop folder and keys, and writes the `feed-source-save` audit event in one
//! transaction, so a source never changes without its record.

use super::cadence::Cadence;
use super::drop_folder::check_drop_folder;
use super::sftp::keys::{parse_public_keys, AuthorisedKey};
use super::Spool;
use crate::audit::{Action, Actor};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::import::links::record;
use crate::ingest::csv::Mapping;
use crate::model::{Format, SourceKind};
use crate::store::{NewSource, Store, Tx};
use std::path::Path;

/// A source as asked for. `None` on an optional setting leaves it as it is; `Some("")` clears
/// a cadence or drop folder.
#[derive(Debug, Default, Clone)]
pub struct SourceInput {
    pub code: String,
    pub name: String,
    pub org: String,
    pub org_name: Option<String>,
    pub kind: String,
    pub format: String,
    /// (where it came from, for messages; the TOML text).
    pub mapping: Option<(String, String)>,
    pub cadence: Option<String>,
    pub drop_folder: Option<String>,
    /// (where each came from; its text): `.pub` files or pasted `authorized_keys` lines.
    pub keys: Vec<(String, String)>,
    /// `ADDR:PORT` of its own MLLP port; `Some("")` clears.
    pub mllp: Option<String>,
    /// Addresses allowed to send over MLLP; `Some("")` is loopback only.
    pub mllp_allow: Option<String>,
}

/// A checked source, ready to save.
#[derive(Debug)]
pub struct ValidSource {
    code: String,
    name: String,
    org: String,
    org_name: Option<String>,
    kind: SourceKind,
    format: Format,
    mapping: Option<String>,
    cadence: Option<Option<String>>,
    drop_folder: Option<Option<String>>,
    pub keys: Vec<AuthorisedKey>,
    mllp: Option<Option<String>>,
    mllp_allow: Option<Option<String>>,
}

impl SourceInput {
    /// Checks everything; `store` says whether the source exists (a new CSV source needs a
    /// mapping, an existing one keeps its own).
    pub fn validate(&self, config: &Config, store: &Store) -> Result<ValidSource> {
        let code = self.code.trim().to_owned();
        Spool::new(&config.data_dir, &code)?;
        let name = self.name.trim().to_owned();
        let org = self.org.trim().to_owned();
        if name.is_empty() || org.is_empty() {
            return Err(Error::Invalid(
                "a source needs a name and the ODS code of its organisation".into(),
            ));
        }
        let kind = SourceKind::parse(self.kind.trim())
            .ok_or_else(|| Error::Invalid(format!("unknown kind {}", self.kind)))?;
        let format = Format::parse(self.format.trim())
            .ok_or_else(|| Error::Invalid(format!("unknown format {}", self.format)))?;
        let mapping = match &self.mapping {
            Some((from, text)) => {
                Mapping::from_toml(text)
                    .map_err(|e| Error::Invalid(format!("the mapping {from} is not valid: {e}")))?;
                Some(text.clone())
            }
            None => None,
        };
        if format == Format::Csv && mapping.is_none() && store.source_by_code(&code).is_err() {
            return Err(Error::Invalid(
                "a CSV source needs a mapping: add --mapping FILE (see sample-feeds/mappings/ \
                 for examples)"
                    .into(),
            ));
        }
        let cadence = match self.cadence.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(spec) => Some(Some(Cadence::parse(spec).map_err(Error::Invalid)?.spec())),
        };
        let drop_folder = match self.drop_folder.as_deref() {
            None => None,
            Some(p) if p.trim().is_empty() => Some(None),
            Some(p) => Some(Some(
                check_drop_folder(Path::new(p), config)?
                    .to_string_lossy()
                    .into_owned(),
            )),
        };
        let (mllp, mllp_allow) = self.validate_mllp(format)?;
        let mut keys = Vec::new();
        for (from, text) in &self.keys {
            keys.extend(
                parse_public_keys(text).map_err(|e| Error::Invalid(format!("{from}: {e}")))?,
            );
        }
        Ok(ValidSource {
            code,
            name,
            org,
            org_name: self.org_name.clone().filter(|n| !n.trim().is_empty()),
            kind,
            format,
            mapping,
            cadence,
            drop_folder,
            keys,
            mllp,
            mllp_allow,
        })
    }

    /// The MLLP port (`ADDR:PORT`, HL7 v2 only) and sender list, checked.
    #[allow(clippy::type_complexity)]
    fn validate_mllp(
        &self,
        format: Format,
    ) -> Result<(Option<Option<String>>, Option<Option<String>>)> {
        let mllp = match self.mllp.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(listen) => {
                if format != Format::Hl7v2 {
                    return Err(Error::Invalid(
                        "--mllp is for HL7 v2 sources: MLLP carries HL7 v2 messages".into(),
                    ));
                }
                listen.parse::<std::net::SocketAddr>().map_err(|_| {
                    Error::Invalid(format!(
                        "--mllp {listen}: expected ADDR:PORT, e.g. 0.0.0.0:2575"
                    ))
                })?;
                Some(Some(listen.to_owned()))
            }
        };
        let mllp_allow = match self.mllp_allow.as_deref().map(str::trim) {
            None => None,
            Some("") => Some(None),
            Some(list) => {
                crate::sources::mllp::route::Allow::parse(Some(list)).map_err(Error::Invalid)?;
                Some(Some(list.to_owned()))
            }
        };
        Ok((mllp, mllp_allow))
    }
}

impl ValidSource {
    pub fn code(&self) -> &str {
        &self.code
    }

    /// Saves the source and its feed settings; returns its id and the fingerprints of keys
    /// newly authorised (the caller audits them in the same transaction).
    pub fn save(&self, tx: &Tx<'_>, now: &str) -> Result<(i64, Vec<String>)> {
        let id = tx.upsert_source(
            &NewSource {
                code: &self.code,
                name: &self.name,
                org_code: &self.org,
                org_name: self.org_name.as_deref(),
                kind: self.kind,
                format: self.format,
                mapping: self.mapping.as_deref(),
            },
            now,
        )?;
        if let Some(c) = &self.cadence {
            tx.set_source_cadence(id, c.as_deref())?;
        }
        if let Some(d) = &self.drop_folder {
            tx.set_source_drop_folder(id, d.as_deref())?;
        }
        if let Some(m) = &self.mllp {
            tx.set_source_mllp_listen(id, m.as_deref())?;
        }
        if let Some(a) = &self.mllp_allow {
            tx.set_source_mllp_allow(id, a.as_deref())?;
        }
        let mut added = Vec::new();
        for k in &self.keys {
            if tx.add_sftp_key(&self.code, &k.public_key, now)? {
                added.push(k.fingerprint.clone());
            }
        }
        Ok((id, added))
    }
}

/// What [`save_source`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedSource {
    pub id: i64,
    pub code: String,
    /// Whether the source was new.
    pub created: bool,
    /// Fingerprints of the keys newly authorised.
    pub keys_added: Vec<String>,
}

/// Registers or changes a source as `by`: checks `input`, saves the source, its feed settings
/// and keys, and records `feed-source-save` (naming the source, its drop folder and cadence
/// when they were set, and each key added) in one transaction. A refused input is
/// `Error::Invalid` with the reason; if the audit event cannot be written nothing is saved.
pub fn save_source(
    store: &mut Store,
    config: &Config,
    input: &SourceInput,
    by: &Actor,
    now: &str,
) -> Result<SavedSource> {
    let valid = input.validate(config, store)?;
    let created = match store.source_by_code(&valid.code) {
        Ok(_) => false,
        Err(Error::NotFound(_)) => true,
        Err(e) => return Err(e),
    };
    let tx = store.begin()?;
    let (id, keys_added) = valid.save(&tx, now)?;
    let mut detail = format!(
        "source {} {}",
        valid.code,
        if created { "created" } else { "updated" }
    );
    match &valid.drop_folder {
        Some(Some(folder)) => detail.push_str(&format!("; drop folder {folder}")),
        Some(None) => detail.push_str("; no drop folder"),
        None => {}
    }
    match &valid.cadence {
        Some(Some(cadence)) => detail.push_str(&format!("; cadence {cadence}")),
        Some(None) => detail.push_str("; no cadence"),
        None => {}
    }
    match &valid.mllp {
        Some(Some(listen)) => detail.push_str(&format!("; MLLP port {listen}")),
        Some(None) => detail.push_str("; no MLLP port"),
        None => {}
    }
    match &valid.mllp_allow {
        Some(Some(allow)) => detail.push_str(&format!("; MLLP senders {allow}")),
        Some(None) => detail.push_str("; MLLP senders loopback only"),
        None => {}
    }
    for k in &keys_added {
        detail.push_str(&format!("; key {k}"));
    }
    record(&tx, by, Action::FeedSourceSave, None, &detail, "ok", now)?;
    tx.commit()?;
    Ok(SavedSource {
        id,
        code: valid.code,
        created,
        keys_added,
    })
}
