//! Targets for the hub's per-frame rules (`telemetry_hub::session`) with any cursor, access and presence.
//!
//! Input: `name: value` lines, then `frame:` and the text frame. Lines: `device:` (the authenticated id,
//! default `ems_001`), `cursor-epoch:` and `cursor-seq:` (no cursor without an epoch), `now:`, `access:`
//! (`control`, else read), `online: true`, `binary: N` (a binary frame of N bytes instead of the text) and
//! `pad: N` (the frame padded with spaces to near the 64 KiB limit: see [`pad_near_limit`]).

use telemetry_hub::access::Access;
use telemetry_hub::cursor::SeqCursor;
use telemetry_hub::session::{
    DashboardOutcome, DeviceOutcome, Inbound, Ingested, on_dashboard_frame, on_device_frame,
};
use telemetry_protocol::limits::MAX_FRAME_BYTES;
use telemetry_protocol::{
    DashboardMessage, DeviceFrame, DeviceId, ErrorCode, HubToDashboard, parse_dashboard_frame,
    parse_device_frame,
};

use crate::fields::{Fields, pad_near_limit, text};

/// The receive time when the input names none.
const DEFAULT_NOW: &str = "2026-02-03T12:00:01.000Z";

/// One frame as the hub receives it, built from the input.
struct Received<'a> {
    device_id: DeviceId,
    frame: Frame,
    fields: Fields<'a>,
}

/// The frame: text (possibly padded past the limit) or a binary frame's length.
enum Frame {
    Text(String),
    Binary(usize),
}

impl<'a> Received<'a> {
    fn parse(text: &'a str) -> Self {
        let fields = Fields::parse(text, "frame");
        let device_id = fields
            .get("device")
            .and_then(|raw| DeviceId::parse(raw).ok())
            .unwrap_or_else(|| DeviceId::parse("ems_001").expect("a valid id"));
        let frame = match fields.number("binary") {
            Some(len) => Frame::Binary(usize::try_from(len).unwrap_or(usize::MAX)),
            None => Frame::Text(pad_near_limit(
                fields.body().unwrap_or(""),
                MAX_FRAME_BYTES,
                fields.number("pad"),
            )),
        };
        Self {
            device_id,
            frame,
            fields,
        }
    }

    /// The stored cursor: none without a `cursor-epoch:` line.
    fn cursor(&self) -> Option<SeqCursor> {
        self.fields.get("cursor-epoch").map(|epoch| SeqCursor {
            epoch: epoch.to_owned(),
            seq: self.fields.number("cursor-seq").unwrap_or(0),
        })
    }

    fn inbound(&self) -> Inbound<'_> {
        match &self.frame {
            Frame::Text(text) => Inbound::Text(text),
            Frame::Binary(len) => Inbound::Binary(*len),
        }
    }

    /// Whether the frame is over the 64 KiB limit.
    fn too_big(&self) -> bool {
        match &self.frame {
            Frame::Text(text) => text.len() > MAX_FRAME_BYTES,
            Frame::Binary(len) => *len > MAX_FRAME_BYTES,
        }
    }

    fn text(&self) -> Option<&str> {
        match &self.frame {
            Frame::Text(text) if !self.too_big() => Some(text),
            _ => None,
        }
    }
}

/// `on_device_frame` with any cursor and receive time.
pub fn device_session(data: &[u8]) {
    let text = text(data);
    let received = Received::parse(&text);
    let cursor = received.cursor();
    let now = received.fields.get("now").unwrap_or(DEFAULT_NOW);
    let id = &received.device_id;
    let outcome = on_device_frame(id, received.inbound(), cursor.clone(), now);
    assert_eq!(
        outcome == DeviceOutcome::TooBig,
        received.too_big(),
        "64 KiB limit"
    );
    if let Frame::Binary(_) = received.frame {
        let refused = matches!(&outcome, DeviceOutcome::Refused(e) if e.code == ErrorCode::BinaryNotSupported);
        assert!(refused || received.too_big(), "binary frame: {outcome:?}");
    }
    let parsed = received.text().map(parse_device_frame);
    match (&outcome, parsed) {
        (DeviceOutcome::Samples(ingested), Some(Ok(frame))) => {
            check_ingested(ingested, cursor, id, now);
            let legacy = matches!(frame, DeviceFrame::Legacy(_));
            let expected = SeqCursor::next_legacy_seq(received.cursor().as_ref());
            if legacy && let Some(sample) = ingested.accepted.first() {
                assert_eq!(sample.seq, expected, "legacy numbering");
            }
        }
        (DeviceOutcome::CommandResult(result), _) => {
            assert_eq!(result.device_id.as_deref(), Some(id.as_str()));
        }
        (DeviceOutcome::Pong, Some(parsed)) => assert_eq!(parsed, Ok(DeviceFrame::Ping)),
        (DeviceOutcome::Refused(error), Some(Err(parse_error))) => assert_eq!(*error, parse_error),
        (DeviceOutcome::Samples(_) | DeviceOutcome::Pong, parsed) => {
            panic!("{outcome:?} from a frame that classifies as {parsed:?}")
        }
        _ => {}
    }
}

/// No accepted sample is at or below the cursor of its epoch, where the cursor starts at the stored one and
/// follows each accepted sample (a sample of another epoch starts that epoch afresh, as the contract says).
fn check_ingested(ingested: &Ingested, mut cursor: Option<SeqCursor>, id: &DeviceId, now: &str) {
    for sample in &ingested.accepted {
        let epoch = sample.epoch.clone().unwrap_or_default();
        if let Some(current) = cursor.as_ref().filter(|c| c.epoch == epoch) {
            assert!(
                sample.seq > current.seq,
                "accepted seq {} of epoch {epoch:?} at or below the cursor {}",
                sample.seq,
                current.seq
            );
        }
        assert_eq!(
            (sample.device_id.as_str(), sample.received_at.as_str()),
            (id.as_str(), now)
        );
        cursor = Some(SeqCursor {
            epoch,
            seq: sample.seq,
        });
    }
    if let Some(expected) = cursor {
        assert_eq!(ingested.cursor, expected, "the cursor after the frame");
    }
    assert_eq!(ingested.ack.seq, ingested.cursor.seq);
    let epoch = Some(ingested.cursor.epoch.clone()).filter(|e| !e.is_empty());
    assert_eq!(ingested.ack.epoch, epoch);
}

/// `on_dashboard_frame` with any access and presence.
pub fn dashboard_session(data: &[u8]) {
    let text = text(data);
    let received = Received::parse(&text);
    let control = received
        .fields
        .get("access")
        .is_some_and(|a| a.trim() == "control");
    let access = if control {
        Access::Control
    } else {
        Access::Read
    };
    let online = received.fields.flag("online");
    let id = &received.device_id;
    let outcome = on_dashboard_frame(id, received.inbound(), access, online);
    assert_eq!(
        outcome == DashboardOutcome::TooBig,
        received.too_big(),
        "64 KiB limit"
    );
    let command = match received.text().map(parse_dashboard_frame) {
        Some(Ok(DashboardMessage::Command(command))) => Some(command),
        _ => None,
    };
    match (&outcome, command) {
        (DashboardOutcome::Forward(forwarded), Some(command)) => {
            assert_eq!(
                access,
                Access::Control,
                "a read-only dashboard's command was forwarded"
            );
            assert!(online, "a command was forwarded to an offline device");
            assert_eq!(*forwarded, command);
        }
        (DashboardOutcome::Forward(forwarded), None) => {
            panic!("forwarded {forwarded:?} from a frame that is no command")
        }
        (DashboardOutcome::Reply(HubToDashboard::Error(error)), Some(_)) => {
            assert_eq!(access, Access::Read, "a valid command refused: {error:?}");
            assert_eq!(error.code, ErrorCode::ReadOnly);
        }
        (DashboardOutcome::Reply(HubToDashboard::CommandResult(result)), Some(command)) => {
            assert!(!online && !result.ok && access == Access::Control);
            assert_eq!(result.id, command.id);
            assert_eq!(result.device_id.as_deref(), Some(id.as_str()));
        }
        (DashboardOutcome::Reply(reply), Some(command)) => {
            panic!("command {command:?} answered with {reply:?}")
        }
        _ => {}
    }
}
