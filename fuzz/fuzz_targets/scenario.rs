//! Fuzz target: `capsim::fuzz::scenario` (see `src/fuzz.rs` for the input's layout).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    capsim::fuzz::scenario(data);
});
