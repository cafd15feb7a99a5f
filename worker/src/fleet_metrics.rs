//! Writes fleet metrics: each [`MetricPoint`] goes to the Workers Analytics Engine dataset bound as
//! `FLEET_METRICS`, or, where no dataset is bound (`wrangler dev`, the tests, a deploy without the binding), to the
//! log as a `{"event":"metric",…}` line with the dataset's column names. Writing a point costs no subrequest and
//! no storage; the runtime sends it after the response.

use worker::{AnalyticsEngineDataPointBuilder, Env};

use crate::log_event::{LogEvent, emit};
use crate::metric_point::MetricPoint;

/// Binding name of the Analytics Engine dataset (wrangler.toml, `[[analytics_engine_datasets]]`).
pub const FLEET_METRICS_BINDING: &str = "FLEET_METRICS";

/// A refused authentication, as the gateway saw it (never the token).
pub struct AuthRefusal<'a> {
    /// The device asked about, if the endpoint is about one.
    pub device_id: Option<&'a str>,
    /// The endpoint as the log names it: `device`, `dashboard`, `api` or `history`.
    pub endpoint: &'a str,
    /// Why it was refused.
    pub reason: &'a str,
    /// The client's address.
    pub client: &'a str,
    /// How long the refusal took to decide.
    pub latency_ms: u64,
}

/// Logs an `auth_refused` event and records its data point, both with code 403. Called in the gateway: a
/// refusal never wakes a device's object to be counted.
pub fn record_auth_refused(env: &Env, refusal: &AuthRefusal) {
    let mut line = LogEvent::new("auth_refused");
    let mut point = MetricPoint::new("auth_refused");
    if let Some(device_id) = refusal.device_id {
        line = line.device(device_id);
        point = point.device(device_id);
    }
    emit(
        line.with("endpoint", refusal.endpoint)
            .reason(refusal.reason)
            .client(refusal.client)
            .code(403)
            .latency_ms(refusal.latency_ms),
    );
    let point = point
        .reason(refusal.reason)
        .endpoint(refusal.endpoint)
        .code(403)
        .latency_ms(refusal.latency_ms);
    record(env, &point);
}

/// Records `point` in the fleet metrics.
pub fn record(env: &Env, point: &MetricPoint) {
    let Ok(dataset) = env.analytics_engine(FLEET_METRICS_BINDING) else {
        emit(point.to_log_event());
        return;
    };
    let written = AnalyticsEngineDataPointBuilder::new()
        .indexes([point.index()])
        .blobs(point.blobs().iter().map(String::as_str))
        .doubles(point.doubles().iter().copied())
        .write_to(&dataset);
    if let Err(error) = written {
        emit(
            LogEvent::new("metric_write_failed")
                .reason(&point.blobs()[0])
                .error(error),
        );
        emit(point.to_log_event());
    }
}
