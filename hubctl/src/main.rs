//! `hubctl`: provisions devices, dashboard tokens and admin tokens of the telemetry hub. A thin shell over the
//! library.

use std::io;
use std::process::ExitCode;

use clap::Parser;
use hubctl::redact::redact_tokens;

fn main() -> ExitCode {
    let cli = match hubctl::Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage(&error),
    };
    match try_main(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Only the top-level message: it already includes its cause, and no message holds a token. The
            // redaction is a second line of defence for text that came from wrangler or the hub.
            eprintln!("error: {}", redact_tokens(&error.to_string()));
            ExitCode::FAILURE
        }
    }
}

fn try_main(cli: &hubctl::Cli) -> anyhow::Result<()> {
    // Not locked for the whole run: `dashboard watch` reads standard input from a thread of its own.
    hubctl::run(cli, &mut io::stdin(), &mut io::stdout())?;
    Ok(())
}

/// Help and version as clap prints them; a usage error on stderr with any token-shaped argument hidden,
/// since clap repeats unexpected arguments.
fn usage(error: &clap::Error) -> ExitCode {
    if !error.use_stderr() {
        return match error.print() {
            Ok(()) => ExitCode::SUCCESS,
            Err(_) => ExitCode::FAILURE,
        };
    }
    eprint!("{}", redact_tokens(&error.render().to_string()));
    ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2))
}
