//! The staff pages: the analyst's dashboard, users, the privacy officer's pages, the
//! administrator's feed pages and the matching review pages.

use super::*;
use crate::it::access_matrix::MISSING_ID;
use sharedcare::access::Activity;

/// The policy of the staff routes; the forms name no one who exists, so nothing changes.
pub(super) fn spec(key: &str) -> Option<Spec> {
    use Activity::*;
    let s = match key {
        // Notifications: every signed-in user reads their own organisation's inbox; an id not
        // in it marks nothing (and says nothing about whether it exists).
        "GET /notifications" => once(|_| get("/notifications".into()), |_| "200".into()),
        "POST /notifications/<id>/read" => once(
            |c| with_csrf(format!("/notifications/{MISSING_ID}/read"), c, &[]),
            |_| "303".into(),
        ),
        "POST /notifications/read" => once(
            |c| with_csrf("/notifications/read".into(), c, &[]),
            |_| "303".into(),
        ),
        // Counts only.
        "GET /dashboard" => once(|_| get("/dashboard".into()), |c| c.gated(Dashboards, "200")),
        // One condition's population figures and their downloads: counts only, suppressed.
        "GET /dashboard/<key>" => once(
            |_| get("/dashboard/covid-positive?week=2024-W09".into()),
            |c| c.gated(Dashboards, "200"),
        ),
        "GET /dashboard/<key>/<file>" => once(
            |_| get("/dashboard/covid-positive/areas.csv".into()),
            |c| c.gated(Dashboards, "200"),
        ),
        // Users and their role profiles; the forms name no one who exists, so nothing changes.
        "GET /admin/users" => once(
            |_| get("/admin/users".into()),
            |c| c.gated(ManageUsers, "200"),
        ),
        "POST /admin/users" => once(
            |c| {
                let fields = [
                    ("username", ""),
                    ("password", ""),
                    ("confirm", ""),
                    ("role", ""),
                    ("org", ""),
                ];
                with_csrf("/admin/users".into(), c, &fields)
            },
            |c| c.gated(ManageUsers, "422"),
        ),
        "GET /admin/users/<id>" => once(
            |_| get(format!("/admin/users/{MISSING_ID}")),
            |c| c.gated(ManageUsers, "404"),
        ),
        "POST /admin/users/<id>/profiles" => once(
            |c| {
                let path = format!("/admin/users/{MISSING_ID}/profiles");
                with_csrf(path, c, &[("role", "clinician"), ("org", "X99001")])
            },
            |c| c.gated(ManageUsers, "404"),
        ),
        "POST /admin/users/<id>/profiles/<profile>/remove" => once(
            |c| {
                let path = format!("/admin/users/{MISSING_ID}/profiles/{MISSING_ID}/remove");
                with_csrf(path, c, &[])
            },
            |c| c.gated(ManageUsers, "404"),
        ),
        "POST /admin/users/<id>/password" => once(
            |c| {
                let path = format!("/admin/users/{MISSING_ID}/password");
                let pw = "a long enough password";
                with_csrf(path, c, &[("password", pw), ("confirm", pw)])
            },
            |c| c.gated(ManageUsers, "404"),
        ),
        "POST /admin/users/<id>/disable" => once(
            |c| with_csrf(format!("/admin/users/{MISSING_ID}/disable"), c, &[]),
            |c| c.gated(ManageUsers, "404"),
        ),
        "POST /admin/users/<id>/sessions/<sid>/end" => once(
            |c| {
                let path = format!("/admin/users/{MISSING_ID}/sessions/{MISSING_ID}/end");
                with_csrf(path, c, &[])
            },
            |c| c.gated(ManageUsers, "404"),
        ),
        // The privacy officer's pages.
        "GET /privacy/alerts" => once(
            |_| get("/privacy/alerts".into()),
            |c| c.gated(ReviewAlerts, "200"),
        ),
        "POST /privacy/alerts/<id>/close" => once(
            |c| {
                let path = format!("/privacy/alerts/{MISSING_ID}/close");
                with_csrf(path, c, &[("note", "reviewed")])
            },
            |c| c.gated(ReviewAlerts, "404"),
        ),
        "GET /privacy/alerts/<id>" => once(
            |_| get(format!("/privacy/alerts/{MISSING_ID}")),
            |c| c.gated(ReviewAlerts, "404"),
        ),
        "GET /privacy/reports" => once(
            |_| get("/privacy/reports".into()),
            |c| c.gated(AuditReports, "200"),
        ),
        "GET /privacy/person" => per_person(
            |c| get(format!("/privacy/person?person={}", c.person.id)),
            // No one with that id: the form says so (422).
            |c| c.gated(AuditReports, if c.exists() { "200" } else { "422" }),
        ),
        "GET /privacy/user" => once(
            |_| get("/privacy/user?user=nobody-of-that-name".into()),
            |c| c.gated(AuditReports, "422"),
        ),
        "GET /privacy/objections" => once(
            |_| get("/privacy/objections".into()),
            |c| c.gated(RecordObjections, "200"),
        ),
        // No one has that id: the form says so and nothing is recorded.
        "POST /privacy/objections" => once(
            |c| {
                let person = MISSING_ID.to_string();
                let fields = [
                    ("person", person.as_str()),
                    ("reason", "test"),
                    ("date", "2025-01-01"),
                ];
                with_csrf("/privacy/objections".into(), c, &fields)
            },
            |c| c.gated(RecordObjections, "422"),
        ),
        "POST /privacy/objections/person/<id>/withdraw" => once(
            |c| {
                let path = format!("/privacy/objections/person/{MISSING_ID}/withdraw");
                with_csrf(path, c, &[])
            },
            |c| c.gated(RecordObjections, "404"),
        ),
        "GET /privacy/view-as" => once(
            |_| get("/privacy/view-as".into()),
            |c| c.gated(ViewAsRole, "200"),
        ),
        // The administrator's feed pages; the forms name nothing that exists, so nothing
        // changes.
        "GET /admin/sources/new" => once(
            |_| get("/admin/sources/new".into()),
            |c| c.gated(ManageSources, "200"),
        ),
        "GET /admin/sources/<code>/edit" => once(
            |_| get("/admin/sources/WGH-PAS/edit".into()),
            |c| c.gated(ManageSources, "200"),
        ),
        "POST /admin/sources" => once(
            |c| with_csrf("/admin/sources".into(), c, &[]),
            |c| c.gated(ManageSources, "422"),
        ),
        "GET /admin/feeds" => once(
            |_| get("/admin/feeds".into()),
            |c| c.gated(ManageSources, "200"),
        ),
        "GET /admin/feeds/<code>" => once(
            |_| get("/admin/feeds/WGH-PAS".into()),
            |c| c.gated(ManageSources, "200"),
        ),
        "GET /admin/files/<id>" => once(
            |_| get("/admin/files/1".into()),
            |c| c.gated(ManageSources, "200"),
        ),
        "POST /admin/files/<id>/replay" => once(
            |c| with_csrf(format!("/admin/files/{MISSING_ID}/replay"), c, &[]),
            |c| c.gated(ManageSources, "404"),
        ),
        "POST /admin/files/<id>/discard" => once(
            |c| {
                let path = format!("/admin/files/{MISSING_ID}/discard");
                with_csrf(path, c, &[("note", "test")])
            },
            |c| c.gated(ManageSources, "404"),
        ),
        "GET /admin/rejects/<id>" => once(
            |_| get(format!("/admin/rejects/{MISSING_ID}")),
            |c| c.gated(ManageSources, "404"),
        ),
        "POST /admin/rejects/<id>/replay" => once(
            |c| with_csrf(format!("/admin/rejects/{MISSING_ID}/replay"), c, &[]),
            |c| c.gated(ManageSources, "404"),
        ),
        "POST /admin/rejects/<id>/discard" => once(
            |c| {
                let path = format!("/admin/rejects/{MISSING_ID}/discard");
                with_csrf(path, c, &[("note", "test")])
            },
            |c| c.gated(ManageSources, "404"),
        ),
        // The matching review pages (demographics only).
        "GET /review/" => once(
            |_| get("/review/".into()),
            |c| c.gated(ReviewMatches, "200"),
        ),
        "GET /review/<id>" => once(
            |_| get(format!("/review/{MISSING_ID}")),
            |c| c.gated(ReviewMatches, "404"),
        ),
        "POST /review/<id>/link" => once(
            |c| with_csrf(format!("/review/{MISSING_ID}/link"), c, &[]),
            |c| c.gated(ReviewMatches, "404"),
        ),
        "POST /review/<id>/reject" => once(
            |c| with_csrf(format!("/review/{MISSING_ID}/reject"), c, &[]),
            |c| c.gated(ReviewMatches, "404"),
        ),
        "GET /review/person/<id>/unmerge" => per_person(
            |c| get(format!("/review/person/{}/unmerge", c.person.id)),
            |c| {
                let found = c.exists() && c.person.unmergeable;
                c.gated(ReviewMatches, if found { "200" } else { "404" })
            },
        ),
        "POST /review/person/<id>/unmerge" => per_person(
            // Only with nothing to undo does the form carry the real token, so nothing moves.
            |c| {
                let path = format!("/review/person/{}/unmerge", c.person.id);
                if c.exists() && c.person.unmergeable {
                    (path, vec![("csrf", "forged".into())])
                } else {
                    with_csrf(path, c, &[])
                }
            },
            |c| {
                let undoable = c.exists() && c.person.unmergeable;
                c.gated(ReviewMatches, if undoable { "403" } else { "404" })
            },
        ),
        _ => return None,
    };
    Some(s)
}
