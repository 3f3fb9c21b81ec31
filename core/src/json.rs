//! Helpers for JSON-encoded structs (the `encoding X json { ... }` declarations): enums by
//! name, sizes without buffering, error positions.

use crate::codec::WireEnum;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use serde::{Deserialize, Deserializer, Serializer};

/// `#[serde(with = "enum_by_name")]`: writes an enum as its declared name (its number when it
/// has none); reads a name or, leniently, a number.
pub mod enum_by_name {
    use super::*;

    /// Serializes by name.
    pub fn serialize<T: WireEnum, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        match v.wire_name() {
            Some(n) => s.serialize_str(n),
            None => enum_by_number::serialize(v, s),
        }
    }

    /// Deserializes from a name or a number.
    pub fn deserialize<'de, T: WireEnum, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum NameOrNumber {
            Name(String),
            Number(Number),
        }
        match NameOrNumber::deserialize(d)? {
            NameOrNumber::Name(n) => T::from_wire_name(&n)
                .ok_or_else(|| serde::de::Error::custom(format_args!("unknown name `{n}`"))),
            NameOrNumber::Number(v) => v.to_enum(),
        }
    }
}

/// `#[serde(with = "enum_by_number")]`: writes an enum as its wire value.
pub mod enum_by_number {
    use super::*;

    /// Serializes the wire value.
    pub fn serialize<T: WireEnum, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
        if T::WIRE_U64 {
            // The bit pattern back to the value.
            s.serialize_u64(v.wire_value() as u64)
        } else {
            s.serialize_i64(v.wire_value())
        }
    }

    /// Deserializes a wire value.
    pub fn deserialize<'de, T: WireEnum, D: Deserializer<'de>>(d: D) -> Result<T, D::Error> {
        Number::deserialize(d)?.to_enum()
    }
}

/// An enum's number in JSON: an i64, or a u64 over `i64::MAX` (a `u64` representation's).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(untagged)]
enum Number {
    Signed(i64),
    Unsigned(u64),
}

impl Number {
    fn to_enum<T: WireEnum, E: serde::de::Error>(self) -> Result<T, E> {
        let found = match self {
            Number::Signed(v) if T::WIRE_U64 && v < 0 => None,
            Number::Signed(v) => T::from_wire_value(v),
            // The value's bit pattern.
            Number::Unsigned(v) if T::WIRE_U64 => T::from_wire_value(v as i64),
            Number::Unsigned(_) => None,
        };
        found.ok_or_else(|| match self {
            Number::Signed(v) => E::custom(format_args!("unknown value {v}")),
            Number::Unsigned(v) => E::custom(format_args!("unknown value {v}")),
        })
    }
}

struct Count(usize);

impl std::io::Write for Count {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Reads a member that is there into `Some`, `null` included. With the mirror's default
/// for a member that is not there, an `Option<Option<T>>` (an optional field present on a
/// condition) tells the two apart: absent is `None`, `null` is `Some(None)`.
pub fn json_present<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(d).map(Some)
}

/// The length of `v`'s JSON text, computed without buffering it.
pub fn json_len<T: serde::Serialize>(v: &T) -> usize {
    let mut c = Count(0);
    let mut ser = serde_json::Serializer::with_formatter(&mut c, CompactUpperHex);
    // Serialising into a counter cannot fail for the generated mirror types.
    let _ = v.serialize(&mut ser);
    c.0
}

/// Parses `bytes` (found at frame offset `at`) as JSON into `T`.
pub fn from_json<'a, T: Deserialize<'a>>(
    bytes: &'a [u8],
    at: usize,
    field: &'static str,
) -> Result<T, DecodeError> {
    serde_json::from_slice(bytes).map_err(|e| {
        // serde_json reports line/column; the column of a one-line document is the offset.
        let off = if e.line() == 1 {
            e.column().saturating_sub(1)
        } else {
            0
        };
        DecodeError::new(at + off, field, DecodeErrorKind::Json(e.to_string()))
    })
}

/// Compact JSON as fastjson writes it: no whitespace, `\uXXXX` escapes with upper-case hex
/// digits, `/` and non-ASCII left as they are.
#[derive(Debug, Clone, Copy, Default)]
pub struct CompactUpperHex;

impl serde_json::ser::Formatter for CompactUpperHex {
    fn write_char_escape<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        escape: serde_json::ser::CharEscape,
    ) -> std::io::Result<()> {
        use serde_json::ser::CharEscape::*;
        let s: &[u8] = match escape {
            Quote => b"\\\"",
            ReverseSolidus => b"\\\\",
            Solidus => b"/",
            Backspace => b"\\b",
            FormFeed => b"\\f",
            LineFeed => b"\\n",
            CarriageReturn => b"\\r",
            Tab => b"\\t",
            AsciiControl(b) => {
                const HEX: &[u8; 16] = b"0123456789ABCDEF";
                let out = [
                    b'\\',
                    b'u',
                    b'0',
                    b'0',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 0xf)],
                ];
                return w.write_all(&out);
            }
        };
        w.write_all(s)
    }
}

/// Writes `v` as JSON straight into `dst` (see [`CompactUpperHex`]).
pub fn to_json<T: serde::Serialize>(
    v: &T,
    dst: &mut bytes::BytesMut,
    field: &'static str,
) -> Result<(), EncodeError> {
    use bytes::BufMut;
    let mut ser = serde_json::Serializer::with_formatter(dst.writer(), CompactUpperHex);
    v.serialize(&mut ser).map_err(|e| EncodeError::Json {
        path: field,
        msg: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_fastjson() {
        let mut out = bytes::BytesMut::new();
        let s = "a\u{1}b\u{1a}\n\"/\\é";
        to_json(&s, &mut out, "t").unwrap();
        assert_eq!(&out[..], r#""a\u0001b\u001A\n\"/\\é""#.as_bytes());
        assert_eq!(json_len(&s), out.len());
    }
}
