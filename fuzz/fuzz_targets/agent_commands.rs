//! libFuzzer entry of the `agent_commands` target: [`telemetry_fuzz::agent_commands::agent_commands`].
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| telemetry_fuzz::agent_commands::agent_commands(data));
