//! Python's `repr()` of a `str`, which refusal messages quote (`{symbol!r}`).

use std::fmt::Write;

/// The text Python's `repr(text)` gives: single quotes unless the text contains `'` and no
/// `"`; backslash, the chosen quote, `\n`, `\r` and `\t` escaped; other control characters
/// and the common non-printable ones as `\xNN` / `\uNNNN` / `\UNNNNNNNN`. (Python consults the
/// full Unicode tables for "printable"; unassigned code points are left as they are here.)
pub fn py_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            _ if c == quote => {
                out.push('\\');
                out.push(c);
            }
            _ if !is_printable(c) => {
                let code = u32::from(c);
                // Writing to a String cannot fail.
                let _ = match code {
                    0..=0xff => write!(out, "\\x{code:02x}"),
                    0x100..=0xffff => write!(out, "\\u{code:04x}"),
                    _ => write!(out, "\\U{code:08x}"),
                };
            }
            _ => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python's `str.isprintable` for one character, for the characters it commonly matters for:
/// controls (Cc), separators other than the space (Zs, Zl, Zp), common format characters
/// (Cf) and private use (Co).
fn is_printable(c: char) -> bool {
    !matches!(u32::from(c),
        0x00..=0x1f | 0x7f..=0xa0 | 0xad
        | 0x061c | 0x1680 | 0x180e
        | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x2064 | 0x2066..=0x206f
        | 0x3000 | 0xd800..=0xf8ff | 0xfeff | 0xfff9..=0xfffb
        | 0xf0000..=0x10ffff)
}

#[cfg(test)]
mod tests {
    use super::py_repr;

    #[test]
    fn quotes_like_python() {
        assert_eq!(py_repr("AAPL"), "'AAPL'");
        assert_eq!(py_repr(""), "''");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("say \"hi\""), "'say \"hi\"'");
        assert_eq!(py_repr("it's \"x\""), "'it\\'s \"x\"'");
    }

    #[test]
    fn escapes_like_python() {
        assert_eq!(py_repr("a\\b"), "'a\\\\b'");
        assert_eq!(py_repr("a\nb\rc\td"), "'a\\nb\\rc\\td'");
        assert_eq!(py_repr("\x00\x1b\x7f"), "'\\x00\\x1b\\x7f'");
        assert_eq!(py_repr("\u{a0}\u{85}"), "'\\xa0\\x85'");
        assert_eq!(py_repr("\u{2028}\u{feff}"), "'\\u2028\\ufeff'");
        assert_eq!(py_repr("\u{10ffff}"), "'\\U0010ffff'");
        assert_eq!(py_repr("é€😀"), "'é€😀'");
    }
}
