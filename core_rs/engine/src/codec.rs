//! The compact batch format: 88-byte command records in, 112-byte event records out.
//!
//! All words are little-endian `i64`. See "Compact form" in `core_rs/README.md`.

use crate::book::Book;
use crate::error::BookError;
use crate::event::Event;
use crate::types::{Command, CommandKind, EventKind, NewOrder};

/// Bytes per command record (11 words).
pub const COMMAND_SIZE: usize = 88;
/// Bytes per output record (14 words: command index + 13 event fields).
pub const RECORD_SIZE: usize = 112;

/// A command record's eleven words, before the kind is interpreted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CommandRecord {
    pub kind: i64,
    pub timestamp: i64,
    pub order_id: i64,
    pub owner: i64,
    pub side: i64,
    pub price: i64,
    pub quantity: i64,
    pub order_type: i64,
    pub tif: i64,
    pub post_only: i64,
    pub stp: i64,
}

impl CommandRecord {
    /// Reads one record from exactly [`COMMAND_SIZE`] bytes.
    pub fn decode(bytes: &[u8; COMMAND_SIZE]) -> Self {
        let word = |i: usize| {
            let mut le = [0u8; 8];
            le.copy_from_slice(&bytes[i * 8..i * 8 + 8]);
            i64::from_le_bytes(le)
        };
        CommandRecord {
            kind: word(0),
            timestamp: word(1),
            order_id: word(2),
            owner: word(3),
            side: word(4),
            price: word(5),
            quantity: word(6),
            order_type: word(7),
            tif: word(8),
            post_only: word(9),
            stp: word(10),
        }
    }

    /// Appends the record's 88 bytes to `out`.
    pub fn encode(&self, out: &mut Vec<u8>) {
        for word in [
            self.kind,
            self.timestamp,
            self.order_id,
            self.owner,
            self.side,
            self.price,
            self.quantity,
            self.order_type,
            self.tif,
            self.post_only,
            self.stp,
        ] {
            out.extend_from_slice(&word.to_le_bytes());
        }
    }

    /// Interprets the record, reading only the fields its kind uses.
    pub fn command(&self) -> Result<Command, BookError> {
        let timestamp = self.timestamp;
        match CommandKind::from_code(self.kind) {
            Some(CommandKind::Submit) => Ok(Command::Submit(NewOrder {
                owner: self.owner,
                side: self.side,
                price: self.price,
                quantity: self.quantity,
                order_type: self.order_type,
                tif: self.tif,
                post_only: self.post_only != 0,
                stp: self.stp,
                timestamp,
            })),
            Some(CommandKind::Cancel) => Ok(Command::Cancel {
                order_id: self.order_id,
                timestamp,
            }),
            Some(CommandKind::Amend) => Ok(Command::Amend {
                order_id: self.order_id,
                price: self.price,
                quantity: self.quantity,
                timestamp,
            }),
            Some(CommandKind::EndSession) => Ok(Command::EndSession { timestamp }),
            None => Err(BookError::InvalidCommand { kind: self.kind }),
        }
    }
}

impl From<&Command> for CommandRecord {
    /// The canonical record for a command (unused fields 0).
    fn from(command: &Command) -> Self {
        match *command {
            Command::Submit(ref order) => CommandRecord {
                kind: CommandKind::Submit.code(),
                timestamp: order.timestamp,
                order_id: 0,
                owner: order.owner,
                side: order.side,
                price: order.price,
                quantity: order.quantity,
                order_type: order.order_type,
                tif: order.tif,
                post_only: i64::from(order.post_only),
                stp: order.stp,
            },
            Command::Cancel {
                order_id,
                timestamp,
            } => CommandRecord {
                kind: CommandKind::Cancel.code(),
                timestamp,
                order_id,
                ..CommandRecord::default()
            },
            Command::Amend {
                order_id,
                price,
                quantity,
                timestamp,
            } => CommandRecord {
                kind: CommandKind::Amend.code(),
                timestamp,
                order_id,
                price,
                quantity,
                ..CommandRecord::default()
            },
            Command::EndSession { timestamp } => CommandRecord {
                kind: CommandKind::EndSession.code(),
                timestamp,
                ..CommandRecord::default()
            },
        }
    }
}

/// Splits a batch into records; fails with `INVALID_BATCH` if the length is not a multiple
/// of [`COMMAND_SIZE`].
pub fn decode_batch(batch: &[u8]) -> Result<Vec<CommandRecord>, BookError> {
    check_length(batch)?;
    Ok(batch
        .chunks_exact(COMMAND_SIZE)
        .map(|chunk| CommandRecord::decode(chunk.try_into().expect("exact chunk")))
        .collect())
}

/// The number of records in a batch, or `INVALID_BATCH` if its length is not a whole number
/// of records.
fn check_length(batch: &[u8]) -> Result<usize, BookError> {
    if batch.len().is_multiple_of(COMMAND_SIZE) {
        Ok(batch.len() / COMMAND_SIZE)
    } else {
        Err(BookError::InvalidBatch {
            length: batch.len(),
        })
    }
}

/// Encodes a list of commands as a batch.
pub fn encode_commands<'a>(commands: impl IntoIterator<Item = &'a Command>) -> Vec<u8> {
    let mut out = Vec::new();
    for command in commands {
        CommandRecord::from(command).encode(&mut out);
    }
    out
}

/// Appends one output record for an event.
#[inline]
pub fn encode_event(command_index: usize, event: &Event, out: &mut Vec<u8>) {
    let mut words = [0i64; 14];
    words[0] = index_word(command_index);
    words[1..].copy_from_slice(&event.words());
    push_record(&words, out);
}

/// Appends the one output record of a failed command: kind ERROR, reason = the error code,
/// `order_id` = the command record's order_id field, everything else 0.
pub fn encode_error(command_index: usize, order_id: i64, error: &BookError, out: &mut Vec<u8>) {
    let mut words = [0i64; 14];
    words[0] = index_word(command_index);
    words[1] = EventKind::Error.code();
    words[4] = order_id;
    words[10] = error.code().code();
    push_record(&words, out);
}

/// Writes 14 words as one 112-byte little-endian record (one bounds check, not fourteen).
#[inline]
fn push_record(words: &[i64; 14], out: &mut Vec<u8>) {
    let mut record = [0u8; RECORD_SIZE];
    for (chunk, word) in record.chunks_exact_mut(8).zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    out.extend_from_slice(&record);
}

fn index_word(command_index: usize) -> i64 {
    i64::try_from(command_index).expect("command index fits in i64")
}

/// One decoded output record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputRecord {
    pub command_index: i64,
    /// The thirteen event fields in `astuple()` order (`fields[0]` is the kind; 0 = ERROR).
    pub fields: [i64; 13],
}

/// Splits batch output back into records (for tests and tools).
pub fn decode_output(bytes: &[u8]) -> Vec<OutputRecord> {
    bytes
        .chunks_exact(RECORD_SIZE)
        .map(|chunk| {
            let mut words = chunk
                .chunks_exact(8)
                .map(|w| i64::from_le_bytes(w.try_into().expect("8 bytes")));
            let command_index = words.next().expect("14 words");
            let mut fields = [0; 13];
            for (field, word) in fields.iter_mut().zip(words) {
                *field = word;
            }
            OutputRecord {
                command_index,
                fields,
            }
        })
        .collect()
}

/// Applies a whole batch and returns its output records.
///
/// A command that fails validation yields one ERROR record and does not stop the batch;
/// only a malformed batch length fails the call, before anything is applied.
pub fn apply_batch(book: &mut Book, batch: &[u8]) -> Result<Vec<u8>, BookError> {
    let commands = check_length(batch)?;
    // Most commands yield one or two events; start there and let the vector grow.
    let mut out = Vec::with_capacity(commands * 2 * RECORD_SIZE);
    let mut events = Vec::with_capacity(16);
    for (index, chunk) in batch.chunks_exact(COMMAND_SIZE).enumerate() {
        let record = CommandRecord::decode(chunk.try_into().expect("exact chunk"));
        events.clear();
        match record
            .command()
            .and_then(|command| book.apply(&command, &mut events))
        {
            Ok(()) => {
                for event in &events {
                    encode_event(index, event, &mut out);
                }
            }
            Err(error) => encode_error(index, record.order_id, &error, &mut out),
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::{Side, TimeInForce};

    #[test]
    fn command_records_round_trip() {
        let commands = [
            Command::Submit(
                NewOrder::limit(3, Side::Sell, 105, 20)
                    .tif(TimeInForce::Day)
                    .post_only()
                    .at(77),
            ),
            Command::Cancel {
                order_id: 9,
                timestamp: 1,
            },
            Command::Amend {
                order_id: 4,
                price: 100,
                quantity: 5,
                timestamp: 2,
            },
            Command::EndSession { timestamp: 3 },
        ];
        let bytes = encode_commands(&commands);
        assert_eq!(bytes.len(), 4 * COMMAND_SIZE);
        let decoded: Vec<Command> = decode_batch(&bytes)
            .unwrap()
            .iter()
            .map(|record| record.command().unwrap())
            .collect();
        assert_eq!(decoded, commands);
    }

    #[test]
    fn unknown_kind_is_an_invalid_command() {
        let record = CommandRecord {
            kind: 7,
            ..CommandRecord::default()
        };
        assert_eq!(record.command(), Err(BookError::InvalidCommand { kind: 7 }));
    }

    #[test]
    fn bad_length_is_an_invalid_batch() {
        assert_eq!(
            decode_batch(&[0; 89]),
            Err(BookError::InvalidBatch { length: 89 })
        );
    }
}
