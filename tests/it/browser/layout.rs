//! Every staff page at a phone's width (390×844), at 200 % zoom on a 1366-pixel screen (683 CSS
//! pixels wide) and on a desktop (1366×900), in one Chromium session resized in place: no page
//! scrolls sideways (`document.documentElement.scrollWidth` within `window.innerWidth`), a table
//! of more than two columns becomes stacked rows on the phone with each cell labelled by its
//! column, the fields of a stacked form sit under their labels at full width, and axe-core finds
//! no serious or critical violation at the phone and desktop sizes. Every failure is collected,
//! then reported together with the widths of every page. Set `SHAREDCARE_LAYOUT_SCREENSHOTS` to
//! a folder to keep a screenshot of each page at each size.

use super::super::server::{self, Server};
use super::{axe, driver, sign_in_as, wait_for, Driver};
use fantoccini::Client;
use serde_json::Value;
use std::fmt::Write as _;

/// A folder to save a screenshot of every page at every size into, for looking at by eye.
const SHOTS_VAR: &str = "SHAREDCARE_LAYOUT_SCREENSHOTS";

struct Size {
    name: &'static str,
    width: u32,
    height: u32,
    /// axe-core runs at this size.
    axe: bool,
}

const SIZES: [Size; 3] = [
    Size {
        name: "phone",
        width: 390,
        height: 844,
        axe: true,
    },
    Size {
        name: "200% zoom",
        width: 683,
        height: 450,
        axe: false,
    },
    Size {
        name: "desktop",
        width: 1366,
        height: 900,
        axe: true,
    },
];

/// A page of the set: who reaches it, its path, and what shows it has loaded.
struct Visit {
    page: &'static str,
    path: String,
    ready: &'static str,
}

fn visit(page: &'static str, path: impl Into<String>, ready: &'static str) -> Visit {
    Visit {
        page,
        path: path.into(),
        ready,
    }
}

/// What the set found: one line per page with its widths, and the failures.
#[derive(Default)]
struct Findings {
    widths: String,
    failures: Vec<String>,
}

#[test]
fn every_page_fits_a_phone_and_200_percent_zoom_with_no_serious_accessibility_violations() {
    if driver::skipped() {
        return;
    }
    let driver = Driver::start();
    let s = Server::start();
    let f = Fixture::set_up(&s);
    let rounds = f.rounds();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let findings = rt.block_on(async {
        let c = driver.session().await;
        let mut findings = Findings::default();
        for (user, visits) in &rounds {
            if let Some(user) = user {
                sign_in_as(&c, &s, user).await;
            }
            for v in visits {
                check(&c, &s, user.unwrap_or("signed out"), v, &mut findings).await;
            }
            c.delete_all_cookies().await.unwrap();
        }
        c.close().await.unwrap();
        findings
    });
    eprintln!(
        "document width per page, with its widest table (phone 390 / zoom 683 / desktop 1366):\n{}",
        findings.widths
    );
    assert!(
        findings.failures.is_empty(),
        "{} failures:\n{}",
        findings.failures.len(),
        findings.failures.join("\n")
    );
}

/// The people and objects the pages show.
struct Fixture {
    margaret: i64,
    daniel: i64,
    review: i64,
    quarantined_file: i64,
    reject: i64,
    reject_file: i64,
    admin_user: i64,
}

impl Fixture {
    fn set_up(s: &Server) -> Self {
        let env = &s.env;
        let person = |nhs: &str| -> i64 {
            env.sql()
                .query_row(
                    "SELECT id FROM person WHERE nhs_number = ?1 AND merged_into IS NULL",
                    [nhs],
                    |r| r.get(0),
                )
                .unwrap()
        };
        let (margaret, daniel, priya) = (
            person("9994837567"),
            person("9997661001"),
            person("9993566594"),
        );
        server::add_user(env, "an", "analyst");
        // The dashboard's totals and figures are the population job's.
        server::cli(env, &["population", "refresh"]);
        // Two profiles: the privacy officer's header carries the profile switch.
        server::cli(
            env,
            &[
                "user", "add-role", "po", "--role", "analyst", "--org", "X99001",
            ],
        );
        // A privacy alert to list: the social worker claims Priya.
        let sw = s.login("sw");
        server::claim(s, &sw, priya);
        server::cli(env, &["person", "mark-test", &margaret.to_string()]);
        // A standing objection to list.
        let reason = "Signed form OBJ-17: does not want the council to see hospital letters";
        server::cli(
            env,
            &["person", "object", &priya.to_string(), "--reason", reason],
        );
        // Two possible matches: council records of Margaret and Daniel without NHS numbers,
        // under other surnames. Daniel's is linked (so his merge can be undone); Margaret's
        // waits for review.
        env.add_source("LAYOUT-ASC", "social-care", "hl7v2");
        let council = |control: &str, local: &str, name: &str, born_sex: &str, address: &str| {
            format!(
                "MSH|^~\\&|ASC|QAC|SC|REG|20240102090000||ADT^A28|{control}|P|2.4\r\
                 EVN|A28|20240102090000\r\
                 PID|1||{local}^^^QAC^PI||{name}||{born_sex}|||{address}\r"
            )
        };
        let reviews = |env: &super::super::support::Env| -> Vec<(i64, String)> {
            env.ok(&["review", "list", "--json"])
                .json()
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    let local = r["local_id"].as_str().unwrap_or_default().to_owned();
                    (r["id"].as_i64().unwrap(), local)
                })
                .collect()
        };
        let files = [
            council(
                "LAYOUT1",
                "CL-MT",
                "Thomas^Margaret",
                "19380314|F",
                "12 Orchard Way^^Ashcombe^^WX1 4AB",
            ),
            council("LAYOUT2", "CL-DO", "Okafar^Daniel", "19780603|M", ""),
        ];
        for (n, file) in files.iter().enumerate() {
            let path = env.write(&format!("council-{n}.hl7"), file);
            let r = env.import("LAYOUT-ASC", &path);
            assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
        }
        let queued = reviews(env);
        let of = |local: &str| {
            queued
                .iter()
                .find(|(_, l)| l == local)
                .map(|(id, _)| *id)
                .unwrap_or_else(|| panic!("{local} does not wait for review: {queued:?}"))
        };
        let review = of("CL-MT");
        server::cli(env, &["review", "link", &of("CL-DO").to_string()]);
        // A rejected message, and a quarantined file.
        let good = super::super::support::a08(
            "LAY1",
            "20240301090000",
            "LAY-1",
            &super::super::support::nhs_number(77),
            "Reject",
            "Rex",
            "19600101",
        );
        let file = env.write("rejects.hl7", format!("<b>junk</b>\r{good}"));
        assert_eq!(env.import("WGH-PAS", &file).code, 1);
        let (reject, reject_file): (i64, i64) = env
            .sql()
            .query_row(
                "SELECT x.id, f.id FROM feed_reject x JOIN feed_file f ON f.id = x.feed_file_id
                 WHERE f.name = 'rejects.hl7'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let inbox = env.data_dir().join("inbox/ORCHARD-GP");
        std::fs::create_dir_all(&inbox).unwrap();
        std::fs::write(inbox.join("broken.json"), "{\"resourceType\": \"Bundle\", ").unwrap();
        let quarantined = "SELECT count(*) FROM feed_file WHERE name = 'broken.json' \
                           AND state = 'quarantined'";
        for _ in 0..100 {
            if env.count(quarantined) > 0 {
                break;
            }
            env.run(&["scan"]);
        }
        let quarantined_file: i64 = env
            .sql()
            .query_row(
                "SELECT id FROM feed_file WHERE name = 'broken.json' AND state = 'quarantined'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        let admin_user: i64 = env
            .sql()
            .query_row("SELECT id FROM app_user WHERE username = 'clin'", [], |r| {
                r.get(0)
            })
            .unwrap();
        Self {
            margaret,
            daniel,
            review,
            quarantined_file,
            reject,
            reject_file,
            admin_user,
        }
    }

    /// Each user in turn with the pages their role reaches; `None` is a signed-out browser.
    fn rounds(&self) -> Vec<(Option<&'static str>, Vec<Visit>)> {
        let (m, d) = (self.margaret, self.daniel);
        vec![
            (None, vec![visit("login", "/login", "#username")]),
            (
                Some("clin"),
                vec![
                    visit("home", "/", "form[role=search]"),
                    visit("search", "/search?q=thompson", "table#results"),
                    visit(
                        "search, no relationship",
                        "/search?q=okafor",
                        "table#results",
                    ),
                    visit("search, nothing found", "/search?q=zzzz", "p.notice"),
                    visit("record", format!("/person/{m}"), "#banner"),
                    visit(
                        "timeline",
                        format!("/person/{m}/timeline"),
                        "table#timeline",
                    ),
                    visit("results", format!("/person/{m}/results"), "table.values"),
                    visit("no relationship", format!("/person/{d}"), "#h-glass"),
                    visit("not allowed", "/admin/feeds", "main h1"),
                    visit("not found", "/no-such-page", "main h1"),
                ],
            ),
            (
                Some("sw"),
                vec![visit(
                    "no relationship (social worker)",
                    format!("/person/{d}"),
                    "#h-claim",
                )],
            ),
            (
                Some("it"),
                vec![
                    visit("feeds", "/admin/feeds", "table#feeds"),
                    visit("source", "/admin/feeds/WGH-PAS", "table#files"),
                    visit(
                        "quarantined file",
                        format!("/admin/files/{}", self.quarantined_file),
                        "pre.raw",
                    ),
                    visit(
                        "file with rejects",
                        format!("/admin/files/{}", self.reject_file),
                        "dl.facts",
                    ),
                    visit(
                        "reject",
                        format!("/admin/rejects/{}", self.reject),
                        "pre.raw",
                    ),
                    visit("new source", "/admin/sources/new", "#code"),
                    visit("edit source", "/admin/sources/WGH-PAS/edit", "#name"),
                    visit("users", "/admin/users", "table#users"),
                    visit(
                        "user",
                        format!("/admin/users/{}", self.admin_user),
                        "#h-password",
                    ),
                    visit("review queue", "/review", "table#reviews"),
                    visit("review pair", format!("/review/{}", self.review), "#scores"),
                    visit(
                        "unmerge",
                        format!("/review/person/{d}/unmerge"),
                        "table#moves",
                    ),
                ],
            ),
            (
                Some("po"),
                vec![
                    visit("privacy start", "/", "header form.switch select"),
                    visit("alerts", "/privacy/alerts", "table#alerts"),
                    visit("reports", "/privacy/reports", "#h-person-form"),
                    visit(
                        "who looked",
                        format!("/privacy/person?person={d}"),
                        "table#events",
                    ),
                    visit(
                        "what a user looked at",
                        "/privacy/user?user=clin",
                        "table#events",
                    ),
                    visit("objections", "/privacy/objections", "table#objections"),
                    visit(
                        "view as",
                        format!("/privacy/view-as?role=social-worker-adults&org=X99001&person={m}"),
                        "#viewing-as",
                    ),
                ],
            ),
            (
                Some("an"),
                vec![visit("dashboard", "/dashboard", "main table")],
            ),
        ]
    }
}

/// Loads one page and checks it at every size.
async fn check(c: &Client, s: &Server, user: &str, v: &Visit, findings: &mut Findings) {
    let label = format!("{} ({user}, {})", v.page, v.path);
    c.set_window_size(SIZES[2].width, SIZES[2].height)
        .await
        .unwrap();
    c.goto(&s.url(&v.path)).await.unwrap();
    wait_for(c, v.ready).await;
    let mut widths = Vec::new();
    for size in &SIZES {
        resize(c, size).await;
        let (scroll, inner) = width(c).await;
        let (table, inside) = widest_table_and_inner_scrolls(c).await;
        widths.push(format!("{scroll} (tables {table})"));
        if scroll > inner {
            findings.failures.push(format!(
                "{label}: scrolls sideways at {} ({scroll} px of content in {inner} px; too wide: {})",
                size.name,
                overflowing(c).await
            ));
        }
        for element in inside {
            findings.failures.push(format!(
                "{label}: {element} scrolls sideways inside the page at {}",
                size.name
            ));
        }
        if size.width == SIZES[0].width {
            for fault in table_faults(c)
                .await
                .into_iter()
                .chain(form_faults(c).await)
            {
                findings
                    .failures
                    .push(format!("{label} on a phone: {fault}"));
            }
        }
        if let Some(dir) = std::env::var_os(SHOTS_VAR) {
            let name: String = format!("{}-{}.png", v.page, size.width)
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '.' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
            let png = c.screenshot().await.unwrap();
            std::fs::write(std::path::Path::new(&dir).join(name), png).unwrap();
        }
        if size.axe {
            for v in axe::violations(c).await {
                if v.impact == "serious" || v.impact == "critical" {
                    findings.failures.push(format!(
                        "{label} at {}: axe [{}] {}: {} on {}",
                        size.name,
                        v.impact,
                        v.id,
                        v.help,
                        v.targets.join(", ")
                    ));
                }
            }
        }
    }
    let _ = writeln!(findings.widths, "  {label}: {}", widths.join(" / "));
}

/// Sets the viewport (not the window) to `size`: when the window has a frame, it is added.
async fn resize(c: &Client, size: &Size) {
    let want = i64::from(size.width);
    c.set_window_size(size.width, size.height).await.unwrap();
    if settle(c, want).await {
        return;
    }
    let frame = c
        .execute("return window.outerWidth - window.innerWidth;", vec![])
        .await
        .unwrap()
        .as_i64()
        .unwrap_or(0);
    let outer = u32::try_from(want + frame).unwrap_or(size.width);
    c.set_window_size(outer, size.height).await.unwrap();
    assert!(
        settle(c, want).await,
        "the viewport could not be set to {want} px wide (it is {} px)",
        width(c).await.1
    );
}

/// Waits (briefly) for the viewport to be `want` pixels wide; whether it is.
async fn settle(c: &Client, want: i64) -> bool {
    for _ in 0..50 {
        if width(c).await.1 == want {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    false
}

/// The document's scroll width and the viewport's width, in CSS pixels.
async fn width(c: &Client) -> (i64, i64) {
    let v = c
        .execute(
            "return [document.documentElement.scrollWidth, window.innerWidth];",
            vec![],
        )
        .await
        .unwrap();
    let n = |i: usize| v[i].as_i64().unwrap_or(i64::MAX);
    (n(0), n(1))
}

/// The width of the widest table, and the elements (other than raw file content, which wraps)
/// that scroll sideways within the page: a table in a scrolling box hides columns as surely as
/// a page that scrolls.
async fn widest_table_and_inner_scrolls(c: &Client) -> (i64, Vec<String>) {
    let v = c
        .execute(
            r#"let widest = 0;
               document.querySelectorAll('table').forEach(t => {
                 widest = Math.max(widest, t.getBoundingClientRect().width);
               });
               const inside = [];
               document.querySelectorAll('body *').forEach(e => {
                 const x = getComputedStyle(e).overflowX;
                 if ((x === 'auto' || x === 'scroll') && e.scrollWidth > e.clientWidth + 1) {
                   inside.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                     + (e.className ? '.' + e.className : '')
                     + ' (' + e.scrollWidth + ' px in ' + e.clientWidth + ')');
                 }
               });
               return [Math.round(widest), inside];"#,
            vec![],
        )
        .await
        .unwrap();
    let inside = v[1]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e.as_str().map(str::to_owned))
        .collect();
    (v[0].as_i64().unwrap_or(0), inside)
}

/// The innermost elements that reach past the right edge of the viewport, for a failure
/// message.
async fn overflowing(c: &Client) -> String {
    let v = c
        .execute(
            r#"const edge = document.documentElement.clientWidth;
               const wide = Array.from(document.querySelectorAll('body *')).filter(e =>
                 e.getBoundingClientRect().right > edge + 1);
               return wide.filter(e => !wide.some(o => o !== e && e.contains(o)))
                 .slice(0, 4)
                 .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
                   + ' (right edge ' + Math.round(e.getBoundingClientRect().right) + ')')
                 .join(', ');"#,
            vec![],
        )
        .await
        .unwrap();
    v.as_str().unwrap_or_default().to_owned()
}

/// Tables of more than two columns that are not stacked rows at this width, and stacked cells
/// not labelled with their column's heading.
async fn table_faults(c: &Client) -> Vec<String> {
    let found = c
        .execute(
            r#"const faults = [];
               document.querySelectorAll('main table').forEach((t, n) => {
                 const name = t.id ? '#' + t.id : 'table ' + (n + 1);
                 const head = t.tHead && t.tHead.rows[0];
                 if (!head || head.cells.length <= 2) return;
                 const headings = Array.from(head.cells).map(h => h.textContent.trim());
                 const row = t.tBodies[0] && t.tBodies[0].rows[0];
                 if (!row) return;
                 if (getComputedStyle(row).display.startsWith('table')) {
                   faults.push(name + ' is not stacked (' + headings.length + ' columns)');
                   return;
                 }
                 t.querySelectorAll('tbody td').forEach(td => {
                   if (td.textContent.trim() === '' || td.colSpan > 1) return;
                   const label = td.dataset.label || '';
                   if (!headings.includes(label)) {
                     faults.push(name + ': a cell (' + td.textContent.trim().slice(0, 30)
                       + ') is labelled "' + label + '", not a column heading');
                   }
                 });
               });
               return faults;"#,
            vec![],
        )
        .await
        .unwrap();
    match found {
        Value::Array(list) => list
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        other => vec![format!("the table check failed: {other}")],
    }
}

/// Fields of a form laid out as a stack (`form.stack`) whose label is not above them, or that
/// do not take the form's width: on a phone one field goes under another, full width.
async fn form_faults(c: &Client) -> Vec<String> {
    let found = c
        .execute(
            r#"const faults = [];
               document.querySelectorAll('main form.stack').forEach(f => {
                 const width = f.clientWidth;
                 f.querySelectorAll('input:not([type=hidden]), select, textarea').forEach(x => {
                   const name = x.id || x.name;
                   const label = x.id && f.querySelector('label[for="' + x.id + '"]');
                   const box = x.getBoundingClientRect();
                   if (!label) {
                     faults.push('field ' + name + ' has no label');
                   } else if (label.getBoundingClientRect().bottom > box.top + 1) {
                     faults.push('the label of ' + name + ' is not above it');
                   }
                   if (box.width < 0.9 * width) {
                     faults.push('field ' + name + ' is ' + Math.round(box.width)
                       + ' px wide in a form of ' + width + ' px');
                   }
                 });
               });
               return faults;"#,
            vec![],
        )
        .await
        .unwrap();
    match found {
        Value::Array(list) => list
            .into_iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        other => vec![format!("the form check failed: {other}")],
    }
}
