//! libFuzzer entry of the `sensor_output` target: [`telemetry_fuzz::sensor_output::sensor_output`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| telemetry_fuzz::sensor_output::sensor_output(data));
