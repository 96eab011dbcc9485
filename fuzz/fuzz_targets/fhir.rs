//! Fuzz target: a FHIR R4 JSON feed file: depth check, Bundle flattening, reference learning, resource parsing and adaptation.
//! The checks live in `sharedcare::fuzz::fhir`, which the regression replay test also runs.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Err(broken) = sharedcare::fuzz::fhir(data) {
        panic!("{broken}");
    }
});
