//! Fuzz target: see [`quarry_fuzz::schema`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| quarry_fuzz::schema(data));
