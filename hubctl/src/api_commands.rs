//! Commands carried out through the admin API: one [`AdminClient`] call each, then the printed result.

use std::io::Write;
use std::path::Path;
use std::time::Duration;

use serde_json::json;
use telemetry_protocol::DeviceId;

use crate::credential::TokenId;
use crate::listing;
use crate::output::{self, Delivery, emit, json_line};
use crate::sql::check_device_batch;
use crate::token_file::create_with;
use crate::{AdminClient, HubctlError, ProvisionedDevice};

/// `device create` through the API: one request per id, in order. If one fails after others succeeded, the
/// tokens already made are still shown before the error, so none is lost.
pub fn create_devices(
    client: &AdminClient,
    ids: &[DeviceId],
    json: bool,
    token_file: Option<&Path>,
    out: &mut dyn Write,
) -> Result<(), HubctlError> {
    check_device_batch(ids)?;
    if let [id] = ids {
        let (device, written) = create_with(token_file, || client.create_device(id), token_of)?;
        return emit(
            out,
            &output::devices(&[device], Delivery::of(written.as_deref()), json),
        );
    }
    let mut created = Vec::new();
    for (index, id) in ids.iter().enumerate() {
        match client.create_device(id) {
            Ok(device) => created.push(device),
            Err(error) => return partly_created(&created, ids, index, error, json, out),
        }
    }
    emit(out, &output::devices(&created, Delivery::Printed, json))
}

/// Shows the devices made before `ids[index]` failed, and reports what happened to each id.
fn partly_created(
    created: &[ProvisionedDevice],
    ids: &[DeviceId],
    index: usize,
    error: HubctlError,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), HubctlError> {
    if created.is_empty() {
        return Err(error);
    }
    emit(out, &output::devices(created, Delivery::Printed, json))?;
    Err(HubctlError::DevicesPartlyCreated {
        created: ids[..index].to_vec(),
        failed: ids[index].clone(),
        skipped: ids[index + 1..].to_vec(),
        source: Box::new(error),
    })
}

/// `device list`: every page, as a table or `{"devices":[…]}`.
pub fn list_devices(
    client: &AdminClient,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), HubctlError> {
    let devices = client.list_devices()?;
    if json {
        emit(out, &json_line(&json!({ "devices": devices })))
    } else {
        emit(out, &listing::devices_table(&devices))
    }
}

/// `device show`.
pub fn show_device(
    client: &AdminClient,
    id: &DeviceId,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), HubctlError> {
    let device = client.show_device(id)?;
    if json {
        emit(out, &json_line(&device))
    } else {
        emit(out, &listing::device_text(&device))
    }
}

/// `device rotate`: the new token once (or into `--token-file`), and until when the old one works.
pub fn rotate_device(
    client: &AdminClient,
    id: &DeviceId,
    grace: Duration,
    json: bool,
    token_file: Option<&Path>,
    out: &mut dyn Write,
) -> Result<(), HubctlError> {
    let rotate = || client.rotate_device(id, grace);
    let (rotated, written) = create_with(token_file, rotate, |r| r.token.as_str())?;
    let delivery = Delivery::of(written.as_deref());
    if json {
        emit(out, &output::rotated_json(id, &rotated, delivery))
    } else {
        emit(out, &output::rotated_text(id, &rotated, delivery))
    }
}

/// `device disable` or `device enable`.
pub fn set_disabled(
    client: &AdminClient,
    id: &DeviceId,
    disabled: bool,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), HubctlError> {
    let device = client.set_disabled(id, disabled)?;
    if json {
        emit(out, &json_line(&device))
    } else {
        emit(out, &listing::device_state_text(id, &device, disabled))
    }
}

/// `dashboard list`: a table or `{"dashboard_tokens":[…]}`.
pub fn list_dashboard_tokens(
    client: &AdminClient,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), HubctlError> {
    let tokens = client.list_dashboard_tokens()?;
    if json {
        emit(out, &json_line(&json!({ "dashboard_tokens": tokens })))
    } else {
        emit(out, &listing::dashboard_tokens_table(&tokens))
    }
}

/// `dashboard revoke`.
pub fn revoke_dashboard_token(
    client: &AdminClient,
    token_id: &TokenId,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), HubctlError> {
    let revoked = client.revoke_dashboard_token(token_id.as_str())?;
    if json {
        emit(out, &listing::revoked_json(&revoked))
    } else {
        emit(out, &listing::revoked_text(&revoked))
    }
}

fn token_of(device: &ProvisionedDevice) -> &str {
    &device.token
}
