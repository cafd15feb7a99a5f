//! libFuzzer entry of the `device_frame` target: [`telemetry_fuzz::frames::device_frame`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| telemetry_fuzz::frames::device_frame(data));
