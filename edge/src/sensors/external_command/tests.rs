//! Tests of the `command` sensor against small real programs (`/bin/echo`, `/bin/false`, `/bin/sleep`, ...).

use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use super::*;

fn config(program: &str, args: &[&str], field: Option<&str>) -> CommandConfig {
    CommandConfig {
        program: program.into(),
        args: args.iter().map(|a| (*a).to_string()).collect(),
        timeout_ms: 2000,
        field: field.map(Into::into),
    }
}

/// Opens and reads once; a read error is prefixed with the sensor's name, as the agent logs it.
fn read(config: &CommandConfig) -> Result<Map<String, Value>, String> {
    let mut sensor = ExternalCommand::open(config).map_err(|e| e.to_string())?;
    let mut fields = Map::new();
    fields.insert("existing".into(), json!(1));
    sensor
        .read(&mut fields)
        .map_err(|e| format!("{}: {e}", sensor.name()))?;
    Ok(fields)
}

#[test]
fn the_printed_object_goes_under_the_field() {
    let fields = read(&config(
        "/bin/echo",
        &[r#"{"temp_c": 21.5, "ok": true}"#],
        Some("room"),
    ))
    .expect("reads");
    assert_eq!(
        Value::Object(fields),
        json!({"existing": 1, "room": {"temp_c": 21.5, "ok": true}})
    );
}

#[test]
fn without_a_field_the_keys_go_to_the_top_level() {
    let fields = read(&config(
        "/bin/echo",
        &[r#"{"battery": {"soc": 85}, "existing": 2}"#],
        None,
    ))
    .expect("reads");
    assert_eq!(
        Value::Object(fields),
        json!({"existing": 2, "battery": {"soc": 85}})
    );
}

#[test]
fn arguments_reach_the_program_literally_without_a_shell() {
    let arg = r#"{"text": "$HOME; rm -rf / `id` *"}"#;
    let fields = read(&config("/bin/echo", &[arg], Some("x"))).expect("reads");
    assert_eq!(fields["x"]["text"], "$HOME; rm -rf / `id` *");
}

#[test]
fn the_program_sees_only_path() {
    let output = run_program("/usr/bin/env", &[], Duration::from_secs(2)).expect("runs");
    assert_eq!(
        String::from_utf8_lossy(&output.stdout).trim(),
        format!("PATH={SAFE_PATH}")
    );
}

#[test]
fn a_non_zero_exit_is_an_error_with_its_status() {
    let err = read(&config("/bin/false", &[], None)).expect_err("fails");
    assert_eq!(err, "command /bin/false: failed (exit status: 1)");
}

#[test]
fn the_error_quotes_a_bounded_excerpt_of_stderr() {
    let err = read(&config("/bin/ls", &["/no/such/path"], None)).expect_err("fails");
    assert!(
        err.starts_with("command /bin/ls: failed (exit status: 2); stderr: "),
        "{err}"
    );
    assert!(err.contains("/no/such/path"), "{err}");
    let long = excerpt(format!("{}\n\u{1b}[31m", "e".repeat(1000)).as_bytes());
    assert_eq!(long.chars().count(), 301);
    assert!(!excerpt(b"line one\nline two\x07").contains(['\n', '\x07']));
}

#[test]
fn a_slow_program_is_killed_at_the_timeout() {
    let slow = CommandConfig {
        timeout_ms: 150,
        ..config("/bin/sleep", &["10"], None)
    };
    let started = Instant::now();
    let err = read(&slow).expect_err("times out");
    assert_eq!(
        err,
        "command /bin/sleep: timed out after 150 ms and was killed"
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn output_that_is_not_one_json_object_is_an_error() {
    let err = read(&config("/bin/echo", &["hello"], None)).expect_err("not JSON");
    assert!(
        err.starts_with("command /bin/echo: did not print one JSON object (expected value"),
        "{err}"
    );
    let err = read(&config("/bin/echo", &["[1, 2]"], None)).expect_err("an array");
    assert_eq!(
        err,
        "command /bin/echo: printed JSON that is not an object (a array)"
    );
    let err = read(&config("/bin/echo", &[r#"{"a": 1} {"b": 2}"#], None)).expect_err("two objects");
    assert!(err.contains("did not print one JSON object"), "{err}");
}

#[test]
fn endless_output_is_cut_off_at_64_kib() {
    let started = Instant::now();
    let err = read(&config("/usr/bin/yes", &[], None)).expect_err("too much");
    assert_eq!(
        err,
        "command /usr/bin/yes: reading refused: printed more than 64 KiB"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "stopped by EPIPE, not the timeout"
    );
}

#[test]
fn a_missing_program_is_caught_at_open() {
    let err = read(&config("/no/such/program", &[], None)).expect_err("missing");
    assert!(
        err.starts_with("command /no/such/program: no such program"),
        "{err}"
    );
}

#[test]
fn validation_names_the_key() {
    let err = config("echo", &[], None).validate().expect_err("relative");
    assert_eq!(err, "program: must be an absolute path (got \"echo\")");
    let err = CommandConfig {
        timeout_ms: 0,
        ..config("/bin/echo", &[], None)
    }
    .validate()
    .expect_err("zero");
    assert_eq!(err, "timeout_ms: must be 1 to 60000 (got 0)");
    assert!(
        config("/bin/echo", &["a\0b"], None)
            .validate()
            .is_err_and(|e| e.starts_with("args[0]:"))
    );
    assert!(
        config("/bin/echo", &[], Some("a b"))
            .validate()
            .is_err_and(|e| e.starts_with("field:"))
    );
}

#[test]
fn a_background_child_holding_stdout_does_not_hang_the_read() {
    // setsid --fork returns at once while its child, sleeping, keeps the stdout pipe open.
    let holder = CommandConfig {
        timeout_ms: 300,
        ..config("/usr/bin/setsid", &["--fork", "/bin/sleep", "2"], None)
    };
    let started = Instant::now();
    let err = read(&holder).expect_err("no EOF on stdout");
    assert!(
        err.ends_with("exited, but something it started still holds its stdout open"),
        "{err}"
    );
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn non_finite_numbers_are_refused_not_turned_into_null() {
    for printed in [
        r#"{"a": NaN}"#,
        r#"{"a": nan}"#,
        r#"{"a": inf}"#,
        r#"{"a": -Infinity}"#,
        r#"{"a": 1e999}"#,
    ] {
        let token = printed[6..printed.len() - 1].to_string();
        let err = read(&config("/bin/echo", &[printed], Some("x"))).expect_err(printed);
        assert_eq!(
            err,
            format!(
                "command /bin/echo: reading refused: a number that is not finite ({token}); only finite numbers are allowed"
            )
        );
    }
}

#[test]
fn json_too_deep_for_the_parser_is_refused_with_its_depth() {
    let deep = format!("{{\"a\": {}1{}}}", "[".repeat(199), "]".repeat(199));
    let err = read(&config("/bin/echo", &[&deep], None)).expect_err("too deep");
    assert_eq!(
        err,
        "command /bin/echo: reading refused: nested 200 levels deep, more than the 32 allowed"
    );
}

#[test]
fn a_one_mib_line_is_refused_after_reading_64_kib() {
    let script = "head -c 1048576 /dev/zero | tr '\\0' x";
    let output = run_program(
        "/bin/sh",
        &["-c".into(), script.into()],
        Duration::from_secs(5),
    )
    .expect("runs");
    assert_eq!(
        output.stdout.len(),
        MAX_STDOUT + 1,
        "reading stops one byte past the limit"
    );
    let err = parse_output(&output).expect_err("too long").to_string();
    assert_eq!(err, "reading refused: printed more than 64 KiB");
}

/// Whether process `pid` is alive (a zombie, which only waits for init to reap it, is not).
fn alive(pid: &str) -> bool {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // "pid (comm) state …"; comm may hold spaces, so take what follows its last ')'.
    let state = stat.rsplit_once(") ").map_or("", |(_, rest)| rest);
    !state.starts_with('Z')
}

#[test]
fn at_the_timeout_the_whole_process_group_is_killed() {
    let dir = tempfile::tempdir().expect("a scratch directory");
    let pids = dir.path().join("pids");
    // The shell and two children of it, each pid written down.
    let script = format!(
        "echo $$ > {0}; sleep 300 & echo $! >> {0}; sleep 300 & echo $! >> {0}; wait",
        pids.display()
    );
    let started = Instant::now();
    let err = run_program(
        "/bin/sh",
        &["-c".into(), script],
        Duration::from_millis(300),
    )
    .expect_err("times out");
    assert_eq!(err, "timed out after 300 ms and was killed");
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let pids = std::fs::read_to_string(&pids).expect("the program wrote its pids");
    let pids: Vec<&str> = pids.split_whitespace().collect();
    assert_eq!(pids.len(), 3, "{pids:?}");
    let deadline = Instant::now() + Duration::from_secs(2);
    while pids.iter().any(|pid| alive(pid)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let left: Vec<&&str> = pids.iter().filter(|pid| alive(pid)).collect();
    assert!(
        left.is_empty(),
        "still running after the timeout: {left:?} of {pids:?}"
    );
}
