//! Equality of JSON values after a round trip, allowing for serde_json's best-effort float parsing.
//!
//! Without its `float_roundtrip` feature (which this workspace does not enable, and a fuzz crate must not enable
//! for everyone through feature unification), serde_json may read a float back one or two units in the last
//! place away from the value it wrote. Such a difference is not the project's bug; any other difference is.

use serde::Serialize;
use serde_json::Value;

/// Relative tolerance between two floats read from the same text: a few units in the last place.
const FLOAT_TOLERANCE: f64 = 8.0 * f64::EPSILON;

/// Whether `a` and `b` are the same JSON value: same shape, same keys in the same order, same strings and
/// integers, floats within [`FLOAT_TOLERANCE`].
pub fn equivalent(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            if x.is_f64() || y.is_f64() {
                floats_match(x.as_f64(), y.as_f64())
            } else {
                x == y
            }
        }
        (Value::Array(xs), Value::Array(ys)) => {
            xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| equivalent(x, y))
        }
        (Value::Object(xs), Value::Object(ys)) => {
            xs.len() == ys.len()
                && xs
                    .iter()
                    .zip(ys)
                    .all(|((kx, vx), (ky, vy))| kx == ky && equivalent(vx, vy))
        }
        _ => a == b,
    }
}

/// Panics unless `a` and `b` serialise to [`equivalent`] JSON; `what` names the round trip in the message.
pub fn assert_equivalent<T: Serialize + std::fmt::Debug>(what: &str, a: &T, b: &T) {
    let (x, y) = (to_value(a), to_value(b));
    assert!(
        equivalent(&x, &y),
        "{what}: the value changed in a round trip\n before: {x}\n after:  {y}"
    );
}

/// The JSON of `value`; every wire type serialises, so a failure is itself a finding.
pub fn to_value<T: Serialize + std::fmt::Debug>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or_else(|e| panic!("{value:?} does not serialise: {e}"))
}

/// The JSON text of `value`, like [`to_value`].
pub fn to_text<T: Serialize + std::fmt::Debug>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|e| panic!("{value:?} does not serialise: {e}"))
}

fn floats_match(x: Option<f64>, y: Option<f64>) -> bool {
    match (x, y) {
        (Some(x), Some(y)) => x == y || (x - y).abs() <= FLOAT_TOLERANCE * x.abs().max(y.abs()),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tolerates_the_last_place_of_a_float_only() {
        let a = json!({"v": 0.1, "n": 7, "s": "x"});
        let b = json!({"v": 0.1 + f64::EPSILON / 8.0, "n": 7, "s": "x"});
        assert!(equivalent(&a, &b));
        assert!(!equivalent(&a, &json!({"v": 0.1001, "n": 7, "s": "x"})));
        assert!(!equivalent(&a, &json!({"v": 0.1, "n": 8, "s": "x"})));
        assert!(!equivalent(&a, &json!({"n": 7, "v": 0.1, "s": "x"})));
        assert!(!equivalent(&json!([1, 2]), &json!([1])));
    }
}
