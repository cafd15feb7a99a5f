//! Unit tests of the router: every route, and every refusal with the status the contract gives it.

use super::*;

fn id(raw: &str) -> DeviceId {
    DeviceId::parse(raw).expect("valid")
}

fn get(path: &str) -> Result<Route, HubError> {
    route(HttpMethod::Get, path)
}

fn status(result: Result<Route, HubError>) -> Result<Route, u16> {
    result.map_err(|e| e.status())
}

fn field(result: AdminRoute) -> &'static str {
    match result {
        Err(HubError::InvalidField { field, .. }) => field,
        other => panic!("expected an invalid field, got {other:?}"),
    }
}

#[test]
fn routes_both_sockets() {
    assert_eq!(
        get("/ws/device/ems_001"),
        Ok(Route::DeviceSocket(id("ems_001")))
    );
    assert_eq!(
        get("/ws/dashboard/ems-001"),
        Ok(Route::DashboardSocket(id("ems-001")))
    );
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
        assert_eq!(status(get(bad)), Err(400), "{bad}");
    }
    for unknown in [
        "/",
        "/ws",
        "/ws/device",
        "/ws/other/x",
        "/adminx",
        "/api",
        "/api/other",
        "/index.html",
    ] {
        assert_eq!(get(unknown), Err(HubError::NotFound), "{unknown}");
    }
}

#[test]
fn routes_the_device_list() {
    assert_eq!(get("/api/devices"), Ok(Route::DeviceList));
}

#[test]
fn routes_history_and_its_csv() {
    assert_eq!(
        get("/api/devices/ems_001/history"),
        Ok(Route::History(HistoryRoute {
            device_id: id("ems_001"),
            csv: false
        }))
    );
    assert_eq!(
        get("/api/devices/ems-1/history.csv"),
        Ok(Route::History(HistoryRoute {
            device_id: id("ems-1"),
            csv: true
        }))
    );
    assert_eq!(status(get("/api/devices/a.b/history")), Err(400));
    for unknown in [
        "/api/devices/x",
        "/api/devices/x/history/more",
        "/api/devices//history.json",
        "/api/devices/x/y/history",
    ] {
        let status = status(get(unknown));
        assert!(
            matches!(status, Err(404) | Err(400)),
            "{unknown}: {status:?}"
        );
    }
    assert_eq!(get("/api/devices/"), Err(HubError::NotFound));
    assert_eq!(get("/api/devices/x/history.json"), Err(HubError::NotFound));
}

#[test]
fn other_methods_are_405_after_the_path_is_checked() {
    for path in [
        "/ws/device/a",
        "/ws/dashboard/a",
        "/api/devices",
        "/api/devices/a/history",
        "/api/devices/a/history.csv",
    ] {
        for method in [HttpMethod::Post, HttpMethod::Other] {
            assert_eq!(
                route(method, path),
                Err(HubError::MethodNotAllowed { allow: "GET" }),
                "{path}"
            );
        }
    }
    // 404 and 400 come first.
    assert_eq!(route(HttpMethod::Post, "/nothing"), Err(HubError::NotFound));
    assert_eq!(status(route(HttpMethod::Post, "/ws/device/a.b")), Err(400));
    assert_eq!(
        status(route(HttpMethod::Post, "/api/devices/a.b/history")),
        Err(400)
    );
}

#[test]
fn admin_refusals_wait_for_the_admin_token() {
    for path in ["/admin", "/admin/", "/admin/users"] {
        assert_eq!(
            route(HttpMethod::Other, path),
            Ok(Route::Admin(Err(HubError::NotFound))),
            "{path}"
        );
    }
    assert_eq!(
        route(HttpMethod::Post, "/admin/devices/a/rotate"),
        Ok(Route::Admin(Ok(AdminOp::RotateDevice(id("a")))))
    );
}

#[test]
fn routes_every_admin_operation() {
    let get = |path| admin_route(HttpMethod::Get, path);
    let post = |path| admin_route(HttpMethod::Post, path);
    assert_eq!(get("/admin/devices"), Ok(AdminOp::ListDevices));
    assert_eq!(post("/admin/devices/"), Ok(AdminOp::CreateDevice));
    assert_eq!(
        get("/admin/devices/ems_001"),
        Ok(AdminOp::ShowDevice(id("ems_001")))
    );
    assert_eq!(
        post("/admin/devices/a/rotate"),
        Ok(AdminOp::RotateDevice(id("a")))
    );
    assert_eq!(
        post("/admin/devices/a/disable"),
        Ok(AdminOp::DisableDevice(id("a")))
    );
    assert_eq!(
        post("/admin/devices/a/enable"),
        Ok(AdminOp::EnableDevice(id("a")))
    );
    assert_eq!(
        get("/admin/dashboard-tokens"),
        Ok(AdminOp::ListDashboardTokens)
    );
    assert_eq!(
        post("/admin/dashboard-tokens"),
        Ok(AdminOp::CreateDashboardToken)
    );
    assert_eq!(
        post("/admin/dashboard-tokens/dt_0123456789ab/revoke"),
        Ok(AdminOp::RevokeDashboardToken("dt_0123456789ab".into()))
    );
}

#[test]
fn unknown_admin_paths_404_and_wrong_methods_405() {
    for path in [
        "/admin",
        "/admin/",
        "/admin/users",
        "/admin/devices/a/reboot",
        "/admin/devices/a/b/c",
    ] {
        assert_eq!(
            admin_route(HttpMethod::Get, path),
            Err(HubError::NotFound),
            "{path}"
        );
    }
    let allow = |method, path| match admin_route(method, path) {
        Err(HubError::MethodNotAllowed { allow }) => allow,
        other => panic!("{path}: expected 405, got {other:?}"),
    };
    assert_eq!(allow(HttpMethod::Other, "/admin/devices"), "GET, POST");
    assert_eq!(allow(HttpMethod::Post, "/admin/devices/a"), "GET");
    assert_eq!(allow(HttpMethod::Get, "/admin/devices/a/rotate"), "POST");
    assert_eq!(
        allow(HttpMethod::Other, "/admin/dashboard-tokens"),
        "GET, POST"
    );
    assert_eq!(
        allow(
            HttpMethod::Get,
            "/admin/dashboard-tokens/dt_0123456789ab/revoke"
        ),
        "POST"
    );
    assert_eq!(
        field(admin_route(HttpMethod::Get, "/admin/devices/bad.id")),
        "device_id"
    );
    assert_eq!(
        field(admin_route(
            HttpMethod::Post,
            "/admin/dashboard-tokens/xyz/revoke"
        )),
        "token_id"
    );
}
