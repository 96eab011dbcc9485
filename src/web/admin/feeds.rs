//! `GET /admin/feeds` (every source's health, from the same figures `sharedcare feeds` prints)
//! and `GET /admin/feeds/<source>` (one source's recent files, quarantined files with their
//! reasons, rejected units). Lists show reasons and positions, never raw content.

use super::status_label;
use crate::jobs::health::{self, FeedHealth};
use crate::model::{Format, SourceKind};
use crate::record::when::when_text;
use crate::sources::Spool;
use crate::store::{FileListRow, RejectRow, SourceRow};
use crate::web::guards::Admin;
use crate::web::pages::{ErrorPage, Page, UserBar};
use crate::web::{ServerError, Web};
use askama::Template;
use askama_web::WebTemplate;
use rocket::http::Status;
use rocket::{get, routes, Route, State};

pub fn routes() -> Vec<Route> {
    routes![feeds_page, source_page]
}

/// Files and rejects listed on a source's page.
const LISTED: usize = 100;

/// One row of the health table, as text.
pub struct HealthRow {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub format: String,
    pub cadence: String,
    pub status: String,
    pub status_label: &'static str,
    pub due_at: String,
    pub last_received: String,
    pub last_success: String,
    pub files: String,
    pub messages: String,
    pub rejects: String,
    pub quarantined: i64,
    pub waiting: usize,
    pub lag: String,
    /// The source's own MLLP port, or empty.
    pub mllp: String,
    pub per_minute: i64,
}

impl HealthRow {
    fn of(h: &FeedHealth) -> Self {
        let c = &h.counts;
        Self {
            code: h.source.clone(),
            name: h.name.clone(),
            kind: SourceKind::parse(&h.kind).map_or_else(|| h.kind.clone(), |k| k.label().into()),
            format: Format::parse(&h.format).map_or_else(|| h.format.clone(), |f| f.label().into()),
            cadence: h.cadence.clone().unwrap_or_else(|| "none".into()),
            status: h.status.clone(),
            status_label: status_label(&h.status),
            due_at: h.due_at.as_deref().map(when_text).unwrap_or_default(),
            last_received: c
                .last_received
                .as_deref()
                .map_or_else(|| "never".into(), when_text),
            last_success: c
                .last_success
                .as_deref()
                .map_or_else(|| "never".into(), when_text),
            files: format!("{} / {}", c.files_today, c.files_7d),
            messages: format!("{} / {}", c.messages_today, c.messages_7d),
            rejects: format!("{} / {}", c.rejects_today, c.rejects_7d),
            quarantined: c.quarantined_files,
            waiting: h.waiting,
            lag: h
                .import_lag_seconds
                .map(|s| format!("{s} s"))
                .unwrap_or_else(|| "none".into()),
            mllp: h.mllp.clone().unwrap_or_default(),
            per_minute: h.messages_per_minute,
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_feeds.html")]
pub struct FeedsPage {
    pub bar: Option<UserBar>,
    pub fingerprint: Option<String>,
    pub rows: Vec<HealthRow>,
    /// The backup job's and the restore drill's last runs.
    pub safeguards: Vec<health::SafeguardHealth>,
}

impl FeedsPage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }

    /// A time as the page shows times.
    pub fn when(&self, t: &Option<String>) -> String {
        t.as_deref().map_or_else(|| "never".into(), when_text)
    }
}

#[get("/feeds")]
fn feeds_page(admin: Admin, web: &State<Web>) -> Result<Page<FeedsPage>, ServerError> {
    let session = admin.0;
    let rows = health::feed_health(&web.config, session.store(), web.clock.now())?;
    let fingerprint = crate::sources::sftp::keys::host_fingerprint(&web.config.data_dir)?;
    Ok(Page::ok(FeedsPage {
        bar: UserBar::of(&session),
        fingerprint,
        rows: rows.iter().map(HealthRow::of).collect(),
        safeguards: health::safeguards(session.store())?,
    }))
}

/// A file in the quarantine folder, with the store's record of it when there is one.
pub struct QuarantinedFile {
    pub name: String,
    pub reason: String,
    pub file_id: Option<i64>,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_source.html")]
pub struct SourcePage {
    pub bar: Option<UserBar>,
    pub source: SourceRow,
    pub health: Option<HealthRow>,
    pub drop_folder: String,
    pub keys: Vec<(String, String)>,
    pub files: Vec<FileListRow>,
    pub quarantined: Vec<QuarantinedFile>,
    pub rejects: Vec<RejectRow>,
}

impl SourcePage {
    pub fn user(&self) -> Option<&UserBar> {
        self.bar.as_ref()
    }
}

pub enum SourceResponse {
    Page(Box<Page<SourcePage>>),
    Missing(ErrorPage),
}

impl<'r> rocket::response::Responder<'r, 'static> for SourceResponse {
    fn respond_to(self, req: &'r rocket::Request<'_>) -> rocket::response::Result<'static> {
        match self {
            Self::Page(p) => p.respond_to(req),
            Self::Missing(e) => e.respond_to(req),
        }
    }
}

#[get("/feeds/<code>")]
fn source_page(admin: Admin, code: &str, web: &State<Web>) -> Result<SourceResponse, ServerError> {
    let session = admin.0;
    let store = session.store();
    let Some(source) = store.sources()?.into_iter().find(|s| s.code == code) else {
        return Ok(SourceResponse::Missing(ErrorPage::new(
            Status::NotFound,
            "There is no source with that code.",
        )));
    };
    let full_health = health::feed_health(&web.config, store, web.clock.now())?
        .into_iter()
        .find(|h| h.source == source.code);
    let health = full_health.as_ref().map(HealthRow::of);
    let refused = full_health.and_then(|h| h.drop_folder_refused);
    let feed = store.source_feed(source.id)?;
    let keys = store
        .sftp_keys(&source.code)?
        .into_iter()
        .map(|k| {
            let (fingerprint, algorithm) = crate::sources::sftp::keys::describe(&k.public_key);
            (format!("{algorithm} {fingerprint}"), k.added_at)
        })
        .collect();
    let files = store.recent_files(source.id, LISTED)?;
    let spool = Spool::new(&web.config.data_dir, &source.code)?;
    let mut on_disk = Vec::new();
    for f in files
        .iter()
        .filter(|f| f.state == "quarantined" && f.decision.is_none())
    {
        if let Some(path) = spool.find_quarantined(&f.name, &f.sha256)? {
            on_disk.push((path, f.id));
        }
    }
    let quarantined = spool
        .quarantined()?
        .into_iter()
        .map(|(name, reason)| QuarantinedFile {
            file_id: on_disk
                .iter()
                .find(|(p, _)| p.file_name().is_some_and(|n| n.to_string_lossy() == name))
                .map(|(_, id)| *id),
            name,
            reason,
        })
        .collect();
    let rejects = store.source_rejects(source.id, LISTED)?;
    Ok(SourceResponse::Page(Box::new(Page::ok(SourcePage {
        bar: UserBar::of(&session),
        drop_folder: match (feed.drop_folder, refused) {
            (None, _) => "none".into(),
            (Some(folder), None) => folder,
            (Some(_), Some(why)) => format!("NOT SCANNED: {why}"),
        },
        health,
        keys,
        files,
        quarantined,
        rejects,
        source,
    }))))
}
