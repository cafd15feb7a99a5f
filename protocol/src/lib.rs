//! Wire types shared by the hub, the edge agent, the CLI and the tests.

pub mod device_id;

pub use device_id::{DeviceId, InvalidDeviceId, MAX_DEVICE_ID_LEN};
