//! Time as the wire shows it: RFC 3339 in UTC with milliseconds, and checks of device timestamps.

use chrono::{DateTime, SecondsFormat};

/// Formats milliseconds since the Unix epoch as RFC 3339 UTC with milliseconds, e.g. `2026-02-03T12:00:00.120Z`.
pub fn rfc3339_millis(unix_millis: u64) -> String {
    let millis = i64::try_from(unix_millis).unwrap_or(i64::MAX);
    DateTime::from_timestamp_millis(millis)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Milliseconds since the Unix epoch of an RFC 3339 timestamp; `None` if it is not one or before 1970.
pub fn parse_millis(text: &str) -> Option<u64> {
    let millis = DateTime::parse_from_rfc3339(text).ok()?.timestamp_millis();
    u64::try_from(millis).ok()
}

/// Whether `text` is an RFC 3339 timestamp.
pub fn is_rfc3339(text: &str) -> bool {
    DateTime::parse_from_rfc3339(text).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_with_millis_in_utc() {
        assert_eq!(rfc3339_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            rfc3339_millis(1_770_120_000_120),
            "2026-02-03T12:00:00.120Z"
        );
    }

    #[test]
    fn parses_back_what_it_formats() {
        assert_eq!(
            parse_millis(&rfc3339_millis(1_770_120_000_120)),
            Some(1_770_120_000_120)
        );
        assert_eq!(
            parse_millis("2026-02-03T13:00:00+01:00"),
            Some(1_770_120_000_000)
        );
        assert_eq!(parse_millis("1969-12-31T23:59:59Z"), None);
        assert_eq!(parse_millis("soon"), None);
    }

    #[test]
    fn checks_device_timestamps() {
        assert!(is_rfc3339("2026-02-03T12:00:00Z"));
        assert!(is_rfc3339("2026-02-03T12:00:00.5+01:00"));
        assert!(!is_rfc3339("2026-02-03 12:00"));
        assert!(!is_rfc3339("yesterday"));
    }
}
