//! libFuzzer entry of the `device_session` target: [`telemetry_fuzz::hub_session::device_session`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| telemetry_fuzz::hub_session::device_session(data));
