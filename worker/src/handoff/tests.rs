//! Unit tests of the handoffs: round trips through their encoding, and the refusal of anything else.

use super::*;

fn handoff() -> Handoff {
    Handoff {
        role: Role::Dashboard,
        device_id: DeviceId::parse("ems_001").expect("valid"),
        token_hash: TokenHash::of("tdash_example"),
        select_subprotocol: true,
        lookup: false,
        stored_acks: false,
        hold_lookup_ms: 0,
    }
}

/// Decodes `value` as if it were the only header of a request.
fn decode(value: &str) -> Result<Handoff, MalformedHandoff> {
    Handoff::from_headers(|name| (name == HANDOFF_HEADER).then(|| value.to_owned()))
}

/// The JSON of the usual handoff, with `field` replaced by `value`.
fn with_field(field: &str, value: serde_json::Value) -> String {
    let (_, text) = handoff().to_header();
    let mut json: serde_json::Value = serde_json::from_str(&text).expect("json");
    json[field] = value;
    json.to_string()
}

#[test]
fn round_trips_through_its_header() {
    for original in [
        handoff(),
        Handoff {
            role: Role::Device,
            lookup: true,
            stored_acks: true,
            hold_lookup_ms: 250,
            select_subprotocol: false,
            ..handoff()
        },
    ] {
        let (name, value) = original.to_header();
        let decoded = Handoff::from_headers(|asked| (asked == name).then(|| value.clone()));
        assert_eq!(decoded, Ok(original));
    }
}

#[test]
fn carries_the_hash_never_the_token_and_leaves_unset_faults_out() {
    let (name, value) = handoff().to_header();
    assert_eq!(name, "X-Hub-Handoff");
    assert!(!value.contains("tdash_example"), "{value}");
    assert!(value.contains(&TokenHash::of("tdash_example").to_hex()));
    assert!(
        !value.contains("hold_lookup_ms"),
        "faults stay out unless set"
    );
    assert!(!value.contains("stored_acks"), "{value}");
}

#[test]
fn a_missing_header_is_refused() {
    assert_eq!(
        Handoff::from_headers(|_| None),
        Err(MalformedHandoff::Missing)
    );
}

#[test]
fn refuses_what_the_gateway_never_sends() {
    let malformed = [
        "not json".to_owned(),
        "{}".to_owned(),
        String::new(),
        "null".to_owned(),
        with_field("device_id", "a b".into()),
        with_field("device_id", "x".repeat(65).into()),
        with_field("device_id", 7.into()),
        with_field("token_sha256", "ab".into()),
        with_field("token_sha256", "zz".repeat(32).into()),
        with_field("role", "operator".into()),
        with_field("lookup", "yes".into()),
        with_field("hold_lookup_ms", (-1).into()),
    ];
    for text in malformed {
        assert!(
            matches!(decode(&text), Err(MalformedHandoff::Invalid(_))),
            "{text}"
        );
    }
}

#[test]
fn verdicts_have_a_stable_shape() {
    let denied = ConnectVerdict::Denied {
        reason: Denial::WrongToken,
    };
    let text = serde_json::to_string(&denied).expect("json");
    assert_eq!(text, r#"{"verdict":"denied","reason":"wrong_token"}"#);
    assert_eq!(
        serde_json::from_str::<ConnectVerdict>(r#"{"verdict":"needs_lookup"}"#).expect("parse"),
        ConnectVerdict::NeedsLookup
    );
}

#[test]
fn history_requests_round_trip_and_refuse_a_bad_device_id() {
    let request = HistoryRequest {
        device_id: DeviceId::parse("ems_001").expect("valid"),
        query: HistoryQuery {
            from_ms: 1,
            to_ms: 2,
            fields: Some(vec!["battery.soc".into()]),
            points: 10,
            csv: false,
        },
    };
    let text = serde_json::to_string(&request).expect("json");
    let decoded: HistoryRequest = serde_json::from_str(&text).expect("parse");
    assert_eq!(decoded, request);
    let bad = text.replace("ems_001", "a b");
    assert!(serde_json::from_str::<HistoryRequest>(&bad).is_err());
}
