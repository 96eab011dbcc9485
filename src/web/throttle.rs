//! Slowing down password guessing: after a few failures an account (or an address) must wait,
//! longer each time, but is never locked out for good.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed before waiting starts.
const FREE_FAILURES: u32 = 5;
const MAX_WAIT: Duration = Duration::from_secs(15 * 60);

#[derive(Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    /// How long `key` must still wait before another attempt, if at all.
    pub fn wait(&self, key: &str, now: Instant) -> Option<Duration> {
        let map = self.failures.lock().ok()?;
        let (count, last) = map.get(key)?;
        let over = count.checked_sub(FREE_FAILURES)?;
        let wait = Duration::from_secs(2u64.saturating_pow(over.min(10))).min(MAX_WAIT);
        let ready = *last + wait;
        (ready > now).then(|| ready - now)
    }

    pub fn failed(&self, key: &str, now: Instant) {
        if let Ok(mut map) = self.failures.lock() {
            let entry = map.entry(key.to_owned()).or_insert((0, now));
            entry.0 += 1;
            entry.1 = now;
        }
    }

    pub fn succeeded(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiting_starts_after_five_failures_grows_and_ends() {
        let t = Throttle::default();
        let start = Instant::now();
        for _ in 0..FREE_FAILURES {
            assert_eq!(t.wait("user:ann", start), None);
            t.failed("user:ann", start);
        }
        assert_eq!(t.wait("user:ann", start), Some(Duration::from_secs(1)));
        t.failed("user:ann", start);
        assert_eq!(t.wait("user:ann", start), Some(Duration::from_secs(2)));
        // Never locked for good: the wait is over once its time has passed, and capped.
        assert_eq!(t.wait("user:ann", start + Duration::from_secs(3)), None);
        for _ in 0..40 {
            t.failed("user:ann", start);
        }
        assert!(t.wait("user:ann", start).is_some_and(|w| w <= MAX_WAIT));
        assert_eq!(
            t.wait("user:bob", start),
            None,
            "other accounts are unaffected"
        );
        t.succeeded("user:ann");
        assert_eq!(t.wait("user:ann", start), None);
    }
}
