//! A pool of database connections for request handlers, each able to write audit events.

use crate::audit::Chain;
use crate::error::Error;
use crate::store::Store;
use std::path::PathBuf;
use std::sync::Arc;

pub type Pool = r2d2::Pool<StoreManager>;

pub struct StoreManager {
    pub path: PathBuf,
    pub chain: Arc<Chain>,
}

impl r2d2::ManageConnection for StoreManager {
    type Connection = Store;
    type Error = Error;

    fn connect(&self) -> Result<Store, Error> {
        Store::open(&self.path)?
            .for_requests()?
            .with_audit(Arc::clone(&self.chain))
    }

    fn is_valid(&self, _: &mut Store) -> Result<(), Error> {
        Ok(())
    }

    fn has_broken(&self, _: &mut Store) -> bool {
        false
    }
}

/// `size` connections (see `store::tuning::DatabaseConfig::read_connections`). Requests run
/// on one worker thread per core, so more connections than workers only helps requests that
/// wait while holding one; each more costs its own page cache and statement cache.
pub fn open(path: PathBuf, chain: Arc<Chain>, size: u32) -> Result<Pool, Error> {
    r2d2::Pool::builder()
        .max_size(size.max(1))
        .build(StoreManager { path, chain })
        .map_err(|e| Error::Invalid(format!("could not open the database pool: {e}")))
}
