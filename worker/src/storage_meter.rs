//! What a device object's storage cost since it last started: the wire type lives in `telemetry-protocol`.

pub use telemetry_protocol::StorageMeter;
