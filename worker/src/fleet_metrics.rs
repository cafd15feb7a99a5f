//! Writes fleet metrics: each [`MetricPoint`] goes to the Workers Analytics Engine dataset bound as
//! `FLEET_METRICS`, or, where no dataset is bound (`wrangler dev`, the tests, a deploy without the binding), to the
//! log as a `{"event":"metric",…}` line with the dataset's column names. Writing a point costs no subrequest and
//! no storage; the runtime sends it after the response.

use worker::{AnalyticsEngineDataPointBuilder, Env};

use crate::log_event::{LogEvent, emit};
use crate::metric_point::MetricPoint;

/// Binding name of the Analytics Engine dataset (wrangler.toml, `[[analytics_engine_datasets]]`).
pub const FLEET_METRICS_BINDING: &str = "FLEET_METRICS";

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
