//! Fuzz target: an HL7 v2 (ER7) feed file: batch and MLLP framing, message cutting, segment and field parsing, and adaptation into extracts.
//! The checks live in `sharedcare::fuzz::hl7v2`, which the regression replay test also runs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = sharedcare::fuzz::hl7v2(data) {
        panic!("{broken}");
    }
});
