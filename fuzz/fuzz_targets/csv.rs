//! Fuzz target: a CSV mapping (TOML) and a CSV file read with it: input is the mapping, one NUL byte, then the file.
//! The checks live in `sharedcare::fuzz::csv`, which the regression replay test also runs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = sharedcare::fuzz::csv(data) {
        panic!("{broken}");
    }
});
