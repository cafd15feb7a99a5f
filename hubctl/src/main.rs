//! `hubctl`: provisions devices and dashboard tokens of the telemetry hub. A thin shell over the library.

use std::io;
use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match try_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Only the top-level message: it already includes its cause, and no message holds a token.
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn try_main() -> anyhow::Result<()> {
    let cli = hubctl::Cli::parse();
    hubctl::run(&cli, &mut io::stdin().lock(), &mut io::stdout().lock())?;
    Ok(())
}
