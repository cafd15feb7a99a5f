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
    fn token_check_names_the_kind_and_never_shows_the_token() {
        let token = generate_token(TokenKind::Dashboard, |b| b.fill(3));
        let shown = check(&["hubctl", "token", "check", &token], "").expect("valid");
        assert_eq!(
            shown,
            "dashboard token (tdash_): prefix, length and checksum are correct. Whether the hub accepts it is \
             only known when it is used.\n"
        );
        let mut typo = token;
        typo.replace_range(10..11, if &typo[10..11] == "a" { "b" } else { "a" });
        let error = check(&["hubctl", "token", "check", "-"], &typo).expect_err("typo");
        assert!(matches!(
            error,
            HubctlError::TokenFormat(TokenFormatError::ChecksumMismatch)
        ));
        assert!(!error.to_string().contains(&typo[6..]));
    }
}
