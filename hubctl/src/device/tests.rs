//! Tests of `hubctl device …`: parsing, and what each command prints.

use std::path::Path;

use clap::error::ErrorKind;

use super::*;
use crate::cli::{Commands, parse, words};
use crate::output::Delivery;

fn device(id: &str, token: &str) -> ProvisionedDevice {
    let device_id = DeviceId::parse(id).expect("valid");
    let token = token.into();
    ProvisionedDevice { device_id, token }
}

#[test]
fn create_needs_valid_ids_and_rotate_a_grace_period_that_defaults_to_zero() {
    let missing = parse(&words("device create")).expect_err("no ids");
    assert_eq!(missing.kind(), ErrorKind::MissingRequiredArgument);
    let bad = parse(&["device", "create", "ok", "not ok"]).expect_err("bad id");
    assert_eq!(bad.kind(), ErrorKind::ValueValidation);
    let rotation = |args: &[&str]| match parse(args).expect("ok").command {
        Commands::Device(DeviceCommand::Rotate {
            id,
            grace,
            json,
            token_file,
        }) => (id.to_string(), grace.as_secs(), json, token_file),
        _ => panic!("wrong command"),
    };
    assert_eq!(
        rotation(&["device", "rotate", "ems_001"]),
        ("ems_001".into(), 0, false, None)
    );
    let args = words("device rotate a --grace 1h30m --token-file t");
    assert_eq!(rotation(&args), ("a".into(), 5400, false, Some("t".into())));
    for bad in ["31d", "10x", "-1s"] {
        let grace = format!("--grace={bad}");
        let error = parse(&["device", "rotate", "a", &grace]).expect_err(bad);
        assert_eq!(error.kind(), ErrorKind::ValueValidation, "{bad}");
    }
}

#[test]
fn created_devices_show_each_token_once_or_where_it_was_written() {
    let two = created(&[device("a", "tdev_one"), device("b", "tdev_two")]);
    let text = two.render(false, Delivery::Printed);
    assert!(text.starts_with(
        "device a created; token (shown once, store it now): tdev_one\n\
         device b created; token (shown once, store it now): tdev_two\n"
    ));
    assert_eq!(text.matches("tdev_one").count(), 1);
    assert!(text.contains("API_TOKEN"));
    let one = created(&[device("a", "tdev_one")]);
    assert_eq!(
        one.render(true, Delivery::Printed),
        "{\"devices\":[{\"device_id\":\"a\",\"token\":\"tdev_one\"}]}\n"
    );
    let file = Delivery::File(Path::new("pi.token"));
    let text = one.render(false, file);
    let written = "device a created; token written to pi.token (mode 0600, not shown)\n";
    assert!(text.starts_with(written), "{text}");
    let json = one.render(true, file);
    assert_eq!(
        json,
        "{\"devices\":[{\"device_id\":\"a\",\"token_file\":\"pi.token\"}]}\n"
    );
    assert!(!text.contains("tdev_one") && !json.contains("tdev_one"));
}

#[test]
fn rotation_says_until_when_the_old_token_works() {
    let id = DeviceId::parse("ems_001").expect("valid");
    let mut rotation = RotatedDevice {
        token: "tdev_new".into(),
        previous_token_valid_until: None,
    };
    let text = rotated(&id, &rotation).render(false, Delivery::Printed);
    assert!(text.starts_with(
        "device ems_001 rotated; new token (shown once, store it now): tdev_new\n\
         The old token stopped working at once;"
    ));
    rotation.previous_token_valid_until = Some("2026-02-03T13:00:00.000Z".into());
    let text = rotated(&id, &rotation).render(false, Delivery::Printed);
    assert!(text.contains("keeps working until 2026-02-03T13:00:00.000Z;"));
    assert_eq!(
        rotated(&id, &rotation).render(true, Delivery::Printed),
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
fn one_device_is_a_field_per_line_with_what_its_object_stored() {
    let mut shown = row("ems_001", true, json!(7), Value::Null);
    let text = device_text(&shown);
    assert!(text.starts_with(
        "device        ems_001\ncreated       2026-02-01T10:00:00.000Z\nonline        yes\n"
    ));
    assert!(
        text.ends_with("disabled      -\ngrace until   -\nsync pending  -\n"),
        "{text}"
    );
    shown["storage"] = json!({"rows_read": 3, "rows_written": 12, "groups_written": 5,
        "samples_written": 3000, "alarms_set": 9, "database_bytes": 40960});
    let text = device_text(&shown);
    assert!(text.contains("samples stored  3000\n"), "{text}");
    assert!(text.ends_with("database bytes  40960\n"), "{text}");
    assert!(
        !text.contains("counting since"),
        "no counters without them: {text}"
    );
}

#[test]
fn one_device_shows_its_counters_with_counts_by_code() {
    let mut shown = row("ems_001", true, json!(7), Value::Null);
    shown["counters"] = json!({"since": "2026-02-01T10:00:00.000Z", "device_connections": 3,
        "device_frames": 120, "device_bytes": 45000, "samples_accepted": 118,
        "frames_refused": {"invalid_json": 2}, "dashboard_connections": 4, "commands_relayed": 1,
        "command_results": 1, "closes": {"1000": 2, "1006": 1}, "rows_read": 9, "rows_written": 14});
    let text = device_text(&shown);
    for line in [
        "counting since     2026-02-01T10:00:00.000Z\n",
        "connections        3\n",
        "frames in          120\n",
        "bytes in           45000\n",
        "samples accepted   118\n",
        "refused by code    invalid_json×2\n",
        "dashboards         4\n",
        "closes by code     1000×2 1006×1\n",
        "rows written, all  14\n",
        "rows read, all     9\n",
    ] {
        assert!(text.contains(line), "{line:?} missing from:\n{text}");
    }
    shown["counters"]["closes"] = json!({});
    assert!(device_text(&shown).contains("closes by code     none\n"));
}

#[test]
fn disable_and_enable_say_what_changed() {
    let id = DeviceId::parse("ems_001").expect("valid");
    let since = json!("2026-02-02T08:00:00.000Z");
    let disabled = row("ems_001", false, Value::Null, since);
    let text = |device: &Value, disabled| {
        let output = state(&id, device.clone(), disabled);
        output.render(false, Delivery::Printed)
    };
    let shown = text(&disabled, true);
    assert!(shown.starts_with("device ems_001 disabled (since 2026-02-02T08:00:00.000Z);"));
    assert!(shown.contains("`hubctl device enable ems_001`"));
    assert!(!shown.contains("not reached"));
    assert!(text(&disabled, false).starts_with("device ems_001 enabled;"));
    let mut pending = disabled.clone();
    pending["sync_pending"] = json!(true);
    let shown = text(&pending, true);
    assert!(
        shown.contains(
            "has not reached the device's connection yet; it retries every minute (`hubctl device show` says"
        ),
        "{shown}"
    );
}
