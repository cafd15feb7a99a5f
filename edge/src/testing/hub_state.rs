//! The fake hub's state shared by its listener, its sockets and the test: what it does with new connections
//! ([`Mode`]), what it saw, and the knobs the test turns while it runs.

use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::Message;

use super::flood_limit::FloodLimit;
use super::history::{History, HistoryPolicy};
use super::hub_record::Record;

/// What the hub does with the next connections.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// Upgrade, ack, relay commands.
    Accept,
    /// Answer the upgrade with this HTTP status.
    Refuse(u16),
    /// Answer the upgrade with 429 and this `Retry-After` value, as the hub does for an address with too many
    /// failed authentications.
    Throttle(&'static str),
    /// Upgrade, then close at once with this code (4000 = replaced).
    CloseWith(u16),
    /// Upgrade, then never read or write again (no pongs either): a half-open socket.
    Silent,
    /// Upgrade and keep a [`History`] under this policy, with stored acknowledgements when asked.
    Store(HistoryPolicy),
}

/// Everything the listener, the sockets and the [`super::FakeHub`] share.
pub(super) struct Shared {
    pub(super) mode: Mutex<Mode>,
    pub(super) record: Mutex<Record>,
    pub(super) ack_delay: Mutex<Duration>,
    pub(super) ack_epoch: Mutex<Option<String>>,
    pub(super) outgoing: Mutex<Option<mpsc::UnboundedSender<Message>>>,
    pub(super) text_pongs: AtomicBool,
    pub(super) flood_limit: Mutex<Option<FloodLimit>>,
    pub(super) rate_limit_next: AtomicBool,
    pub(super) history: Mutex<History>,
    pub(super) crash: watch::Sender<u64>,
}

impl Shared {
    /// A hub in `mode` that has seen nothing yet: acks at once with the sample's epoch, answers text pings,
    /// no flood limits.
    pub(super) fn new(mode: Mode) -> Self {
        Self {
            mode: Mutex::new(mode),
            record: Mutex::default(),
            ack_delay: Mutex::new(Duration::ZERO),
            ack_epoch: Mutex::new(None),
            outgoing: Mutex::new(None),
            text_pongs: AtomicBool::new(true),
            flood_limit: Mutex::new(None),
            rate_limit_next: AtomicBool::new(false),
            history: Mutex::default(),
            crash: watch::channel(0).0,
        }
    }
}
