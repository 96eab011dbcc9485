//! Slowing down password guessing without letting a guesser lock out the innocent.
//!
//! The scheme, for the web sign-in, the break-glass password check (the same password, so the
//! same counts) and SFTP password logins (a throttle of its own):
//!
//! - Failures are counted per **(account, address)** and per **address**, never per account
//!   alone. After [`ACCOUNT_FREE_FAILURES`] failures for one account from one address, or
//!   [`ADDRESS_FREE_FAILURES`] failures for any accounts from one address (spraying), that
//!   address must wait before its next try: 1 s, then twice as long after each further failure,
//!   up to [`MAX_WAIT`]. Nothing is ever locked for good.
//! - So a failure from elsewhere never blocks anyone: the real user at their own address signs
//!   in with the right password however many guesses are made against their account from
//!   other addresses. The price, stated: a guesser with many addresses gets
//!   `ACCOUNT_FREE_FAILURES` quick guesses per address before slowing down; each guess still
//!   costs an Argon2 hash, and every failure is in the audit trail.
//! - An attempt made while waiting is refused without looking at the password and is **not**
//!   counted: hammering during the wait does not lengthen it. [`Throttle::begin`] hands out an
//!   [`Attempt`] only when the address may try, and only an `Attempt` can record a failure.
//! - A success clears that (account, address) pair, not the address: one known password does
//!   not reset a spraying address's count.
//! - IPv6 addresses count by their /64 network, the block one subscriber usually holds, so
//!   stepping through one's own addresses does not escape. Counts are forgotten
//!   [`FORGET_AFTER`] after their last failure, so occasional typos behind a shared address
//!   (a hospital's NAT) never add up.
//! - SFTP public-key logins are not throttled at all (see `sources::sftp::server`): a key
//!   cannot be guessed, and a source's feed must not stop because someone guessed passwords.
//!
//! Counts live in memory: a restart forgets them, which costs a guesser nothing it could not
//! get by waiting. Which address a web request comes from is `web::address`'s decision.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures for one account from one address before waiting starts.
pub const ACCOUNT_FREE_FAILURES: u32 = 5;
/// Failures from one address, whichever accounts, before waiting starts.
pub const ADDRESS_FREE_FAILURES: u32 = 20;
/// The longest wait.
pub const MAX_WAIT: Duration = Duration::from_secs(15 * 60);
/// A count with no failure for this long is forgotten.
pub const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);
/// Forgotten counts are swept out when the table grows past this many.
const SWEEP_AT: usize = 10_000;

/// Where attempts come from: an address, IPv6 by its /64 network; unknown is one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct Origin(Option<IpAddr>);

impl Origin {
    fn of(address: Option<IpAddr>) -> Self {
        Self(address.map(|a| match a {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
            },
            v4 => v4,
        }))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Address(Origin),
    AccountAt(String, Origin),
}

impl Key {
    fn free_failures(&self) -> u32 {
        match self {
            Key::Address(_) => ADDRESS_FREE_FAILURES,
            Key::AccountAt(..) => ACCOUNT_FREE_FAILURES,
        }
    }
}

struct Count {
    failures: u32,
    last: Instant,
}

impl Count {
    fn forgotten(&self, now: Instant) -> bool {
        now.saturating_duration_since(self.last) > FORGET_AFTER
    }

    fn wait(&self, free: u32, now: Instant) -> Option<Duration> {
        let over = self.failures.checked_sub(free)?;
        let wait = Duration::from_secs(2u64.saturating_pow(over.min(20))).min(MAX_WAIT);
        let ready = self.last + wait;
        (ready > now).then(|| ready - now)
    }
}

#[derive(Default)]
pub struct Throttle {
    counts: Mutex<HashMap<Key, Count>>,
}

/// Leave to check one password: record how it went with [`Attempt::failed`] or
/// [`Attempt::succeeded`] (dropping it records nothing).
#[must_use]
pub struct Attempt<'t> {
    throttle: &'t Throttle,
    account: Key,
    address: Key,
}

impl Throttle {
    /// Leave for `address` to try a password for `account` now, or how long it must wait.
    /// Account names are compared without case, as sign-in compares them.
    pub fn begin(
        &self,
        account: &str,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<Attempt<'_>, Duration> {
        let origin = Origin::of(address);
        let attempt = Attempt {
            throttle: self,
            account: Key::AccountAt(account.to_lowercase(), origin),
            address: Key::Address(origin),
        };
        // A poisoned lock means a panic elsewhere mid-update; the counts are still sound
        // numbers, so carry on with them rather than stop every sign-in.
        let counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        let wait = [&attempt.account, &attempt.address]
            .into_iter()
            .filter_map(|key| {
                let count = counts.get(key).filter(|c| !c.forgotten(now))?;
                count.wait(key.free_failures(), now)
            })
            .max();
        match wait {
            Some(wait) => Err(wait),
            None => Ok(attempt),
        }
    }
}

impl Attempt<'_> {
    /// The password was wrong (or the account unknown).
    pub fn failed(self, now: Instant) {
        let mut counts = self
            .throttle
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if counts.len() >= SWEEP_AT {
            counts.retain(|_, c| !c.forgotten(now));
        }
        for key in [self.account, self.address] {
            let count = counts.entry(key).or_insert(Count {
                failures: 0,
                last: now,
            });
            if count.forgotten(now) {
                count.failures = 0;
            }
            count.failures = count.failures.saturating_add(1);
            count.last = now;
        }
    }

    /// The password was right: this account's failures from this address are forgiven.
    pub fn succeeded(self) {
        let mut counts = self
            .throttle
            .counts
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        counts.remove(&self.account);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    /// Fails `n` attempts for `account` from `address`, each allowed.
    fn fail(t: &Throttle, account: &str, address: &str, n: u32, now: Instant) {
        for _ in 0..n {
            t.begin(account, ip(address), now).unwrap().failed(now);
        }
    }

    #[test]
    fn waiting_starts_after_five_failures_grows_and_ends() {
        let t = Throttle::default();
        let start = Instant::now();
        fail(&t, "ann", "192.0.2.1", ACCOUNT_FREE_FAILURES, start);
        assert_eq!(
            t.begin("Ann", ip("192.0.2.1"), start).err(),
            Some(Duration::from_secs(1))
        );
        // Other accounts from the same address go on, until the address itself has failed
        // too often (see the spraying test).
        assert!(t.begin("bob", ip("192.0.2.1"), start).is_ok());
        let later = start + Duration::from_secs(1);
        fail(&t, "ann", "192.0.2.1", 1, later);
        assert_eq!(
            t.begin("ann", ip("192.0.2.1"), later).err(),
            Some(Duration::from_secs(2))
        );
        // Never locked for good: the wait is over once its time has passed, and capped.
        let after = later + Duration::from_secs(3);
        assert!(t.begin("ann", ip("192.0.2.1"), after).is_ok());
        for i in 0..40 {
            fail(&t, "ann", "192.0.2.1", 1, after + MAX_WAIT * i);
        }
        let wait = t.begin("ann", ip("192.0.2.1"), after + MAX_WAIT * 39);
        assert_eq!(wait.err(), Some(MAX_WAIT));
        t.begin("ann", ip("192.0.2.1"), after + MAX_WAIT * 41)
            .unwrap()
            .succeeded();
        assert!(t
            .begin("ann", ip("192.0.2.1"), after + MAX_WAIT * 41)
            .is_ok());
    }

    #[test]
    fn regression_failures_from_elsewhere_never_block_an_account() {
        let t = Throttle::default();
        let now = Instant::now();
        fail(&t, "ann", "203.0.113.66", ACCOUNT_FREE_FAILURES, now);
        assert!(t.begin("ann", ip("203.0.113.66"), now).is_err());
        assert!(t.begin("ann", ip("192.0.2.1"), now).is_ok());
        assert!(t.begin("ann", None, now).is_ok());
    }

    #[test]
    fn regression_attempts_while_waiting_do_not_extend_the_wait() {
        let t = Throttle::default();
        let now = Instant::now();
        fail(&t, "ann", "192.0.2.1", ACCOUNT_FREE_FAILURES, now);
        // Hammering during the wait: every try is refused, and none is counted.
        for ms in 0..900 {
            let at = now + Duration::from_millis(ms);
            assert!(t.begin("ann", ip("192.0.2.1"), at).is_err());
        }
        assert!(t
            .begin("ann", ip("192.0.2.1"), now + Duration::from_secs(1))
            .is_ok());
    }

    #[test]
    fn spraying_many_accounts_from_one_address_is_slowed_down() {
        let t = Throttle::default();
        let now = Instant::now();
        for i in 0..ADDRESS_FREE_FAILURES {
            fail(&t, &format!("user{i}"), "192.0.2.9", 1, now);
        }
        assert!(t.begin("someone-else", ip("192.0.2.9"), now).is_err());
        // A success with one known password does not reset the address.
        let later = now + Duration::from_secs(2);
        t.begin("mine", ip("192.0.2.9"), later).unwrap().succeeded();
        fail(&t, "user0", "192.0.2.9", 1, later);
        assert!(t.begin("someone-else", ip("192.0.2.9"), later).is_err());
        assert!(t.begin("someone-else", ip("192.0.2.10"), later).is_ok());
    }

    #[test]
    fn ipv6_counts_by_network_and_old_failures_are_forgotten() {
        let t = Throttle::default();
        let now = Instant::now();
        for i in 0..ACCOUNT_FREE_FAILURES {
            fail(&t, "ann", &format!("2001:db8:1:2::{i:x}"), 1, now);
        }
        assert!(t.begin("ann", ip("2001:db8:1:2::ffff"), now).is_err());
        assert!(t.begin("ann", ip("2001:db8:1:3::1"), now).is_ok());
        let next_day = now + FORGET_AFTER + Duration::from_secs(1);
        fail(&t, "ann", "2001:db8:1:2::1", 1, next_day);
        assert!(t.begin("ann", ip("2001:db8:1:2::1"), next_day).is_ok());
    }
}
