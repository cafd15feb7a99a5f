//! Unit tests of the reading bounds: each bound at its limit and one past it, and the margins to what the
//! agent's store and the hub's parser take, measured with the same serde_json and protocol crate they use.

use serde_json::{Map, Value, json};
use telemetry_protocol::{Telemetry, parse_device_frame};

use super::*;
use crate::outbox::encode;

/// A reading `depth` levels deep: `{"v": [[…[1]…]]}`.
fn nested(depth: usize) -> Map<String, Value> {
    let mut value = json!(1);
    for _ in 1..depth {
        value = Value::Array(vec![value]);
    }
    reading(json!({ "v": value }))
}

fn reading(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(object) => object,
        other => panic!("not an object: {other}"),
    }
}

#[test]
fn depth_counts_the_reading_as_level_one() {
    assert_eq!(depth_of(&reading(json!({}))), 1);
    assert_eq!(depth_of(&reading(json!({"a": 1}))), 1);
    assert_eq!(depth_of(&reading(json!({"a": {"b": 1}}))), 2);
    assert_eq!(depth_of(&reading(json!({"a": [1], "b": {"c": [[]]}}))), 4);
    assert_eq!(depth_of(&nested(7)), 7);
}

fn depth_of(reading: &Map<String, Value>) -> usize {
    let mut shape = Shape::default();
    shape.visit_object(reading, 1);
    shape.depth
}

#[test]
fn a_reading_at_every_limit_passes() {
    assert_eq!(check_reading(&nested(MAX_READING_DEPTH)), Ok(()));
    let values: Map<String, Value> = (0..MAX_READING_VALUES)
        .map(|i| (format!("{i}"), json!(0)))
        .collect();
    assert_eq!(check_reading(&values), Ok(()));
    let long = reading(json!({ "s": "é".repeat(MAX_STRING_BYTES / 2) }));
    assert_eq!(check_reading(&long), Ok(()));
    let big = sized(MAX_READING_BYTES);
    assert_eq!(encoded_len(&big), MAX_READING_BYTES);
    assert_eq!(check_reading(&big), Ok(()));
}

/// A reading of exactly `bytes` bytes of JSON, in strings of at most 1000 bytes.
fn sized(bytes: usize) -> Map<String, Value> {
    let mut map = Map::new();
    let mut left = bytes - 2;
    for i in 0.. {
        let key = format!("k{i}");
        let overhead = key.len() + 5 + usize::from(i > 0);
        let len = (left - overhead).min(1000);
        map.insert(key, json!("x".repeat(len)));
        left -= overhead + len;
        if left == 0 {
            break;
        }
    }
    map
}

#[test]
fn one_past_each_limit_is_refused_with_the_measured_value_and_the_limit() {
    let error = check_reading(&nested(MAX_READING_DEPTH + 1)).expect_err("too deep");
    assert_eq!(
        error.to_string(),
        "nested 33 levels deep, more than the 32 allowed"
    );
    let values: Map<String, Value> = (0..=MAX_READING_VALUES)
        .map(|i| (format!("{i}"), json!(0)))
        .collect();
    let error = check_reading(&values).expect_err("too many");
    assert_eq!(error.to_string(), "1025 values, more than the 1024 allowed");
    let key = reading(json!({ "k".repeat(MAX_STRING_BYTES + 1): 1 }));
    assert_eq!(
        check_reading(&key),
        Err(OutOfBounds::StringTooLong { bytes: 1025 })
    );
    let error = check_reading(&reading(json!({"s": ["x".repeat(2000)]}))).expect_err("long");
    assert_eq!(
        error.to_string(),
        "a string of 2000 bytes, more than the 1024 allowed"
    );
    let error = check_reading(&sized(MAX_READING_BYTES + 1)).expect_err("too large");
    assert_eq!(
        error.to_string(),
        "16385 bytes of JSON, more than the 16384 allowed"
    );
}

#[test]
fn nested_containers_count_as_values() {
    let half = MAX_READING_VALUES / 2;
    let pairs: Vec<Value> = (0..half).map(|_| json!([0])).collect();
    assert_eq!(
        check_reading(&reading(json!({ "a": pairs }))),
        Err(OutOfBounds::TooManyValues {
            count: 2 * half + 1
        })
    );
}

#[test]
fn printed_json_that_serde_refuses_is_explained_when_it_breaks_a_bound() {
    for (printed, token) in [
        (r#"{"a": NaN}"#, "NaN"),
        (r#"{"a": nan}"#, "nan"),
        (r#"{"a": [1, inf]}"#, "inf"),
        (r#"{"a":-Infinity}"#, "-Infinity"),
        (r#"{"a": 1e999}"#, "1e999"),
        (r#"{"a": {"b": -1E999}}"#, "-1E999"),
        ("{\"a\":\n+inf", "+inf"),
    ] {
        let text = token.to_string();
        assert_eq!(
            check_printed_json(printed.as_bytes()),
            Some(OutOfBounds::NotFinite { text }),
            "{printed}"
        );
    }
    let deep = format!("{{\"a\":{}1{}}}", "[".repeat(200), "]".repeat(200));
    assert_eq!(
        check_printed_json(deep.as_bytes()),
        Some(OutOfBounds::TooDeep { depth: 201 })
    );
}

#[test]
fn words_and_brackets_inside_strings_are_not_counted() {
    for printed in [
        "hello",
        r#"{"a": "NaN", "b": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "c": 1e99}"#,
        r#"{"a": "say \"NaN\" \\", "b": true, "c": null} trailing"#,
        r#"{"a": 1} {"b": 2}"#,
    ] {
        assert_eq!(check_printed_json(printed.as_bytes()), None, "{printed}");
    }
    let error = check_printed_json(format!("{{\"a\": {}}}", "9".repeat(400)).as_bytes())
        .expect("400 nines overflow a float");
    assert_eq!(
        error,
        OutOfBounds::NotFinite {
            text: "9".repeat(32)
        }
    );
}

/// The depth at which serde_json (the agent's store, the hub's frames and history) stops, measured.
#[test]
fn serde_json_refuses_128_levels_so_the_bound_leaves_a_wide_margin() {
    let parses = |depth: usize| {
        let text = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        serde_json::from_str::<Value>(&text).is_ok()
    };
    assert!(parses(127));
    assert!(!parses(128));
    // The deepest a reading may be and still pass the hub's parser inside a batch frame: 124.
    assert!(frame_parses(124, 2));
    assert!(!frame_parses(125, 2));
    const { assert!(MAX_READING_DEPTH + 3 < 127) };
}

/// Whether the hub's parser accepts `count` samples whose data is a reading `depth` deep, as the agent encodes
/// them.
fn frame_parses(depth: usize, count: u64) -> bool {
    let samples = (1..=count)
        .map(|seq| Telemetry {
            epoch: "e1".into(),
            seq,
            ts: "2026-02-03T12:00:00.000Z".into(),
            data: nested(depth),
            device_id: None,
        })
        .collect();
    let frame = encode(samples).expect("encodes").expect("one frame");
    parse_device_frame(&frame.text).is_ok()
}

#[test]
fn a_reading_at_every_limit_is_read_back_from_a_stored_row_and_accepted_by_the_hub() {
    let mut worst = nested(MAX_READING_DEPTH);
    worst.insert("s".into(), json!("x".repeat(MAX_STRING_BYTES)));
    assert_eq!(check_reading(&worst), Ok(()));
    let row = json!({"ts": "2026-02-03T12:00:00.000Z", "data": worst});
    let text = serde_json::to_string(&row).expect("encodes");
    assert!(serde_json::from_str::<Value>(&text).is_ok());
    assert!(frame_parses(MAX_READING_DEPTH, 3));
}
