//! libFuzzer entry of the `token_format` target: [`telemetry_fuzz::tokens::token_format`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| telemetry_fuzz::tokens::token_format(data));
