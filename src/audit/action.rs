//! What an audit event records: one closed set of actions with one naming scheme.
//!
//! Every event names its action by a variant of [`Action`], so a typo cannot start a new kind
//! of event that no report looks for, and the list below is the whole vocabulary of the trail.
//! The stored text is kebab-case, `noun-verb` where there is a noun (`user-add-role`,
//! `feed-replay`, `alert-close`). The texts of actions that existed before the enum are kept
//! as they were, so existing trails, reports and their hash chains read unchanged; the only
//! exceptions are the SFTP credential actions, once stored as `sftp.key.add` and the like,
//! which now follow the scheme and are still recognised in their old spelling when read.
//!
//! An event's hash covers the stored text (see `chain`), never the variant, so renaming a
//! variant is harmless but changing its text is not: old events keep their old text.

use std::fmt;

macro_rules! actions {
    ($($(#[$doc:meta])* $variant:ident => $text:literal,)*) => {
        /// The closed set of audited actions.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum Action {
            $($(#[$doc])* $variant,)*
        }

        impl Action {
            /// Every action, in declaration order.
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The text stored in `audit_event.action`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Action::$variant => $text,)*
                }
            }
        }
    };
}

actions! {
    // Signing in and out.
    /// A password sign-in, successful or not.
    Login => "login",
    Logout => "logout",
    /// A session moved to another of the user's role profiles.
    SwitchProfile => "switch-profile",

    // Reading patient data.
    ViewRecord => "view-record",
    ViewTimeline => "view-timeline",
    ViewResults => "view-results",
    ViewResultsChart => "view-results-chart",
    /// A record page refused (no relationship, an objection): nothing was shown.
    ViewRefused => "view-refused",
    /// A search result row showed a person.
    SearchHit => "search-hit",
    /// A privacy officer's view of a record as another role would see it.
    ViewAsRole => "view-as-role",
    FhirRead => "fhir-read",
    /// The command line showed, searched or exported a person.
    CliShow => "cli-show",
    CliSearch => "cli-search",
    CliExport => "cli-export",
    /// The command line listed people (`person find`, `review list`).
    CliList => "cli-list",

    // Access a profile gives itself.
    SelfClaim => "self-claim",
    BreakGlassStart => "break-glass-start",
    BreakGlassEnd => "break-glass-end",

    // Privacy officer work.
    AlertClose => "alert-close",
    AuditReport => "audit-report",
    ObjectionRecord => "objection-record",
    ObjectionWithdraw => "objection-withdraw",
    /// A person marked (or unmarked) as a test person, whom view-as may show without a reason.
    PersonTestMark => "person-test-mark",
    PersonTestUnmark => "person-test-unmark",
    /// The misuse watch raised an alert (see `misuse`).
    MisuseAlertRaise => "misuse-alert-raise",
    /// A privacy officer looked at a misuse alert and the audit events behind it.
    MisuseAlertView => "misuse-alert-view",
    /// An analyst looked at a population dashboard page (counts only, suppressed).
    DashboardView => "dashboard-view",
    /// An analyst downloaded a population dashboard table as CSV.
    DashboardDownload => "dashboard-download",
    /// Who a staff user is, for the misuse rules, set or cleared by an administrator.
    StaffIdentitySet => "staff-identity-set",
    /// A person flagged as a VIP or member of staff (or unflagged) for the misuse rules.
    PersonWatchFlag => "person-watch-flag",

    // Users, roles and credentials.
    UserAdd => "user-add",
    UserAddRole => "user-add-role",
    UserRemoveRole => "user-remove-role",
    /// A password set by the user themselves or reset by an administrator.
    UserPasswd => "user-passwd",
    UserDisable => "user-disable",
    /// A session ended by an administrator.
    SessionEnd => "session-end",
    TokenCreate => "token-create",
    TokenRevoke => "token-revoke",

    // Feeds and their sources.
    FeedSourceSave => "feed-source-save",
    FeedReplay => "feed-replay",
    FeedDiscard => "feed-discard",
    FeedRawView => "feed-raw-view",
    SftpKeyAdd => "sftp-key-add",
    SftpKeyRemove => "sftp-key-remove",
    SftpPasswordSet => "sftp-password-set",
    SftpPasswordClear => "sftp-password-clear",

    // Who a record is.
    ReviewView => "review-view",
    ReviewLink => "review-link",
    ReviewReject => "review-reject",
    Unmerge => "unmerge",

    // The citizens' side (src/citizen).
    /// An invitation code issued for a person (a new account, or a lost-device reset).
    CitizenInvite => "citizen-invite",
    /// An invitation code redeemed: the account made or reset (refusals are `denied`).
    CitizenRegister => "citizen-register",
    /// A citizen's sign-in (password and one-time code), successful or not.
    CitizenLogin => "citizen-login",
    CitizenLogout => "citizen-logout",
    /// A citizen saw their own record, its download, or who has looked at it.
    CitizenView => "citizen-view",
    /// A citizen reported an item of their record as wrong.
    CitizenErrorReport => "citizen-error-report",
    /// An organisation's administrator marked a citizen's error report handled.
    CitizenErrorHandled => "citizen-error-handled",
    /// Staff recorded that one person may act for another (proxy access), or ended it.
    ProxyRecord => "proxy-record",
    ProxyEnd => "proxy-end",
    /// A citizen's session switched to acting for someone (or back to themselves).
    ProxySwitch => "proxy-switch",

    // The system itself.
    /// The access policy in force changed (recorded at start).
    PolicyChange => "policy-change",
    /// The operator accepted the audit log as it now ends.
    AuditReanchor => "audit-reanchor",
    /// The database was restored from a backup (and the audit head moved to it).
    Restore => "restore",
}

impl Action {
    /// The action a stored text names, including the old dotted spellings of the SFTP
    /// credential actions; `None` for a text that is not an action (an event written by a test
    /// or by a version that knew other actions).
    pub fn from_stored(text: &str) -> Option<Action> {
        let legacy = match text {
            "sftp.key.add" => Some(Action::SftpKeyAdd),
            "sftp.key.remove" => Some(Action::SftpKeyRemove),
            "sftp.password.set" => Some(Action::SftpPasswordSet),
            "sftp.password.clear" => Some(Action::SftpPasswordClear),
            _ => None,
        };
        legacy.or_else(|| Action::ALL.iter().copied().find(|a| a.as_str() == text))
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_action_has_its_own_kebab_case_text() {
        let mut seen = HashSet::new();
        for action in Action::ALL {
            let text = action.as_str();
            assert!(seen.insert(text), "{text} is used twice");
            assert!(
                !text.is_empty()
                    && !text.starts_with('-')
                    && !text.ends_with('-')
                    && !text.contains("--")
                    && text.chars().all(|c| c.is_ascii_lowercase() || c == '-'),
                "{text} is not kebab-case"
            );
            assert_eq!(Action::from_stored(text), Some(*action));
        }
    }

    #[test]
    fn old_dotted_sftp_actions_still_read() {
        assert_eq!(
            Action::from_stored("sftp.key.add"),
            Some(Action::SftpKeyAdd)
        );
        assert_eq!(Action::from_stored("no-such-action"), None);
    }
}
