//! Tests of the history core: grouping, placement, rows, stored runs, queries and CSV.

use super::*;
use serde_json::json;

const T0: u64 = 1_770_116_400_000; // 2026-02-03T11:00:00Z
const POLICY: HistoryPolicy = HistoryPolicy::DEFAULT;

fn entry(seq: u64, t: u64, data: Value) -> Entry {
    Entry {
        t,
        r: t + 50,
        e: "e1".into(),
        s: seq,
        ts: rfc3339_millis(t),
        d: data.as_object().cloned().unwrap_or_default(),
    }
}

fn series(count: u64, every_ms: u64) -> Vec<Entry> {
    (0..count)
        .map(|i| {
            entry(
                i + 1,
                T0 + i * every_ms,
                json!({"battery": {"soc": i, "state": "ok"}}),
            )
        })
        .collect()
}

fn query(from_ms: u64, to_ms: u64, points: u32) -> HistoryQuery {
    HistoryQuery {
        from_ms,
        to_ms,
        fields: None,
        points,
        csv: false,
    }
}

#[test]
fn a_believable_ts_places_the_sample_and_a_wild_one_falls_back_to_arrival() {
    let week = POLICY.retention_ms;
    assert_eq!(placement_ms(Some(T0 - 3_600_000), T0, week), T0 - 3_600_000);
    assert_eq!(placement_ms(Some(0), T0, week), T0, "a Pi that says 1970");
    assert_eq!(
        placement_ms(Some(T0 + 3_600_000), T0, week),
        T0,
        "an hour ahead"
    );
    assert_eq!(placement_ms(None, T0, week), T0);
}

#[test]
fn a_group_is_due_by_count_by_age_by_size_and_after_quiet() {
    let mut group = PendingGroup::default();
    assert!(
        !group.is_due(T0, None, &POLICY),
        "an empty group is never due"
    );
    group.push(entry(1, T0, json!({})), 10);
    assert!(!group.is_due(T0 + 1_000, Some(1_000), &POLICY));
    assert!(
        group.is_due(T0 + 1_000, Some(6_000), &POLICY),
        "a slow device"
    );
    assert!(group.is_due(T0 + 1_000, None, &POLICY), "a first frame");
    assert!(
        !group.is_due(T0 + POLICY.flush_ms, Some(1_000), &POLICY),
        "arrived at T0 + 50"
    );
    assert!(
        group.is_due(T0 + 50 + POLICY.flush_ms, Some(1_000), &POLICY),
        "old enough"
    );
    group.push(entry(2, T0, json!({})), POLICY.flush_bytes);
    assert!(group.is_due(T0 + 1_000, Some(1_000), &POLICY), "big enough");
    let mut counted = PendingGroup::default();
    for seq in 0..POLICY.flush_samples as u64 {
        assert!(!counted.is_due(T0, Some(1_000), &POLICY) || seq == 0);
        counted.push(entry(seq + 1, T0, json!({})), 1);
    }
    assert!(counted.is_due(T0, Some(1_000), &POLICY), "many enough");
    counted.clear();
    assert!(counted.is_empty());
}

#[test]
fn rows_round_trip_compressed_and_never_span_more_than_an_hour() {
    let mut entries = series(600, 1_000);
    // A backlog from three hours ago arrives in the same group.
    entries.extend((0..10).map(|i| entry(1000 + i, T0 - 3 * 3_600_000 + i, json!({"v": i}))));
    let rows = chunk_rows(&entries);
    assert_eq!(rows.len(), 2);
    assert_eq!(
        rows[0].start_ms,
        T0 - 3 * 3_600_000,
        "the backlog lands in its own place"
    );
    assert_eq!((rows[1].start_ms, rows[1].end_ms), (T0, T0 + 599_000));
    assert_eq!(rows[1].count, 600);
    let back = decode_row(&rows[1].body).expect("readable");
    assert_eq!(back.len(), 600);
    assert_eq!(back[0], entries[0]);
    let raw = serde_json::to_vec(&entries[..600]).expect("json").len();
    assert!(
        rows[1].body.len() * 4 < raw,
        "compressed {} of {raw}",
        rows[1].body.len()
    );
    assert!(decode_row(b"not deflate").is_none());
    let long: Vec<Entry> = (0..5)
        .map(|i| entry(i + 1, T0 + i * 40 * 60_000, json!({})))
        .collect();
    for row in chunk_rows(&long) {
        assert!(row.end_ms - row.start_ms <= CHUNK_SPAN_MS);
    }
}

#[test]
fn stored_runs_are_contiguous_per_epoch() {
    let seqs = [("e1", 3), ("e1", 1), ("e1", 2), ("e1", 7), ("e0", 9)];
    let runs = stored_runs(seqs);
    let shown: Vec<(String, u64, u64)> =
        runs.into_iter().map(|r| (r.epoch, r.from, r.to)).collect();
    assert_eq!(
        shown,
        vec![
            ("e0".into(), 9, 9),
            ("e1".into(), 1, 3),
            ("e1".into(), 7, 7)
        ]
    );
    assert!(stored_runs(std::iter::empty()).is_empty());
}

#[test]
fn query_parameters_are_checked() {
    let now = T0;
    let q = parse_history_query([], now, false).expect("defaults");
    assert_eq!((q.from_ms, q.to_ms, q.points), (T0 - 3_600_000, T0, 1000));
    let q = parse_history_query(
        [
            ("from", "2026-02-03T10:00:00Z"),
            ("to", "1770116400000"),
            ("fields", "battery.soc, pv"),
            ("points", "50"),
            ("other", "x"),
        ],
        now,
        true,
    )
    .expect("valid");
    assert_eq!(q.from_ms, T0 - 3_600_000);
    assert_eq!(q.fields, Some(vec!["battery.soc".into(), "pv".into()]));
    assert!(q.csv && q.points == 50);
    for bad in [
        ("from", "yesterday"),
        ("to", "-5"),
        ("points", "0"),
        ("points", "5001"),
        ("fields", ","),
    ] {
        let error = parse_history_query([bad], now, false).expect_err("refused");
        assert_eq!(error.status(), 400, "{bad:?}");
    }
    let backwards = parse_history_query([("from", "1770116400001")], T0, false);
    assert_eq!(backwards.expect_err("refused").status(), 400);
}

#[test]
fn a_range_that_fits_the_budget_is_raw() {
    let entries = series(10, 1_000);
    let q = query(T0, T0 + 3_600_000, 100);
    let refs = in_range(&q, &entries, &[]);
    let out = answer("ems_001", &q, &refs, false);
    assert_eq!(out.fields, vec!["battery.soc".to_owned()], "numbers only");
    assert_eq!(out.bucket_ms, 0);
    assert_eq!(out.samples.len(), 10);
    assert_eq!(out.samples[3].t, T0 + 3_000);
    assert_eq!(out.samples[3].v, vec![Some(3.0)]);
    assert!(out.buckets.is_empty());
}

#[test]
fn a_day_at_one_hertz_becomes_a_thousand_buckets_with_gaps_left_out() {
    let day = 86_400_000;
    let mut entries = series(86_400, 1_000);
    // A two-hour outage: nothing measured.
    entries.retain(|e| !(T0 + 3_600_000..T0 + 3 * 3_600_000).contains(&e.t));
    let q = query(T0, T0 + day, 1000);
    let refs = in_range(&q, &entries, &[]);
    let out = answer("ems_001", &q, &refs, false);
    assert_eq!(out.bucket_ms, 86_400);
    assert!(out.samples.is_empty());
    let gap = (2 * 3_600_000 / 86_400) as usize;
    assert!((1000 - gap - 1..=1000 - gap + 1).contains(&out.buckets.len()));
    let first = &out.buckets[0];
    assert_eq!((first.t, first.n), (T0, 87));
    assert_eq!(first.min, vec![Some(0.0)]);
    assert_eq!(first.max, vec![Some(86.0)]);
    assert_eq!(first.mean, vec![Some(43.0)]);
    let total: u32 = out.buckets.iter().map(|b| b.n).sum();
    assert_eq!(total as usize, entries.len());
    assert!(out.buckets.windows(2).all(|w| w[0].t < w[1].t));
}

#[test]
fn pending_and_stored_samples_merge_in_time_and_resends_count_once() {
    let stored = series(5, 1_000);
    let pending = vec![
        entry(3, T0 + 2_000, json!({"battery": {"soc": 2}})),
        entry(9, T0 + 500, json!({})),
    ];
    let q = query(T0, T0 + 10_000, 100);
    let refs = in_range(&q, &stored, &pending);
    let seqs: Vec<u64> = refs.iter().map(|e| e.s).collect();
    assert_eq!(seqs, vec![1, 9, 2, 3, 4, 5]);
    let outside = query(T0 + 60_000, T0 + 70_000, 100);
    assert!(in_range(&outside, &stored, &pending).is_empty());
}

#[test]
fn asked_fields_come_in_order_with_nulls_where_missing() {
    let entries = vec![
        entry(1, T0, json!({"a": 1, "b": {"c": 2.5}})),
        entry(2, T0 + 1, json!({"a": "text"})),
    ];
    let mut q = query(T0, T0 + 10, 100);
    q.fields = Some(vec!["b.c".into(), "a".into(), "missing".into()]);
    let refs = in_range(&q, &entries, &[]);
    let out = answer("d", &q, &refs, true);
    assert!(out.truncated);
    assert_eq!(out.samples[0].v, vec![Some(2.5), Some(1.0), None]);
    assert_eq!(out.samples[1].v, vec![None, None, None]);
}

#[test]
fn csv_has_every_scalar_field_quotes_text_and_defuses_formulas() {
    let entries = vec![
        entry(1, T0, json!({"soc": 85, "mode": "eco, fast", "ok": true})),
        entry(
            2,
            T0 + 1_000,
            json!({"soc": 84.5, "mode": "=HYPERLINK(\"x\")"}),
        ),
    ];
    let q = query(T0, T0 + 10_000, 100);
    let refs = in_range(&q, &entries, &[]);
    let export = csv_export(&q, &refs);
    let lines: Vec<&str> = export.text.split("\r\n").collect();
    assert_eq!(lines[0], "ts,received_at,epoch,seq,mode,ok,soc");
    assert_eq!(
        lines[1],
        "2026-02-03T11:00:00.000Z,2026-02-03T11:00:00.050Z,e1,1,\"eco, fast\",true,85"
    );
    assert_eq!(
        lines[2],
        "2026-02-03T11:00:01.000Z,2026-02-03T11:00:01.050Z,e1,2,\"'=HYPERLINK(\"\"x\"\")\",,84.5"
    );
    assert_eq!(export.next_from_ms, None);
}

#[test]
fn a_csv_past_its_limit_says_where_to_go_on() {
    let entries = series(MAX_CSV_SAMPLES as u64 + 5, 10);
    let q = query(T0, T0 + 100_000_000, 100);
    let refs = in_range(&q, &entries, &[]);
    let export = csv_export(&q, &refs);
    assert_eq!(export.text.matches("\r\n").count(), MAX_CSV_SAMPLES + 1);
    assert_eq!(export.next_from_ms, Some(T0 + MAX_CSV_SAMPLES as u64 * 10));
}

#[test]
fn an_entry_round_trips_to_what_dashboards_see() {
    let sample = DashboardTelemetry {
        device_id: "ems_001".into(),
        epoch: Some("e1".into()),
        seq: 7,
        ts: "2026-02-03T11:00:00Z".into(),
        received_at: "2026-02-03T11:00:00.050Z".into(),
        data: json!({"v": 1}).as_object().cloned().unwrap_or_default(),
    };
    let entry = Entry::from_sample(sample.clone(), T0 + 50, POLICY.retention_ms);
    assert_eq!(entry.t, T0);
    assert_eq!(entry.to_telemetry("ems_001"), sample);
}

#[test]
fn the_policy_is_clamped() {
    let policy = HistoryPolicy::new(0, 0, 0);
    assert_eq!((policy.flush_samples, policy.flush_ms), (1, 1_000));
    assert_eq!(policy.retention_ms, DAY_MS);
    let big = HistoryPolicy::new(u64::MAX, u64::MAX, u64::MAX);
    assert_eq!(big.flush_samples, 5000);
}

#[test]
fn a_mean_of_huge_values_stays_between_min_and_max() {
    let entries: Vec<Entry> = [1e308, 1e308, -1.3e10, 1e308]
        .iter()
        .enumerate()
        .map(|(i, v)| entry(i as u64 + 1, T0 + i as u64, json!({ "a": v })))
        .collect();
    let q = query(T0, T0 + 10, 1);
    let refs = in_range(&q, &entries, &[]);
    let out = answer("d", &q, &refs, false);
    let mean = out.buckets[0].mean[0].expect("a mean");
    assert!(
        mean.is_finite() && (-1.3e10..=1e308).contains(&mean),
        "{mean}"
    );
}

#[test]
fn pruning_deletes_only_rows_that_ended_before_the_retention() {
    let now = T0 + 30 * DAY_MS;
    let cutoff = prune_before_ms(now, &POLICY);
    let kept_edge = now - POLICY.retention_ms;
    // A row that ends at the edge of the retention started at most an hour before it: kept.
    for row in chunk_rows(&[
        entry(1, kept_edge - CHUNK_SPAN_MS, json!({})),
        entry(2, kept_edge, json!({})),
    ]) {
        assert!(row.start_ms >= cutoff);
    }
    // A row that starts before the cutoff ended before the retention's edge.
    let expired = chunk_rows(&[entry(3, cutoff - 1, json!({}))]);
    assert!(expired[0].start_ms < cutoff && expired[0].end_ms < kept_edge);
    assert_eq!(prune_before_ms(5, &POLICY), 0);
}

#[test]
fn a_rows_columns_round_trip_and_fold_to_the_same_answer_as_its_json() {
    let mut entries = series(3_000, 1_000);
    entries[7].d.insert("extra".into(), json!(-2.5));
    let rows = chunk_rows(&entries);
    let mut from_columns = HistoryFold::new(&query(T0, T0 + 3_600_000, 100));
    let mut from_json = HistoryFold::new(&query(T0, T0 + 3_600_000, 100));
    for row in &rows {
        let columns =
            NumberColumns::decode(row.numbers.as_deref().expect("columns")).expect("readable");
        assert_eq!(columns.times.len(), row.count as usize);
        assert_eq!(
            columns.fields,
            vec!["battery.soc".to_owned(), "extra".to_owned()]
        );
        from_columns.add_columns(&columns);
        for entry in decode_row(&row.body).expect("json") {
            from_json.add(&entry);
        }
    }
    let (a, b) = (
        from_columns.finish("d", false),
        from_json.finish("d", false),
    );
    assert_eq!(a, b);
    assert_eq!(a.buckets.iter().map(|b| b.n).sum::<u32>(), 3_000);
    assert!(NumberColumns::decode(b"junk").is_none());
    let truncated = {
        let columns =
            NumberColumns::decode(rows[0].numbers.as_deref().expect("columns")).expect("ok");
        let mut raw = miniz_oxide::inflate::decompress_to_vec(&columns.encode()).expect("inflates");
        raw.truncate(raw.len() - 3);
        miniz_oxide::deflate::compress_to_vec(&raw, 1)
    };
    assert!(
        NumberColumns::decode(&truncated).is_none(),
        "a short row is refused"
    );
}

#[test]
fn asked_fields_come_from_columns_too() {
    let entries = series(10, 1_000);
    let rows = chunk_rows(&entries);
    let mut q = query(T0, T0 + 60_000, 100);
    q.fields = Some(vec!["battery.soc".into(), "battery.state".into()]);
    let mut fold = HistoryFold::new(&q);
    fold.add_columns(&NumberColumns::decode(rows[0].numbers.as_deref().expect("c")).expect("ok"));
    let out = fold.finish("d", false);
    assert_eq!(out.samples.len(), 10);
    assert_eq!(
        out.samples[2].v,
        vec![Some(2.0), None],
        "a text field has no number"
    );
}
