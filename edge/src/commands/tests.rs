//! Unit tests of the command allowlist.

use serde_json::{Value, json};

use super::*;

const OUTPUTS: &[u8] = &[17, 27];

fn command(name: &str, args: Value) -> Command {
    let Value::Object(args) = args else {
        panic!("args must be an object");
    };
    Command {
        id: "c-1".into(),
        name: name.into(),
        args,
    }
}

fn refusal(name: &str, args: Value) -> String {
    parse(&command(name, args), OUTPUTS).expect_err("refused")
}

#[test]
fn set_interval_accepts_whole_seconds_within_bounds() {
    for (seconds, expected) in [(1, 1), (5, 5), (3600, 3600)] {
        let action = parse(
            &command("set_interval", json!({"seconds": seconds})),
            OUTPUTS,
        );
        assert_eq!(
            action,
            Ok(Action::SetInterval(Duration::from_secs(expected)))
        );
    }
    let action = Action::SetInterval(Duration::from_secs(5));
    assert_eq!(action.done_detail(), "interval set to 5 s");
}

#[test]
fn set_interval_refuses_out_of_range_and_non_integers() {
    for bad in [
        json!(0),
        json!(3601),
        json!(-1),
        json!(2.5),
        json!("5"),
        json!(null),
    ] {
        let reason = refusal("set_interval", json!({"seconds": bad}));
        assert!(reason.contains("seconds"), "{bad}: {reason}");
    }
    assert!(refusal("set_interval", json!({})).contains("missing argument \"seconds\""));
    assert!(
        refusal("set_interval", json!({"seconds": 5, "x": 1}))
            .contains("unexpected argument \"x\"")
    );
}

#[test]
fn gpio_write_accepts_every_spelling_of_a_level() {
    for (level, high) in [
        (json!(1), true),
        (json!(0), false),
        (json!("high"), true),
        (json!("LOW"), false),
        (json!(true), true),
        (json!(false), false),
    ] {
        let action = parse(
            &command("gpio_write", json!({"pin": 17, "level": level})),
            OUTPUTS,
        );
        assert_eq!(action, Ok(Action::GpioWrite { pin: 17, high }));
    }
    assert_eq!(
        Action::GpioWrite {
            pin: 27,
            high: false
        }
        .done_detail(),
        "pin 27 set low"
    );
}

#[test]
fn gpio_write_only_drives_configured_outputs() {
    for pin in [json!(4), json!(256), json!(-17)] {
        let reason = refusal("gpio_write", json!({"pin": pin, "level": 1}));
        assert!(reason.contains("pin"), "{reason}");
    }
    assert!(refusal("gpio_write", json!({"pin": 4, "level": 1})).contains("[17, 27]"));
    let none =
        parse(&command("gpio_write", json!({"pin": 17, "level": 1})), &[]).expect_err("no outputs");
    assert!(none.contains("no gpio_outputs"), "{none}");
}

#[test]
fn gpio_write_refuses_bad_levels() {
    for level in [json!(2), json!("on"), json!(null), json!([1])] {
        let reason = refusal("gpio_write", json!({"pin": 17, "level": level}));
        assert!(reason.starts_with("level must be"), "{reason}");
    }
    assert!(refusal("gpio_write", json!({"pin": 17})).contains("missing argument \"level\""));
}

#[test]
fn ping_answers_pong_and_takes_no_arguments() {
    let action = parse(&command("ping", json!({})), OUTPUTS).expect("ping");
    assert_eq!(action, Action::Ping);
    assert_eq!(action.done_detail(), "pong");
    assert!(refusal("ping", json!({"x": 1})).contains("unexpected"));
}

#[test]
fn anything_else_is_refused_by_name() {
    for name in [
        "exec",
        "shell",
        "reboot",
        "SET_INTERVAL",
        "set_interval ",
        "",
    ] {
        let reason = refusal(name, json!({"cmd": "rm -rf /"}));
        assert!(reason.starts_with("unknown command"), "{name}: {reason}");
    }
    let long = "x".repeat(500);
    assert!(refusal(&long, json!({})).len() < 200);
}

#[test]
fn results_carry_the_id_and_the_outcome() {
    let ok = result("c-9", Ok("pong".into()));
    assert_eq!(
        (ok.id.as_str(), ok.ok, ok.detail.clone()),
        ("c-9", true, json!("pong"))
    );
    let refused = result("c-9", Err("nope".into()));
    assert!(!refused.ok);
    assert_eq!(refused.detail, json!("nope"));
    assert_eq!(refused.device_id, None);
}
