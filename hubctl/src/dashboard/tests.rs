//! Tests of `hubctl dashboard …`: parsing, and what each command prints.

use clap::Parser;

use super::*;
use crate::cli::{Cli, Commands};
use crate::output::Delivery;

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("hubctl").chain(args.iter().copied()))
}

fn dashboard_json(
    made: &ProvisionedDashboardToken,
    scope: &DashboardScope,
    access: Access,
    label: Option<&str>,
    delivery: Delivery<'_>,
) -> String {
    created(made, scope, access, label).render(true, delivery)
}

fn dashboard_text(
    made: &ProvisionedDashboardToken,
    scope: &DashboardScope,
    access: Access,
    delivery: Delivery<'_>,
) -> String {
    created(made, scope, access, None).render(false, delivery)
}

fn revoked_text(revocation: &RevokedDashboardToken) -> String {
    revoked(revocation).render(false, Delivery::Printed)
}

fn revoked_json(revocation: &RevokedDashboardToken) -> String {
    revoked(revocation).render(true, Delivery::Printed)
}

#[test]
fn dashboard_create_parses_scope_access_and_label() {
    let args = [
        "dashboard",
        "create",
        "--devices",
        "a,b",
        "--access",
        "control",
        "--label",
        "Ops",
    ];
    let cli = parse(&args).expect("ok");
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
    assert_eq!(devices.to_string(), "a,b");
    assert_eq!(access, Access::Control);
    assert_eq!(label.as_ref().map(Label::as_str), Some("Ops"));
    assert!(!json);
    let star = parse(&["dashboard", "create", "--devices", "*", "--access", "read"]).expect("ok");
    assert!(matches!(
        star.command,
        Commands::Dashboard(DashboardCommand::Create {
            devices: DashboardScope::All,
            ..
        })
    ));
}

#[test]
fn dashboard_create_rejects_bad_values() {
    for args in [
        &["dashboard", "create", "--devices", "a", "--access", "write"][..],
        &[
            "dashboard",
            "create",
            "--devices",
            "a,,b",
            "--access",
            "read",
        ],
        &[
            "dashboard",
            "create",
            "--devices",
            "a",
            "--access",
            "read",
            "--label",
            "x\ny",
        ],
        &["dashboard", "create", "--access", "read"],
    ] {
        assert!(parse(args).is_err(), "{args:?}");
    }
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
    let mut revoked = RevokedDashboardToken {
        token_id: TokenId::parse("dt_0123456789ab").expect("valid"),
        revoked: true,
        closed_sockets: 1,
        pending_devices: 0,
    };
    assert_eq!(
        revoked_text(&revoked),
        "dashboard token dt_0123456789ab revoked; 1 open dashboard connection closed (4001 revoked).\n"
    );
    assert_eq!(
        revoked_json(&revoked),
        "{\"token_id\":\"dt_0123456789ab\",\"revoked\":true,\"closed_sockets\":1,\"pending_devices\":0}\n"
    );
    revoked.pending_devices = 3;
    assert!(
        revoked_text(&revoked)
            .ends_with("3 device connections not reached yet; the hub retries every minute.\n")
    );
}
