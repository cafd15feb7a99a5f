//! Tests of `hubctl dashboard …`: parsing, and what each command prints.

use super::*;
use crate::cli::{Commands, parse, words};
use crate::output::Delivery;

#[test]
fn create_parses_scope_access_and_label_and_rejects_bad_values() {
    let cli = parse(&words(
        "dashboard create --devices a,b --access control --label Ops",
    ))
    .expect("ok");
    let Commands::Dashboard(DashboardCommand::Create {
        devices,
        access,
        label,
        json,
        ..
    }) = cli.command
    else {
        panic!("wrong command");
    };
    assert_eq!(
        (devices.to_string(), access, json),
        ("a,b".into(), Access::Control, false)
    );
    assert_eq!(label.as_ref().map(Label::as_str), Some("Ops"));
    let star = parse(&words("dashboard create --devices * --access read")).expect("ok");
    let devices = match star.command {
        Commands::Dashboard(DashboardCommand::Create { devices, .. }) => devices,
        _ => panic!("wrong command"),
    };
    assert_eq!(devices, DashboardScope::All);
    for bad in [
        "--devices a --access write",
        "--devices a,,b --access read",
        "--access read",
    ] {
        let line = format!("dashboard create {bad}");
        assert!(parse(&words(&line)).is_err(), "{bad:?}");
    }
    let label = [
        "dashboard",
        "create",
        "--devices",
        "a",
        "--access",
        "read",
        "--label",
        "x\ny",
    ];
    assert!(parse(&label).is_err());
}

#[test]
fn created_tokens_carry_id_scope_access_label_and_the_token_once() {
    let made = ProvisionedDashboardToken {
        token_id: "dt_0123456789ab".into(),
        token: "tdash_x".into(),
    };
    let scope = DashboardScope::parse("a,b").expect("scope");
    let json = created(&made, &scope, Access::Control, Some("ops")).render(true, Delivery::Printed);
    assert_eq!(
        json,
        "{\"token_id\":\"dt_0123456789ab\",\"token\":\"tdash_x\",\"devices\":\"a,b\",\"access\":\"control\",\"label\":\"ops\"}\n"
    );
    let text = |scope, access| created(&made, scope, access, None).render(false, Delivery::Printed);
    let all = text(&DashboardScope::All, Access::Read);
    assert!(all.contains("dt_0123456789ab created for all devices (*) with read access;"));
    assert_eq!(all.matches("tdash_x").count(), 1);
    let listed = text(&scope, Access::Control);
    assert!(listed.contains("created for devices a,b with control access;"));
}

#[test]
fn token_tables_clean_labels_and_show_no_token() {
    let tokens = [serde_json::json!({
        "token_id": "dt_0123456789ab", "devices": "*", "access": "read",
        "label": "ops\u{1b}[2Jwall", "created_at": "2026-02-01T10:00:00.000Z", "revoked_at": null,
    })];
    let shown = tokens_table(&tokens);
    assert!(shown.starts_with(
        "TOKEN ID         ACCESS  CREATED                   REVOKED  DEVICES  LABEL\n"
    ));
    assert!(shown.contains(
        "dt_0123456789ab  read    2026-02-01T10:00:00.000Z  -        *        ops\u{FFFD}[2Jwall\n"
    ));
    assert_eq!(tokens_table(&[]), "no dashboard tokens\n");
}

#[test]
fn revocations_count_closed_connections() {
    let mut revocation = RevokedDashboardToken {
        token_id: TokenId::parse("dt_0123456789ab").expect("valid"),
        revoked: true,
        closed_sockets: 1,
        pending_devices: 0,
    };
    let shown = |json| revoked(&revocation).render(json, Delivery::Printed);
    assert_eq!(
        shown(false),
        "dashboard token dt_0123456789ab revoked; 1 open dashboard connection closed (4001 revoked).\n"
    );
    assert_eq!(
        shown(true),
        "{\"token_id\":\"dt_0123456789ab\",\"revoked\":true,\"closed_sockets\":1,\"pending_devices\":0}\n"
    );
    revocation.pending_devices = 3;
    let text = revoked(&revocation).render(false, Delivery::Printed);
    assert!(
        text.ends_with("3 device connections not reached yet; the hub retries every minute.\n")
    );
}
