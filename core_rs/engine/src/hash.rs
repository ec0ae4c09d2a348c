//! The state hash: a short fingerprint of everything observable, equal across backends.

use blake2::digest::consts::U16;
use blake2::{Blake2b, Digest};

use crate::book::Book;
use crate::types::Side;

/// BLAKE2b with a 16-byte digest (`hashlib.blake2b(digest_size=16)` in Python).
type Blake2b128 = Blake2b<U16>;

impl Book {
    /// Lowercase hex BLAKE2b-128 over the state words (`state_words`), each little-endian.
    pub fn state_hash(&self) -> String {
        let mut hasher = Blake2b128::new();
        self.state_words(|value| hasher.update(value.to_le_bytes()));
        hasher
            .finalize()
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect()
    }

    /// Everything observable, as i64 words: `tick_size, lot_size, sequence, next_order_id`,
    /// then per side (bids, then asks) the number of resting orders followed by each
    /// order's eleven fields in priority order. The state hash and snapshots both use it.
    pub(crate) fn state_words(&self, mut word: impl FnMut(i64)) {
        for value in [
            self.tick_size(),
            self.lot_size(),
            self.sequence(),
            self.next_order_id(),
        ] {
            word(value);
        }
        for side in [Side::Buy, Side::Sell] {
            let count = self.side_orders(side).count();
            word(i64::try_from(count).expect("order count fits in i64"));
            for order in self.side_orders(side) {
                order.words().into_iter().for_each(&mut word);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::book::Book;

    #[test]
    fn empty_book_hash_is_blake2b_128_of_the_header_words() {
        // python3 -c "import hashlib,struct;
        //   print(hashlib.blake2b(struct.pack('<6q',1,1,0,1,0,0),digest_size=16).hexdigest())"
        let book = Book::new(1, 1).unwrap();
        assert_eq!(book.state_hash(), "31bab700a2d6f531a47562b7bb61c46d");
    }
}
