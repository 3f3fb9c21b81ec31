//! Errors of the sans-IO codecs: what went wrong, at which byte, in which field.

use std::fmt;

/// A frame or message could not be decoded.
///
/// Carries the byte offset (from the start of the frame) where the problem was found and the
/// dotted path of the field being read, e.g. `Frame.header.code`: read them as
/// `error.offset`, `error.path` and `error.kind` (fields of [`DecodeErrorDetail`]).
///
/// The details are boxed so that every decoding `Result` stays one pointer wider than its
/// value: decoders return on the hot path, errors are rare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(Box<DecodeErrorDetail>);

/// What a [`DecodeError`] says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeErrorDetail {
    /// Byte offset from the start of the frame.
    pub offset: usize,
    /// Field path from the outermost message inward, e.g. `["Frame", "header", "code"]`.
    pub path: Vec<&'static str>,
    /// What was wrong.
    pub kind: DecodeErrorKind,
}

/// The kinds of [`DecodeError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The frame ended before the field did (the frame's length promised fewer bytes).
    Truncated {
        /// Bytes the field needed.
        needed: usize,
        /// Bytes that were left.
        available: usize,
    },
    /// A length or count is larger than the configured limit; nothing was allocated.
    TooLong {
        /// The announced length or count.
        len: u64,
        /// The configured limit.
        max: usize,
    },
    /// A negative length prefix.
    NegativeLength(i64),
    /// Bytes that are not valid UTF-8 in a string field.
    InvalidUtf8,
    /// A bool byte other than 0 or 1.
    InvalidBool(u8),
    /// A value that no variant of a closed enum has.
    UnknownEnum(i64),
    /// A varint longer than 10 bytes or above the target type's range.
    VarintOverflow,
    /// A bounded varint (`varint<max = n>`) still continuing after the bytes its maximum
    /// needs.
    VarintTooLong {
        /// The most bytes it may take.
        max_bytes: usize,
    },
    /// A bounded varint above its maximum.
    VarintAboveMax {
        /// The maximum.
        max: u64,
    },
    /// A tag that no member of a tagged list has.
    UnknownTag(u64),
    /// A member of a tagged list that may appear once, appearing again.
    DuplicateTag(u64),
    /// A constant field (magic, tag) with the wrong value.
    BadConstant {
        /// The declared value.
        expected: u64,
        /// The value found.
        found: u64,
    },
    /// A discriminator value for which no encoding is declared.
    UnknownDiscriminator(u64),
    /// Bytes left over inside a region whose length was announced.
    TrailingBytes(usize),
    /// A computed length field disagrees with the data.
    LengthMismatch {
        /// The length announced on the wire.
        announced: u64,
        /// The length the data has.
        actual: u64,
    },
    /// A JSON-encoded region was not valid for its type.
    Json(String),
    /// A required field of a header carried as strings is absent.
    MissingField,
    /// A header field carried as a string does not parse as its type.
    InvalidField(String),
    /// The bytes received so far end inside the frame: only seen while measuring a frame
    /// without a length prefix, where it means "wait for more".
    Incomplete,
    /// An ASCII decimal integer that is empty or holds a byte other than a digit (after
    /// an optional leading `-`); the offset is the byte's.
    InvalidDecimal,
    /// An ASCII decimal integer beyond its type's range.
    DecimalOverflow,
    /// Bytes other than a literal field's.
    BadLiteral {
        /// The literal.
        expected: Vec<u8>,
    },
    /// A computed length other than the one its absent (conditional) field calls for
    /// (`= len(x) else -1`).
    AbsentLength {
        /// The value an absent field's length has.
        expected: i64,
        /// The value found.
        found: i64,
    },
    /// A union whose members depend on which side sent the bytes (`from client`, `from
    /// server`) was read without knowing it.
    UnknownSender,
    /// Recursive values nested deeper than the limit.
    DepthExceeded {
        /// The configured limit.
        max: usize,
    },
    /// The message was read, but the reply it calls for (a handshake's accept or reject)
    /// could not be encoded.
    Reply(String),
}

impl std::ops::Deref for DecodeError {
    type Target = DecodeErrorDetail;
    fn deref(&self) -> &DecodeErrorDetail {
        &self.0
    }
}

impl std::ops::DerefMut for DecodeError {
    fn deref_mut(&mut self) -> &mut DecodeErrorDetail {
        &mut self.0
    }
}

impl DecodeError {
    /// An error of `kind` at `offset` in field `field`.
    #[cold]
    pub fn new(offset: usize, field: &'static str, kind: DecodeErrorKind) -> Self {
        DecodeError(Box::new(DecodeErrorDetail {
            offset,
            path: vec![field],
            kind,
        }))
    }

    /// Prefixes the path with the enclosing field or message name.
    #[must_use]
    pub fn within(mut self, outer: &'static str) -> Self {
        self.path.insert(0, outer);
        self
    }

    /// The field path joined with dots, e.g. `Frame.header.code`.
    pub fn path_string(&self) -> String {
        self.path.join(".")
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at byte {} in `{}`: ", self.offset, self.path_string())?;
        match &self.kind {
            DecodeErrorKind::Truncated { needed, available } => write!(
                f,
                "frame ends early: needed {needed} byte(s), {available} left"
            ),
            DecodeErrorKind::TooLong { len, max } => {
                write!(f, "length {len} exceeds the limit of {max}")
            }
            DecodeErrorKind::NegativeLength(n) => write!(f, "negative length {n}"),
            DecodeErrorKind::InvalidUtf8 => write!(f, "string is not valid UTF-8"),
            DecodeErrorKind::InvalidBool(b) => write!(f, "bool byte {b:#04x} is neither 0 nor 1"),
            DecodeErrorKind::UnknownEnum(v) => write!(f, "no enum variant has value {v}"),
            DecodeErrorKind::VarintOverflow => write!(f, "varint overflows its type"),
            DecodeErrorKind::VarintTooLong { max_bytes } => {
                write!(f, "varint continues past {max_bytes} byte(s)")
            }
            DecodeErrorKind::VarintAboveMax { max } => {
                write!(f, "varint exceeds its maximum {max}")
            }
            DecodeErrorKind::UnknownTag(t) => write!(f, "no member has tag {t:#x}"),
            DecodeErrorKind::DuplicateTag(t) => write!(f, "tag {t:#x} appears twice"),
            DecodeErrorKind::BadConstant { expected, found } => {
                write!(f, "expected constant {expected:#x}, found {found:#x}")
            }
            DecodeErrorKind::UnknownDiscriminator(v) => {
                write!(f, "no encoding is declared for discriminator value {v}")
            }
            DecodeErrorKind::TrailingBytes(n) => write!(f, "{n} trailing byte(s) in the region"),
            DecodeErrorKind::LengthMismatch { announced, actual } => write!(
                f,
                "length field says {announced} byte(s) but the data has {actual}"
            ),
            DecodeErrorKind::Json(msg) => write!(f, "invalid JSON: {msg}"),
            DecodeErrorKind::MissingField => write!(f, "required field is missing"),
            DecodeErrorKind::InvalidField(v) => write!(f, "`{v}` is not a valid value"),
            DecodeErrorKind::Incomplete => write!(f, "the frame continues past the bytes received"),
            DecodeErrorKind::UnknownSender => {
                write!(
                    f,
                    "which side sent the bytes is not known, and the members depend on it"
                )
            }
            DecodeErrorKind::InvalidDecimal => write!(f, "not a decimal integer"),
            DecodeErrorKind::DecimalOverflow => write!(f, "decimal integer out of range"),
            DecodeErrorKind::BadLiteral { expected } => {
                write!(
                    f,
                    "expected the bytes {:?}",
                    String::from_utf8_lossy(expected)
                )
            }
            DecodeErrorKind::AbsentLength { expected, found } => {
                write!(f, "length {found} where an absent value has {expected}")
            }
            DecodeErrorKind::DepthExceeded { max } => {
                write!(f, "values nested deeper than {max} levels")
            }
            DecodeErrorKind::Reply(msg) => write!(f, "the reply cannot be encoded: {msg}"),
        }
    }
}

impl std::error::Error for DecodeError {}

/// A value could not be encoded (it does not fit the wire layout).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum EncodeError {
    /// A length or count does not fit its prefix, or exceeds the declared maximum.
    #[error("`{path}`: length {len} does not fit (at most {max})")]
    TooLong {
        /// Field path.
        path: &'static str,
        /// The length.
        len: u64,
        /// The largest representable or allowed length.
        max: u64,
    },
    /// A value does not fit in its bit range or integer width.
    #[error("`{path}`: value {value} does not fit in {bits} bit(s)")]
    Overflow {
        /// Field path.
        path: &'static str,
        /// The value.
        value: u64,
        /// Available bits.
        bits: u32,
    },
    /// A discriminator value with no declared encoding.
    #[error("`{path}`: no encoding is declared for discriminator value {value}")]
    UnknownDiscriminator {
        /// Field path.
        path: &'static str,
        /// The value.
        value: u64,
    },
    /// A value above the maximum its type declares.
    #[error("`{path}`: value {value} is above the maximum {max}")]
    AboveMax {
        /// Field path.
        path: &'static str,
        /// The value.
        value: u64,
        /// The maximum.
        max: u64,
    },
    /// A field whose condition holds is absent.
    #[error("`{path}` is required: its condition holds")]
    MissingField {
        /// Field path.
        path: &'static str,
    },
    /// A field whose condition does not hold is present.
    #[error("`{path}` must be absent: its condition does not hold")]
    UnexpectedField {
        /// Field path.
        path: &'static str,
    },
    /// A union's `else` member whose bytes start with another member's key: it would be
    /// read back as that member.
    #[error(
        "`{path}`: its first word {value:#x} is another member's; it would read back as that one"
    )]
    ClaimedKey {
        /// Field path.
        path: &'static str,
        /// The first word, masked as the union reads it.
        value: u64,
    },
    /// A delimiter-terminated value holding its delimiter.
    #[error("`{path}` holds its own delimiter")]
    ContainsDelimiter {
        /// Field path.
        path: &'static str,
    },
    /// JSON serialisation failed.
    #[error("`{path}`: JSON encoding failed: {msg}")]
    Json {
        /// Field path.
        path: &'static str,
        /// serde_json's message.
        msg: String,
    },
    /// A dynamic value (a protocol interpreted at run time) that does not have the shape
    /// its type calls for.
    #[error("`{path}`: expected {expected}")]
    Mismatch {
        /// Field path.
        path: &'static str,
        /// What the type calls for.
        expected: &'static str,
    },
}

/// What decoding gives: the value, or where and why the bytes are wrong. Generated
/// decoders return it.
pub type DecodeResult<T> = Result<T, DecodeError>;

/// What encoding gives (nothing, by default), or why the value cannot be written.
/// Generated encoders return it.
pub type EncodeResult<T = ()> = Result<T, EncodeError>;
