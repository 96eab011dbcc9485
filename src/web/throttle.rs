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
