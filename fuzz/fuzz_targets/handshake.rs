//! libFuzzer entry of the `handshake` target: [`telemetry_fuzz::handshake::handshake`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| telemetry_fuzz::handshake::handshake(data));
