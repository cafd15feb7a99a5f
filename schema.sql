-- D1 schema of the telemetry hub. Idempotent: apply it any number of times with
--   wrangler d1 execute DB --local --file schema.sql   (or --remote; `hubctl schema apply` does this).
-- Tokens are never stored: only the lowercase hex SHA-256 of the whole token string (e.g. of "tdev_...").
-- Timestamps are UTC ISO-8601 text with milliseconds, e.g. 2026-04-20T12:34:56.789Z.

-- One row per edge device (a Raspberry Pi running the agent), created by `hubctl device create`.
CREATE TABLE IF NOT EXISTS devices (
    -- Device id as in the URL path and frames: 1 to 64 characters of [A-Za-z0-9_-].
    id TEXT PRIMARY KEY NOT NULL CHECK (length(id) BETWEEN 1 AND 64),
    -- Lowercase hex SHA-256 of the device's bearer token (tdev_...).
    token_sha256 TEXT NOT NULL CHECK (length(token_sha256) = 64),
    -- When the device was provisioned.
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    -- When the device was disabled; NULL while it may connect.
    disabled_at TEXT,
    -- After a rotation with a grace period: the hash of the replaced token, accepted until previous_valid_until.
    previous_token_sha256 TEXT CHECK (previous_token_sha256 IS NULL OR length(previous_token_sha256) = 64),
    -- End of the grace period (RFC 3339, UTC); NULL when no old token is accepted.
    previous_valid_until TEXT
);

-- One row per dashboard bearer token (tdash_...), created by `hubctl dashboard create`.
CREATE TABLE IF NOT EXISTS dashboard_tokens (
    -- Public token id, "dt_" + 12 lowercase hex characters: names the token (logs, revocation) without revealing it.
    id TEXT PRIMARY KEY NOT NULL,
    -- Lowercase hex SHA-256 of the token; unique, so a presented token is looked up by its hash.
    token_sha256 TEXT NOT NULL UNIQUE CHECK (length(token_sha256) = 64),
    -- Devices the token covers: "*" for all, or a comma-separated list of device ids (ids never hold commas).
    devices TEXT NOT NULL,
    -- "read" (telemetry and presence) or "control" (read, and send commands).
    access TEXT NOT NULL CHECK (access IN ('read', 'control')),
    -- Free text naming the token's holder or purpose; NULL when none was given.
    label TEXT,
    -- When the token was created.
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    -- When the token was revoked; NULL while it is valid.
    revoked_at TEXT
);

-- What the device Durable Objects must learn about credential changes made through the admin API (rotate,
-- disable, enable, revoke). Each change bumps `version` in the same transaction as the change itself; the hub
-- pushes it to the objects concerned and records `delivered_version` once they all confirmed. The Worker's cron
-- trigger retries every minute whatever is still behind, so no change is lost between D1 and a Durable Object.
CREATE TABLE IF NOT EXISTS hub_sync (
    -- 'device:<id>' (its credentials) or 'dashboard_token:<token id>' (its revocation).
    subject TEXT PRIMARY KEY NOT NULL,
    -- Bumped by every change; orders what a Durable Object learns, so a stale read never undoes a newer change.
    version INTEGER NOT NULL,
    -- The highest version every Durable Object concerned confirmed.
    delivered_version INTEGER NOT NULL DEFAULT 0,
    -- Failed pushes since the last success, and when the sweeper may try again (Unix milliseconds).
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_ms INTEGER NOT NULL DEFAULT 0
);

CREATE INDEX IF NOT EXISTS hub_sync_pending ON hub_sync (next_attempt_ms) WHERE delivered_version < version;

-- Which device objects accepted which dashboard token: revoking a token reaches these first, so its live
-- sockets close within moments even in a large fleet, before the revocation reaches every other device in
-- its scope. Written by a device object after it accepts a token it had to look up; rows of a revoked token
-- are deleted once every object confirmed the revocation.
CREATE TABLE IF NOT EXISTS dashboard_sessions (
    token_id TEXT NOT NULL,
    device_id TEXT NOT NULL,
    -- When the device object first accepted the token (Unix milliseconds).
    first_seen_ms INTEGER NOT NULL,
    PRIMARY KEY (token_id, device_id)
);
