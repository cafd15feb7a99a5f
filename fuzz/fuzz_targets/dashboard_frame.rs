//! libFuzzer entry of the `dashboard_frame` target: [`telemetry_fuzz::frames::dashboard_frame`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| telemetry_fuzz::frames::dashboard_frame(data));
