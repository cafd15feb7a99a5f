//! Target for the hub's history queries (`telemetry_hub::history`): any query string against any samples.
//!
//! Input: the first line is a query string (`from=…&to=…&fields=…&points=…`, `%`-escapes not decoded), each
//! further line a sample's `data` as JSON, placed one second apart from the query's start. Properties: parsing
//! never panics and what it accepts is a valid range and budget; the answer counts every sample in the range once,
//! is raw only within the budget, and every bucket's min <= mean <= max; CSV has a row per sample in the range;
//! a stored row decodes back to what was encoded, and arbitrary bytes never decode into a panic.

use serde_json::{Map, Value};
use telemetry_hub::history::{
    Entry, HistoryFold, NumberColumns, chunk_rows, csv_export, decode_row, in_range,
    parse_history_query,
};
use telemetry_protocol::history::{MAX_HISTORY_FIELDS, MAX_HISTORY_POINTS};

use crate::fields::text;

const NOW_MS: u64 = 1_770_120_000_000;

/// One input through query parsing, folding, CSV and the row codec.
pub fn history_query(data: &[u8]) {
    let _ = decode_row(data);
    let _ = NumberColumns::decode(data);
    let text = text(data);
    let mut lines = text.lines();
    let query_line = lines.next().unwrap_or("");
    let pairs: Vec<(&str, &str)> = query_line
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split_once('=').unwrap_or((p, "")))
        .collect();
    let Ok(query) = parse_history_query(pairs, NOW_MS, false) else {
        return;
    };
    assert!(query.from_ms < query.to_ms, "an empty range was accepted");
    assert!((1..=MAX_HISTORY_POINTS).contains(&query.points));
    assert!(
        query
            .fields
            .as_ref()
            .is_none_or(|f| !f.is_empty() && f.len() <= MAX_HISTORY_FIELDS)
    );
    let entries: Vec<Entry> = lines
        .take(2_000)
        .enumerate()
        .map(|(i, line)| Entry {
            t: query.from_ms.saturating_add(i as u64 * 1_000),
            r: NOW_MS,
            e: "e".into(),
            s: i as u64 + 1,
            ts: String::new(),
            d: serde_json::from_str::<Map<String, Value>>(line).unwrap_or_default(),
        })
        .collect();
    let in_range_count = in_range(&query, &entries, &[]).len();
    let mut fold = HistoryFold::new(&query);
    for entry in &entries {
        fold.add(entry);
    }
    // The same samples through a stored row's columns give the same answer.
    let mut from_columns = HistoryFold::new(&query);
    for row in chunk_rows(&entries) {
        if let Some(columns) = row.numbers.as_deref().and_then(NumberColumns::decode) {
            from_columns.add_columns(&columns);
        } else {
            for entry in decode_row(&row.body).unwrap_or_default() {
                from_columns.add(&entry);
            }
        }
    }
    let answer = fold.finish("d", false);
    let columns_answer = from_columns.finish("d", false);
    assert_eq!(
        (
            &answer.fields,
            answer.bucket_ms,
            answer.samples.len(),
            answer.buckets.len()
        ),
        (
            &columns_answer.fields,
            columns_answer.bucket_ms,
            columns_answer.samples.len(),
            columns_answer.buckets.len()
        ),
        "columns and JSON disagree"
    );
    if answer.bucket_ms == 0 {
        assert_eq!(answer.samples.len(), in_range_count);
        assert!(answer.samples.len() <= query.points as usize);
        assert!(
            answer
                .samples
                .iter()
                .all(|s| s.v.len() == answer.fields.len())
        );
    } else {
        let counted: usize = answer.buckets.iter().map(|b| b.n as usize).sum();
        assert_eq!(counted, in_range_count);
        for bucket in &answer.buckets {
            for ((min, max), mean) in bucket.min.iter().zip(&bucket.max).zip(&bucket.mean) {
                if let (Some(min), Some(max), Some(mean)) = (min, max, mean) {
                    let slack = 1e-9 * (min.abs() + max.abs()).max(1.0);
                    assert!(*min <= *max && *mean >= min - slack && *mean <= max + slack);
                }
            }
        }
    }
    let refs = in_range(&query, &entries, &[]);
    let csv = csv_export(&query, &refs);
    assert!(
        csv.text.matches("\r\n").count() > refs.len(),
        "a row per sample"
    );
    for row in chunk_rows(&entries) {
        let back = decode_row(&row.body).expect("a written row decodes");
        assert_eq!(back.len(), row.count as usize);
    }
}
