//! Fuzz target: see [`quarry_fuzz::raw_sql`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| quarry_fuzz::raw_sql(data));
