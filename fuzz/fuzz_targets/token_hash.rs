//! libFuzzer entry of the `token_hash` target: [`telemetry_fuzz::tokens::token_hash`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| telemetry_fuzz::tokens::token_hash(data));
