//! The numbers of a history row, column by column: each sample's time and the value of every numeric field, so a
//! query folds a day of samples without parsing their JSON. Written beside the row's JSON, deflated.
//!
//! Layout (little-endian): `u16` field count, each field as `u16` length and UTF-8 bytes, `u32` sample count,
//! the times as `u64`, then per field one `f64` per sample, NaN where the sample has no number there.

use std::collections::BTreeMap;

use super::{DEFLATE_LEVEL, Entry, for_each_leaf};

/// Most fields a row's columns hold; a row with more numeric fields keeps only its JSON.
const MAX_COLUMNS: usize = 64;
/// Largest inflated columns accepted when reading.
const MAX_COLUMN_BYTES: usize = 64 * 1024 * 1024;

/// A row's numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct NumberColumns {
    /// The numeric fields, as dotted paths, sorted.
    pub fields: Vec<String>,
    /// Each sample's time, Unix ms.
    pub times: Vec<u64>,
    /// Per field, one value per sample; NaN where the sample has no number.
    pub values: Vec<Vec<f64>>,
}

impl NumberColumns {
    /// The columns of `entries`; `None` when they have more numeric fields than a row keeps.
    pub fn of(entries: &[&Entry]) -> Option<Self> {
        let mut index: BTreeMap<String, usize> = BTreeMap::new();
        let mut columns: Vec<Vec<f64>> = Vec::new();
        for (row, entry) in entries.iter().enumerate() {
            let mut too_many = false;
            for_each_leaf(&entry.d, |path, value| {
                let Some(number) = value.as_f64() else {
                    return;
                };
                let column = match index.get(path) {
                    Some(column) => *column,
                    None if index.len() >= MAX_COLUMNS => {
                        too_many = true;
                        return;
                    }
                    None => {
                        index.insert(path.to_owned(), columns.len());
                        columns.push(vec![f64::NAN; entries.len()]);
                        columns.len() - 1
                    }
                };
                columns[column][row] = number;
            });
            if too_many {
                return None;
            }
        }
        let (fields, values) = index
            .into_iter()
            .map(|(field, column)| (field, std::mem::take(&mut columns[column])))
            .unzip();
        Some(Self {
            fields,
            times: entries.iter().map(|e| e.t).collect(),
            values,
        })
    }

    /// The deflated bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(8 + self.times.len() * 8 * (1 + self.fields.len()));
        out.extend_from_slice(&(self.fields.len() as u16).to_le_bytes());
        for field in &self.fields {
            out.extend_from_slice(&(field.len() as u16).to_le_bytes());
            out.extend_from_slice(field.as_bytes());
        }
        out.extend_from_slice(&(self.times.len() as u32).to_le_bytes());
        for t in &self.times {
            out.extend_from_slice(&t.to_le_bytes());
        }
        for column in &self.values {
            for value in column {
                out.extend_from_slice(&value.to_le_bytes());
            }
        }
        miniz_oxide::deflate::compress_to_vec(&out, DEFLATE_LEVEL)
    }

    /// Reads deflated bytes; `None` for anything malformed.
    pub fn decode(bytes: &[u8]) -> Option<Self> {
        let raw =
            miniz_oxide::inflate::decompress_to_vec_with_limit(bytes, MAX_COLUMN_BYTES).ok()?;
        let mut reader = Reader(&raw);
        let field_count = usize::from(reader.u16()?);
        if field_count > MAX_COLUMNS {
            return None;
        }
        let mut fields = Vec::with_capacity(field_count);
        for _ in 0..field_count {
            let len = usize::from(reader.u16()?);
            fields.push(String::from_utf8(reader.take(len)?.to_vec()).ok()?);
        }
        let count = reader.u32()? as usize;
        if reader.0.len() != count.checked_mul(8 * (1 + field_count))? {
            return None;
        }
        let times = (0..count)
            .map(|_| reader.u64())
            .collect::<Option<Vec<_>>>()?;
        let values = (0..field_count)
            .map(|_| (0..count).map(|_| reader.f64()).collect::<Option<Vec<_>>>())
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            fields,
            times,
            values,
        })
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn array<const N: usize>(&mut self) -> Option<[u8; N]> {
        self.take(N)?.try_into().ok()
    }

    fn u16(&mut self) -> Option<u16> {
        self.array().map(u16::from_le_bytes)
    }

    fn u32(&mut self) -> Option<u32> {
        self.array().map(u32::from_le_bytes)
    }

    fn u64(&mut self) -> Option<u64> {
        self.array().map(u64::from_le_bytes)
    }

    fn f64(&mut self) -> Option<f64> {
        self.array().map(f64::from_le_bytes)
    }
}
