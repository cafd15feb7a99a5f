//! Carries out a parsed command line: provisioning through wrangler, offline checks, and the printed result.

use std::io::{Read, Write};

use telemetry_protocol::token::{MAX_TOKEN_LEN, check_token_format};

use crate::HubctlError;
use crate::cli::{Cli, Commands, DashboardCommand, DeviceCommand, SchemaCommand, TokenCommand};
use crate::output;

/// Runs `cli`, reading a `-` token from `stdin` and printing to `out`.
pub fn run(cli: &Cli, stdin: &mut dyn Read, out: &mut dyn Write) -> Result<(), HubctlError> {
    let text = match &cli.command {
        Commands::Device(DeviceCommand::Create { ids, json }) => {
            let devices = cli.target.wrangler()?.create_devices(ids)?;
            if *json {
                output::devices_json(&devices)
            } else {
                output::devices_text(&devices)
            }
        }
        Commands::Dashboard(DashboardCommand::Create {
            devices,
            access,
            label,
            json,
        }) => {
            let label = label.as_ref().map(|l| l.as_str());
            let created = cli
                .target
                .wrangler()?
                .create_dashboard_token(devices, *access, label)?;
            if *json {
                output::dashboard_json(&created, devices, *access)
            } else {
                output::dashboard_text(&created, devices, *access)
            }
        }
        Commands::Token(TokenCommand::Check { token }) => check_token(token, stdin)?,
        Commands::Schema(SchemaCommand::Apply { file }) => {
            let wrangler = cli.target.wrangler()?;
            let schema = file.clone().unwrap_or_else(|| cli.target.default_schema());
            wrangler.apply_schema(&schema)?;
            output::schema_text(wrangler.target(), wrangler.database())
        }
    };
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}

/// `token check`: the argument, or for `-` the first line of `stdin`, checked offline.
fn check_token(argument: &str, stdin: &mut dyn Read) -> Result<String, HubctlError> {
    let kind = if argument == "-" {
        check_token_format(&read_token(stdin)?)?
    } else {
        check_token_format(argument.trim())?
    };
    Ok(output::token_check_text(kind))
}

/// The token on `stdin`, without surrounding whitespace; reads a bounded amount.
fn read_token(stdin: &mut dyn Read) -> Result<String, HubctlError> {
    let mut raw = String::new();
    let limit = u64::try_from(MAX_TOKEN_LEN * 4).unwrap_or(u64::MAX);
    stdin.take(limit).read_to_string(&mut raw)?;
    Ok(raw.trim().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use telemetry_protocol::{TokenFormatError, TokenKind, generate_token};

    fn check(args: &[&str], stdin: &str) -> Result<String, HubctlError> {
        let cli = Cli::try_parse_from(args).expect("parses");
        let mut out = Vec::new();
        run(&cli, &mut stdin.as_bytes(), &mut out)?;
        Ok(String::from_utf8(out).expect("utf-8"))
    }

    #[test]
    fn token_check_reads_the_argument_or_stdin() {
        let token = generate_token(TokenKind::Device, |b| b.fill(3));
        let shown = check(&["hubctl", "token", "check", &token], "").expect("valid");
        assert!(shown.starts_with("device token"));
        assert!(!shown.contains(&token[5..]));
        let piped =
            check(&["hubctl", "token", "check", "-"], &format!("{token}\n")).expect("valid");
        assert_eq!(piped, shown);
    }

    #[test]
    fn token_check_reports_a_typo_without_the_token() {
        let mut token = generate_token(TokenKind::Dashboard, |b| b.fill(9));
        token.replace_range(10..11, if &token[10..11] == "a" { "b" } else { "a" });
        let error = check(&["hubctl", "token", "check", "-"], &token).expect_err("typo");
        assert!(matches!(
            error,
            HubctlError::TokenFormat(TokenFormatError::ChecksumMismatch)
        ));
        assert!(!error.to_string().contains(&token[6..]));
    }
}
