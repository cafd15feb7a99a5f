//! What hubctl prints about new credentials: human text by default, JSON with `--json`. Each token appears
//! exactly once, or not at all when `--token-file` took it.

use std::io::Write;
use std::path::Path;

use serde_json::{Map, Value, json};
use telemetry_protocol::{DeviceId, TokenKind};

use crate::HubctlError;
use crate::admin_client::RotatedDevice;
use crate::admin_token::{ADMIN_HASH_SECRET, ADMIN_TOKEN_ENV, NewAdminToken};
use crate::provision::{ProvisionedDashboardToken, ProvisionedDevice};
use crate::scope::{Access, DashboardScope};
use crate::wrangler::Target;

/// Where a new token went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery<'a> {
    /// Printed in the output, once.
    Printed,
    /// Written to this file (`--token-file`); the output names the file instead.
    File(&'a Path),
}

impl<'a> Delivery<'a> {
    /// Into the file `written`, or printed when there is none.
    pub fn of(written: Option<&'a Path>) -> Self {
        written.map_or(Self::Printed, Self::File)
    }

    /// `token (shown once, store it now): …` or where the token was written.
    fn text(self, noun: &str, token: &str) -> String {
        match self {
            Self::Printed => format!("{noun} (shown once, store it now): {token}"),
            Self::File(path) => format!(
                "{noun} written to {} (mode 0600, not shown)",
                path.display()
            ),
        }
    }

    /// Adds `"token": …` or `"token_file": …` to `object`.
    fn add_to(self, object: &mut Map<String, Value>, token: &str) {
        match self {
            Self::Printed => object.insert("token".into(), token.into()),
            Self::File(path) => {
                object.insert("token_file".into(), path.display().to_string().into())
            }
        };
    }
}

/// Writes `text` to `out` and flushes it.
pub fn emit(out: &mut dyn Write, text: &str) -> Result<(), HubctlError> {
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// `value` as one line of JSON.
pub fn json_line(value: &Value) -> String {
    format!("{value}\n")
}

/// One line per device with its token, then where to put the tokens.
pub fn devices_text(devices: &[ProvisionedDevice], delivery: Delivery<'_>) -> String {
    let mut text = String::new();
    for device in devices {
        let token = delivery.text("token", &device.token);
        text.push_str(&format!("device {} created; {token}\n", device.device_id));
    }
    text.push_str(
        "Put each token in its Pi's API_TOKEN (the edge agent's environment). The hub stores only its \
         SHA-256 hash, so it cannot be shown again.\n",
    );
    text
}

/// [`devices_json`] or [`devices_text`].
pub fn devices(devices: &[ProvisionedDevice], delivery: Delivery<'_>, json: bool) -> String {
    if json {
        devices_json(devices, delivery)
    } else {
        devices_text(devices, delivery)
    }
}

/// `{"devices":[{"device_id":…,"token":…},…]}` and a newline.
pub fn devices_json(devices: &[ProvisionedDevice], delivery: Delivery<'_>) -> String {
    let list: Vec<Value> = devices
        .iter()
        .map(|d| {
            let mut object = Map::new();
            object.insert("device_id".into(), d.device_id.as_str().into());
            delivery.add_to(&mut object, &d.token);
            Value::Object(object)
        })
        .collect();
    json_line(&json!({ "devices": list }))
}

/// The token id, scope, access and token, then how the id is used.
pub fn dashboard_text(
    created: &ProvisionedDashboardToken,
    scope: &DashboardScope,
    access: Access,
    delivery: Delivery<'_>,
) -> String {
    let devices = match scope {
        DashboardScope::All => "all devices (*)".to_owned(),
        DashboardScope::Devices(_) => format!("devices {scope}"),
    };
    format!(
        "dashboard token {id} created for {devices} with {access} access; {token}\nThe id {id} names this \
         token (e.g. to revoke it) without revealing it; the hub stores only the token's SHA-256 hash.\n",
        id = created.token_id,
        token = delivery.text("token", &created.token),
    )
}

/// `{"token_id":…,"token":…,"devices":…,"access":…,"label":…}` and a newline.
pub fn dashboard_json(
    created: &ProvisionedDashboardToken,
    scope: &DashboardScope,
    access: Access,
    label: Option<&str>,
    delivery: Delivery<'_>,
) -> String {
    let mut object = Map::new();
    object.insert("token_id".into(), created.token_id.as_str().into());
    delivery.add_to(&mut object, &created.token);
    object.insert("devices".into(), scope.to_string().into());
    object.insert("access".into(), access.as_str().into());
    object.insert("label".into(), label.into());
    json_line(&Value::Object(object))
}

/// The new token, and until when the old one works.
pub fn rotated_text(id: &DeviceId, rotated: &RotatedDevice, delivery: Delivery<'_>) -> String {
    let old = match &rotated.previous_token_valid_until {
        Some(until) => format!(
            "The old token keeps working until {until}; a connection that still uses it is closed then."
        ),
        None => {
            "The old token stopped working at once; a connection that used it was closed.".into()
        }
    };
    format!(
        "device {id} rotated; new {}\n{old}\nPut the new token in the Pi's API_TOKEN.\n",
        delivery.text("token", &rotated.token)
    )
}

/// `{"device_id":…,"token":…,"previous_token_valid_until":…}` and a newline.
pub fn rotated_json(id: &DeviceId, rotated: &RotatedDevice, delivery: Delivery<'_>) -> String {
    let mut object = Map::new();
    object.insert("device_id".into(), id.as_str().into());
    delivery.add_to(&mut object, &rotated.token);
    let until = rotated.previous_token_valid_until.as_deref();
    object.insert("previous_token_valid_until".into(), until.into());
    json_line(&Value::Object(object))
}

/// The new admin token once, its hash, and the commands that install the hash.
pub fn admin_token_text(new: &NewAdminToken, delivery: Delivery<'_>) -> String {
    let hash = &new.sha256;
    format!(
        "{token}\nSHA-256 (the only thing the hub stores): {hash}\n\
         Install the hash on the deployed Worker:\n  printf %s {hash} | npx wrangler secret put \
         {ADMIN_HASH_SECRET}\nFor `wrangler dev`, put this line in .dev.vars instead:\n  \
         {ADMIN_HASH_SECRET}={hash}\nThen give hubctl the token through {ADMIN_TOKEN_ENV} or \
         --admin-token-file PATH, never as an argument.\n",
        token = delivery.text("admin token", &new.token),
    )
}

/// `{"token":…,"sha256":…}` and a newline.
pub fn admin_token_json(new: &NewAdminToken, delivery: Delivery<'_>) -> String {
    let mut object = Map::new();
    delivery.add_to(&mut object, &new.token);
    object.insert("sha256".into(), new.sha256.as_str().into());
    json_line(&Value::Object(object))
}

/// The verdict of `token check` on a well-formed token: its kind, never the token.
pub fn token_check_text(kind: TokenKind) -> String {
    format!(
        "{kind} token ({}_): prefix, length and checksum are correct. Whether the hub accepts it is only known \
         when it is used.\n",
        kind.prefix()
    )
}

/// Confirmation of `schema apply`.
pub fn schema_text(target: &Target, database: &str) -> String {
    format!(
        "schema applied to the {} D1 database {database}\n",
        target.describe()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn device(id: &str, token: &str) -> ProvisionedDevice {
        let device_id = DeviceId::parse(id).expect("valid");
        ProvisionedDevice {
            device_id,
            token: token.into(),
        }
    }

    #[test]
    fn device_text_shows_each_token_once_with_the_hint() {
        let devices = [device("a", "tdev_one"), device("b", "tdev_two")];
        let text = devices_text(&devices, Delivery::Printed);
        assert!(text.starts_with(
            "device a created; token (shown once, store it now): tdev_one\n\
             device b created; token (shown once, store it now): tdev_two\n"
        ));
        assert_eq!(text.matches("tdev_one").count(), 1);
        assert!(text.contains("API_TOKEN"));
    }

    #[test]
    fn device_json_has_the_documented_shape() {
        let text = devices_json(&[device("a", "tdev_one")], Delivery::Printed);
        assert_eq!(
            text,
            "{\"devices\":[{\"device_id\":\"a\",\"token\":\"tdev_one\"}]}\n"
        );
    }

    #[test]
    fn a_token_file_replaces_the_token_in_text_and_json() {
        let file = Delivery::File(Path::new("pi.token"));
        let devices = [device("a", "tdev_one")];
        let text = devices_text(&devices, file);
        assert!(
            text.starts_with(
                "device a created; token written to pi.token (mode 0600, not shown)\n"
            )
        );
        let json = devices_json(&devices, file);
        assert_eq!(
            json,
            "{\"devices\":[{\"device_id\":\"a\",\"token_file\":\"pi.token\"}]}\n"
        );
        assert!(!text.contains("tdev_one") && !json.contains("tdev_one"));
    }

    #[test]
    fn dashboard_outputs_carry_id_scope_access_label_and_the_token_once() {
        let created = ProvisionedDashboardToken {
            token_id: "dt_0123456789ab".into(),
            token: "tdash_x".into(),
        };
        let scope = DashboardScope::parse("a,b").expect("scope");
        let json = dashboard_json(
            &created,
            &scope,
            Access::Control,
            Some("ops"),
            Delivery::Printed,
        );
        assert_eq!(
            json,
            "{\"token_id\":\"dt_0123456789ab\",\"token\":\"tdash_x\",\"devices\":\"a,b\",\"access\":\"control\",\"label\":\"ops\"}\n"
        );
        let text = dashboard_text(
            &created,
            &DashboardScope::All,
            Access::Read,
            Delivery::Printed,
        );
        assert!(text.contains("dt_0123456789ab created for all devices (*) with read access;"));
        let listed = dashboard_text(&created, &scope, Access::Control, Delivery::Printed);
        assert!(listed.contains("created for devices a,b with control access;"));
        assert_eq!(text.matches("tdash_x").count(), 1);
    }

    #[test]
    fn rotation_says_until_when_the_old_token_works() {
        let id = DeviceId::parse("ems_001").expect("valid");
        let mut rotated = RotatedDevice {
            token: "tdev_new".into(),
            previous_token_valid_until: None,
        };
        let text = rotated_text(&id, &rotated, Delivery::Printed);
        assert!(text.starts_with(
            "device ems_001 rotated; new token (shown once, store it now): tdev_new\n\
             The old token stopped working at once;"
        ));
        rotated.previous_token_valid_until = Some("2026-02-03T13:00:00.000Z".into());
        let text = rotated_text(&id, &rotated, Delivery::Printed);
        assert!(text.contains("keeps working until 2026-02-03T13:00:00.000Z;"));
        assert_eq!(
            rotated_json(&id, &rotated, Delivery::Printed),
            "{\"device_id\":\"ems_001\",\"token\":\"tdev_new\",\"previous_token_valid_until\":\"2026-02-03T13:00:00.000Z\"}\n"
        );
    }

    #[test]
    fn admin_token_output_gives_the_hash_and_how_to_install_it() {
        let new = NewAdminToken {
            token: "tadm_x".into(),
            sha256: "ab12".into(),
        };
        let text = admin_token_text(&new, Delivery::Printed);
        assert!(text.starts_with("admin token (shown once, store it now): tadm_x\n"));
        assert!(text.contains("\n  printf %s ab12 | npx wrangler secret put ADMIN_TOKEN_SHA256\n"));
        assert!(text.contains("\n  ADMIN_TOKEN_SHA256=ab12\n"));
        assert_eq!(text.matches("tadm_x").count(), 1);
        assert_eq!(
            admin_token_json(&new, Delivery::Printed),
            "{\"token\":\"tadm_x\",\"sha256\":\"ab12\"}\n"
        );
        let filed = admin_token_json(&new, Delivery::File(Path::new("admin.token")));
        assert_eq!(
            filed,
            "{\"token_file\":\"admin.token\",\"sha256\":\"ab12\"}\n"
        );
    }

    #[test]
    fn token_check_names_the_kind() {
        assert!(token_check_text(TokenKind::Dashboard).starts_with("dashboard token (tdash_)"));
    }
}
