//! A list of tuples written directly in Python's pickle format (protocol 4), for
//! `pickle.loads` to read back: rows that go to another process (the journal's writer)
//! leave the event loop already pickled, without becoming Python objects there.
//!
//! The rows can be laid out as the writer's INSERT statements take them
//! (`PickledList::grouped`): each tuple holds the values of up to n rows one after the
//! other, so the writer binds it as it is instead of flattening rows in Python.
//!
//! Only what the rows hold: ints of any size up to 128 bits, strs, bools and `None`.

const PROTO: u8 = 0x80;
const EMPTY_LIST: u8 = b']';
const MARK: u8 = b'(';
const APPENDS: u8 = b'e';
const TUPLE: u8 = b't';
const STOP: u8 = b'.';
const NONE: u8 = b'N';
const NEWTRUE: u8 = 0x88;
const NEWFALSE: u8 = 0x89;
const BININT1: u8 = b'K';
const BININT: u8 = b'J';
const LONG1: u8 = 0x8a;
const SHORT_BINUNICODE: u8 = 0x8c;
const BINUNICODE: u8 = b'X';

/// A pickled list being written, one row at a time.
pub(crate) struct PickledList {
    bytes: Vec<u8>,
    rows: usize,
    rows_per_tuple: usize,
}

impl PickledList {
    /// A list of rows, each its own tuple.
    pub(crate) fn new() -> PickledList {
        PickledList::grouped(1)
    }

    /// A list of tuples of `rows_per_tuple` rows each, the last one of what is left.
    pub(crate) fn grouped(rows_per_tuple: usize) -> PickledList {
        let mut bytes = Vec::with_capacity(4096);
        bytes.extend_from_slice(&[PROTO, 4, EMPTY_LIST, MARK]);
        PickledList {
            bytes,
            rows: 0,
            rows_per_tuple: rows_per_tuple.max(1),
        }
    }

    /// Start the next row; its values follow, and `end_row` closes it.
    pub(crate) fn row(&mut self) -> &mut Self {
        if self.rows.is_multiple_of(self.rows_per_tuple) {
            self.bytes.push(MARK);
        }
        self.rows += 1;
        self
    }

    pub(crate) fn end_row(&mut self) {
        if self.rows.is_multiple_of(self.rows_per_tuple) {
            self.bytes.push(TUPLE);
        }
    }

    pub(crate) fn int(&mut self, value: impl Into<i128>) -> &mut Self {
        let value: i128 = value.into();
        if let Ok(byte) = u8::try_from(value) {
            self.bytes.extend_from_slice(&[BININT1, byte]);
        } else if let Ok(word) = i32::try_from(value) {
            self.bytes.push(BININT);
            self.bytes.extend_from_slice(&word.to_le_bytes());
        } else {
            // Little-endian two's complement, without the sign bytes that repeat the sign
            // bit of the byte below them: Python's own encoding.
            let all = value.to_le_bytes();
            let mut length = all.len();
            while length > 1 {
                let (top, below) = (all[length - 1], all[length - 2]);
                if (top == 0 && below & 0x80 == 0) || (top == 0xff && below & 0x80 != 0) {
                    length -= 1;
                } else {
                    break;
                }
            }
            self.bytes.push(LONG1);
            self.bytes
                .push(u8::try_from(length).expect("at most 16 bytes"));
            self.bytes.extend_from_slice(&all[..length]);
        }
        self
    }

    pub(crate) fn text(&mut self, value: &str) -> &mut Self {
        if let Ok(length) = u8::try_from(value.len()) {
            self.bytes.extend_from_slice(&[SHORT_BINUNICODE, length]);
        } else {
            let length = u32::try_from(value.len()).expect("a str under 4 GiB");
            self.bytes.push(BINUNICODE);
            self.bytes.extend_from_slice(&length.to_le_bytes());
        }
        self.bytes.extend_from_slice(value.as_bytes());
        self
    }

    pub(crate) fn flag(&mut self, value: bool) -> &mut Self {
        self.bytes.push(if value { NEWTRUE } else { NEWFALSE });
        self
    }

    pub(crate) fn optional_int(&mut self, value: Option<i64>) -> &mut Self {
        match value {
            Some(value) => self.int(value),
            None => {
                self.bytes.push(NONE);
                self
            }
        }
    }

    /// The pickle of the list of every row written; None if there is none.
    pub(crate) fn finish(mut self) -> Option<Vec<u8>> {
        if self.rows == 0 {
            return None;
        }
        if !self.rows.is_multiple_of(self.rows_per_tuple) {
            self.bytes.push(TUPLE); // the last tuple, of fewer rows
        }
        self.bytes.extend_from_slice(&[APPENDS, STOP]);
        Some(self.bytes)
    }
}
