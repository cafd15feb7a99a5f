//! `hubctl token check`: a token's prefix, length and checksum, checked offline; prints its kind, never the
//! token.

use std::io::Read;

use clap::Subcommand;
use telemetry_protocol::token::{TokenKind, check_token_format};

use crate::HubctlError;
use crate::credential::read_token;
use crate::output::Output;

/// `hubctl token …`.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Check a token's prefix, length and checksum offline; prints its kind, never the token
    Check {
        /// The token, or `-` to read it from standard input (keeps it out of shell history)
        #[arg(value_name = "TOKEN")]
        token: String,
    },
}

impl TokenCommand {
    /// The argument, or for `-` the first line of `stdin`, checked offline.
    pub fn run(&self, stdin: &mut dyn Read) -> Result<Output, HubctlError> {
        let Self::Check { token } = self;
        let kind = if token == "-" {
            check_token_format(&read_token(stdin)?)?
        } else {
            check_token_format(token.trim())?
        };
        Ok(Output::text(verdict(kind)))
    }
}

/// The verdict on a well-formed token: its kind, never the token.
fn verdict(kind: TokenKind) -> String {
    format!(
        "{kind} token ({}_): prefix, length and checksum are correct. Whether the hub accepts it is only known \
         when it is used.\n",
        kind.prefix()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Cli;
    use crate::run;
    use clap::Parser;
    use telemetry_protocol::{TokenFormatError, generate_token};

    fn check(args: &[&str], stdin: &str) -> Result<String, HubctlError> {
        let cli = Cli::try_parse_from(args).expect("parses");
        let mut out = Vec::new();
        run(&cli, &mut stdin.as_bytes(), &mut out)?;
        Ok(String::from_utf8(out).expect("utf-8"))
    }

    #[test]
    fn token_check_names_the_kind() {
        assert!(verdict(TokenKind::Dashboard).starts_with("dashboard token (tdash_)"));
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
