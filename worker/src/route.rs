//! Routing: which endpoint a path names and which device it is for.

use telemetry_protocol::DeviceId;

use crate::error::HubError;

/// The two WebSocket endpoints of the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `GET /ws/device/{device_id}`: the device itself.
    Device,
    /// `GET /ws/dashboard/{device_id}`: a watcher of the device.
    Dashboard,
}

/// A routed request: the endpoint and its validated device id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Route {
    /// Which endpoint.
    pub endpoint: Endpoint,
    /// Whose.
    pub device_id: DeviceId,
}

/// Maps a URL path (still percent-encoded) to a route. Unknown paths are 404, a bad device id is 400.
pub fn route(path: &str) -> Result<Route, HubError> {
    let (endpoint, raw_id) = if let Some(rest) = path.strip_prefix("/ws/device/") {
        (Endpoint::Device, rest)
    } else if let Some(rest) = path.strip_prefix("/ws/dashboard/") {
        (Endpoint::Dashboard, rest)
    } else {
        return Err(HubError::NotFound);
    };
    let device_id = DeviceId::parse(raw_id).map_err(|_| {
        HubError::BadRequest("device id must be 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'")
    })?;
    Ok(Route {
        endpoint,
        device_id,
    })
}

/// What a history path asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryRoute {
    /// Whose history.
    pub device_id: DeviceId,
    /// `history.csv` rather than `history`.
    pub csv: bool,
}

/// Maps `/api/devices/{device_id}/history` and `/api/devices/{device_id}/history.csv` (still percent-encoded);
/// anything else under `/api/devices/` is 404, a bad device id 400.
pub fn history_route(path: &str) -> Result<HistoryRoute, HubError> {
    let rest = path
        .strip_prefix("/api/devices/")
        .ok_or(HubError::NotFound)?;
    let (raw_id, csv) = if let Some(id) = rest.strip_suffix("/history") {
        (id, false)
    } else if let Some(id) = rest.strip_suffix("/history.csv") {
        (id, true)
    } else {
        return Err(HubError::NotFound);
    };
    let device_id = DeviceId::parse(raw_id).map_err(|_| {
        HubError::BadRequest("device id must be 1 to 64 characters of A-Z, a-z, 0-9, '_' and '-'")
    })?;
    Ok(HistoryRoute { device_id, csv })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_history_and_its_csv() {
        let json = history_route("/api/devices/ems_001/history").expect("routes");
        assert_eq!((json.device_id.as_str(), json.csv), ("ems_001", false));
        let csv = history_route("/api/devices/ems-1/history.csv").expect("routes");
        assert!(csv.csv);
        assert_eq!(
            history_route("/api/devices/a.b/history")
                .expect_err("bad id")
                .status(),
            400
        );
        for unknown in [
            "/api/devices/x",
            "/api/devices/x/history/more",
            "/api/devices//history.json",
            "/api/devices/x/y/history",
        ] {
            let status = history_route(unknown).map_err(|e| e.status());
            assert!(
                matches!(status, Err(404) | Err(400)),
                "{unknown}: {status:?}"
            );
        }
        assert_eq!(
            history_route("/api/devices/x/history.json"),
            Err(HubError::NotFound)
        );
    }

    #[test]
    fn routes_both_endpoints() {
        let device = route("/ws/device/ems_001").expect("routes");
        assert_eq!(device.endpoint, Endpoint::Device);
        assert_eq!(device.device_id.as_str(), "ems_001");
        let dashboard = route("/ws/dashboard/ems-001").expect("routes");
        assert_eq!(dashboard.endpoint, Endpoint::Dashboard);
    }

    #[test]
    fn bad_ids_are_400_and_unknown_paths_404() {
        for bad in [
            "/ws/device/",
            "/ws/device/a/b",
            "/ws/device/a%20b",
            "/ws/dashboard/a.b",
            &format!("/ws/device/{}", "x".repeat(65)),
        ] {
            assert_eq!(route(bad).expect_err("refused").status(), 400, "{bad}");
        }
        for unknown in ["/", "/ws", "/ws/device", "/ws/other/x", "/admin"] {
            assert_eq!(route(unknown), Err(HubError::NotFound), "{unknown}");
        }
    }
}
