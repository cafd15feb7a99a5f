//! libFuzzer entry of the `agent_config` target: [`telemetry_fuzz::agent_config::agent_config`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| telemetry_fuzz::agent_config::agent_config(data));
