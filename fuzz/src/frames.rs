//! Targets for the frame classifier and batch parser of `telemetry_protocol::frame`.
//!
//! Input: the text frame itself. Properties beyond "never panics": whatever classifies as a typed message
//! serialises and classifies again to an equivalent message; the limits the classifier promises (epoch 1 to 64
//! bytes, at most 500 items, command id and name lengths, a command's `ttl_s`) hold on everything it accepts.

use telemetry_protocol::limits::{
    MAX_BATCH_ITEMS, MAX_COMMAND_ID_LEN, MAX_COMMAND_NAME_LEN, MAX_COMMAND_TTL_SECS, MAX_EPOCH_LEN,
};
use telemetry_protocol::{
    DashboardCommand, DashboardMessage, DeviceFrame, DeviceMessage, Telemetry,
    parse_dashboard_frame, parse_device_frame,
};

use crate::fields::text;
use crate::json_equivalence::{assert_equivalent, to_text};

/// `parse_device_frame` on any text.
pub fn device_frame(data: &[u8]) {
    let text = text(data);
    let Ok(frame) = parse_device_frame(&text) else {
        return;
    };
    check_device_limits(&frame);
    let again = match &frame {
        DeviceFrame::Message(message) => parse_device_frame(&to_text(message)),
        DeviceFrame::Legacy(object) => parse_device_frame(&to_text(object)),
        DeviceFrame::Ping => return,
    };
    match (&frame, again) {
        (DeviceFrame::Message(a), Ok(DeviceFrame::Message(b))) => {
            assert_equivalent("device message", a, &b);
        }
        (DeviceFrame::Legacy(a), Ok(DeviceFrame::Legacy(b))) => {
            assert_equivalent("legacy payload", a, &b);
        }
        (_, again) => panic!("{frame:?} re-serialised classifies as {again:?}"),
    }
}

/// `parse_dashboard_frame` on any text.
pub fn dashboard_frame(data: &[u8]) {
    let text = text(data);
    let Ok(message) = parse_dashboard_frame(&text) else {
        return;
    };
    match &message {
        DashboardMessage::Command(command) => check_command_limits(command),
        DashboardMessage::CancelCommand(cancel) => {
            assert!((1..=MAX_COMMAND_ID_LEN).contains(&cancel.id.len()));
        }
        DashboardMessage::Ping => {}
    }
    match parse_dashboard_frame(&to_text(&message)) {
        Ok(again) => assert_equivalent("dashboard message", &message, &again),
        Err(error) => panic!("{message:?} re-serialised is refused: {error:?}"),
    }
}

fn check_device_limits(frame: &DeviceFrame) {
    match frame {
        DeviceFrame::Message(DeviceMessage::Telemetry(sample)) => check_epoch(sample),
        DeviceFrame::Message(DeviceMessage::Batch(batch)) => {
            assert!(batch.items.len() <= MAX_BATCH_ITEMS, "batch over the limit");
            batch.items.iter().for_each(check_epoch);
        }
        _ => {}
    }
}

fn check_epoch(sample: &Telemetry) {
    assert!(
        (1..=MAX_EPOCH_LEN).contains(&sample.epoch.len()),
        "accepted an epoch of {} bytes",
        sample.epoch.len()
    );
}

fn check_command_limits(queued: &DashboardCommand) {
    let command = &queued.command;
    assert!((1..=MAX_COMMAND_ID_LEN).contains(&command.id.len()));
    assert!((1..=MAX_COMMAND_NAME_LEN).contains(&command.name.len()));
    if let Some(ttl) = queued.ttl_s {
        assert!(
            (1..=MAX_COMMAND_TTL_SECS).contains(&ttl),
            "accepted ttl_s {ttl}"
        );
    }
}
