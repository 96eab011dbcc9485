//! Who did it: the one place an audit event's actor is built.
//!
//! An [`Actor`] is the user id, name, role, role profile, organisation and address that every
//! event by the same hand carries. There are four kinds, each with its constructor: a signed-in
//! web session and an API token (a user acting in one role profile, from an address), the
//! operator at the command line, and the service's own jobs. Use cases take an `&Actor` and
//! make their events from it with [`Actor::event`], so no handler or command fills the fields
//! in its own way.
//!
//! The operator is named by the real user id of the process, looked up in the password
//! database (`cli:alice`), never by `$USER`, which whoever runs the command sets as they like.

use super::Action;
use crate::access::Profile;
use crate::store::AuditEvent;

/// The author of audit events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<i64>,
    /// A user name, `cli:<login>` for the operator, `system:<job>` for the service itself.
    pub name: String,
    pub role: Option<String>,
    /// The role profile acted in, `role@ORG/team`.
    pub profile: Option<String>,
    pub org: Option<String>,
    pub ip: Option<String>,
}

impl Actor {
    /// A user signed in on the web, acting in `profile`.
    pub fn session(profile: &Profile, ip: Option<&str>) -> Self {
        Self::of_profile(profile, ip)
    }

    /// A user calling the API with a token bound to `profile`.
    pub fn token(profile: &Profile, ip: Option<&str>) -> Self {
        Self::of_profile(profile, ip)
    }

    fn of_profile(profile: &Profile, ip: Option<&str>) -> Self {
        Self {
            user_id: Some(profile.user_id),
            name: profile.username.clone(),
            role: Some(profile.role.clone()),
            profile: Some(profile.label()),
            org: Some(profile.org.clone()),
            ip: ip.map(str::to_owned),
        }
    }

    /// The person at the terminal: `cli:` and the login name of the process's real user id.
    pub fn operator() -> Self {
        Self::named(operator_name())
    }

    /// The service acting on its own (start-up, scheduled jobs): `system:<job>`.
    pub fn system(job: &str) -> Self {
        Self::named(format!("system:{job}"))
    }

    fn named(name: String) -> Self {
        Self {
            user_id: None,
            name,
            role: None,
            profile: None,
            org: None,
            ip: None,
        }
    }

    /// An event by this actor; `ok` until the caller says otherwise.
    pub fn event(&self, action: Action) -> AuditEvent<'_> {
        AuditEvent {
            user_id: self.user_id,
            actor: Some(&self.name),
            role: self.role.as_deref(),
            profile: self.profile.as_deref(),
            org: self.org.as_deref(),
            ip: self.ip.as_deref(),
            ..AuditEvent::new(action)
        }
    }
}

/// `cli:<login>` for the real user id of this process.
pub fn operator_name() -> String {
    match real_uid() {
        Some(uid) => match login_of(uid) {
            Some(login) => format!("cli:{login}"),
            None => format!("cli:uid-{uid}"),
        },
        None => "cli:uid-unknown".to_owned(),
    }
}

/// The real user id, from the kernel's own account of this process (`Uid:` in
/// `/proc/self/status`: real, effective, saved, file system). Read there because asking libc
/// would need unsafe code, which this crate forbids.
fn real_uid() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    real_uid_in(&status)
}

fn real_uid_in(status: &str) -> Option<u32> {
    status
        .lines()
        .find_map(|line| line.strip_prefix("Uid:"))
        .and_then(|ids| ids.split_whitespace().next())
        .and_then(|real| real.parse().ok())
}

/// The login name of `uid` in the password database.
fn login_of(uid: u32) -> Option<String> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    login_in(&passwd, uid)
}

fn login_in(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut fields = line.split(':');
        let name = fields.next()?;
        let _password = fields.next()?;
        let id: u32 = fields.next()?.parse().ok()?;
        (id == uid && !name.is_empty()).then(|| name.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_real_uid_is_the_first_of_the_status_line() {
        let status = "Name:\tsharedcare\nUid:\t1000\t0\t0\t0\nGid:\t1000\t1000\t1000\t1000\n";
        assert_eq!(real_uid_in(status), Some(1000));
        assert_eq!(real_uid_in("Name:\tx\n"), None);
    }

    #[test]
    fn the_login_is_looked_up_by_uid() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\n";
        assert_eq!(login_in(passwd, 1000).as_deref(), Some("alice"));
        assert_eq!(login_in(passwd, 0).as_deref(), Some("root"));
        assert_eq!(login_in(passwd, 7), None);
    }

    #[test]
    fn regression_cli_actor_is_the_real_uid_not_the_user_variable() {
        // $USER is whatever the caller exported; the operator's name must not follow it.
        let before = operator_name();
        let uid = real_uid().expect("this test runs on Linux with /proc");
        let expected = login_of(uid).map_or(format!("cli:uid-{uid}"), |l| format!("cli:{l}"));
        assert_eq!(before, expected);
    }
}
