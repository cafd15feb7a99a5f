//! The stop request of the demo binaries: Ctrl-C or SIGTERM (what `scripts/dev` sends), whichever comes first.

use tokio::sync::watch;

/// A receiver that turns `true` on the first Ctrl-C or SIGTERM; the signal handlers run in a spawned task.
pub fn stop_on_signal() -> watch::Receiver<bool> {
    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        let _ = stop.send(true);
    });
    stopped
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
        }
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
