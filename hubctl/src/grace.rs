//! The grace period of a rotation: how long the old token keeps working, written `0`, `90s`, `10m`, `2h`,
//! `1d` or a sum such as `1h30m`. Pure.

use std::time::Duration;

use crate::HubctlError;

/// Longest grace period the admin API accepts: 30 days.
pub const MAX_GRACE: Duration = Duration::from_secs(telemetry_protocol::limits::MAX_GRACE_SECONDS);

/// Parses a grace period: whole numbers each followed by `s`, `m`, `h` or `d`, or a bare number of seconds.
/// Errors never repeat the text.
pub fn parse_grace(raw: &str) -> Result<Duration, HubctlError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(HubctlError::InvalidGrace(
            "it is empty; write e.g. 0, 90s, 10m, 2h or 1d",
        ));
    }
    let seconds = if raw.bytes().all(|b| b.is_ascii_digit()) {
        raw.parse::<u64>().map_err(|_| too_long())?
    } else {
        sum_of_parts(raw)?
    };
    check_grace(Duration::from_secs(seconds))
}

/// `grace` if it is at most [`MAX_GRACE`].
pub fn check_grace(grace: Duration) -> Result<Duration, HubctlError> {
    if grace > MAX_GRACE {
        return Err(too_long());
    }
    Ok(grace)
}

/// The seconds in `1h30m`-style text.
fn sum_of_parts(raw: &str) -> Result<u64, HubctlError> {
    let mut total: u64 = 0;
    let mut rest = raw;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let (number, after) = rest.split_at(digits);
        let mut units = after.chars();
        let unit = units.next().map_or(Err(missing_unit()), unit_seconds)?;
        let count: u64 = number.parse().map_err(|_| missing_number())?;
        let part = count.checked_mul(unit).ok_or_else(too_long)?;
        total = total.checked_add(part).ok_or_else(too_long)?;
        rest = units.as_str();
    }
    Ok(total)
}

/// Seconds in one `s`, `m`, `h` or `d`.
fn unit_seconds(unit: char) -> Result<u64, HubctlError> {
    match unit {
        's' => Ok(1),
        'm' => Ok(60),
        'h' => Ok(3600),
        'd' => Ok(86_400),
        _ => Err(HubctlError::InvalidGrace(
            "units are s, m, h and d; write e.g. 0, 90s, 10m, 2h or 1h30m",
        )),
    }
}

fn too_long() -> HubctlError {
    HubctlError::InvalidGrace("it is longer than 30 days (720h)")
}

fn missing_unit() -> HubctlError {
    HubctlError::InvalidGrace("a number lacks its unit; write e.g. 10m or 1h30m")
}

fn missing_number() -> HubctlError {
    HubctlError::InvalidGrace("a unit lacks its number; write e.g. 10m or 1h30m")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units_bare_seconds_and_sums() {
        for (raw, secs) in [
            ("0", 0),
            ("0s", 0),
            ("3600", 3600),
            ("3600s", 3600),
            ("10m", 600),
            ("2h", 7200),
            ("1d", 86_400),
            (" 1h30m ", 5400),
            ("1d2h3m4s", 93_784),
            ("30d", MAX_GRACE.as_secs()),
            ("720h", MAX_GRACE.as_secs()),
        ] {
            assert_eq!(parse_grace(raw).expect(raw).as_secs(), secs, "{raw}");
        }
    }

    #[test]
    fn bad_text_and_too_long_periods_are_refused_without_repeating_the_text() {
        for bad in ["", "m", "10x", "1.5h", "-1h", "h10", "10 m", "1h30", "ten"] {
            assert!(parse_grace(bad).is_err(), "{bad:?}");
        }
        let long = [
            "31d",
            "721h",
            "2592001",
            "99999999999999999999",
            "9999999999999999999d",
        ];
        for long in long {
            let error = parse_grace(long).expect_err(long).to_string();
            assert!(error.contains("longer than 30 days"), "{long}: {error}");
        }
        let token =
            telemetry_protocol::generate_token(telemetry_protocol::TokenKind::Admin, |b| b.fill(2));
        let error = parse_grace(&token).expect_err("not a duration").to_string();
        assert!(!error.contains(&token[5..]), "{error}");
    }
}
