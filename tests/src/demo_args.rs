//! Command line of the demo binaries: `--url ws://HOST:PORT --device-id ID`; tokens come from the environment.

use std::process::ExitCode;

use telemetry_protocol::DeviceId;

/// The hub `wrangler dev` serves locally unless told otherwise.
pub const DEFAULT_URL: &str = "ws://127.0.0.1:8787";

/// Why the command line gave no [`DemoArgs`]: help was asked for, or something is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgsError {
    /// `-h` or `--help`: the usage goes to stdout and the program exits successfully.
    Help(String),
    /// A bad or missing argument or environment variable: the message goes to stderr, the exit code is 2.
    Invalid(String),
}

impl ArgsError {
    /// Prints the message where it belongs and returns the process exit code.
    pub fn report(&self) -> ExitCode {
        match self {
            Self::Help(usage) => {
                println!("{usage}");
                ExitCode::SUCCESS
            }
            Self::Invalid(message) => {
                eprintln!("{message}");
                ExitCode::from(2)
            }
        }
    }

    fn invalid(message: impl Into<String>) -> Self {
        Self::Invalid(message.into())
    }
}

/// Parsed arguments of `demo-dashboard`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoArgs {
    /// Base URL of the hub, `ws://` or `wss://`, without a trailing slash.
    pub url: String,
    /// The device to be or to watch.
    pub device_id: DeviceId,
}

impl DemoArgs {
    /// Parses the arguments after the program name; `usage` is shown on `--help` and after errors.
    pub fn parse(args: impl IntoIterator<Item = String>, usage: &str) -> Result<Self, ArgsError> {
        let mut url = DEFAULT_URL.to_owned();
        let mut device_id = None;
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) => (flag.to_owned(), Some(value.to_owned())),
                None => (arg, None),
            };
            let mut value = || {
                inline
                    .clone()
                    .or_else(|| args.next())
                    .ok_or_else(|| ArgsError::invalid(format!("{flag} needs a value\n\n{usage}")))
            };
            match flag.as_str() {
                "--url" => url = value()?,
                "--device-id" => device_id = Some(value()?),
                "-h" | "--help" => return Err(ArgsError::Help(usage.to_owned())),
                other => {
                    return Err(ArgsError::invalid(format!(
                        "unknown argument {other:?}\n\n{usage}"
                    )));
                }
            }
        }
        let url = url.trim_end_matches('/').to_owned();
        if !(url.starts_with("ws://") || url.starts_with("wss://")) {
            return Err(ArgsError::invalid(format!(
                "--url must start with ws:// or wss://, got {url:?}"
            )));
        }
        let raw_id = device_id
            .ok_or_else(|| ArgsError::invalid(format!("--device-id is required\n\n{usage}")))?;
        let device_id = DeviceId::parse(&raw_id)
            .map_err(|e| ArgsError::invalid(format!("--device-id {raw_id:?}: {e}")))?;
        Ok(Self { url, device_id })
    }

    /// `{url}/ws/{endpoint}/{device_id}`, e.g. endpoint `device` or `dashboard`.
    pub fn endpoint_url(&self, endpoint: &str) -> String {
        format!("{}/ws/{endpoint}/{}", self.url, self.device_id)
    }
}

/// Reads a token from the environment variable `name`; tokens never go on the command line, where `ps` shows them.
pub fn token_from_env(name: &str) -> Result<String, ArgsError> {
    match std::env::var(name) {
        Ok(token) if !token.trim().is_empty() => Ok(token.trim().to_owned()),
        _ => Err(ArgsError::invalid(format!(
            "set {name} to the token (it is never taken from the command line)"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<DemoArgs, ArgsError> {
        DemoArgs::parse(args.iter().map(|s| s.to_string()), "USAGE")
    }

    fn invalid(args: &[&str]) -> String {
        match parse(args) {
            Err(ArgsError::Invalid(message)) => message,
            other => panic!("{args:?}: expected an error, got {other:?}"),
        }
    }

    #[test]
    fn parses_both_flag_styles_and_defaults_the_url() {
        let args = parse(&["--device-id", "demo-pi"]).expect("parses");
        assert_eq!(args.url, DEFAULT_URL);
        assert_eq!(
            args.endpoint_url("device"),
            "ws://127.0.0.1:8787/ws/device/demo-pi"
        );
        let args = parse(&["--url=wss://hub.example/", "--device-id=x"]).expect("parses");
        assert_eq!(
            args.endpoint_url("dashboard"),
            "wss://hub.example/ws/dashboard/x"
        );
    }

    #[test]
    fn explains_what_is_wrong() {
        assert_eq!(parse(&["--help"]), Err(ArgsError::Help("USAGE".to_owned())));
        assert!(invalid(&[]).contains("--device-id is required"));
        assert!(invalid(&["--device-id", "a b"]).contains("A-Z"));
        assert!(invalid(&["--device-id", "x", "--url", "http://x"]).contains("ws://"));
        assert!(invalid(&["--token", "x"]).contains("--token"));
        assert!(invalid(&["--url"]).contains("--url needs a value"));
    }
}
