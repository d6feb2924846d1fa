//! Fuzz target: see [`quarry_fuzz::values`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| quarry_fuzz::values(data));
