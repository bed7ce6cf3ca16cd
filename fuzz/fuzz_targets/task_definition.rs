//! Fuzz target: `capsim::fuzz::task_definition` (see `src/fuzz.rs` for the input's layout).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    capsim::fuzz::task_definition(data);
});
