//! The bounds every sensor reading must keep before it joins a sample: nesting depth, encoded size, number of
//! values, string length and finite numbers. Pure: the sampler refuses a reading that breaks one.
//!
//! The limits are agent policy, set well inside what the rest of the system can take, so that a stored sample
//! can always be read back by the agent's store and always be accepted by the hub:
//!
//! - serde_json, which parses the agent's stored rows, the hub's frames and the hub's history rows, refuses
//!   JSON nested 128 levels deep or more. A reading `d` deep sits `d + 1` deep in a stored row, `d + 2` deep in a
//!   history row and `d + 3` deep in a `batch` frame, so the hub could take `d` up to 124;
//!   [`MAX_READING_DEPTH`] is 32.
//! - The hub refuses frames over 64 KiB (`MAX_FRAME_BYTES`); the agent caps a whole sample at 32 KiB
//!   (`MAX_SAMPLE_BYTES` in `sampler.rs`, which replaces a bigger one by an error marker). One reading may take
//!   half of that, [`MAX_READING_BYTES`], so one sensor gone wild cannot cost the other sensors their sample.

use serde_json::{Map, Value};

/// Deepest nesting of one reading: the object a sensor writes counts as level 1, each object or array inside
/// it as one level more (`{"room": {"temp_c": 21}}` is 2 deep). Real sensors need 2 to 4.
pub const MAX_READING_DEPTH: usize = 32;

/// Largest reading, in bytes of compact JSON: half of a whole sample.
pub const MAX_READING_BYTES: usize = 16 * 1024;

/// Most values in one reading, counting every object, array, string, number, boolean and null (so each
/// field a dashboard could chart is one).
pub const MAX_READING_VALUES: usize = 1024;

/// Longest string in a reading, key or value, in bytes of UTF-8.
pub const MAX_STRING_BYTES: usize = 1024;

/// Which bound a reading broke, with the measured value; the text names the limit too.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OutOfBounds {
    /// Nested deeper than [`MAX_READING_DEPTH`].
    #[error("nested {depth} levels deep, more than the {MAX_READING_DEPTH} allowed")]
    TooDeep {
        /// The reading's depth (for unparsable program output: the depth of the printed JSON).
        depth: usize,
    },
    /// More than [`MAX_READING_BYTES`] of JSON.
    #[error("{bytes} bytes of JSON, more than the {MAX_READING_BYTES} allowed")]
    TooLarge {
        /// The reading's size as compact JSON.
        bytes: usize,
    },
    /// More than [`MAX_READING_VALUES`] values.
    #[error("{count} values, more than the {MAX_READING_VALUES} allowed")]
    TooManyValues {
        /// How many values the reading holds.
        count: usize,
    },
    /// A key or string longer than [`MAX_STRING_BYTES`].
    #[error("a string of {bytes} bytes, more than the {MAX_STRING_BYTES} allowed")]
    StringTooLong {
        /// The longest string's length in bytes.
        bytes: usize,
    },
    /// A number that is NaN or infinite, or too large for a 64-bit float (`1e999`).
    #[error("a number that is not finite ({text}); only finite numbers are allowed")]
    NotFinite {
        /// The number as printed, cut to 32 characters.
        text: String,
    },
    /// A program printed more than its output limit; reading stopped there.
    #[error("printed more than {limit_kib} KiB")]
    OutputTooLarge {
        /// The limit, in KiB.
        limit_kib: usize,
    },
}

/// Checks one sensor's reading (the fields it wrote) against every bound; the first bound broken is the error,
/// in this order: depth, values, strings, size.
pub fn check_reading(reading: &Map<String, Value>) -> Result<(), OutOfBounds> {
    let mut shape = Shape::default();
    shape.visit_object(reading, 1);
    if shape.depth > MAX_READING_DEPTH {
        return Err(OutOfBounds::TooDeep { depth: shape.depth });
    }
    if shape.values > MAX_READING_VALUES {
        return Err(OutOfBounds::TooManyValues {
            count: shape.values,
        });
    }
    if shape.longest_string > MAX_STRING_BYTES {
        return Err(OutOfBounds::StringTooLong {
            bytes: shape.longest_string,
        });
    }
    let bytes = encoded_len(reading);
    if bytes > MAX_READING_BYTES {
        return Err(OutOfBounds::TooLarge { bytes });
    }
    Ok(())
}

/// What a walk over a reading measured. Numbers need no check here: a `serde_json::Value` cannot hold a
/// non-finite one (`Value::from(f64::NAN)` is `null`), so they are refused where text becomes a `Value`
/// ([`check_printed_json`]).
#[derive(Debug, Default)]
struct Shape {
    depth: usize,
    values: usize,
    longest_string: usize,
}

impl Shape {
    /// Visits an object at `level` (the reading itself is level 1; it is not counted as a value).
    fn visit_object(&mut self, object: &Map<String, Value>, level: usize) {
        self.depth = self.depth.max(level);
        for (key, value) in object {
            self.longest_string = self.longest_string.max(key.len());
            self.visit(value, level);
        }
    }

    /// Visits a value inside a container at `level`.
    fn visit(&mut self, value: &Value, level: usize) {
        self.values += 1;
        match value {
            Value::Object(object) => self.visit_object(object, level + 1),
            Value::Array(items) => {
                self.depth = self.depth.max(level + 1);
                items.iter().for_each(|item| self.visit(item, level + 1));
            }
            Value::String(text) => self.longest_string = self.longest_string.max(text.len()),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
}

/// The length of `reading` as compact JSON, counted without building the text.
fn encoded_len(reading: &Map<String, Value>) -> usize {
    let mut counter = ByteCounter(0);
    match serde_json::to_writer(&mut counter, reading) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

/// An `io::Write` that only counts.
struct ByteCounter(usize);

impl std::io::Write for ByteCounter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0 = self.0.saturating_add(bytes.len());
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Explains why a program's output that serde_json would not parse breaks a bound, if it does: nested deeper
/// than [`MAX_READING_DEPTH`] (serde_json stops at 128 levels), or a non-finite number (`NaN`, `-Infinity`,
/// `inf`, `1e999`), which JSON has no way to write. `None` means the output is simply not JSON.
pub fn check_printed_json(text: &[u8]) -> Option<OutOfBounds> {
    let scan = PrintedJson::scan(text);
    if scan.depth > MAX_READING_DEPTH {
        return Some(OutOfBounds::TooDeep { depth: scan.depth });
    }
    scan.non_finite.map(|token| OutOfBounds::NotFinite {
        text: token.chars().take(32).collect(),
    })
}

/// What a scan of JSON text outside its strings found.
#[derive(Debug, Default)]
struct PrintedJson {
    /// The deepest nesting of `{` and `[`.
    depth: usize,
    /// The first bare word that Rust reads as a non-finite number.
    non_finite: Option<String>,
}

impl PrintedJson {
    fn scan(text: &[u8]) -> Self {
        let bare = outside_strings(text);
        let (mut level, mut depth) = (0usize, 0usize);
        for byte in &bare {
            match byte {
                b'{' | b'[' => {
                    level += 1;
                    depth = depth.max(level);
                }
                b'}' | b']' => level = level.saturating_sub(1),
                _ => {}
            }
        }
        let is_word_byte = |b: &u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'+' | b'-');
        let non_finite = bare
            .split(|b| !is_word_byte(b))
            .map(String::from_utf8_lossy)
            .find(|word| word.parse::<f64>().is_ok_and(|number| !number.is_finite()))
            .map(|word| word.into_owned());
        Self { depth, non_finite }
    }
}

/// The bytes of `text` outside its JSON strings, each string replaced by one space (so it also ends a word).
fn outside_strings(text: &[u8]) -> Vec<u8> {
    let mut bare = Vec::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for &byte in text {
        match (in_string, escaped, byte) {
            (false, _, b'"') => {
                in_string = true;
                bare.push(b' ');
            }
            (false, _, _) => bare.push(byte),
            (true, true, _) => escaped = false,
            (true, false, b'\\') => escaped = true,
            (true, false, b'"') => in_string = false,
            (true, false, _) => {}
        }
    }
    bare
}

#[cfg(test)]
mod tests;
