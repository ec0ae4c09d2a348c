//! The few protobuf wire-format primitives the response encoder needs, as proto3 writes
//! them: a field left at its default is omitted, so every `put_*` skips zero and "".

const VARINT: u32 = 0;
const LENGTH_DELIMITED: u32 = 2;

/// Base 128, least significant group first; a negative int64 or enum is its two's
/// complement, ten bytes long.
#[inline]
pub(crate) fn put_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push(value as u8 | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

#[inline]
fn put_tag(out: &mut Vec<u8>, field: u32, wire_type: u32) {
    put_varint(out, u64::from(field << 3 | wire_type));
}

/// An `int64` field.
#[inline]
pub(crate) fn put_int64(out: &mut Vec<u8>, field: u32, value: i64) {
    if value != 0 {
        put_tag(out, field, VARINT);
        put_varint(out, value as u64);
    }
}

/// An enum field: an int32 on the wire, sign-extended to 64 bits like int64.
#[inline]
pub(crate) fn put_enum(out: &mut Vec<u8>, field: u32, value: i32) {
    put_int64(out, field, i64::from(value));
}

/// A `string` field.
#[inline]
pub(crate) fn put_string(out: &mut Vec<u8>, field: u32, value: &str) {
    if !value.is_empty() {
        put_length_delimited(out, field, value.as_bytes());
    }
}

/// A length-delimited field written even when empty: an element of a repeated message
/// field is present whatever its contents.
#[inline]
pub(crate) fn put_length_delimited(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    put_tag(out, field, LENGTH_DELIMITED);
    put_varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn varint(value: u64) -> Vec<u8> {
        let mut out = Vec::new();
        put_varint(&mut out, value);
        out
    }

    #[test]
    fn varints_take_seven_bits_per_byte_low_group_first() {
        assert_eq!(varint(0), [0x00]);
        assert_eq!(varint(1), [0x01]);
        assert_eq!(varint(127), [0x7f]);
        assert_eq!(varint(128), [0x80, 0x01]);
        assert_eq!(varint(300), [0xac, 0x02]);
        assert_eq!(varint(16_384), [0x80, 0x80, 0x01]);
        assert_eq!(
            varint(u64::MAX),
            [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        );
    }

    #[test]
    fn negative_int64_and_enum_values_are_ten_byte_twos_complement() {
        let mut int64 = Vec::new();
        put_int64(&mut int64, 1, -1);
        assert_eq!(
            int64,
            [0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]
        );
        let mut enumeration = Vec::new();
        put_enum(&mut enumeration, 1, -1);
        assert_eq!(enumeration, int64);
        let mut lowest = Vec::new();
        put_int64(&mut lowest, 1, i64::MIN);
        assert_eq!(
            lowest,
            [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01]
        );
    }

    #[test]
    fn default_values_are_omitted_but_an_empty_message_is_not() {
        let mut out = Vec::new();
        put_int64(&mut out, 1, 0);
        put_enum(&mut out, 2, 0);
        put_string(&mut out, 3, "");
        assert!(out.is_empty());
        put_length_delimited(&mut out, 1, b"");
        assert_eq!(out, [0x0a, 0x00]);
    }

    #[test]
    fn tags_carry_the_field_number_and_wire_type() {
        let mut out = Vec::new();
        put_int64(&mut out, 20, 5);
        assert_eq!(out, [0xa0, 0x01, 0x05]);
        out.clear();
        put_string(&mut out, 3, "é");
        assert_eq!(out, [0x1a, 0x02, 0xc3, 0xa9]);
    }
}
