//! Routing: every path the Worker answers, as one [`Route`] decided from the method and the path alone.
//!
//! The dashboard's files never reach the Worker: its static assets are served first for every path outside
//! `/ws/`, `/admin/` and `/api/`, so any path that is no route here is 404.

use telemetry_protocol::DeviceId;

use crate::admin::{path_device_id, token_id};
use crate::error::HubError;

/// The request methods the router tells apart; every other method is refused with 405 where a route exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HttpMethod {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// Any other method.
    Other,
}

/// What a request asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET /ws/device/{device_id}`: the device's own socket.
    DeviceSocket(DeviceId),
    /// `GET /ws/dashboard/{device_id}`: a watcher's socket.
    DashboardSocket(DeviceId),
    /// `GET /api/devices`: the device ids a dashboard token can watch.
    DeviceList,
    /// `GET /api/devices/{device_id}/history` and `…/history.csv`.
    History(HistoryRoute),
    /// `/admin` and everything under it. The admin token is checked before anything else, so a path or method
    /// the admin API refuses is told only to the operator: the refusal waits here until then.
    Admin(AdminRoute),
}

/// What a history path asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRoute {
    /// Whose history.
    pub device_id: DeviceId,
    /// `history.csv` rather than `history`.
    pub csv: bool,
}

/// An admin operation, or the refusal (404, 405 with `Allow`, or 400 naming the field) to give once the caller
/// proved to be the operator.
pub type AdminRoute = Result<AdminOp, HubError>;

/// One admin operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminOp {
    /// `GET /admin/devices`.
    ListDevices,
    /// `POST /admin/devices` with `{"device_id":..}`.
    CreateDevice,
    /// `GET /admin/devices/{id}`.
    ShowDevice(DeviceId),
    /// `POST /admin/devices/{id}/rotate` with optional `{"grace_seconds":N}`.
    RotateDevice(DeviceId),
    /// `POST /admin/devices/{id}/disable`.
    DisableDevice(DeviceId),
    /// `POST /admin/devices/{id}/enable`.
    EnableDevice(DeviceId),
    /// `GET /admin/dashboard-tokens`.
    ListDashboardTokens,
    /// `POST /admin/dashboard-tokens` with `{"devices":"*"|[..],"access":..,"label":..}`.
    CreateDashboardToken,
    /// `POST /admin/dashboard-tokens/{token_id}/revoke`.
    RevokeDashboardToken(String),
}

impl AdminOp {
    /// The operation's name in logs and metrics, e.g. `rotate_device`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ListDevices => "list_devices",
            Self::CreateDevice => "create_device",
            Self::ShowDevice(_) => "show_device",
            Self::RotateDevice(_) => "rotate_device",
            Self::DisableDevice(_) => "disable_device",
            Self::EnableDevice(_) => "enable_device",
            Self::ListDashboardTokens => "list_dashboard_tokens",
            Self::CreateDashboardToken => "create_dashboard_token",
            Self::RevokeDashboardToken(_) => "revoke_dashboard_token",
        }
    }

    /// The device the operation is about, if one is named in its path.
    pub fn device_id(&self) -> Option<&DeviceId> {
        match self {
            Self::ShowDevice(id)
            | Self::RotateDevice(id)
            | Self::DisableDevice(id)
            | Self::EnableDevice(id) => Some(id),
            _ => None,
        }
    }
}

/// Maps a method and a URL path (still percent-encoded) to a route, in the contract's order: an unknown path is
/// 404, a bad device id 400, then a method other than `GET` 405. Admin paths are decided in [`admin_route`].
pub fn route(method: HttpMethod, path: &str) -> Result<Route, HubError> {
    if path == "/admin" || path.starts_with("/admin/") {
        return Ok(Route::Admin(admin_route(method, path)));
    }
    let route = if path == "/api/devices" {
        Route::DeviceList
    } else if let Some(rest) = path.strip_prefix("/api/devices/") {
        Route::History(history_route(rest)?)
    } else if let Some(raw_id) = path.strip_prefix("/ws/device/") {
        Route::DeviceSocket(device_id(raw_id)?)
    } else if let Some(raw_id) = path.strip_prefix("/ws/dashboard/") {
        Route::DashboardSocket(device_id(raw_id)?)
    } else {
        return Err(HubError::NotFound);
    };
    if method != HttpMethod::Get {
        return Err(HubError::MethodNotAllowed { allow: "GET" });
    }
    Ok(route)
}

/// A device id of a socket or history path; 400 if malformed.
fn device_id(raw: &str) -> Result<DeviceId, HubError> {
    DeviceId::parse(raw).map_err(|_| {
        HubError::BadRequest("device id must be 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'")
    })
}

/// What follows `/api/devices/`: `{device_id}/history` or `{device_id}/history.csv`; anything else is 404.
fn history_route(rest: &str) -> Result<HistoryRoute, HubError> {
    let (raw_id, csv) = if let Some(id) = rest.strip_suffix("/history") {
        (id, false)
    } else if let Some(id) = rest.strip_suffix("/history.csv") {
        (id, true)
    } else {
        return Err(HubError::NotFound);
    };
    Ok(HistoryRoute {
        device_id: device_id(raw_id)?,
        csv,
    })
}

/// Maps a method and a path under `/admin` to an operation: 404 for an unknown path, 405 with the methods it
/// has, 400 naming a malformed device id or token id.
pub fn admin_route(method: HttpMethod, path: &str) -> AdminRoute {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    let get = method == HttpMethod::Get;
    let post = method == HttpMethod::Post;
    let op = match segments.as_slice() {
        ["admin", "devices"] if get => AdminOp::ListDevices,
        ["admin", "devices"] if post => AdminOp::CreateDevice,
        ["admin", "devices"] => return Err(not_allowed("GET, POST")),
        ["admin", "devices", id] if get => AdminOp::ShowDevice(path_device_id(id)?),
        ["admin", "devices", _] => return Err(not_allowed("GET")),
        ["admin", "devices", id, action] => {
            let device_id = path_device_id(id)?;
            let op = match *action {
                "rotate" => AdminOp::RotateDevice(device_id),
                "disable" => AdminOp::DisableDevice(device_id),
                "enable" => AdminOp::EnableDevice(device_id),
                _ => return Err(HubError::NotFound),
            };
            if !post {
                return Err(not_allowed("POST"));
            }
            op
        }
        ["admin", "dashboard-tokens"] if get => AdminOp::ListDashboardTokens,
        ["admin", "dashboard-tokens"] if post => AdminOp::CreateDashboardToken,
        ["admin", "dashboard-tokens"] => return Err(not_allowed("GET, POST")),
        ["admin", "dashboard-tokens", id, "revoke"] => {
            if !post {
                return Err(not_allowed("POST"));
            }
            AdminOp::RevokeDashboardToken(token_id(id)?)
        }
        _ => return Err(HubError::NotFound),
    };
    Ok(op)
}

fn not_allowed(allow: &'static str) -> HubError {
    HubError::MethodNotAllowed { allow }
}

#[cfg(test)]
mod tests;
