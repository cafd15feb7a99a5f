//! libFuzzer entry of the `history_query` target: [`telemetry_fuzz::history::history_query`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| telemetry_fuzz::history::history_query(data));
