//! A pool of database connections for request handlers.

use crate::error::Error;
use crate::store::Store;
use std::path::PathBuf;

pub type Pool = r2d2::Pool<StoreManager>;

pub struct StoreManager {
    pub path: PathBuf,
}

impl r2d2::ManageConnection for StoreManager {
    type Connection = Store;
    type Error = Error;

    fn connect(&self) -> Result<Store, Error> {
        Store::open(&self.path)
    }

    fn is_valid(&self, _: &mut Store) -> Result<(), Error> {
        Ok(())
    }

    fn has_broken(&self, _: &mut Store) -> bool {
        false
    }
}

/// One connection per core plus a few for requests waiting on I/O.
pub fn open(path: PathBuf) -> Result<Pool, Error> {
    let size = std::thread::available_parallelism().map_or(4, |n| n.get() as u32 * 2 + 2);
    r2d2::Pool::builder()
        .max_size(size)
        .build(StoreManager { path })
        .map_err(|e| Error::Invalid(format!("could not open the database pool: {e}")))
}
