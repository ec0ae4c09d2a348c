//! A hasher for order ids that keeps consecutive ids in consecutive hash-table buckets.

use std::hash::{BuildHasherDefault, Hasher};

/// Hashes an order id to itself in the low bits and to a multiplicative mix in the top
/// seven bits.
///
/// Order ids are handed out sequentially and most lookups are for recent ids, so placing
/// id `n` next to id `n + 1` (the table indexes by the low bits) turns the random cache misses
/// of a scrambling hash into sequential access; the mixed top bits keep the table's
/// seven-bit tags (SwissTable control bytes) distinct. This only affects speed: any hash is
/// correct.
#[derive(Clone, Copy, Default)]
pub(crate) struct OrderIdHasher(u64);

/// The seven bits hashbrown uses as a bucket's tag.
const TAG_BITS: u64 = 0xFE00_0000_0000_0000;
/// 2^64 / golden ratio: a good odd multiplier for Fibonacci hashing.
const MIX: u64 = 0x9E37_79B9_7F4A_7C15;

impl Hasher for OrderIdHasher {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }

    #[inline]
    fn write_i64(&mut self, id: i64) {
        let id = id as u64;
        self.0 = (id & !TAG_BITS) | (id.wrapping_mul(MIX) & TAG_BITS);
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `i64` keys are hashed; anything else is folded in so the hasher stays total.
        for &byte in bytes {
            self.0 = (self.0.rotate_left(8) ^ u64::from(byte)).wrapping_mul(MIX);
        }
    }
}

/// Builds [`OrderIdHasher`]s for the id index.
pub(crate) type BuildOrderIdHasher = BuildHasherDefault<OrderIdHasher>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasher;

    #[test]
    fn consecutive_ids_stay_adjacent_and_get_varied_tags() {
        let build = BuildOrderIdHasher::default();
        let hashes: Vec<u64> = (1..=64i64).map(|id| build.hash_one(id)).collect();
        for (id, hash) in (1..=64u64).zip(&hashes) {
            assert_eq!(hash & !TAG_BITS, id);
        }
        let mut tags: Vec<u64> = hashes.iter().map(|h| h >> 57).collect();
        tags.sort_unstable();
        tags.dedup();
        assert!(tags.len() > 32, "tags should differ: {tags:?}");
    }
}
