//! SQL text for D1, built from validated values only: device ids, token hashes, enum words and escaped labels.
//!
//! Every literal still goes through [`sql_text`], so even a value that escaped validation cannot end its
//! string. No function here takes a token: rows carry a [`TokenHash`].

use std::collections::HashSet;

use telemetry_protocol::DeviceId;

use crate::scope::{Access, DashboardScope, Label};
use crate::{HubctlError, TokenHash};

/// Most devices one `device create` may insert (one statement, well under D1's statement size limit).
pub const MAX_DEVICES_PER_BATCH: usize = 100;

/// A `devices` row to insert.
#[derive(Debug, Clone, Copy)]
pub struct DeviceRow<'a> {
    /// The device id.
    pub id: &'a DeviceId,
    /// Hash of the device's new token.
    pub token_sha256: &'a TokenHash,
}

/// A `dashboard_tokens` row to insert.
#[derive(Debug, Clone, Copy)]
pub struct DashboardTokenRow<'a> {
    /// Public token id (`dt_…`).
    pub token_id: &'a str,
    /// Hash of the new token.
    pub token_sha256: &'a TokenHash,
    /// Devices the token covers.
    pub scope: &'a DashboardScope,
    /// Read or control.
    pub access: Access,
    /// Optional label.
    pub label: Option<&'a Label>,
}

/// Checks a batch of ids for `device create`: not empty, not too many, no repeats.
pub fn check_device_batch(ids: &[DeviceId]) -> Result<(), HubctlError> {
    if ids.is_empty() {
        return Err(HubctlError::NoDevices);
    }
    if ids.len() > MAX_DEVICES_PER_BATCH {
        return Err(HubctlError::TooManyDevices {
            max: MAX_DEVICES_PER_BATCH,
            given: ids.len(),
        });
    }
    let mut seen = HashSet::new();
    match ids.iter().find(|id| !seen.insert(*id)) {
        Some(repeated) => Err(HubctlError::DuplicateDeviceId(repeated.clone())),
        None => Ok(()),
    }
}

/// One multi-row `INSERT` (atomic: all devices are created or none). A plain `INSERT`, so an existing id
/// fails with a primary-key violation instead of replacing the device's token.
pub fn insert_devices_sql(rows: &[DeviceRow<'_>]) -> String {
    let values: Vec<String> = rows
        .iter()
        .map(|row| {
            format!(
                "({}, {})",
                sql_text(row.id.as_str()),
                sql_text(row.token_sha256.as_hex())
            )
        })
        .collect();
    format!(
        "INSERT INTO devices (id, token_sha256) VALUES\n  {};\n",
        values.join(",\n  ")
    )
}

/// The `INSERT` of one dashboard token.
pub fn insert_dashboard_token_sql(row: &DashboardTokenRow<'_>) -> String {
    let label = row
        .label
        .map_or_else(|| "NULL".to_owned(), |l| sql_text(l.as_str()));
    format!(
        "INSERT INTO dashboard_tokens (id, token_sha256, devices, access, label) VALUES\n  ({}, {}, {}, {}, {});\n",
        sql_text(row.token_id),
        sql_text(row.token_sha256.as_hex()),
        sql_text(&row.scope.to_string()),
        sql_text(row.access.as_str()),
        label
    )
}

/// A query for which of `ids` already exist, to name them after a primary-key violation.
pub fn existing_devices_sql(ids: &[DeviceId]) -> String {
    let list: Vec<String> = ids.iter().map(|id| sql_text(id.as_str())).collect();
    format!(
        "SELECT id FROM devices WHERE id IN ({}) ORDER BY id",
        list.join(", ")
    )
}

/// `text` as an SQL string literal: wrapped in single quotes, each inner single quote doubled.
pub fn sql_text(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::credential::new_token;
    use telemetry_protocol::TokenKind;

    fn id(raw: &str) -> DeviceId {
        DeviceId::parse(raw).expect("valid")
    }

    #[test]
    fn text_literals_double_single_quotes() {
        assert_eq!(sql_text("plain"), "'plain'");
        assert_eq!(sql_text("it's"), "'it''s'");
        assert_eq!(sql_text("''"), "''''''");
        assert_eq!(
            sql_text("x'); DROP TABLE devices; --"),
            "'x''); DROP TABLE devices; --'"
        );
    }

    #[test]
    fn device_inserts_are_one_statement_with_ids_and_hashes_only() {
        let tokens = [new_token(TokenKind::Device), new_token(TokenKind::Device)]
            .map(|t| t.expect("random"));
        let hashes = tokens.each_ref().map(|t| TokenHash::of(t));
        let ids = [id("ems_001"), id("ems-002")];
        let rows = [0, 1].map(|i| DeviceRow {
            id: &ids[i],
            token_sha256: &hashes[i],
        });
        let sql = insert_devices_sql(&rows);
        assert_eq!(
            sql,
            format!(
                "INSERT INTO devices (id, token_sha256) VALUES\n  ('ems_001', '{}'),\n  ('ems-002', '{}');\n",
                hashes[0].as_hex(),
                hashes[1].as_hex()
            )
        );
        for token in &tokens {
            assert!(!sql.contains(token.as_str()) && !sql.contains(&token[5..48]));
        }
        assert_eq!(sql.matches(';').count(), 1);
    }

    #[test]
    fn dashboard_insert_escapes_the_label_and_holds_no_token() {
        let token = new_token(TokenKind::Dashboard).expect("random");
        let hash = TokenHash::of(&token);
        let scope = DashboardScope::parse("a,b").expect("scope");
        let label = Label::parse("Ops' wall; --").expect("label");
        let row = DashboardTokenRow {
            token_id: "dt_0123456789ab",
            token_sha256: &hash,
            scope: &scope,
            access: Access::Control,
            label: Some(&label),
        };
        let sql = insert_dashboard_token_sql(&row);
        let expected = format!(
            "('dt_0123456789ab', '{}', 'a,b', 'control', 'Ops'' wall; --');",
            hash.as_hex()
        );
        assert!(sql.contains(&expected), "{sql}");
        assert!(!sql.contains(token.as_str()) && !sql.contains(&token[6..40]));
        let unlabelled = insert_dashboard_token_sql(&DashboardTokenRow { label: None, ..row });
        assert!(unlabelled.contains("'control', NULL);"));
    }

    #[test]
    fn star_scope_is_stored_as_a_star() {
        let hash = TokenHash::of("x");
        let row = DashboardTokenRow {
            token_id: "dt_000000000000",
            token_sha256: &hash,
            scope: &DashboardScope::All,
            access: Access::Read,
            label: None,
        };
        assert!(insert_dashboard_token_sql(&row).contains("'*', 'read', NULL"));
    }

    #[test]
    fn existing_devices_query_lists_quoted_ids() {
        let sql = existing_devices_sql(&[id("a"), id("b")]);
        assert_eq!(
            sql,
            "SELECT id FROM devices WHERE id IN ('a', 'b') ORDER BY id"
        );
    }

    #[test]
    fn batches_must_be_non_empty_bounded_and_without_repeats() {
        assert!(matches!(
            check_device_batch(&[]),
            Err(HubctlError::NoDevices)
        ));
        assert!(check_device_batch(&[id("a"), id("b")]).is_ok());
        assert!(matches!(
            check_device_batch(&[id("a"), id("b"), id("a")]),
            Err(HubctlError::DuplicateDeviceId(d)) if d.as_str() == "a"
        ));
        let many: Vec<DeviceId> = (0..=MAX_DEVICES_PER_BATCH)
            .map(|i| id(&format!("d{i}")))
            .collect();
        assert!(matches!(
            check_device_batch(&many),
            Err(HubctlError::TooManyDevices { given: 101, .. })
        ));
        assert!(check_device_batch(&many[..MAX_DEVICES_PER_BATCH]).is_ok());
    }
}
