//! Who in this process holds the write lock, so that a writer that gives up waiting can say
//! who kept it out, and a transaction held long enough to make others wait is logged with the
//! place in the code that began it.

use std::panic::Location;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A transaction held longer than this is logged when it ends: other writers wait for it, and
/// after [`super::BUSY_WAIT`] they give up.
pub const LONG_HOLD: Duration = Duration::from_secs(2);

type Holder = (u64, &'static Location<'static>, Instant);

static HOLDER: Mutex<Option<Holder>> = Mutex::new(None);
static NEXT: AtomicU64 = AtomicU64::new(1);

/// Held by a [`super::Tx`] from its `BEGIN IMMEDIATE` to its end.
pub struct Held {
    token: u64,
    began_at: &'static Location<'static>,
    since: Instant,
}

impl Held {
    pub fn new(began_at: &'static Location<'static>) -> Self {
        let (token, since) = (NEXT.fetch_add(1, Ordering::Relaxed), Instant::now());
        if let Ok(mut holder) = HOLDER.lock() {
            *holder = Some((token, began_at, since));
        }
        Self {
            token,
            began_at,
            since,
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Ok(mut holder) = HOLDER.lock() {
            if holder.is_some_and(|(token, _, _)| token == self.token) {
                *holder = None;
            }
        }
        let held = self.since.elapsed();
        if held >= LONG_HOLD {
            log::warn!(
                "a write transaction begun at {} held the write lock for {:.1} s",
                self.began_at,
                held.as_secs_f64()
            );
        }
    }
}

/// Logs, for a writer that waited for the lock and is giving up, who held it.
pub fn log_give_up(waited: Duration) {
    let holder = HOLDER.lock().ok().and_then(|h| *h);
    match holder {
        Some((_, began_at, since)) => log::warn!(
            "gave up after waiting {:.1} s for the write lock: this process's records \
             transaction begun at {} has held it for {:.1} s",
            waited.as_secs_f64(),
            began_at,
            since.elapsed().as_secs_f64()
        ),
        None => log::warn!(
            "gave up after waiting {:.1} s for the write lock: no transaction of this process \
             holds it (another process, a write outside a transaction, or a checkpoint)",
            waited.as_secs_f64()
        ),
    }
}
