//! Fuzz target: see [`quarry_fuzz::request`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| quarry_fuzz::request(data));
