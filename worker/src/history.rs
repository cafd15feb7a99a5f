//! A device's history, the pure part: which samples wait to be written and when a group is due, how a group
//! becomes compressed rows placed by time, which seqs a write stored, and how a query becomes points or CSV.
//!
//! The Durable Object (`hub_history`) keeps the pending group in memory, writes it with its SQLite storage and
//! calls these functions; nothing here does I/O.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use telemetry_protocol::history::{
    DEFAULT_HISTORY_POINTS, MAX_CSV_SAMPLES, MAX_HISTORY_FIELDS, MAX_HISTORY_POINTS,
};
use telemetry_protocol::{
    DashboardTelemetry, HistoryBucket, HistoryResponse, HistorySample, Stored,
};

use crate::clock::{parse_millis, rfc3339_millis};
use crate::error::HubError;

mod memory;
mod numbers;

pub use memory::HistoryMemory;
pub use numbers::NumberColumns;

/// A row never spans more than this much time, so a query for `[from, to)` finds every row that overlaps it
/// among those that start in `[from - CHUNK_SPAN_MS, to)`.
pub const CHUNK_SPAN_MS: u64 = 60 * 60 * 1000;
/// Most stored rows one query reads.
pub const MAX_QUERY_ROWS: u32 = 2000;
/// A `ts` this far ahead of the hub's clock is not believed.
const FUTURE_SLACK_MS: u64 = 5 * 60 * 1000;
/// Deflate's fastest level: history rows are written on the hot path, and JSON of similar samples compresses
/// well even so.
const DEFLATE_LEVEL: u8 = 1;
/// Largest decompressed row accepted when reading (a written row is far smaller).
const MAX_ROW_BYTES: usize = 16 * 1024 * 1024;
/// A bigger group than this many flushes' worth is refused (the device resends later) rather than held.
const PENDING_HARD_LIMIT_FACTOR: usize = 10;
const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// When the hub writes a group and how long it keeps samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryPolicy {
    /// A group of this many samples is written at once (`HISTORY_FLUSH_SAMPLES`, default 1000).
    pub flush_samples: usize,
    /// A group whose oldest sample arrived this long ago is written (`HISTORY_FLUSH_SECS`, default 600).
    pub flush_ms: u64,
    /// A group of this many bytes of sample data is written at once.
    pub flush_bytes: usize,
    /// A frame that comes this long after the previous one is written at once with its group: a device this
    /// slow may let the object hibernate, and lose what it holds in memory, before its next frame.
    pub quiet_ms: u64,
    /// Samples older than this are deleted (`HISTORY_RETENTION_DAYS`, default 7).
    pub retention_ms: u64,
}

impl HistoryPolicy {
    /// 1000 samples or 10 minutes, 256 KiB, 5 s of quiet, 7 days.
    pub const DEFAULT: HistoryPolicy = HistoryPolicy {
        flush_samples: 1000,
        flush_ms: 600_000,
        flush_bytes: 256 * 1024,
        quiet_ms: 5_000,
        retention_ms: 7 * DAY_MS,
    };

    /// The policy for these settings (each clamped to a sane range).
    pub fn new(flush_samples: u64, flush_secs: u64, retention_days: u64) -> Self {
        Self {
            flush_samples: flush_samples.clamp(1, 5000) as usize,
            flush_ms: flush_secs.clamp(1, 3600) * 1000,
            retention_ms: retention_days.clamp(1, 3650) * DAY_MS,
            ..Self::DEFAULT
        }
    }
}

/// One sample as the history keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Where it is placed in time, Unix ms: its `ts`, unless that is not believable.
    pub t: u64,
    /// When the hub received it, Unix ms.
    pub r: u64,
    /// Its epoch.
    pub e: String,
    /// Its seq.
    pub s: u64,
    /// Its `ts` as sent.
    pub ts: String,
    /// Its data.
    pub d: Map<String, Value>,
}

impl Entry {
    /// The entry for an accepted sample received at `received_ms`.
    pub fn from_sample(sample: DashboardTelemetry, received_ms: u64, retention_ms: u64) -> Self {
        Self {
            t: placement_ms(parse_millis(&sample.ts), received_ms, retention_ms),
            r: received_ms,
            e: sample.epoch.unwrap_or_default(),
            s: sample.seq,
            ts: sample.ts,
            d: sample.data,
        }
    }

    /// The sample as dashboards see it.
    pub fn to_telemetry(&self, device_id: &str) -> DashboardTelemetry {
        DashboardTelemetry {
            device_id: device_id.to_owned(),
            epoch: Some(self.e.clone()),
            seq: self.s,
            ts: self.ts.clone(),
            received_at: rfc3339_millis(self.r),
            data: self.d.clone(),
        }
    }
}

/// Where a sample goes in time: its own `ts` when that lies within the retention before its arrival and not
/// far after it, else its arrival (a Pi without a clock before NTP says 1970).
pub fn placement_ms(ts_ms: Option<u64>, received_ms: u64, retention_ms: u64) -> u64 {
    match ts_ms {
        Some(ts)
            if ts >= received_ms.saturating_sub(retention_ms)
                && ts <= received_ms.saturating_add(FUTURE_SLACK_MS) =>
        {
            ts
        }
        _ => received_ms,
    }
}

/// Samples accepted but not yet written, in arrival order.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct PendingGroup {
    entries: Vec<Entry>,
    bytes: usize,
    first_received_ms: Option<u64>,
}

impl PendingGroup {
    /// Adds a sample whose data is about `bytes` long.
    pub fn push(&mut self, entry: Entry, bytes: usize) {
        self.first_received_ms.get_or_insert(entry.r);
        self.bytes += bytes;
        self.entries.push(entry);
    }

    /// The samples, in arrival order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether the group is so large (its writes keep failing) that new samples are refused instead.
    pub fn is_full(&self, policy: &HistoryPolicy) -> bool {
        self.entries.len() >= policy.flush_samples * PENDING_HARD_LIMIT_FACTOR
    }

    /// Whether the group must be written now. `quiet_for_ms` is how long the device was silent before the
    /// frame just handled (or, from the alarm, since its last frame); `None` when nobody knows.
    pub fn is_due(&self, now_ms: u64, quiet_for_ms: Option<u64>, policy: &HistoryPolicy) -> bool {
        let Some(first) = self.first_received_ms else {
            return false;
        };
        self.entries.len() >= policy.flush_samples
            || self.bytes >= policy.flush_bytes
            || now_ms.saturating_sub(first) >= policy.flush_ms
            || quiet_for_ms.is_none_or(|quiet| quiet >= policy.quiet_ms)
    }

    /// Empties the group (after it was written).
    pub fn clear(&mut self) {
        *self = Self::default();
    }
}

/// The key below which every stored row has expired at `now_ms`: a row starting before it ends before
/// `now_ms - retention`, because no row spans more than [`CHUNK_SPAN_MS`]. Deleting by this key range touches
/// only the rows it deletes.
pub fn prune_before_ms(now_ms: u64, policy: &HistoryPolicy) -> u64 {
    now_ms.saturating_sub(policy.retention_ms + CHUNK_SPAN_MS)
}

/// One stored row: samples within [`CHUNK_SPAN_MS`], compressed.
#[derive(Debug, Clone, PartialEq)]
pub struct ChunkRow {
    /// The earliest placement in the row.
    pub start_ms: u64,
    /// The latest placement in the row.
    pub end_ms: u64,
    /// Samples in the row.
    pub count: u32,
    /// The samples as deflated JSON.
    pub body: Vec<u8>,
    /// Their numbers by column ([`NumberColumns`], deflated), unless they have too many fields.
    pub numbers: Option<Vec<u8>>,
}

/// Cuts a group into rows by time: sorted by placement, a new row whenever the span would pass
/// [`CHUNK_SPAN_MS`], so a backlog from hours ago lands in rows of its own at its place in time.
pub fn chunk_rows(entries: &[Entry]) -> Vec<ChunkRow> {
    let mut sorted: Vec<&Entry> = entries.iter().collect();
    sorted.sort_by(|a, b| (a.t, &a.e, a.s).cmp(&(b.t, &b.e, b.s)));
    let mut rows = Vec::new();
    let mut start = 0;
    for i in 1..=sorted.len() {
        let cut = i == sorted.len() || sorted[i].t - sorted[start].t > CHUNK_SPAN_MS;
        if cut {
            rows.push(encode_row(&sorted[start..i]));
            start = i;
        }
    }
    rows
}

fn encode_row(entries: &[&Entry]) -> ChunkRow {
    let json = serde_json::to_vec(entries).unwrap_or_default();
    ChunkRow {
        start_ms: entries.first().map_or(0, |e| e.t),
        end_ms: entries.last().map_or(0, |e| e.t),
        count: entries.len() as u32,
        body: miniz_oxide::deflate::compress_to_vec(&json, DEFLATE_LEVEL),
        numbers: NumberColumns::of(entries).map(|columns| columns.encode()),
    }
}

/// The samples of a stored row; `None` if the row is unreadable.
pub fn decode_row(body: &[u8]) -> Option<Vec<Entry>> {
    let json = miniz_oxide::inflate::decompress_to_vec_with_limit(body, MAX_ROW_BYTES).ok()?;
    serde_json::from_slice(&json).ok()
}

/// The `stored` messages for samples now written: one per contiguous run of seqs in an epoch.
pub fn stored_runs<'a>(seqs: impl IntoIterator<Item = (&'a str, u64)>) -> Vec<Stored> {
    let mut by_epoch: BTreeMap<&str, BTreeSet<u64>> = BTreeMap::new();
    for (epoch, seq) in seqs {
        by_epoch.entry(epoch).or_default().insert(seq);
    }
    let mut runs = Vec::new();
    for (epoch, seqs) in by_epoch {
        let mut current: Option<(u64, u64)> = None;
        for seq in seqs {
            current = match current {
                Some((from, to)) if seq == to + 1 => Some((from, seq)),
                Some((from, to)) => {
                    runs.push(stored(epoch, from, to));
                    Some((seq, seq))
                }
                None => Some((seq, seq)),
            };
        }
        if let Some((from, to)) = current {
            runs.push(stored(epoch, from, to));
        }
    }
    runs
}

fn stored(epoch: &str, from: u64, to: u64) -> Stored {
    Stored {
        epoch: epoch.to_owned(),
        from,
        to,
    }
}

/// A validated history query, as the gateway hands it to the device's object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryQuery {
    /// Start, inclusive, Unix ms.
    pub from_ms: u64,
    /// End, exclusive, Unix ms.
    pub to_ms: u64,
    /// The fields asked for; `None`: every field found.
    pub fields: Option<Vec<String>>,
    /// The point budget.
    pub points: u32,
    /// CSV of raw samples instead of points.
    pub csv: bool,
}

impl HistoryQuery {
    /// The first key of the stored rows that may overlap the range.
    pub fn first_row_start_ms(&self) -> u64 {
        self.from_ms.saturating_sub(CHUNK_SPAN_MS)
    }
}

/// Reads `from`, `to`, `fields` and `points` from a query string's pairs; unknown keys are ignored.
pub fn parse_history_query<'a>(
    pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
    now_ms: u64,
    csv: bool,
) -> Result<HistoryQuery, HubError> {
    let (mut from, mut to, mut fields, mut points) = (None, None, None, None);
    for (key, value) in pairs {
        match key {
            "from" => from = Some(time_param(value).ok_or(HubError::BadRequest(BAD_FROM))?),
            "to" => to = Some(time_param(value).ok_or(HubError::BadRequest(BAD_TO))?),
            "fields" => fields = Some(fields_param(value)?),
            "points" => {
                points = Some(
                    value
                        .parse::<u32>()
                        .ok()
                        .filter(|p| (1..=MAX_HISTORY_POINTS).contains(p))
                        .ok_or(HubError::BadRequest(BAD_POINTS))?,
                )
            }
            _ => {}
        }
    }
    let to_ms = to.unwrap_or(now_ms);
    let from_ms = from.unwrap_or(to_ms.saturating_sub(60 * 60 * 1000));
    if from_ms >= to_ms {
        return Err(HubError::BadRequest("\"from\" must be before \"to\""));
    }
    Ok(HistoryQuery {
        from_ms,
        to_ms,
        fields,
        points: points.unwrap_or(DEFAULT_HISTORY_POINTS),
        csv,
    })
}

const BAD_FROM: &str = "\"from\" must be an RFC 3339 time or Unix milliseconds";
const BAD_TO: &str = "\"to\" must be an RFC 3339 time or Unix milliseconds";
const BAD_POINTS: &str = "\"points\" must be a whole number from 1 to 5000";
const BAD_FIELDS: &str =
    "\"fields\" must be 1 to 32 comma-separated dotted paths of at most 256 bytes each";

fn time_param(value: &str) -> Option<u64> {
    if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
        return value.parse().ok();
    }
    parse_millis(value)
}

fn fields_param(value: &str) -> Result<Vec<String>, HubError> {
    let fields: Vec<String> = value
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect();
    if fields.is_empty()
        || fields.len() > MAX_HISTORY_FIELDS
        || fields.iter().any(|f| f.len() > 256)
    {
        return Err(HubError::BadRequest(BAD_FIELDS));
    }
    Ok(fields)
}

/// The value at a dotted path in a sample's data.
fn at_path<'a>(data: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    let mut parts = path.split('.');
    let mut value = data.get(parts.next()?)?;
    for part in parts {
        value = value.as_object()?.get(part)?;
    }
    Some(value)
}

/// Calls `visit` with the dotted path and the value of every leaf in `data` (objects are walked, anything else
/// is a leaf), reusing one buffer for the paths.
fn for_each_leaf(data: &Map<String, Value>, mut visit: impl FnMut(&str, &Value)) {
    fn walk(path: &mut String, value: &Value, visit: &mut dyn FnMut(&str, &Value)) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let len = path.len();
                    path.push('.');
                    path.push_str(key);
                    walk(path, child, visit);
                    path.truncate(len);
                }
            }
            leaf => visit(path, leaf),
        }
    }
    let mut path = String::with_capacity(64);
    for (key, value) in data {
        path.clear();
        path.push_str(key);
        walk(&mut path, value, &mut visit);
    }
}

/// The dotted paths of the leaves in `data` that `keep` accepts.
fn leaf_paths(data: &Map<String, Value>, keep: fn(&Value) -> bool, into: &mut BTreeSet<String>) {
    for_each_leaf(data, |path, value| {
        if keep(value) && !into.contains(path) {
            into.insert(path.to_owned());
        }
    });
}

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::Number(_) | Value::String(_) | Value::Bool(_))
}

fn fields_of(
    asked: &Option<Vec<String>>,
    entries: &[&Entry],
    keep: fn(&Value) -> bool,
) -> Vec<String> {
    if let Some(fields) = asked {
        return fields.clone();
    }
    let mut found = BTreeSet::new();
    for entry in entries {
        leaf_paths(&entry.d, keep, &mut found);
    }
    found.into_iter().take(MAX_HISTORY_FIELDS).collect()
}

/// The samples of `rows` and `pending` within the query's range, by time; duplicates (the same epoch and seq,
/// which only a lost write followed by a resend could leave) are kept once.
pub fn in_range<'a>(
    query: &HistoryQuery,
    stored: &'a [Entry],
    pending: &'a [Entry],
) -> Vec<&'a Entry> {
    let mut entries: Vec<&Entry> = stored
        .iter()
        .chain(pending)
        .filter(|e| e.t >= query.from_ms && e.t < query.to_ms)
        .collect();
    entries.sort_by(|a, b| (a.t, &a.e, a.s).cmp(&(b.t, &b.e, b.s)));
    entries.dedup_by(|a, b| a.e == b.e && a.s == b.s);
    entries
}

/// A history answer built one sample at a time, so a week of samples never sits in memory at once: samples
/// are kept raw while they fit the point budget, then folded into buckets of min / max / mean per field.
#[derive(Debug, Clone)]
pub struct HistoryFold {
    query: HistoryQuery,
    bucket_ms: u64,
    raw: Vec<(u64, Vec<(String, f64)>)>,
    buckets: Option<BTreeMap<u64, BucketAcc>>,
}

#[derive(Debug, Clone, Default)]
struct BucketAcc {
    n: u32,
    fields: BTreeMap<String, FieldAcc>,
}

#[derive(Debug, Clone, Copy)]
struct FieldAcc {
    min: f64,
    max: f64,
    /// The running mean (a sum of values near `f64::MAX` would overflow).
    mean: f64,
    count: u32,
}

impl FieldAcc {
    fn new(value: f64) -> Self {
        Self {
            min: value,
            max: value,
            mean: value,
            count: 1,
        }
    }

    fn add(&mut self, value: f64) {
        self.min = self.min.min(value);
        self.max = self.max.max(value);
        self.count += 1;
        let n = f64::from(self.count);
        self.mean = (self.mean - self.mean / n + value / n).clamp(self.min, self.max);
    }
}

impl BucketAcc {
    fn add(&mut self, field: &str, value: f64) {
        match self.fields.get_mut(field) {
            Some(acc) => acc.add(value),
            None => {
                self.fields.insert(field.to_owned(), FieldAcc::new(value));
            }
        }
    }
}

impl HistoryFold {
    /// An empty answer to `query`.
    pub fn new(query: &HistoryQuery) -> Self {
        let span = query.to_ms.saturating_sub(query.from_ms);
        Self {
            query: query.clone(),
            bucket_ms: span.div_ceil(u64::from(query.points.max(1))).max(1),
            raw: Vec::new(),
            buckets: None,
        }
    }

    /// Takes one sample; samples outside the range are ignored.
    pub fn add(&mut self, entry: &Entry) {
        if !self.in_range(entry.t) {
            return;
        }
        let values: Vec<(String, f64)> = match &self.query.fields {
            Some(fields) => fields
                .iter()
                .filter_map(|f| Some((f.clone(), at_path(&entry.d, f)?.as_f64()?)))
                .collect(),
            None => {
                let mut found = Vec::new();
                for_each_leaf(&entry.d, |path, value| {
                    if let Some(number) = value.as_f64() {
                        found.push((path.to_owned(), number));
                    }
                });
                found
            }
        };
        self.add_point(entry.t, values.iter().map(|(f, v)| (f.as_str(), *v)));
    }

    /// Takes the samples of a stored row's columns.
    pub fn add_columns(&mut self, columns: &NumberColumns) {
        let wanted: Vec<usize> = (0..columns.fields.len())
            .filter(|i| {
                self.query
                    .fields
                    .as_ref()
                    .is_none_or(|asked| asked.contains(&columns.fields[*i]))
            })
            .collect();
        for (row, t) in columns.times.iter().enumerate() {
            if !self.in_range(*t) {
                continue;
            }
            let values = wanted.iter().filter_map(|i| {
                let value = columns.values[*i][row];
                (!value.is_nan()).then(|| (columns.fields[*i].as_str(), value))
            });
            self.add_point(*t, values);
        }
    }

    fn in_range(&self, t: u64) -> bool {
        t >= self.query.from_ms && t < self.query.to_ms
    }

    fn add_point<'v>(&mut self, t: u64, values: impl Iterator<Item = (&'v str, f64)>) {
        if let Some(buckets) = &mut self.buckets {
            let bucket = buckets
                .entry((t - self.query.from_ms) / self.bucket_ms)
                .or_default();
            bucket.n += 1;
            for (field, value) in values {
                bucket.add(field, value);
            }
            return;
        }
        self.raw
            .push((t, values.map(|(f, v)| (f.to_owned(), v)).collect()));
        if self.raw.len() > self.query.points as usize {
            let mut buckets: BTreeMap<u64, BucketAcc> = BTreeMap::new();
            for (t, values) in self.raw.drain(..) {
                let bucket = buckets
                    .entry((t - self.query.from_ms) / self.bucket_ms)
                    .or_default();
                bucket.n += 1;
                for (field, value) in values {
                    bucket.add(&field, value);
                }
            }
            self.buckets = Some(buckets);
        }
    }

    /// The answer. `truncated`: the query stopped at its row limit.
    pub fn finish(mut self, device_id: &str, truncated: bool) -> HistoryResponse {
        let mut response = HistoryResponse {
            device_id: device_id.to_owned(),
            from: rfc3339_millis(self.query.from_ms),
            to: rfc3339_millis(self.query.to_ms),
            fields: Vec::new(),
            bucket_ms: 0,
            samples: Vec::new(),
            buckets: Vec::new(),
            truncated,
        };
        let Some(buckets) = self.buckets else {
            self.raw.sort_by_key(|(t, _)| *t);
            let fields = self.query.fields.clone().unwrap_or_else(|| {
                let found: BTreeSet<&String> = self
                    .raw
                    .iter()
                    .flat_map(|(_, v)| v.iter().map(|(f, _)| f))
                    .collect();
                found
                    .into_iter()
                    .take(MAX_HISTORY_FIELDS)
                    .cloned()
                    .collect()
            });
            response.samples = self
                .raw
                .iter()
                .map(|(t, values)| HistorySample {
                    t: *t,
                    v: fields
                        .iter()
                        .map(|f| values.iter().find(|(name, _)| name == f).map(|(_, v)| *v))
                        .collect(),
                })
                .collect();
            response.fields = fields;
            return response;
        };
        let fields: Vec<String> = match &self.query.fields {
            Some(fields) => fields.clone(),
            None => buckets
                .values()
                .flat_map(|b| b.fields.keys())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .take(MAX_HISTORY_FIELDS)
                .cloned()
                .collect(),
        };
        response.bucket_ms = self.bucket_ms;
        response.buckets = buckets
            .into_iter()
            .map(|(index, acc)| {
                let per_field: Vec<Option<&FieldAcc>> =
                    fields.iter().map(|f| acc.fields.get(f)).collect();
                HistoryBucket {
                    t: self.query.from_ms + index * self.bucket_ms,
                    n: acc.n,
                    min: per_field.iter().map(|a| a.map(|a| a.min)).collect(),
                    max: per_field.iter().map(|a| a.map(|a| a.max)).collect(),
                    mean: per_field.iter().map(|a| a.map(|a| a.mean)).collect(),
                }
            })
            .collect();
        response.fields = fields;
        response
    }
}

/// The answer to `query` over `entries` at once (what [`HistoryFold`] does one sample at a time).
pub fn answer(
    device_id: &str,
    query: &HistoryQuery,
    entries: &[&Entry],
    truncated: bool,
) -> HistoryResponse {
    let mut fold = HistoryFold::new(query);
    for entry in entries {
        fold.add(entry);
    }
    fold.finish(device_id, truncated)
}

/// A CSV export: the text and, when it was cut at [`MAX_CSV_SAMPLES`], the `from` of the next page.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvExport {
    /// `ts,received_at,epoch,seq,<fields…>` and a row per sample.
    pub text: String,
    /// Unix ms to ask from for the rest.
    pub next_from_ms: Option<u64>,
}

/// Raw samples as CSV (RFC 4180): numbers as sent, strings quoted when needed. A string that a spreadsheet
/// would run as a formula (`=`, `+`, `-`, `@` first) gets a leading `'`.
pub fn csv_export(query: &HistoryQuery, entries: &[&Entry]) -> CsvExport {
    let (page, rest) = entries.split_at(entries.len().min(MAX_CSV_SAMPLES));
    let fields = fields_of(&query.fields, page, is_scalar);
    let mut text = String::from("ts,received_at,epoch,seq");
    for field in &fields {
        text.push(',');
        push_csv_text(&mut text, field);
    }
    text.push_str("\r\n");
    for entry in page {
        push_csv_text(&mut text, &entry.ts);
        text.push(',');
        text.push_str(&rfc3339_millis(entry.r));
        text.push(',');
        push_csv_text(&mut text, &entry.e);
        text.push(',');
        text.push_str(&entry.s.to_string());
        for field in &fields {
            text.push(',');
            match at_path(&entry.d, field) {
                Some(Value::Number(n)) => text.push_str(&n.to_string()),
                Some(Value::Bool(b)) => text.push_str(if *b { "true" } else { "false" }),
                Some(Value::String(s)) => push_csv_text(&mut text, s),
                _ => {}
            }
        }
        text.push_str("\r\n");
    }
    CsvExport {
        text,
        next_from_ms: rest.first().map(|e| e.t),
    }
}

fn push_csv_text(out: &mut String, value: &str) {
    let guarded = value.starts_with(['=', '+', '-', '@']);
    let needs_quotes = guarded || value.contains([',', '"', '\r', '\n']) || value.starts_with(' ');
    if !needs_quotes {
        out.push_str(value);
        return;
    }
    out.push('"');
    if guarded {
        out.push('\'');
    }
    out.push_str(&value.replace('"', "\"\""));
    out.push('"');
}

#[cfg(test)]
mod tests;
