//! Writes the seed corpus of every fuzz target into `fuzz/corpus/<target>/`: the protocol's golden files, the
//! example agent config, real tokens from a fixed generator, handshake header shapes and admin bodies.
//!
//! `cargo run -p telemetry-fuzz --example seed_corpus` rewrites the seeds it names and leaves other files (inputs
//! that fuzzing found and that were merged in by hand) alone.

use std::path::{Path, PathBuf};

use serde_json::json;
use telemetry_hub::access::TokenHash;
use telemetry_protocol::{TokenKind, generate_token};

/// SplitMix64: a fixed stand-in for the OS random source, so the seed tokens are the same on every run.
fn splitmix(seed: u64) -> impl FnMut(&mut [u8]) {
    let mut state = seed;
    move |buf: &mut [u8]| {
        for byte in buf {
            state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = state;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            *byte = (z ^ (z >> 31)) as u8;
        }
    }
}

fn token(kind: TokenKind) -> String {
    generate_token(kind, splitmix(7))
}

/// The seeds of one target, written under `corpus/<target>/`.
struct Seeds {
    dir: PathBuf,
    written: usize,
}

impl Seeds {
    fn new(root: &Path, target: &str) -> Self {
        let dir = root.join("corpus").join(target);
        std::fs::create_dir_all(&dir).expect("create the corpus directory");
        Self { dir, written: 0 }
    }

    fn add(&mut self, name: &str, content: impl AsRef<[u8]>) -> &mut Self {
        std::fs::write(self.dir.join(name), content).expect("write a seed");
        self.written += 1;
        self
    }
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let repo = root
        .parent()
        .expect("the fuzz crate is inside the repository");
    let golden = |name: &str| {
        std::fs::read_to_string(repo.join("protocol/golden").join(format!("{name}.json")))
            .expect("a golden file")
    };
    let example_config =
        std::fs::read_to_string(repo.join("edge/config.example.toml")).expect("the example config");
    let mut counts = Vec::new();
    for (target, write) in [
        (
            "device_frame",
            device_frame as fn(&mut Seeds, &dyn Fn(&str) -> String),
        ),
        ("dashboard_frame", dashboard_frame),
        ("token_format", |s, _| token_format(s)),
        ("token_hash", |s, _| token_hash(s)),
        ("handshake", |s, _| handshake(s)),
        ("device_session", device_session),
        ("dashboard_session", dashboard_session),
        ("admin_routes", |s, _| admin_routes(s)),
        ("admin_bodies", |s, _| admin_bodies(s)),
        ("agent_commands", agent_commands),
        ("sensor_output", |s, _| sensor_output(s)),
        ("history_query", |s, _| history_query(s)),
    ] {
        let mut seeds = Seeds::new(&root, target);
        write(&mut seeds, &golden);
        counts.push((target, seeds.written));
    }
    let mut seeds = Seeds::new(&root, "agent_config");
    agent_config(&mut seeds, &example_config);
    counts.push(("agent_config", seeds.written));
    for (target, written) in counts {
        println!("{target:>18}: {written} seeds");
    }
}

fn device_frame(s: &mut Seeds, golden: &dyn Fn(&str) -> String) {
    for name in [
        "device_telemetry",
        "device_batch",
        "device_command_result",
        "device_legacy_flat",
    ] {
        s.add(&format!("golden-{name}.json"), golden(name));
    }
    let sample = |epoch: &str, seq: serde_json::Value| json!({"epoch": epoch, "seq": seq, "ts": "2026-02-03T12:00:00Z", "data": {"v": 1}});
    let over_limit: Vec<u8> = vec![0; 501];
    s.add("ping-spaced.json", r#"{ "type" : "ping" }"#)
        .add("ping-extra.json", r#"{"type":"ping","x":[1,{"y":null}]}"#)
        .add("epoch-64.json", json!({"type":"telemetry","epoch":"e".repeat(64),"seq":1,"ts":"2026-02-03T12:00:00Z","data":{}}).to_string())
        .add("epoch-65.json", json!({"type":"telemetry","epoch":"e".repeat(65),"seq":1,"ts":"t","data":{}}).to_string())
        .add("seq-max.json", json!({"type":"telemetry","epoch":"é","seq":u64::MAX,"ts":"2026-02-03T12:00:00+01:00","data":{},"device_id":null}).to_string())
        .add("seq-float.json", r#"{"type":"telemetry","epoch":"e","seq":1.0,"ts":"t","data":{}}"#)
        .add("numbers.json", r#"{"type":"telemetry","epoch":"e","seq":1,"ts":"2026-02-03T12:00:00.123456789Z","data":{"a":0.1,"b":-0,"c":1e308,"d":12345678901234567890123,"e":-9223372036854775808,"f":2.2250738585072014e-308,"g":"\u00e9\ud83d\ude00\n"}}"#)
        .add("batch-empty.json", r#"{"type":"batch","items":[]}"#)
        .add("batch-typed-items.json", json!({"type":"batch","items":[{"type":"telemetry","epoch":"e","seq":1,"ts":"2026-02-03T12:00:00Z","data":{}}, sample("e", json!(2))]}).to_string())
        .add("batch-over-limit.json", json!({"type":"batch","items": over_limit}).to_string())
        .add("batch-bad-item.json", json!({"type":"batch","items":[sample("e", json!(1)), sample("", json!(2))]}).to_string())
        .add("command-result-object.json", r#"{"type":"command_result","id":"c1","ok":false,"detail":{"why":[1,2]},"device_id":"forged"}"#)
        .add("command-result-no-detail.json", r#"{"type":"command_result","id":"","ok":true}"#)
        .add("legacy-nested.json", r#"{"timestamp":"noon","device_id":7,"a":{"b":{"c":[true,false,null]}}}"#)
        .add("wrong-direction.json", r#"{"type":"command","id":"1","name":"ping"}"#)
        .add("unknown-type.json", r#"{"type":"reboot"}"#)
        .add("type-number.json", r#"{"type":7}"#)
        .add("array.json", "[1,2]")
        .add("number.json", "42")
        .add("truncated.json", r#"{"type":"telemetry","epoch":"e","#)
        .add("empty.json", "");
}

fn dashboard_frame(s: &mut Seeds, golden: &dyn Fn(&str) -> String) {
    s.add("golden-dashboard_command.json", golden("dashboard_command"))
        .add("golden-dashboard_ping.json", golden("dashboard_ping"))
        .add("command-no-args.json", r#"{"type":"command","id":"c1","name":"ping"}"#)
        .add("command-null-args.json", r#"{"type":"command","id":"c1","name":"ping","args":null}"#)
        .add("command-id-128.json", json!({"type":"command","id":"i".repeat(128),"name":"n".repeat(64),"args":{"pin":17,"level":"high"}}).to_string())
        .add("command-id-129.json", json!({"type":"command","id":"i".repeat(129),"name":"ping"}).to_string())
        .add("command-unicode.json", r#"{"type":"command","id":"\u00e9\u00e9","name":"\ud83d\ude00","args":{"x":1.5e-7}}"#)
        .add("wrong-direction.json", r#"{"type":"telemetry","epoch":"e","seq":1,"ts":"t","data":{}}"#)
        .add("no-type.json", r#"{"id":"1"}"#)
        .add("unknown-type.json", r#"{"type":"x"}"#)
        .add("not-json.json", "{oops");
}

/// `token_format` input: a mode byte (0-2 generate a token of that kind, 3 checks the text), four bytes that
/// pick the damage, then the random bytes or the text.
fn token_format(s: &mut Seeds) {
    let mut random = vec![0u8; 64];
    splitmix(11)(&mut random);
    for (mode, kind) in TokenKind::ALL.into_iter().enumerate() {
        let mode = u8::try_from(mode).expect("three kinds");
        let mut generated = vec![mode, 0, 3, 0, 17];
        generated.extend_from_slice(&random);
        s.add(&format!("generate-{kind}"), generated);
        s.add(
            &format!("check-{kind}"),
            [&[3, 0, 40, 0, 70][..], token(kind).as_bytes()].concat(),
        );
    }
    let device = token(TokenKind::Device);
    let mut typo = device.clone().into_bytes();
    typo[10] = if typo[10] == b'a' { b'b' } else { b'a' };
    s.add("check-typo", [&[3, 0, 0, 0, 0][..], &typo].concat())
        .add("check-newline", format!("\u{3}\0\0\0\0{device}\n"))
        .add(
            "check-upper-prefix",
            format!("\u{3}\0\0\0\0TDEV_{}", &device[5..]),
        )
        .add(
            "check-non-ascii",
            format!("\u{3}\0\0\0\0tdev_{}é", &device[5..53]),
        )
        .add("check-short", "\u{3}\0\0\0\0tadm_0")
        .add("check-no-separator", "\u{3}\0\0\0\0tdash");
}

fn token_hash(s: &mut Seeds) {
    let device = token(TokenKind::Device);
    let hex = TokenHash::of(&device).to_hex();
    s.add("match", format!("token: {device}\nstored: {hex}"))
        .add(
            "match-upper",
            format!("token: {device}\nstored: {}", hex.to_uppercase()),
        )
        .add("short", format!("token: {device}\nstored: {}", &hex[..63]))
        .add(
            "trailing-newline",
            format!("token: {device}\nstored: {hex}\n"),
        )
        .add("not-hex", format!("token: x\nstored: {}", "g".repeat(64)))
        .add("empty", "token: \nstored: ");
}

fn handshake(s: &mut Seeds) {
    let device = token(TokenKind::Device);
    let dashboard = token(TokenKind::Dashboard);
    s.add("device", format!("upgrade: websocket\nauthorization: Bearer {device}\nquery: since\n"))
        .add("device-v1", format!("upgrade: WebSocket \nauthorization: bearer  {device} \nprotocols: telemetry.v1\n"))
        .add("dashboard-subprotocol", format!("upgrade: websocket\nprotocols: telemetry.v1, bearer.{dashboard}\n"))
        .add("dashboard-both", format!("upgrade: websocket\nauthorization: Bearer {dashboard}\nprotocols: bearer.x,telemetry.v1\n"))
        .add("two-bearers", "upgrade: websocket\nprotocols: telemetry.v1, bearer.a, bearer.b\n")
        .add("bearer-without-v1", "upgrade: websocket\nprotocols: bearer.a\n")
        .add("empty-bearer", "upgrade: websocket\nprotocols: telemetry.v1, bearer.\n")
        .add("bearer-spaces", "upgrade: websocket\nprotocols: telemetry.v1, bearer.a b\nauthorization: Bearer a b\n")
        .add("basic", "upgrade: h2c\nauthorization: Basic dXNlcjpwYXNz\n")
        .add("credential-query", "query: x\nquery: Access_Token\nquery: API_KEY\nquery: keys\n");
}

fn device_session(s: &mut Seeds, golden: &dyn Fn(&str) -> String) {
    let telemetry = |epoch: &str, seq: u64| {
        json!({"type":"telemetry","epoch":epoch,"seq":seq,"ts":"2026-02-03T12:00:00Z","data":{"v":seq}}).to_string()
    };
    let item = |epoch: &str, seq: u64| json!({"epoch":epoch,"seq":seq,"ts":"2026-02-03T12:00:00Z","data":{}});
    s.add("first-sample", format!("frame: {}", golden("device_telemetry")))
        .add("resend", format!("cursor-epoch: e1\ncursor-seq: 5\nframe: {}", telemetry("e1", 3)))
        .add("next", format!("cursor-epoch: e1\ncursor-seq: 5\nframe: {}", telemetry("e1", 6)))
        .add("batch-overlap", format!("cursor-epoch: 01J9Z3K8B2\ncursor-seq: 42\nframe: {}", golden("device_batch")))
        .add("batch-epoch-switch", format!("cursor-epoch: e1\ncursor-seq: 5\nframe: {}", json!({"type":"batch","items":[item("e1", 4), item("e2", 1), item("e2", 1), item("e1", 3)]})))
        .add("batch-empty", "frame: {\"type\":\"batch\",\"items\":[]}")
        .add("legacy-next", format!("cursor-epoch: legacy\ncursor-seq: 41\nframe: {}", golden("device_legacy_flat")))
        .add("legacy-at-max", format!("cursor-epoch: legacy\ncursor-seq: {}\nframe: {{\"soc\":1}}", u64::MAX))
        .add("legacy-mismatch", "device: other\nframe: {\"device_id\":\"ems_001\"}")
        .add("payload-id", format!("device: pi-7\nframe: {}", json!({"type":"telemetry","epoch":"e","seq":1,"ts":"2026-02-03T12:00:00Z","data":{},"device_id":"pi-7"})))
        .add("bad-ts", "frame: {\"type\":\"telemetry\",\"epoch\":\"e\",\"seq\":1,\"ts\":\"noon\",\"data\":{}}")
        .add("command-result", format!("frame: {}", golden("device_command_result")))
        .add("ping", "now: not a time\nframe: {\"type\" :\"ping\"}")
        .add("empty-cursor-epoch", format!("cursor-epoch: \nframe: {}", telemetry("e", 0)))
        .add("binary", "binary: 10\n")
        .add("binary-too-big", "binary: 65537\n")
        .add("text-at-limit", format!("pad: 2048\nframe: {}", telemetry("e", 1)))
        .add("text-too-big", format!("pad: 2049\nframe: {}", telemetry("e", 1)));
}

fn dashboard_session(s: &mut Seeds, golden: &dyn Fn(&str) -> String) {
    let command = golden("dashboard_command");
    s.add(
        "control-online",
        format!("access: control\nonline: true\nframe: {command}"),
    )
    .add(
        "read-online",
        format!("access: read\nonline: true\nframe: {command}"),
    )
    .add(
        "control-offline",
        format!("access: control\nframe: {command}"),
    )
    .add("ping", format!("frame: {}", golden("dashboard_ping")))
    .add(
        "wrong-direction",
        format!(
            "access: control\nonline: true\nframe: {}",
            golden("device_telemetry")
        ),
    )
    .add(
        "bad-command",
        "access: control\nonline: true\nframe: {\"type\":\"command\",\"id\":\"\",\"name\":\"x\"}",
    )
    .add("binary", "access: control\nbinary: 3\n")
    .add(
        "text-too-big",
        format!("access: control\nonline: true\npad: 2055\nframe: {command}"),
    );
}

fn admin_routes(s: &mut Seeds) {
    s.add("get", "method: GET\npath: /admin/devices\npath: /admin/devices/ems_001\npath: /admin/dashboard-tokens\npath: /admin/devices/\npath: /admin\n")
        .add("post", "method: POST\npath: /admin/devices\npath: /admin/devices/a/rotate\npath: /admin/devices/a/disable\npath: /admin/devices/a/enable\npath: /admin/dashboard-tokens/dt_0123456789ab/revoke\n")
        .add("wrong-method", "method: DELETE\npath: /admin/devices\npath: /admin/devices/a/rotate\npath: /admin/dashboard-tokens/dt_0123456789AB/revoke\n")
        .add("odd-paths", "method: POST\npath: /admin/devices//rotate\npath: /admin/devices/a/reboot\npath: /admin/devices/a.b\npath: //admin/devices\npath: /admin/dashboard-tokens/dt_/revoke\n")
        .add("websocket", "path: /ws/device/ems_001\npath: /ws/dashboard/ems-001\npath: /ws/device/\npath: /ws/device/a/b\npath: /ws/device/a%20b\npath: /ws\n");
}

fn admin_bodies(s: &mut Seeds) {
    let many: Vec<String> = (0..1001).map(|i| format!("d{i}")).collect();
    s.add("create-device", r#"body: {"device_id":"ems_001"}"#)
        .add(
            "create-device-bad",
            r#"body: {"device_id":"a b","grace_seconds":3600}"#,
        )
        .add("rotate", r#"body: {"grace_seconds":3600}"#)
        .add("rotate-max", r#"body: {"grace_seconds":2592001}"#)
        .add("rotate-odd", r#"body: {"grace_seconds":1.5,"device_id":7}"#)
        .add("empty", "body: \n \t")
        .add("array", "body: []")
        .add("token-all", r#"body: {"devices":"*","access":"read"}"#)
        .add(
            "token-list",
            r#"body: {"devices":["a","b","a"],"access":"control","label":"ops \u00e9"}"#,
        )
        .add(
            "token-bad-label",
            r#"body: {"devices":["a"],"access":"read","label":"a\nb"}"#,
        )
        .add(
            "token-long-label",
            format!(
                "body: {}",
                json!({"devices":"*","access":"read","label":"é".repeat(200)})
            ),
        )
        .add(
            "token-too-many",
            format!("body: {}", json!({"devices": many, "access": "read"})),
        )
        .add("at-limit", "pad: 2048\nbody: {\"grace_seconds\":1}")
        .add("too-big", "pad: 2049\nbody: {}");
}

fn agent_config(s: &mut Seeds, example: &str) {
    let device = token(TokenKind::Device);
    let env = format!(
        "env: DEVICE_ID=ems_001\nenv: API_TOKEN={device}\nenv: SERVER_URL=wss://hub.example.workers.dev\n"
    );
    // The example with its commented-out sensor tables switched on.
    let sensors: Vec<&str> = example
        .lines()
        .skip_while(|line| !line.starts_with("# --- sensor examples"))
        .skip(1)
        .take_while(|line| !line.starts_with("# --- end"))
        .map(|line| line.trim_start_matches('#').trim_start())
        .collect();
    let sensors = format!("{example}\n{}\n", sensors.join("\n"));
    s.add("example", format!("{env}file: {example}"))
        .add("example-sensors", format!("{env}file: {sensors}"))
        .add("env-only", format!("{env}env: EDGE_SAMPLE_INTERVAL_SECS=5\nenv: EDGE_STORE__MAX_SAMPLES=3600\nenv: EDGE_GPIO_OUTPUTS=17, 27\nenv: EDGE_CONNECTION__PING_INTERVAL_SECS=20\n"))
        .add("env-bad-pins", format!("{env}env: EDGE_GPIO_OUTPUTS=17,x\nenv: EDGE_UNKNOWN=1\n"))
        .add("wrong-token-kind", format!("env: DEVICE_ID=ems_001\nenv: API_TOKEN={}\nenv: SERVER_URL=ws://192.168.1.5:8787\n", token(TokenKind::Dashboard)))
        .add("url-with-user", format!("{env}env: SERVER_URL=wss://user:pw@hub.example\n"))
        .add("file-token", format!("env: SERVER_URL=http://127.0.0.1:8787\nfile: device_id = \"ems_001\"\napi_token = \"{device}\"\ngpio_outputs = [17]\n[[sensors]]\nkind = \"gpio_input\"\npins = [5, 6]\n"))
        .add("file-bad-values", format!("{env}file: sample_interval_secs = nan\n[store]\nmax_samples = 0\n[connection]\nping_interval_secs = 50\n"))
        .add("file-not-toml", format!("{env}file: [store\npath = "));
}

fn agent_commands(s: &mut Seeds, golden: &dyn Fn(&str) -> String) {
    for name in ["hub_ack", "hub_command", "hub_error", "hub_pong"] {
        s.add(
            &format!("golden-{name}"),
            format!("outputs: 17,27\nmessage: {}", golden(name)),
        );
    }
    let command = |name: &str, args: serde_json::Value| {
        format!(
            "outputs: 17,27\nmessage: {}",
            json!({"type":"command","id":"c1","name":name,"args":args})
        )
    };
    s.add(
        "interval-zero",
        command("set_interval", json!({"seconds": 0})),
    )
    .add(
        "interval-text",
        command("set_interval", json!({"seconds": "5", "x": 1})),
    )
    .add(
        "interval-float",
        command("set_interval", json!({"seconds": 5.0})),
    )
    .add(
        "gpio-high",
        command("gpio_write", json!({"pin": 17, "level": "HIGH"})),
    )
    .add(
        "gpio-bad-level",
        command("gpio_write", json!({"pin": 27, "level": 2})),
    )
    .add(
        "gpio-bad-pin",
        command("gpio_write", json!({"pin": 300, "level": true})),
    )
    .add("ping-args", command("ping", json!({"x": "y".repeat(100)})))
    .add("unknown", command(&"\u{1F600}".repeat(70), json!({})))
    .add("ack-no-epoch", "message: {\"type\":\"ack\",\"seq\":0}")
    .add("not-a-message", "message: {\"type\":\"reboot\"}");
}

fn sensor_output(s: &mut Seeds) {
    s.add("object", "stdout: {\"soc\":85,\"cells\":[3.31,3.3]}")
        .add("not-object", "stdout: [1]")
        .add("not-json", "stderr: oops\nstdout: soc=85")
        .add(
            "failed",
            "status: 256\nstderr: \u{1b}[31mno bus\u{7}\t \nstdout: {}",
        )
        .add("killed", "status: 9\nstdout: {}")
        .add(
            "long-stderr",
            format!("status: 512\nstderr: {}\nstdout: ", "é".repeat(400)),
        )
        .add("at-limit", "pad: 2048\nstdout: {\"a\":1}")
        .add("too-much", "pad: 2049\nstdout: {}");
}

fn history_query(s: &mut Seeds) {
    let data = r#"{"battery":{"voltage":53.2,"soc":85},"pv_power_w":1250.5,"mode":"eco"}"#;
    let many = vec![data; 40].join("\n");
    s.add("defaults", format!("\n{data}"))
        .add(
            "raw",
            format!("from=1770119990000&to=1770120000000&points=100\n{many}"),
        )
        .add(
            "buckets",
            format!("from=1770119990000&to=1770120000000&points=3&fields=battery.soc,pv_power_w\n{many}"),
        )
        .add(
            "rfc3339",
            format!("from=2026-02-03T11:59:00Z&to=2026-02-03T12:00:00.000Z\n{data}"),
        )
        .add("backwards", "from=1770120000000&to=1770119990000")
        .add("bad-points", "points=0")
        .add("many-fields", format!("fields={}", vec!["a"; 40].join(",")))
        .add("odd-values", "from=1770119990000&to=1770120000000&points=1\n{\"a\":1e308}\n{\"a\":-1e308}\n{\"a\":null}\n[1]");
}
