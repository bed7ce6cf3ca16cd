//! Fuzz target: `capsim::fuzz::trace` (see `src/fuzz.rs` for the input's layout).
#![no_main]

use std::sync::Once;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // libFuzzer's hook aborts on every panic, caught or not. A panic that
    // capsim contains and reports as an error (polars on a damaged Parquet
    // file) is not a crash; every other one still is.
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let abort = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !capsim::report::tables::parquet_panic_contained() {
                abort(info);
            }
        }));
    });
    capsim::fuzz::trace(data);
});
