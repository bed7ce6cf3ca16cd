//! Fuzz target: `capsim::fuzz::shards` (see `src/fuzz.rs` for the input's layout).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    capsim::fuzz::shards(data);
});
