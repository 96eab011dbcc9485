//! Fuzz target: the patient search box's query parser, and both searches (people; inside one
//! record) run against a real in-memory SQLite store holding the acute sample feed's people,
//! so the full-text queries built from the text reach SQLite's FTS5 parser and matches are
//! explained. The checks live in `sharedcare::fuzz::search_query`,
//! which the regression replay test also runs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use sharedcare::store::Store;

thread_local! {
    static STORE: Store = match sharedcare::fuzz::search_store() {
        Ok(store) => store,
        Err(e) => panic!("cannot build the search store: {e}"),
    };
}

fuzz_target!(|data: &[u8]| {
    STORE.with(|store| {
        if let Err(broken) = sharedcare::fuzz::search_query(store, data) {
            panic!("{broken}");
        }
    });
});
