//! Tests of `hubctl device …`: parsing, and what each command prints.

use std::path::Path;

use clap::Parser;
use clap::error::ErrorKind;

use super::*;
use crate::cli::{Cli, Commands};
use crate::output::Delivery;

fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
    Cli::try_parse_from(std::iter::once("hubctl").chain(args.iter().copied()))
}

fn device(id: &str, token: &str) -> ProvisionedDevice {
    let device_id = DeviceId::parse(id).expect("valid");
    ProvisionedDevice {
        device_id,
        token: token.into(),
    }
}

fn devices_text(devices: &[ProvisionedDevice], delivery: Delivery<'_>) -> String {
    created(devices).render(false, delivery)
}

fn devices_json(devices: &[ProvisionedDevice], delivery: Delivery<'_>) -> String {
    created(devices).render(true, delivery)
}

fn rotated_text(id: &DeviceId, rotation: &RotatedDevice, delivery: Delivery<'_>) -> String {
    rotated(id, rotation).render(false, delivery)
}

fn rotated_json(id: &DeviceId, rotation: &RotatedDevice, delivery: Delivery<'_>) -> String {
    rotated(id, rotation).render(true, delivery)
}

fn device_state_text(id: &DeviceId, device: &Value, disabled: bool) -> String {
    state(id, device.clone(), disabled).render(false, Delivery::Printed)
}

#[test]
fn device_create_rejects_no_ids_and_bad_ids() {
    let missing = parse(&["device", "create"]).expect_err("no ids");
    assert_eq!(missing.kind(), ErrorKind::MissingRequiredArgument);
    let bad = parse(&["device", "create", "ok", "not ok"]).expect_err("bad id");
    assert_eq!(bad.kind(), ErrorKind::ValueValidation);
}

#[test]
fn rotate_takes_a_grace_period_that_defaults_to_zero() {
    let cli = parse(&["device", "rotate", "ems_001"]).expect("ok");
    let Commands::Device(DeviceCommand::Rotate {
        id,
        grace,
        json,
        token_file,
    }) = &cli.command
    else {
        panic!("wrong command");
    };
    assert_eq!(
        (id.as_str(), *grace, *json),
        ("ems_001", Duration::ZERO, false)
    );
    assert_eq!(token_file, &None);
    let args = [
        "device",
        "rotate",
        "a",
        "--grace",
        "1h30m",
        "--token-file",
        "new.token",
    ];
    let Commands::Device(DeviceCommand::Rotate {
        grace, token_file, ..
    }) = parse(&args).expect("ok").command
    else {
        panic!("wrong command");
    };
    assert_eq!(grace, Duration::from_secs(5400));
    assert_eq!(token_file, Some(PathBuf::from("new.token")));
    for bad in ["31d", "10x", "-1s"] {
        let grace = format!("--grace={bad}");
        let error = parse(&["device", "rotate", "a", &grace]).expect_err(bad);
        assert_eq!(error.kind(), ErrorKind::ValueValidation, "{bad}");
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
        text.starts_with("device a created; token written to pi.token (mode 0600, not shown)\n")
    );
    let json = devices_json(&devices, file);
    assert_eq!(
        json,
        "{\"devices\":[{\"device_id\":\"a\",\"token_file\":\"pi.token\"}]}\n"
    );
    assert!(!text.contains("tdev_one") && !json.contains("tdev_one"));
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

fn row(id: &str, online: bool, last_seq: Value, disabled: Value) -> Value {
    json!({
        "device_id": id,
        "created_at": "2026-02-01T10:00:00.000Z",
        "disabled_at": disabled,
        "previous_token_valid_until": null,
        "online": online,
        "last_seen": if online { json!("2026-02-03T12:00:00.120Z") } else { Value::Null },
        "last_seq": last_seq,
    })
}

#[test]
fn device_tables_align_every_column() {
    let devices = [
        row("ems_001", true, json!(42), Value::Null),
        row("a", false, Value::Null, json!("2026-02-02T08:00:00.000Z")),
    ];
    let expected = "\
DEVICE   ONLINE  LAST SEEN                 LAST SEQ  DISABLED                  GRACE UNTIL
ems_001  yes     2026-02-03T12:00:00.120Z  42        -                         -
a        no      -                         -         2026-02-02T08:00:00.000Z  -
";
    assert_eq!(devices_table(&devices), expected);
    assert_eq!(devices_table(&[]), "no devices\n");
}

#[test]
fn one_device_is_a_field_per_line() {
    let shown = device_text(&row("ems_001", true, json!(7), Value::Null));
    assert!(shown.starts_with(
        "device        ems_001\ncreated       2026-02-01T10:00:00.000Z\nonline        yes\n"
    ));
    assert!(
        shown.ends_with("disabled      -\ngrace until   -\nsync pending  -\n"),
        "{shown}"
    );
}

#[test]
fn a_device_with_history_shows_what_its_object_stored() {
    let mut shown = row("ems_001", true, json!(7), Value::Null);
    shown["storage"] = json!({"rows_read": 3, "rows_written": 12, "groups_written": 5,
        "samples_written": 3000, "alarms_set": 9, "database_bytes": 40960});
    let text = device_text(&shown);
    assert!(text.contains("samples stored  3000\n"), "{text}");
    assert!(text.ends_with("database bytes  40960\n"), "{text}");
}

#[test]
fn disable_and_enable_say_what_changed() {
    let id = DeviceId::parse("ems_001").expect("valid");
    let disabled = row(
        "ems_001",
        false,
        Value::Null,
        json!("2026-02-02T08:00:00.000Z"),
    );
    let text = device_state_text(&id, &disabled, true);
    assert!(text.starts_with("device ems_001 disabled (since 2026-02-02T08:00:00.000Z);"));
    assert!(text.contains("`hubctl device enable ems_001`"));
    assert!(!text.contains("not reached"));
    let text = device_state_text(&id, &disabled, false);
    assert!(text.starts_with("device ems_001 enabled;"));
    let mut pending = disabled.clone();
    pending["sync_pending"] = json!(true);
    let text = device_state_text(&id, &pending, true);
    assert!(
        text.contains("has not reached the device's connection yet"),
        "{text}"
    );
}
