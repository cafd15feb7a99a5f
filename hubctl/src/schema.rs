//! `hubctl schema apply`: creates the D1 tables through wrangler (safe to repeat).

use std::path::{Path, PathBuf};

use clap::Subcommand;

use crate::HubctlError;
use crate::cli::Context;
use crate::output::Output;

/// `hubctl schema …`.
#[derive(Debug, Subcommand)]
pub enum SchemaCommand {
    /// Create the tables if they do not exist (safe to repeat)
    Apply {
        /// Schema file [default: schema.sql beside the wrangler config]
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
    },
}

impl SchemaCommand {
    /// Through wrangler only: `--hub` is refused.
    pub fn run(&self, context: &Context<'_>) -> Result<Output, HubctlError> {
        let Self::Apply { file } = self;
        if context.cli.hub.hub.is_some() {
            return Err(HubctlError::FlagNotApplicable {
                flag: "--hub",
                why: "the schema is applied through wrangler (--local or --remote)",
            });
        }
        let target = &context.cli.target;
        let wrangler = target.wrangler()?;
        let schema = file
            .as_deref()
            .map_or_else(|| target.default_schema(), Path::to_owned);
        wrangler.apply_schema(&schema)?;
        Ok(Output::text(format!(
            "schema applied to the {} D1 database {}\n",
            wrangler.target().describe(),
            wrangler.database()
        )))
    }
}
