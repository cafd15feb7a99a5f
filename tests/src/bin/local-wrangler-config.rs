//! Prints the project's wrangler.toml made local (no `[build]` step, `main` and `[assets]` at built files,
//! as absolute paths): the generator `scripts/dev` shares with the tests and the bench.
//!
//! ```text
//! local-wrangler-config --main worker/build/index.js --assets web/dist > .local/dev/wrangler.toml
//! ```

use std::path::{PathBuf, absolute};

use anyhow::{Context, bail};
use hub_e2e::workspace;
use hub_e2e::wrangler_config::local_config;

const USAGE: &str =
    "usage: local-wrangler-config --main BUILT_INDEX_JS --assets BUILT_DASHBOARD_DIR";

fn main() -> anyhow::Result<()> {
    let (main, assets) = parse_args(std::env::args().skip(1))?;
    let project_toml = workspace::wrangler_toml();
    let project = std::fs::read_to_string(&project_toml)
        .with_context(|| format!("read {}", project_toml.display()))?;
    print!("{}", local_config(&project, &main, &assets)?);
    Ok(())
}

/// `--main PATH --assets PATH`, in any order, each made absolute.
fn parse_args(args: impl Iterator<Item = String>) -> anyhow::Result<(PathBuf, PathBuf)> {
    let (mut main, mut assets) = (None, None);
    let mut args = args;
    while let Some(flag) = args.next() {
        let slot = match flag.as_str() {
            "--main" => &mut main,
            "--assets" => &mut assets,
            "-h" | "--help" => bail!("{USAGE}"),
            other => bail!("unknown argument {other:?}\n{USAGE}"),
        };
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a path\n{USAGE}"))?;
        *slot = Some(absolute(value)?);
    }
    match (main, assets) {
        (Some(main), Some(assets)) => Ok((main, assets)),
        _ => bail!("{USAGE}"),
    }
}
