//! Target for the `command` sensor's reading of a program's output (`edge_agent::sensors::external_command`).
//!
//! Input: optional `status: N` (the raw wait status, default 0: exit code 0) and `stderr:` lines and an
//! `pad: N` line (stdout padded to near its 64 KiB limit, see [`pad_near_limit`]), then `stdout:` and what the
//! program printed.
//! Properties: an accepted reading is exactly the object printed; an over-long stdout is always refused; the
//! stderr excerpt is one bounded line of printable text.

use std::os::unix::process::ExitStatusExt;
use std::process::ExitStatus;

use edge_agent::sensors::external_command::{MAX_STDOUT, ProgramOutput, excerpt, parse_output};
use serde_json::Value;

use crate::fields::{Fields, pad_near_limit, text};
use crate::json_equivalence::assert_equivalent;

/// Most characters in an excerpt: 300 and an ellipsis.
const MAX_EXCERPT_CHARS: usize = 301;

/// `parse_output` and `excerpt` on any exit status, stdout and stderr.
pub fn sensor_output(data: &[u8]) {
    let text = text(data);
    let fields = Fields::parse(&text, "stdout");
    let raw_status = fields.number("status").unwrap_or(0);
    let stdout = pad_near_limit(
        fields.body().unwrap_or(""),
        MAX_STDOUT,
        fields.number("pad"),
    )
    .into_bytes();
    let output = ProgramOutput {
        status: ExitStatus::from_raw(i32::try_from(raw_status % (1 << 31)).unwrap_or(0)),
        stdout,
        stderr: fields.get("stderr").unwrap_or("").as_bytes().to_vec(),
    };
    let shown = excerpt(&output.stderr);
    assert!(shown.chars().count() <= MAX_EXCERPT_CHARS);
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
    if let Ok(object) = parse_output(&output) {
        assert!(output.status.success() && output.stdout.len() <= MAX_STDOUT);
        let printed: Value = serde_json::from_slice(&output.stdout).expect("it parsed once");
        assert_equivalent("program output", &printed, &Value::Object(object));
    }
}
