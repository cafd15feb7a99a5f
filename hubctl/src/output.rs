//! What hubctl prints: human text by default, JSON with `--json`. Each token appears exactly once.

use serde_json::json;
use telemetry_protocol::TokenKind;

use crate::provision::{ProvisionedDashboardToken, ProvisionedDevice};
use crate::scope::{Access, DashboardScope};
use crate::wrangler::Target;

/// One line per device with its token, then where to put the tokens.
pub fn devices_text(devices: &[ProvisionedDevice]) -> String {
    let mut text = String::new();
    for device in devices {
        text.push_str(&format!(
            "device {} created; token (shown once, store it now): {}\n",
            device.device_id, device.token
        ));
    }
    text.push_str(
        "Put each token in its Pi's API_TOKEN (the edge agent's environment). The hub stores only its \
         SHA-256 hash, so it cannot be shown again.\n",
    );
    text
}

/// `{"devices":[{"device_id":…,"token":…},…]}` and a newline.
pub fn devices_json(devices: &[ProvisionedDevice]) -> String {
    let list: Vec<_> = devices
        .iter()
        .map(|d| json!({"device_id": d.device_id.as_str(), "token": d.token}))
        .collect();
    format!("{}\n", json!({ "devices": list }))
}

/// The token id, scope, access and token, then how the id is used.
pub fn dashboard_text(
    created: &ProvisionedDashboardToken,
    scope: &DashboardScope,
    access: Access,
) -> String {
    let devices = match scope {
        DashboardScope::All => "all devices (*)".to_owned(),
        DashboardScope::Devices(_) => format!("devices {scope}"),
    };
    format!(
        "dashboard token {id} created for {devices} with {access} access; token (shown once, store it now): \
         {token}\nThe id {id} names this token (e.g. to revoke it) without revealing it; the hub stores only \
         the token's SHA-256 hash.\n",
        id = created.token_id,
        token = created.token,
    )
}

/// `{"token_id":…,"token":…,"devices":…,"access":…}` and a newline.
pub fn dashboard_json(
    created: &ProvisionedDashboardToken,
    scope: &DashboardScope,
    access: Access,
) -> String {
    let value = json!({
        "token_id": created.token_id,
        "token": created.token,
        "devices": scope.to_string(),
        "access": access.as_str(),
    });
    format!("{value}\n")
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
    use telemetry_protocol::DeviceId;

    fn device(id: &str, token: &str) -> ProvisionedDevice {
        let device_id = DeviceId::parse(id).expect("valid");
        ProvisionedDevice {
            device_id,
            token: token.into(),
        }
    }

    #[test]
    fn device_text_shows_each_token_once_with_the_hint() {
        let text = devices_text(&[device("a", "tdev_one"), device("b", "tdev_two")]);
        assert!(text.starts_with(
            "device a created; token (shown once, store it now): tdev_one\n\
             device b created; token (shown once, store it now): tdev_two\n"
        ));
        assert_eq!(text.matches("tdev_one").count(), 1);
        assert!(text.contains("API_TOKEN"));
    }

    #[test]
    fn device_json_has_the_documented_shape() {
        let text = devices_json(&[device("a", "tdev_one")]);
        assert_eq!(
            text,
            "{\"devices\":[{\"device_id\":\"a\",\"token\":\"tdev_one\"}]}\n"
        );
    }

    #[test]
    fn dashboard_outputs_carry_id_scope_access_and_the_token_once() {
        let created = ProvisionedDashboardToken {
            token_id: "dt_0123456789ab".into(),
            token: "tdash_x".into(),
        };
        let scope = DashboardScope::parse("a,b").expect("scope");
        let json = dashboard_json(&created, &scope, Access::Control);
        assert_eq!(
            json,
            "{\"token_id\":\"dt_0123456789ab\",\"token\":\"tdash_x\",\"devices\":\"a,b\",\"access\":\"control\"}\n"
        );
        let text = dashboard_text(&created, &DashboardScope::All, Access::Read);
        assert!(text.contains("dt_0123456789ab created for all devices (*) with read access;"));
        let listed = dashboard_text(&created, &scope, Access::Control);
        assert!(listed.contains("created for devices a,b with control access;"));
        assert_eq!(text.matches("tdash_x").count(), 1);
    }

    #[test]
    fn token_check_names_the_kind() {
        assert!(token_check_text(TokenKind::Dashboard).starts_with("dashboard token (tdash_)"));
    }
}
