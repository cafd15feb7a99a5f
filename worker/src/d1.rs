//! The Worker's one way into D1: bound-parameter queries on the `DB` binding.

use serde::de::DeserializeOwned;
use worker::wasm_bindgen::JsValue;
use worker::{Env, Result};

/// Binding name of the D1 database.
const DB_BINDING: &str = "DB";

/// The first row of `sql` with `params` bound, if any.
pub async fn first<T: DeserializeOwned>(
    env: &Env,
    sql: &str,
    params: &[JsValue],
) -> Result<Option<T>> {
    let statement = env.d1(DB_BINDING)?.prepare(sql).bind(params)?;
    statement.first::<T>(None).await
}

/// Every row of `sql` with `params` bound.
pub async fn all<T: DeserializeOwned>(env: &Env, sql: &str, params: &[JsValue]) -> Result<Vec<T>> {
    let statement = env.d1(DB_BINDING)?.prepare(sql).bind(params)?;
    statement.all().await?.results::<T>()
}

/// Runs a write with `params` bound and returns how many rows it changed.
pub async fn run(env: &Env, sql: &str, params: &[JsValue]) -> Result<usize> {
    let statement = env.d1(DB_BINDING)?.prepare(sql).bind(params)?;
    let result = statement.run().await?;
    Ok(result.meta()?.and_then(|m| m.changes).unwrap_or(0))
}
