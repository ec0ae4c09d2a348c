//! The compact batch format: records in, records out, errors as records.

mod common;

use common::*;
use tradepit_engine::codec::{
    apply_batch, decode_output, encode_commands, CommandRecord, COMMAND_SIZE, RECORD_SIZE,
};
use tradepit_engine::TimeInForce;
use tradepit_engine::{Book, BookError, Command, ErrorCode, NewOrder};

fn commands() -> Vec<Command> {
    vec![
        Command::Submit(NewOrder::limit(1, Sell, 100, 5).at(1)),
        Command::Submit(NewOrder::limit(2, Buy, 101, 3).at(2)),
        Command::Submit(NewOrder::limit(2, Buy, 99, 2).at(2)),
        Command::Cancel {
            order_id: 3,
            timestamp: 3,
        },
        Command::Amend {
            order_id: 1,
            price: 102,
            quantity: 4,
            timestamp: 4,
        },
        Command::Submit(NewOrder::limit(3, Sell, 100, 1).tif(TimeInForce::Day).at(5)),
        Command::EndSession { timestamp: 6 },
        Command::Submit(NewOrder::market(2, Buy, 10).at(7)),
    ]
}

#[test]
fn a_batch_gives_the_same_events_as_one_command_at_a_time() {
    let commands = commands();
    let mut book = Book::new(1, 1).unwrap();
    let output = apply_batch(&mut book, &encode_commands(&commands)).unwrap();
    assert_eq!(output.len() % RECORD_SIZE, 0);

    let mut reference = Book::new(1, 1).unwrap();
    let mut expected = Vec::new();
    for (index, command) in commands.iter().enumerate() {
        let mut events = Vec::new();
        reference.apply(command, &mut events).unwrap();
        expected.extend(events.iter().map(|e| (index as i64, e.words())));
    }
    let actual: Vec<_> = decode_output(&output)
        .into_iter()
        .map(|r| (r.command_index, r.fields))
        .collect();
    assert_eq!(actual, expected);
    assert_eq!(book.state_hash(), reference.state_hash());
    assert_eq!(actual.len(), 11);
}

#[test]
fn a_failed_command_yields_one_error_record_and_the_batch_goes_on() {
    let mut bytes = Vec::new();
    let submit = |order| CommandRecord::from(&Command::Submit(order));
    submit(NewOrder::limit(1, Buy, 100, 5).at(1)).encode(&mut bytes);
    // A submit whose order_id field is set (and ignored), with a bad side.
    CommandRecord {
        order_id: 77,
        side: 3,
        timestamp: 9,
        ..submit(NewOrder::limit(1, Buy, 100, 5))
    }
    .encode(&mut bytes);
    CommandRecord::from(&Command::Cancel {
        order_id: 42,
        timestamp: 9,
    })
    .encode(&mut bytes);
    CommandRecord {
        kind: 9,
        order_id: 5,
        timestamp: 9,
        ..CommandRecord::default()
    }
    .encode(&mut bytes);
    CommandRecord::from(&amend(1, 100, 0)).encode(&mut bytes);
    submit(NewOrder::limit(2, Sell, 100, 5).at(2)).encode(&mut bytes);

    let mut book = Book::new(1, 1).unwrap();
    let records = decode_output(&apply_batch(&mut book, &bytes).unwrap());
    let error = |index: i64, order_id: i64, code: ErrorCode| {
        let mut fields = [0; 13];
        fields[3] = order_id;
        fields[9] = code.code();
        (index, fields)
    };
    let plain: Vec<_> = records
        .iter()
        .map(|r| (r.command_index, r.fields))
        .collect();
    assert_eq!(plain[0], (0, [1, 1, 1, 1, 1, 1, 100, 5, 5, 0, 0, 0, 0]));
    assert_eq!(plain[1], error(1, 77, ErrorCode::InvalidSide));
    assert_eq!(plain[2], error(2, 42, ErrorCode::UnknownOrder));
    assert_eq!(plain[3], error(3, 5, ErrorCode::InvalidCommand));
    assert_eq!(plain[4], error(4, 1, ErrorCode::AmendToZero));
    // The errors consumed no id and no sequence number.
    assert_eq!(plain[5], (5, [1, 2, 2, 2, 2, 2, 100, 5, 5, 0, 0, 0, 0]));
    assert_eq!(plain[6], (5, [2, 3, 2, 2, 2, 2, 100, 5, 0, 0, 1, 1, 0]));
    assert_eq!(plain.len(), 7);
}

#[test]
fn fields_a_kind_does_not_read_are_ignored_and_post_only_is_any_nonzero_word() {
    let mut bytes = Vec::new();
    CommandRecord {
        kind: 1,
        order_id: 1234,
        owner: 1,
        side: 1,
        price: 100,
        quantity: 5,
        order_type: 1,
        tif: 1,
        post_only: -7,
        stp: 1,
        timestamp: 0,
    }
    .encode(&mut bytes);
    CommandRecord {
        kind: 4,
        order_id: 8,
        owner: 9,
        side: 99,
        price: -1,
        quantity: -1,
        order_type: 5,
        tif: 5,
        post_only: 1,
        stp: 5,
        timestamp: 0,
    }
    .encode(&mut bytes);
    CommandRecord {
        kind: 2,
        order_id: 1,
        side: 99,
        quantity: -3,
        ..CommandRecord::default()
    }
    .encode(&mut bytes);
    let mut book = Book::new(1, 1).unwrap();
    let records = decode_output(&apply_batch(&mut book, &bytes).unwrap());
    assert_eq!(records.len(), 2);
    assert_eq!(records[0].fields[0], 1);
    assert_eq!(records[1].command_index, 2);
    assert_eq!(records[1].fields[..4], [3, 2, 0, 1]);
}

#[test]
fn a_bad_length_fails_before_anything_is_applied() {
    let mut book = Book::new(1, 1).unwrap();
    let mut bytes = encode_commands(&commands());
    bytes.push(0);
    let error = apply_batch(&mut book, &bytes).unwrap_err();
    assert_eq!(
        error,
        BookError::InvalidBatch {
            length: 8 * COMMAND_SIZE + 1
        }
    );
    assert_eq!(
        error.to_string(),
        "batch length 705 is not a multiple of 88 bytes"
    );
    assert_eq!(book.sequence(), 0);
    assert_eq!(apply_batch(&mut book, &[]).unwrap(), Vec::<u8>::new());
}
