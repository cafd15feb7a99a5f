//! libFuzzer entry of the `admin_routes` target: [`telemetry_fuzz::admin::admin_routes`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| telemetry_fuzz::admin::admin_routes(data));
