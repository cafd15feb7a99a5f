//! libFuzzer entry of the `dashboard_session` target: [`telemetry_fuzz::hub_session::dashboard_session`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| telemetry_fuzz::hub_session::dashboard_session(data));
