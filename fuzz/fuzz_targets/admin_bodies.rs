//! libFuzzer entry of the `admin_bodies` target: [`telemetry_fuzz::admin::admin_bodies`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| telemetry_fuzz::admin::admin_bodies(data));
