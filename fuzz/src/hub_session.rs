//! Targets for the hub's per-frame rules (`telemetry_hub::session`) with any cursor, access and presence.
//!
//! Input: `name: value` lines, then `frame:` and the text frame. Lines: `device:` (the authenticated id,
//! default `ems_001`), `cursor-epoch:` and `cursor-seq:` (no cursor without an epoch), `now:`, `access:`
//! (`control`, else read), `online: true`, `binary: N` (a binary frame of N bytes instead of the text) and
//! `pad: N` (the frame padded with spaces to near the 64 KiB limit: see [`pad_near_limit`]).

use telemetry_hub::access::Access;
use telemetry_hub::seq_ranges::SeqRanges;
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

    /// The seqs held, `1..=cursor-seq` of `cursor-epoch`: none without a `cursor-epoch:` line.
    fn cursor(&self) -> Option<SeqRanges> {
        self.fields
            .get("cursor-epoch")
            .map(|epoch| SeqRanges::up_to(epoch, self.fields.number("cursor-seq").unwrap_or(0)))
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
            let expected = SeqRanges::next_legacy_seq(received.cursor().as_ref());
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

/// No accepted sample was held before it and every resend was, where the held seqs start at the stored ones and
/// take each sample in turn (a sample of another epoch starts that epoch afresh, as the contract says); the ack
/// names the highest seq held and its epoch.
fn check_ingested(ingested: &Ingested, mut held: Option<SeqRanges>, id: &DeviceId, now: &str) {
    let before = held.clone();
    for sample in &ingested.accepted {
        let epoch = sample.epoch.clone().unwrap_or_default();
        assert!(
            !held
                .as_ref()
                .is_some_and(|h| h.contains(&epoch, sample.seq)),
            "accepted seq {} of epoch {epoch:?} that was held already",
            sample.seq
        );
        assert_eq!(
            (sample.device_id.as_str(), sample.received_at.as_str()),
            (id.as_str(), now)
        );
        SeqRanges::admit(&mut held, &epoch, sample.seq);
    }
    let held_at_some_point = |epoch: &str, seq: u64| {
        [&before, &held]
            .iter()
            .any(|h| h.as_ref().is_some_and(|h| h.contains(epoch, seq)))
            || ingested
                .accepted
                .iter()
                .any(|s| s.seq == seq && s.epoch.as_deref() == Some(epoch))
    };
    for (epoch, seq) in &ingested.resent {
        assert!(
            held_at_some_point(epoch, *seq),
            "seq {seq} of {epoch:?} called a resend but never held"
        );
    }
    if !ingested.accepted.is_empty() {
        assert_eq!(ingested.held, held, "the seqs held after the frame");
    }
    let highest = ingested.held.as_ref().map_or(0, SeqRanges::highest);
    assert_eq!(ingested.ack.seq, highest);
    assert_eq!(
        ingested.ack.epoch,
        ingested.held.as_ref().map(|h| h.epoch.clone())
    );
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
            assert_eq!(command.ttl_s, None, "a command with a ttl_s was not queued");
            assert_eq!(*forwarded, command.command);
        }
        (DashboardOutcome::Enqueue(queued, ttl_s), Some(command)) => {
            assert_eq!(access, Access::Control, "a read-only dashboard queued");
            assert_eq!(Some(*ttl_s), command.ttl_s);
            assert_eq!(*queued, command.command);
        }
        (DashboardOutcome::Enqueue(queued, _), None) => {
            panic!("queued {queued:?} from a frame that is no command")
        }
        (DashboardOutcome::Cancel(_), _) => assert_eq!(access, Access::Control),
        (DashboardOutcome::Forward(forwarded), None) => {
            panic!("forwarded {forwarded:?} from a frame that is no command")
        }
        (DashboardOutcome::Reply(HubToDashboard::Error(error)), Some(_)) => {
            assert_eq!(access, Access::Read, "a valid command refused: {error:?}");
            assert_eq!(error.code, ErrorCode::ReadOnly);
        }
        (DashboardOutcome::Reply(HubToDashboard::CommandResult(result)), Some(command)) => {
            assert!(!online && !result.ok && access == Access::Control);
            assert_eq!(
                command.ttl_s, None,
                "a command with a ttl_s answered at once"
            );
            assert_eq!(result.id, command.command.id);
            assert_eq!(result.device_id.as_deref(), Some(id.as_str()));
        }
        (DashboardOutcome::Reply(reply), Some(command)) => {
            panic!("command {command:?} answered with {reply:?}")
        }
        _ => {}
    }
}
