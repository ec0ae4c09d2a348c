//! Journal entries, as `tradepit.journal.codec` writes them with orjson and zlib.
//!
//! `encode_journal_entry` encodes one command's named tuple: its payload and checksum in
//! one call. A `Tape` holds the entries of the commands the Rust exchange applied, written
//! from the values the exchange read (`Exchange.start_tape`), so the event loop neither
//! copies the fields out nor pickles them; `decode_journal_tape` makes the journal's
//! entries of a tape, checksums included, in the journal's writer process.
//!
//! The payload is the command's fields as a compact JSON object in field order, a nested
//! named tuple as an object: the bytes `orjson.dumps` gives for the same dict. The
//! checksum is the CRC-32 of the big-endian sequence and arrival time, the kind, a NUL and
//! the payload. A value `encode_journal_entry` does not write exactly as orjson would (an
//! int beyond 64 bits, a string that is not valid Unicode, any other type) makes it return
//! None, and the caller encodes in Python (tests/durability/test_codec.py compares the
//! two); a tape writes an int beyond 64 bits in decimal, as Python's json module does.

use pyo3::exceptions::PyValueError;
use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyInt, PyList, PyString, PyTuple, PyType};
use tradepit_engine::exchange::{Command, OrderRef, Submit};

use crate::named_tuple::NamedTuple;

/// `(payload, checksum)` for the command of `kind` whose fields are `names` and `values`,
/// or None when Python must encode it.
#[pyfunction]
pub fn encode_journal_entry<'py>(
    py: Python<'py>,
    sequence: i64,
    arrived_ns: i64,
    kind: &str,
    names: &Bound<'py, PyTuple>,
    values: &Bound<'py, PyTuple>,
) -> PyResult<Option<(Bound<'py, PyBytes>, u32)>> {
    let mut payload = Vec::with_capacity(256);
    if !write_object(&mut payload, names, values)? {
        return Ok(None);
    }
    let checksum = checksum(sequence, arrived_ns, kind.as_bytes(), &payload);
    Ok(Some((PyBytes::new(py, &payload), checksum)))
}

fn checksum(sequence: i64, arrived_ns: i64, kind: &[u8], payload: &[u8]) -> u32 {
    let mut crc = crc32fast::Hasher::new();
    crc.update(&sequence.to_be_bytes());
    crc.update(&arrived_ns.to_be_bytes());
    crc.update(kind);
    crc.update(b"\0");
    crc.update(payload);
    crc.finalize()
}

/// `{"name":value,...}`; false if a value cannot be written here.
fn write_object(
    out: &mut Vec<u8>,
    names: &Bound<'_, PyTuple>,
    values: &Bound<'_, PyTuple>,
) -> PyResult<bool> {
    if names.len() != values.len() {
        return Ok(false);
    }
    out.push(b'{');
    for (index, (name, value)) in names.iter().zip(values.iter()).enumerate() {
        if index > 0 {
            out.push(b',');
        }
        let Ok(name) = name.cast::<PyString>() else {
            return Ok(false);
        };
        let Ok(name) = name.to_str() else {
            return Ok(false);
        };
        write_string(out, name);
        out.push(b':');
        if !write_value(out, &value)? {
            return Ok(false);
        }
    }
    out.push(b'}');
    Ok(true)
}

fn write_value(out: &mut Vec<u8>, value: &Bound<'_, PyAny>) -> PyResult<bool> {
    if value.is_none() {
        out.extend_from_slice(b"null");
    } else if let Ok(flag) = value.cast::<PyBool>() {
        out.extend_from_slice(if flag.is_true() { b"true" } else { b"false" });
    } else if value.is_instance_of::<PyInt>() {
        let Ok(number) = value.extract::<i64>() else {
            return Ok(false); // beyond 64 bits: Python writes it exactly
        };
        write_int(out, number);
    } else if let Ok(text) = value.cast::<PyString>() {
        let Ok(text) = text.to_str() else {
            return Ok(false); // a lone surrogate
        };
        write_string(out, text);
    } else if let Ok(nested) = value.cast::<PyTuple>() {
        let Ok(fields) = value.getattr(intern!(value.py(), "_fields")) else {
            return Ok(false); // a plain tuple: not a command field
        };
        let Ok(fields) = fields.cast_into::<PyTuple>() else {
            return Ok(false);
        };
        return write_object(out, &fields, nested);
    } else {
        return Ok(false);
    }
    Ok(true)
}

/// Decimal digits, without the allocation `to_string` makes; in 64 bits when the value
/// fits, which formats faster than 128.
fn write_int<T: itoa::Integer + TryInto<i64> + Copy>(out: &mut Vec<u8>, number: T) {
    let mut digits = itoa::Buffer::new();
    let written = match number.try_into() {
        Ok(small) => digits.format::<i64>(small),
        Err(_) => digits.format(number),
    };
    out.extend_from_slice(written.as_bytes());
}

/// A JSON string escaped as orjson escapes it: `"`, `\` and control characters only,
/// with the short forms for backspace, tab, newline, form feed and carriage return.
fn write_string(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    let mut rest = text.as_bytes();
    // The runs between the bytes to escape go in whole: most strings have none.
    while let Some(at) = rest
        .iter()
        .position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20)
    {
        out.extend_from_slice(&rest[..at]);
        match rest[at] {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            byte => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xf)],
            ]),
        }
        rest = &rest[at + 1..];
    }
    out.extend_from_slice(rest);
    out.push(b'"');
}

// ------------------------------------------------------------------ the tape

/// The entries of applied commands, from sequence `first` on, encoded back to back: the
/// sequence and arrival time (i64, little-endian), the kind's length (u8) and name, the
/// payload's length (u32, little-endian) and the payload.
pub(crate) struct Tape {
    next: i64,
    bytes: Vec<u8>,
}

impl Tape {
    pub(crate) fn new(next: i64) -> Tape {
        Tape {
            next,
            bytes: Vec::with_capacity(64 << 10),
        }
    }

    /// The sequence the next entry gets.
    pub(crate) fn next(&self) -> i64 {
        self.next
    }

    /// The entries written since the last call.
    pub(crate) fn take(&mut self) -> Vec<u8> {
        std::mem::replace(&mut self.bytes, Vec::with_capacity(64 << 10))
    }

    /// An entry whose payload `write` writes.
    fn push(&mut self, kind: &str, arrived_ns: i64, write: impl FnOnce(&mut Object<'_>)) {
        self.header(kind, arrived_ns);
        let bytes = &mut self.bytes;
        let length_at = bytes.len();
        bytes.extend_from_slice(&[0; 4]);
        let mut object = Object::open(bytes);
        write(&mut object);
        object.close();
        let length = u32::try_from(bytes.len() - length_at - 4).expect("a payload under 4 GiB");
        bytes[length_at..length_at + 4].copy_from_slice(&length.to_le_bytes());
        self.next += 1;
    }

    /// An entry whose payload was encoded elsewhere (in Python, for a command the exchange
    /// raised on before it changed anything, which the journal still holds).
    pub(crate) fn push_encoded(&mut self, kind: &str, arrived_ns: i64, payload: &[u8]) {
        self.header(kind, arrived_ns);
        let length = u32::try_from(payload.len()).expect("a payload under 4 GiB");
        self.bytes.extend_from_slice(&length.to_le_bytes());
        self.bytes.extend_from_slice(payload);
        self.next += 1;
    }

    /// The next entry's sequence, arrival time and kind.
    fn header(&mut self, kind: &str, arrived_ns: i64) {
        let bytes = &mut self.bytes;
        bytes.extend_from_slice(&self.next.to_le_bytes());
        bytes.extend_from_slice(&arrived_ns.to_le_bytes());
        bytes.push(u8::try_from(kind.len()).expect("a short kind name"));
        bytes.extend_from_slice(kind.as_bytes());
    }

    /// The entry of a submitted order, by `commands.SubmitOrder`'s fields.
    pub(crate) fn push_submit(&mut self, s: &Submit<'_>) {
        self.push("SubmitOrder", s.timestamp, |o| {
            o.int("account_id", s.account_id);
            o.text("client_order_id", s.client_order_id);
            o.text("symbol", s.symbol);
            o.int("side", s.side);
            o.int("order_type", s.order_type);
            o.int("tif", s.tif);
            o.int("price", s.price);
            o.int("quantity", s.quantity);
            o.flag("post_only", s.post_only);
            o.int("stp", s.stp);
            o.int("timestamp", s.timestamp);
        });
    }

    /// The entry of any command, by the fields of its class in `commands`.
    pub(crate) fn push_command(&mut self, command: &Command) {
        match command {
            Command::SubmitOrder { .. } => {
                self.push_submit(&command.as_submit().expect("a SubmitOrder"));
            }
            Command::CancelOrder {
                account_id,
                order,
                timestamp,
            } => self.push("CancelOrder", *timestamp, |o| {
                o.int("account_id", *account_id);
                o.order_ref("ref", order);
                o.int("timestamp", *timestamp);
            }),
            Command::AmendOrder {
                account_id,
                order,
                price,
                quantity,
                timestamp,
            } => self.push("AmendOrder", *timestamp, |o| {
                o.int("account_id", *account_id);
                o.order_ref("ref", order);
                o.int("price", *price);
                o.int("quantity", *quantity);
                o.int("timestamp", *timestamp);
            }),
            Command::CancelAll {
                account_id,
                symbol,
                timestamp,
            } => self.push("CancelAll", *timestamp, |o| {
                o.int("account_id", *account_id);
                o.text("symbol", symbol);
                o.int("timestamp", *timestamp);
            }),
            Command::CreateAccount {
                name,
                key_hash,
                timestamp,
                system,
            } => self.push("CreateAccount", *timestamp, |o| {
                o.text("name", name);
                o.text("key_hash", key_hash);
                o.int("timestamp", *timestamp);
                o.flag("system", *system);
            }),
            Command::AdjustBalance {
                account_id,
                amount,
                kind,
                timestamp,
                symbol,
            } => self.push("AdjustBalance", *timestamp, |o| {
                o.int("account_id", *account_id);
                o.int("amount", *amount);
                o.int("kind", *kind);
                o.int("timestamp", *timestamp);
                o.text("symbol", symbol);
            }),
            Command::CreateInstrument {
                symbol,
                tick_size,
                lot_size,
                reference_price,
                band_bps,
                timestamp,
            } => self.push("CreateInstrument", *timestamp, |o| {
                o.text("symbol", symbol);
                o.int("tick_size", *tick_size);
                o.int("lot_size", *lot_size);
                o.int("reference_price", *reference_price);
                o.int("band_bps", *band_bps);
                o.int("timestamp", *timestamp);
            }),
            Command::SetTradingStatus {
                symbol,
                status,
                timestamp,
            } => self.push("SetTradingStatus", *timestamp, |o| {
                o.text("symbol", symbol);
                o.int("status", *status);
                o.int("timestamp", *timestamp);
            }),
            Command::SetLimits {
                maker_fee_bps,
                taker_fee_bps,
                max_order_quantity,
                max_order_notional,
                timestamp,
            } => self.push("SetLimits", *timestamp, |o| {
                o.int("maker_fee_bps", *maker_fee_bps);
                o.int("taker_fee_bps", *taker_fee_bps);
                o.int("max_order_quantity", *max_order_quantity);
                o.int("max_order_notional", *max_order_notional);
                o.int("timestamp", *timestamp);
            }),
            Command::RemoveInstrument { symbol, timestamp } => {
                self.push("RemoveInstrument", *timestamp, |o| {
                    o.text("symbol", symbol);
                    o.int("timestamp", *timestamp);
                });
            }
            Command::EndSession { symbol, timestamp } => {
                self.push("EndSession", *timestamp, |o| {
                    o.text("symbol", symbol);
                    o.int("timestamp", *timestamp);
                });
            }
        }
    }
}

/// A JSON object being written, one `"name":value` at a time.
struct Object<'a> {
    out: &'a mut Vec<u8>,
    empty: bool,
}

impl<'a> Object<'a> {
    fn open(out: &'a mut Vec<u8>) -> Object<'a> {
        out.push(b'{');
        Object { out, empty: true }
    }

    fn close(self) {
        self.out.push(b'}');
    }

    /// `"name":`; a field name is an identifier, with nothing to escape.
    fn name(&mut self, name: &str) {
        debug_assert!(name
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || byte == b'_'));
        if !self.empty {
            self.out.push(b',');
        }
        self.empty = false;
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    fn int<T: itoa::Integer + TryInto<i64> + Copy>(&mut self, name: &str, value: T) {
        self.name(name);
        write_int(self.out, value);
    }

    fn text(&mut self, name: &str, value: &str) {
        self.name(name);
        write_string(self.out, value);
    }

    fn flag(&mut self, name: &str, value: bool) {
        self.name(name);
        self.out
            .extend_from_slice(if value { b"true" } else { b"false" });
    }

    /// `commands.OrderRef`, nested.
    fn order_ref(&mut self, name: &str, order: &OrderRef) {
        self.name(name);
        let mut nested = Object::open(self.out);
        nested.int("order_id", order.order_id);
        nested.text("client_order_id", &order.client_order_id);
        nested.close();
    }
}

/// The journal's entries (`entry`: `tradepit.journal.codec.Entry`) of a tape's bytes,
/// with their checksums; `ValueError` if the bytes end inside an entry.
#[pyfunction]
pub fn decode_journal_tape<'py>(
    py: Python<'py>,
    tape: &[u8],
    entry: &Bound<'py, PyType>,
) -> PyResult<Bound<'py, PyList>> {
    let entry = NamedTuple::new(entry, "entry")?;
    let entries = PyList::empty(py);
    for_each_entry(py, tape, |values| {
        entries.append(entry.make(py, values)?)?;
        Ok(())
    })?;
    Ok(entries)
}

/// The journal table's rows of a tape's entries, as its INSERT statements take them:
/// tuples of the values (sequence, arrival time, kind, payload, checksum) of
/// `rows_per_tuple` entries one after the other, the last tuple of what is left, so the
/// writer binds them without making an entry or flattening rows in Python.
/// `ValueError` if the bytes end inside an entry.
#[pyfunction]
pub fn journal_rows_of_tape<'py>(
    py: Python<'py>,
    tape: &[u8],
    rows_per_tuple: usize,
) -> PyResult<Bound<'py, PyList>> {
    let per_tuple = rows_per_tuple.max(1) * ENTRY_VALUES;
    let tuples = PyList::empty(py);
    let mut values = Vec::with_capacity(per_tuple);
    for_each_entry(py, tape, |entry| {
        values.extend(entry);
        if values.len() == per_tuple {
            tuples.append(PyTuple::new(py, values.drain(..))?)?;
        }
        Ok(())
    })?;
    if !values.is_empty() {
        tuples.append(PyTuple::new(py, values)?)?;
    }
    Ok(tuples)
}

/// An entry's values, the journal table's columns: sequence, arrival time, kind, payload
/// and checksum.
const ENTRY_VALUES: usize = 5;

/// Call `each` with the values of every entry of a tape, in order.
fn for_each_entry<'py>(
    py: Python<'py>,
    tape: &[u8],
    mut each: impl FnMut([Bound<'py, PyAny>; ENTRY_VALUES]) -> PyResult<()>,
) -> PyResult<()> {
    let mut rest = tape;
    while !rest.is_empty() {
        let ((sequence, arrived_ns, kind, payload), after) = tape_entry(rest).ok_or_else(|| {
            PyValueError::new_err(format!(
                "a journal tape cut short: {} bytes left of {}",
                rest.len(),
                tape.len()
            ))
        })?;
        let checksum = checksum(sequence, arrived_ns, kind, payload);
        let kind = std::str::from_utf8(kind)
            .map_err(|_| PyValueError::new_err("a journal tape's kind is not UTF-8"))?;
        each([
            sequence.into_pyobject(py)?.into_any(),
            arrived_ns.into_pyobject(py)?.into_any(),
            PyString::intern(py, kind).into_any(),
            PyBytes::new(py, payload).into_any(),
            checksum.into_pyobject(py)?.into_any(),
        ])?;
        rest = after;
    }
    Ok(())
}

/// One entry read from a tape: its sequence, arrival time, kind and payload.
type TapeEntry<'a> = (i64, i64, &'a [u8], &'a [u8]);

/// The first entry of `bytes` and what follows it; None if `bytes` ends inside it.
fn tape_entry(bytes: &[u8]) -> Option<(TapeEntry<'_>, &[u8])> {
    let (sequence, rest) = bytes.split_first_chunk::<8>()?;
    let (arrived_ns, rest) = rest.split_first_chunk::<8>()?;
    let (&kind_length, rest) = rest.split_first()?;
    let (kind, rest) = rest.split_at_checked(usize::from(kind_length))?;
    let (length, rest) = rest.split_first_chunk::<4>()?;
    let length = usize::try_from(u32::from_le_bytes(*length)).ok()?;
    let (payload, rest) = rest.split_at_checked(length)?;
    Some((
        (
            i64::from_le_bytes(*sequence),
            i64::from_le_bytes(*arrived_ns),
            kind,
            payload,
        ),
        rest,
    ))
}

#[cfg(test)]
mod tests {
    use super::{tape_entry, write_int, write_string, Tape};
    use tradepit_engine::exchange::{Command, OrderRef};

    fn escaped(text: &str) -> String {
        let mut out = Vec::new();
        write_string(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn ints_are_written_in_decimal_to_both_ends_of_i128() {
        for number in [0, 7, -7, 10, 1_700_000_000_000_000_000, i64::MIN, i64::MAX] {
            let mut out = Vec::new();
            write_int(&mut out, number);
            assert_eq!(String::from_utf8(out).unwrap(), number.to_string());
        }
        for number in [i128::MIN, i128::MAX, i128::from(i64::MAX) + 1] {
            let mut out = Vec::new();
            write_int(&mut out, number);
            assert_eq!(String::from_utf8(out).unwrap(), number.to_string());
        }
    }

    #[test]
    fn strings_are_escaped_as_orjson_escapes_them() {
        assert_eq!(escaped("plain"), "\"plain\"");
        assert_eq!(escaped("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(escaped("\u{8}\t\n\u{c}\r"), "\"\\b\\t\\n\\f\\r\"");
        assert_eq!(escaped("\u{0}\u{1f}\u{7f}"), "\"\\u0000\\u001f\u{7f}\"");
        assert_eq!(escaped("é\u{2028}😀/"), "\"é\u{2028}😀/\"");
    }

    #[test]
    fn a_tape_holds_each_entry_numbered_with_its_payload() {
        let mut tape = Tape::new(41);
        tape.push_command(&Command::CancelOrder {
            account_id: 7,
            order: OrderRef {
                order_id: 0,
                client_order_id: "c\"1".to_owned(),
            },
            timestamp: -5,
        });
        tape.push_encoded("EndSession", 9, b"{}");
        assert_eq!(tape.next(), 43);
        let bytes = tape.take();
        assert!(tape.take().is_empty());

        let ((sequence, arrived, kind, payload), second) = tape_entry(&bytes).unwrap();
        assert_eq!((sequence, arrived, kind), (41, -5, &b"CancelOrder"[..]));
        assert_eq!(
            std::str::from_utf8(payload).unwrap(),
            r#"{"account_id":7,"ref":{"order_id":0,"client_order_id":"c\"1"},"timestamp":-5}"#
        );
        let ((sequence, arrived, kind, payload), rest) = tape_entry(second).unwrap();
        assert_eq!(
            (sequence, arrived, kind, payload),
            (42, 9, &b"EndSession"[..], &b"{}"[..])
        );
        assert!(rest.is_empty());
        let first = bytes.len() - second.len();
        for cut in 0..first {
            assert!(tape_entry(&bytes[..cut]).is_none(), "cut at {cut}");
        }
    }
}
