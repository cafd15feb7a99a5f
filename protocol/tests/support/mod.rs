//! The drift check both golden tests share: serialise, compare with `golden/<name>.json`, parse back.

use std::path::PathBuf;

use serde::Serialize;
use serde::de::DeserializeOwned;

/// The committed example `golden/<name>.json`.
pub fn path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("golden")
        .join(format!("{name}.json"))
}

/// Serialises `value`, compares it with `golden/<name>.json`, and parses the file back into an equal value.
pub fn check<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(name: &str, value: &T) {
    let text = serde_json::to_string(value).expect("serialisable");
    let file = path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&file, format!("{text}\n")).expect("write golden file");
    }
    let golden =
        std::fs::read_to_string(&file).unwrap_or_else(|err| panic!("{}: {err}", file.display()));
    assert_eq!(text, golden.trim_end(), "{name}: wire format drifted");
    let back: T = serde_json::from_str(&golden).expect("golden file parses");
    assert_eq!(&back, value, "{name}: round trip");
}
