//! What one Worker isolate remembers of the guard's 429s, so that an address that keeps failing is refused
//! without any subrequest until its block ends.
//!
//! Only blocks are remembered, never successes: a memo can make the hub refuse sooner, never admit anyone.

use std::collections::HashMap;

/// Most blocks one isolate remembers; when full, expired ones are dropped first, then all.
pub const MAX_BLOCKS: usize = 4096;

/// Blocked (address) and (address, target) keys with the time their block ends.
#[derive(Debug, Default)]
pub struct BlockMemo {
    until_ms: HashMap<String, u64>,
}

impl BlockMemo {
    /// Seconds the client must still wait for `target`, if this isolate knows it is blocked.
    pub fn retry_after_secs(&self, address: &str, target: &str, now_ms: u64) -> Option<u64> {
        [address_key(address), target_key(address, target)]
            .iter()
            .filter_map(|key| self.until_ms.get(key))
            .filter(|until| **until > now_ms)
            .map(|until| (until - now_ms).div_ceil(1000).max(1))
            .max()
    }

    /// Remembers that `address` is blocked for `target` for `retry_after_secs` from `now_ms`.
    ///
    /// The guard says whether its address-wide counter blocked ([`BlockMemo::remember_address`]); otherwise only
    /// the pair is blocked.
    pub fn remember(&mut self, address: &str, target: &str, retry_after_secs: u64, now_ms: u64) {
        self.insert(target_key(address, target), retry_after_secs, now_ms);
    }

    /// Remembers that every target of `address` is blocked (the address-wide limit).
    pub fn remember_address(&mut self, address: &str, retry_after_secs: u64, now_ms: u64) {
        self.insert(address_key(address), retry_after_secs, now_ms);
    }

    /// Keeps `key` blocked until `retry_after_secs` from `now_ms`, never holding more than [`MAX_BLOCKS`] keys.
    fn insert(&mut self, key: String, retry_after_secs: u64, now_ms: u64) {
        if self.until_ms.len() >= MAX_BLOCKS {
            self.until_ms.retain(|_, until| *until > now_ms);
            if self.until_ms.len() >= MAX_BLOCKS {
                self.until_ms.clear();
            }
        }
        let until = now_ms.saturating_add(retry_after_secs.saturating_mul(1000));
        self.until_ms.insert(key, until);
    }

    /// How many keys are remembered.
    pub fn len(&self) -> usize {
        self.until_ms.len()
    }

    /// Whether nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.until_ms.is_empty()
    }
}

fn address_key(address: &str) -> String {
    format!("{address}\n")
}

fn target_key(address: &str, target: &str) -> String {
    format!("{address}\n{target}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_a_pair_until_its_block_ends() {
        let mut memo = BlockMemo::default();
        memo.remember("10.0.0.2", "device:a", 30, 1_000);
        assert_eq!(
            memo.retry_after_secs("10.0.0.2", "device:a", 1_000),
            Some(30)
        );
        assert_eq!(
            memo.retry_after_secs("10.0.0.2", "device:a", 30_500),
            Some(1)
        );
        assert_eq!(memo.retry_after_secs("10.0.0.2", "device:a", 31_000), None);
    }

    #[test]
    fn another_address_or_target_is_not_blocked() {
        let mut memo = BlockMemo::default();
        memo.remember("10.0.0.2", "device:a", 30, 0);
        assert_eq!(memo.retry_after_secs("10.0.0.1", "device:a", 0), None);
        assert_eq!(memo.retry_after_secs("10.0.0.2", "device:b", 0), None);
    }

    #[test]
    fn an_address_block_covers_every_target() {
        let mut memo = BlockMemo::default();
        memo.remember_address("10.0.0.2", 5, 0);
        assert_eq!(memo.retry_after_secs("10.0.0.2", "admin", 0), Some(5));
        assert_eq!(memo.retry_after_secs("10.0.0.3", "admin", 0), None);
    }

    #[test]
    fn stays_bounded() {
        let mut memo = BlockMemo::default();
        for i in 0..(MAX_BLOCKS + 5) {
            let address = format!("10.0.{}.{}", i / 256, i % 256);
            memo.remember(&address, "t", 60, 0);
            memo.remember_address(&address, 60, 0);
        }
        assert!(memo.len() <= MAX_BLOCKS);
        assert!(!memo.is_empty());
    }
}
