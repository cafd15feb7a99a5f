//! Randomness for new tokens, from the runtime's CSPRNG (`crypto.getRandomValues`).

use telemetry_protocol::TokenId;
use telemetry_protocol::token_id::TOKEN_ID_BYTES;
use worker::js_sys::{Function, Reflect, Uint8Array, global};
use worker::wasm_bindgen::JsCast;

/// Fills `buf` from `crypto.getRandomValues`.
pub fn fill(buf: &mut [u8]) -> worker::Result<()> {
    let crypto = Reflect::get(&global(), &"crypto".into())?;
    let get_random_values: Function =
        Reflect::get(&crypto, &"getRandomValues".into())?.dyn_into()?;
    // getRandomValues takes at most 65,536 bytes at a time.
    for chunk in buf.chunks_mut(65_536) {
        let array = Uint8Array::new_with_length(chunk.len() as u32);
        get_random_values.call1(&crypto, &array)?;
        array.copy_to(chunk);
    }
    Ok(())
}

/// A new token of `kind`, or an error if the runtime's CSPRNG failed (never a weak token).
pub fn token(kind: telemetry_protocol::TokenKind) -> worker::Result<String> {
    let mut failure = None;
    let token = telemetry_protocol::generate_token(kind, |buf| {
        if let Err(e) = fill(buf) {
            failure = Some(e);
        }
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(token),
    }
}

/// A public dashboard token id: `dt_` and 12 lowercase hex digits.
pub fn token_id() -> worker::Result<TokenId> {
    let mut bytes = [0u8; TOKEN_ID_BYTES];
    fill(&mut bytes)?;
    Ok(TokenId::from_random_bytes(bytes))
}
