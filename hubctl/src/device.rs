//! `hubctl device …`: create, list, show, rotate, disable and enable devices, from the arguments to what is
//! printed.

use std::path::PathBuf;
use std::time::Duration;

use clap::Subcommand;
use serde_json::{Value, json};
use telemetry_protocol::DeviceId;

use crate::cli::Context;
use crate::grace::parse_grace;
use crate::hub::RotatedDevice;
use crate::output::{Format, Output, Text, field, rows_table, table};
use crate::quiet::Quiet;
use crate::scope::parse_device_id;
use crate::token_file::parse_path;
use crate::{HubctlError, ProvisionedDevice};

/// `hubctl device …`.
#[derive(Debug, Subcommand)]
pub enum DeviceCommand {
    /// Create devices and print each one's token once (wrangler: all or none; --hub: one request per id)
    Create {
        /// Device ids: 1 to 64 characters of A-Z a-z 0-9 _ -
        #[arg(value_name = "ID", required = true, value_parser = Quiet(parse_device_id))]
        ids: Vec<DeviceId>,
        /// Print {"devices":[{"device_id":…,"token":…}]} instead of text
        #[arg(long)]
        json: bool,
        /// Write the token to PATH (a new file, mode 0600) instead of printing it; one device only
        #[arg(long, value_name = "PATH", value_parser = Quiet(parse_path))]
        token_file: Option<PathBuf>,
    },
    /// List every device: online, last seen, last seq, disabled, grace (--hub only)
    List {
        /// Print {"devices":[…]} (every page) instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Show one device (--hub only)
    Show {
        /// The device id
        #[arg(value_name = "ID", value_parser = Quiet(parse_device_id))]
        id: DeviceId,
        /// Print the admin API's JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Give a device a new token and print it once; the old one works on for --grace (--hub only)
    Rotate {
        /// The device id
        #[arg(value_name = "ID", value_parser = Quiet(parse_device_id))]
        id: DeviceId,
        /// How long the old token keeps working: 0, 90s, 10m, 2h, 1d, 1h30m…; at most 30 days
        #[arg(long, value_name = "DURATION", default_value = "0", value_parser = Quiet(parse_grace))]
        grace: Duration,
        /// Print {"device_id":…,"token":…,"previous_token_valid_until":…} instead of text
        #[arg(long)]
        json: bool,
        /// Write the new token to PATH (a new file, mode 0600) instead of printing it
        #[arg(long, value_name = "PATH", value_parser = Quiet(parse_path))]
        token_file: Option<PathBuf>,
    },
    /// Refuse a device's token and close its live connection (--hub only)
    Disable {
        /// The device id
        #[arg(value_name = "ID", value_parser = Quiet(parse_device_id))]
        id: DeviceId,
        /// Print the admin API's JSON instead of text
        #[arg(long)]
        json: bool,
    },
    /// Accept a disabled device's token again (--hub only)
    Enable {
        /// The device id
        #[arg(value_name = "ID", value_parser = Quiet(parse_device_id))]
        id: DeviceId,
        /// Print the admin API's JSON instead of text
        #[arg(long)]
        json: bool,
    },
}

/// Said after new device tokens.
const DEVICE_TOKEN_HINT: &str = "Put each token in its Pi's API_TOKEN (the edge agent's environment). The hub \
                                 stores only its SHA-256 hash, so it cannot be shown again.\n";

/// Said when the hub could not yet tell a device's connection about a change it committed.
const SYNC_PENDING: &str = "The hub has not reached the device's connection yet; it retries every minute \
     (`hubctl device show` says `sync pending` until it has).\n";

impl DeviceCommand {
    /// The command as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Create { .. } => "device create",
            Self::List { .. } => "device list",
            Self::Show { .. } => "device show",
            Self::Rotate { .. } => "device rotate",
            Self::Disable { .. } => "device disable",
            Self::Enable { .. } => "device enable",
        }
    }

    /// `--json` and `--token-file`; the file holds one token, so it takes one device.
    pub fn format(&self) -> Result<Format<'_>, HubctlError> {
        Ok(match self {
            Self::Create {
                ids,
                token_file: Some(_),
                ..
            } if ids.len() != 1 => return Err(HubctlError::TokenFileNeedsOneDevice),
            Self::Create {
                json, token_file, ..
            }
            | Self::Rotate {
                json, token_file, ..
            } => Format::new(*json, token_file.as_deref()),
            Self::List { json } | Self::Show { json, .. } => Format::new(*json, None),
            Self::Disable { json, .. } | Self::Enable { json, .. } => Format::new(*json, None),
        })
    }

    /// Runs the command against the hub `context` selects.
    pub fn run(&self, context: &Context<'_>) -> Result<Output, HubctlError> {
        let hub = context.hub(self.name())?;
        Ok(match self {
            Self::Create { ids, .. } => {
                let made = hub.create_devices(ids)?;
                created(&made.devices).then_fail(made.stopped)
            }
            Self::List { .. } => {
                let devices = hub.list_devices()?;
                let json = json!({ "devices": devices });
                Output::new(Text::default().plain(devices_table(&devices)), json)
            }
            Self::Show { id, .. } => {
                let device = hub.show_device(id)?;
                Output::new(Text::default().plain(device_text(&device)), device)
            }
            Self::Rotate { id, grace, .. } => rotated(id, &hub.rotate_device(id, *grace)?),
            Self::Disable { id, .. } => state(id, hub.set_disabled(id, true)?, true),
            Self::Enable { id, .. } => state(id, hub.set_disabled(id, false)?, false),
        })
    }
}

/// One line per device with its token, then where to put the tokens; as JSON `{"devices":[{"device_id":…,
/// "token":…},…]}`.
fn created(devices: &[ProvisionedDevice]) -> Output {
    let mut text = Text::default();
    for device in devices {
        let line = format!("device {} created; ", device.device_id);
        text = text.plain(line).token("token", &device.token).plain("\n");
    }
    let list: Vec<Value> = devices
        .iter()
        .map(|d| json!({"device_id": d.device_id, "token": d.token}))
        .collect();
    Output::new(text.plain(DEVICE_TOKEN_HINT), json!({ "devices": list }))
}

/// The new token, and until when the old one works; as JSON `{"device_id":…,"token":…,
/// "previous_token_valid_until":…}`.
fn rotated(id: &DeviceId, rotated: &RotatedDevice) -> Output {
    let until = &rotated.previous_token_valid_until;
    let old = match until {
        Some(until) => format!(
            "The old token keeps working until {until}; a connection that still uses it is closed then."
        ),
        None => {
            "The old token stopped working at once; a connection that used it was closed.".into()
        }
    };
    let text = Text::default()
        .plain(format!("device {id} rotated; new "))
        .token("token", &rotated.token)
        .plain(format!(
            "\n{old}\nPut the new token in the Pi's API_TOKEN.\n"
        ));
    let json =
        json!({"device_id": id, "token": rotated.token, "previous_token_valid_until": until});
    Output::new(text, json)
}

/// One row per device: id, online, last seen, last seq, disabled since, end of the old token's grace.
fn devices_table(devices: &[Value]) -> String {
    let columns = [
        ("DEVICE", "device_id"),
        ("ONLINE", "online"),
        ("LAST SEEN", "last_seen"),
        ("LAST SEQ", "last_seq"),
        ("DISABLED", "disabled_at"),
        ("GRACE UNTIL", "previous_token_valid_until"),
    ];
    rows_table(&columns, devices, "no devices\n")
}

/// One device, a field per line; with the storage meter when the hub keeps history, and the device's counters
/// when the hub counts.
fn device_text(device: &Value) -> String {
    let pairs = [
        ("device", "device_id"),
        ("created", "created_at"),
        ("online", "online"),
        ("last seen", "last_seen"),
        ("last seq", "last_seq"),
        ("disabled", "disabled_at"),
        ("grace until", "previous_token_valid_until"),
        ("sync pending", "sync_pending"),
    ];
    let storage = [
        ("samples stored", "samples_written"),
        ("history writes", "groups_written"),
        ("rows written", "rows_written"),
        ("rows read", "rows_read"),
        ("alarms set", "alarms_set"),
        ("database bytes", "database_bytes"),
    ];
    let meter = device.get("storage").filter(|m| m.is_object());
    let stored = meter
        .into_iter()
        .flat_map(|m| storage.map(|(n, k)| (n, m, k)));
    let mut rows: Vec<Vec<String>> = pairs
        .iter()
        .map(|&(name, key)| (name, device, key))
        .chain(stored)
        .map(|(name, object, key)| vec![name.to_owned(), field(object, key)])
        .collect();
    if let Some(counters) = device.get("counters").filter(|c| c.is_object()) {
        rows.extend(counter_rows(counters));
    }
    table(&[], &rows)
}

/// The device's counters (totals since `since`, surviving the hub's restarts), a row each; counts by code as
/// `code×count` pairs.
fn counter_rows(counters: &Value) -> Vec<Vec<String>> {
    let counts = [
        ("counting since", "since"),
        ("connections", "device_connections"),
        ("frames in", "device_frames"),
        ("bytes in", "device_bytes"),
        ("samples accepted", "samples_accepted"),
        ("refused by code", "frames_refused"),
        ("dashboards", "dashboard_connections"),
        ("commands relayed", "commands_relayed"),
        ("command results", "command_results"),
        ("closes by code", "closes"),
        ("rows written, all", "rows_written"),
        ("rows read, all", "rows_read"),
    ];
    counts
        .iter()
        .map(|&(name, key)| {
            let value = match counters.get(key) {
                Some(Value::Object(by_code)) if by_code.is_empty() => "none".to_owned(),
                Some(Value::Object(by_code)) => by_code
                    .iter()
                    .map(|(code, count)| format!("{code}×{count}"))
                    .collect::<Vec<_>>()
                    .join(" "),
                _ => field(counters, key),
            };
            vec![name.to_owned(), value]
        })
        .collect()
}

/// What `device disable` or `device enable` did; as JSON the device as the admin API shows it.
fn state(id: &DeviceId, device: Value, disabled: bool) -> Output {
    let mut text = if disabled {
        format!(
            "device {id} disabled (since {}); its token is refused and a live connection was closed \
             (4001 revoked). `hubctl device enable {id}` undoes this.\n",
            field(&device, "disabled_at")
        )
    } else {
        format!("device {id} enabled; it can connect again with its current token.\n")
    };
    if device["sync_pending"] == Value::Bool(true) {
        text.push_str(SYNC_PENDING);
    }
    Output::new(Text::default().plain(text), device)
}

#[cfg(test)]
mod tests;
