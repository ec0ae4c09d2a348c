//! `encode_journal_entry`: a journal entry's payload and checksum in one call, as
//! `tradepit.journal.codec` writes them with orjson and zlib.
//!
//! The payload is the command's fields as a compact JSON object in field order, a nested
//! named tuple as an object: the bytes `orjson.dumps` gives for the same dict. The
//! checksum is the CRC-32 of the big-endian sequence and arrival time, the kind, a NUL and
//! the payload. A value this does not write exactly as orjson would (an int beyond 64
//! bits, a string that is not valid Unicode, any other type) makes it return None, and
//! the caller encodes in Python (tests/durability/test_codec.py compares the two).

use pyo3::intern;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyBytes, PyInt, PyString, PyTuple};

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
    let mut crc = crc32fast::Hasher::new();
    crc.update(&sequence.to_be_bytes());
    crc.update(&arrived_ns.to_be_bytes());
    crc.update(kind.as_bytes());
    crc.update(b"\0");
    crc.update(&payload);
    Ok(Some((PyBytes::new(py, &payload), crc.finalize())))
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

/// Decimal digits, without the allocation `to_string` makes.
fn write_int(out: &mut Vec<u8>, number: i64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    let mut rest = number.unsigned_abs();
    loop {
        at -= 1;
        digits[at] = b'0' + (rest % 10) as u8;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    if number < 0 {
        out.push(b'-');
    }
    out.extend_from_slice(&digits[at..]);
}

/// A JSON string escaped as orjson escapes it: `"`, `\` and control characters only,
/// with the short forms for backspace, tab, newline, form feed and carriage return.
fn write_string(out: &mut Vec<u8>, text: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    out.push(b'"');
    for &byte in text.as_bytes() {
        match byte {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            0x00..=0x1f => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[usize::from(byte >> 4)],
                HEX[usize::from(byte & 0xf)],
            ]),
            _ => out.push(byte),
        }
    }
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::{write_int, write_string};

    fn escaped(text: &str) -> String {
        let mut out = Vec::new();
        write_string(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn ints_are_written_in_decimal_to_both_ends_of_i64() {
        for number in [0, 7, -7, 10, 1_700_000_000_000_000_000, i64::MIN, i64::MAX] {
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
}
