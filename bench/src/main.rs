//! `hub-bench`: measures the hub under `wrangler dev` on loopback with real WebSocket clients.
//!
//! Without arguments it measures one hub of the current tree (latency, throughput, batch ingest, connect time);
//! `hub-bench connect` compares connect time of the current tree, a baseline revision and a minimal JavaScript
//! hub side by side; `hub-bench history` measures what keeping history costs against the Worker before it.
//! `hub-bench --help` says more.

mod clients;
mod connect;
mod figures;
mod history;
mod mode;
mod reconnect;
mod stats;

use anyhow::Result;

use crate::mode::Mode;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    match mode::parse(std::env::args().skip(1)) {
        Ok(Mode::Figures) => figures::run().await,
        Ok(Mode::Connect { baseline }) => connect::run(baseline.as_deref()).await,
        Ok(Mode::History { baseline }) => history::run(&baseline).await,
        Ok(Mode::Reconnect) => reconnect::run().await,
        Ok(Mode::Help) => {
            print!("{}", mode::USAGE);
            Ok(())
        }
        Err(why) => {
            eprint!("hub-bench: {why}\n\n{}", mode::USAGE);
            std::process::exit(2);
        }
    }
}
