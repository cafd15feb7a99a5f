//! Numbers of the wire contract: sizes, close codes, subprotocol names and the limits of the HTTP APIs.

/// Largest text frame, in bytes, that the hub accepts; a bigger one closes the socket with [`CLOSE_MESSAGE_TOO_BIG`].
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// Most samples in one `batch` message.
pub const MAX_BATCH_ITEMS: usize = 500;

/// Longest `epoch` string.
pub const MAX_EPOCH_LEN: usize = 64;

/// Longest command `id`.
pub const MAX_COMMAND_ID_LEN: usize = 128;

/// Longest command `name`.
pub const MAX_COMMAND_NAME_LEN: usize = 64;

/// Longest time to live of a queued command (`ttl_s`), in seconds: 7 days.
pub const MAX_COMMAND_TTL_SECS: u32 = 7 * 24 * 3600;

/// Close code sent to a device socket that a newer connection for the same id replaced.
pub const CLOSE_REPLACED: u16 = 4000;

/// Close reason that goes with [`CLOSE_REPLACED`].
pub const CLOSE_REPLACED_REASON: &str = "replaced";

/// Close code sent to a socket whose credential was revoked or disabled.
pub const CLOSE_REVOKED: u16 = 4001;

/// Close reason that goes with [`CLOSE_REVOKED`].
pub const CLOSE_REVOKED_REASON: &str = "revoked";

/// Standard close code (policy violation) for a socket that went past a flood limit; an `error` frame with code
/// `rate_limited` or `too_many_dashboards` comes first and says which.
pub const CLOSE_POLICY_VIOLATION: u16 = 1008;

/// Close reason that goes with [`CLOSE_POLICY_VIOLATION`] after a rate limit.
pub const CLOSE_RATE_LIMITED_REASON: &str = "rate limited";

/// Close reason that goes with [`CLOSE_POLICY_VIOLATION`] when a device has too many dashboards.
pub const CLOSE_TOO_MANY_DASHBOARDS_REASON: &str = "too many dashboards";

/// Standard close code for a frame over [`MAX_FRAME_BYTES`].
pub const CLOSE_MESSAGE_TOO_BIG: u16 = 1009;

/// The subprotocol a dashboard offers and the hub selects.
pub const SUBPROTOCOL: &str = "telemetry.v1";

/// Prefix of the subprotocol that carries a dashboard token from a browser (`bearer.<token>`).
pub const BEARER_SUBPROTOCOL_PREFIX: &str = "bearer.";

/// The exact ping text that the hub answers with [`PONG_TEXT`] without waking the Durable Object.
pub const PING_TEXT: &str = r#"{"type":"ping"}"#;

/// The answer to [`PING_TEXT`].
pub const PONG_TEXT: &str = r#"{"type":"pong"}"#;

/// Longest grace period a rotation may give the old token, in seconds: 30 days.
pub const MAX_GRACE_SECONDS: u64 = 30 * 24 * 3600;

/// Longest label of a dashboard token, in characters.
pub const MAX_LABEL_CHARS: usize = 200;

/// Most device ids in a dashboard token's scope list.
pub const MAX_SCOPE_DEVICES: usize = 1000;

/// Largest request body the admin API reads, in bytes.
pub const MAX_ADMIN_BODY_BYTES: usize = 64 * 1024;

/// Most devices on one page of `GET /admin/devices`.
pub const ADMIN_DEVICE_PAGE_SIZE: u32 = 100;

/// Most device ids one `GET /api/devices` answer lists for a `*` token.
pub const MAX_API_DEVICE_LIST: u32 = 1000;
