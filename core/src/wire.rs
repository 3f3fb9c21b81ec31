//! Primitive readers and writers that generated codecs are built from.
//!
//! [`Reader`] walks one complete frame held in [`Bytes`]: every read checks the remaining
//! length first, every length or count is checked against [`Limits`] and the remaining
//! bytes *before* anything is allocated, and string/bytes fields are zero-copy slices of
//! the frame. The `peek_*` functions look at a not-yet-complete buffer to find where a
//! frame ends without consuming anything.

use crate::error::{DecodeError, DecodeErrorKind, EncodeError};
use crate::types::{OrderedMap, Str};
use bytes::{Bytes, BytesMut};

/// Limits every generated decoder enforces before allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest whole frame, length prefix included.
    pub max_frame_len: usize,
    /// Largest string or bytes field.
    pub max_string_len: usize,
    /// Largest element count of a list or map.
    pub max_collection_len: usize,
    /// Longest delimiter-terminated field (`until "\r\n"`), delimiter excluded: a line
    /// this long with no delimiter yet is an error, not a reason to wait for more bytes.
    pub max_line_len: usize,
    /// Deepest nesting of recursive unions while decoding.
    pub max_depth: usize,
}

impl Limits {
    /// 16 MiB frames, 16 MiB strings, 1 Mi elements, 64 KiB lines, 32 levels of nesting.
    pub const DEFAULT: Limits = Limits {
        max_frame_len: 16 * 1024 * 1024,
        max_string_len: 16 * 1024 * 1024,
        max_collection_len: 1024 * 1024,
        max_line_len: 64 * 1024,
        max_depth: 32,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// A bounds-checked cursor over one frame (or a region of it). Regions share the frame's
/// buffer: only the string and bytes values taken out of it hold a reference.
///
/// The cursor is the slice of unread bytes itself: a read checks its length once and
/// moves the slice's start, so no read repeats a bounds check or goes through the
/// frame's `Bytes` handle (only [`bytes`](Reader::bytes) and [`str`](Reader::str) do,
/// to take a reference-counted slice).
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    /// The frame's buffer, which values are sliced out of; `None` for a reader that only
    /// measures ([`Reader::measure`]).
    owner: Option<&'a Bytes>,
    /// All of the buffer, for offsets.
    whole: &'a [u8],
    /// The reader's end is only where the bytes received so far end ([`Reader::measure`]):
    /// running into it means "need more" ([`DecodeErrorKind::Incomplete`]).
    open_end: bool,
    /// Unions entered so far ([`Reader::enter`]).
    depth: usize,
    /// The unread bytes of this reader's region (a sub-slice of `buf`).
    rest: &'a [u8],
    limits: Limits,
    /// Where the frame starts in `buf` (0 unless several frames share `buf`): offsets in
    /// errors count from the frame's start.
    base: usize,
    /// The protocol version in effect (`@version` in conditions): set by the codec and by
    /// fields marked `@version`; 0 when unknown.
    version: u32,
    /// Which side of the connection sent the bytes, for unions whose members depend on it
    /// (`union Message { Command from client, Value from server }`); `None` when unknown.
    sender: Option<Sender>,
}

/// The side of a connection that sent some bytes: what a union with members `from client`
/// and `from server` reads them as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Sender {
    /// The side that opened the connection.
    Client,
    /// The side that accepted it.
    Server,
}

/// How a length or a count is written in front of what it measures: what generated code
/// hands [`Reader::prefixed_str`], [`Reader::prefixed_bytes`], [`Reader::prefixed_count`]
/// and [`Reader::prefixed_region`] for a length-prefixed field, and [`Probe::length`] for a
/// frame's length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prefix {
    /// A fixed-width integer.
    Int {
        /// Its width in bytes (1 to 8).
        width: u8,
        /// Big-endian (else little-endian).
        big_endian: bool,
        /// Signed (a negative length is an error).
        signed: bool,
    },
    /// An unsigned LEB128 varint.
    Varint,
    /// An unsigned LEB128 varint no larger than this, in no more bytes than it needs.
    VarintMax(u64),
}

impl Prefix {
    /// An unsigned integer of `width` bytes.
    pub const fn uint(width: u8, big_endian: bool) -> Prefix {
        Prefix::Int {
            width,
            big_endian,
            signed: false,
        }
    }

    /// A signed integer of `width` bytes.
    pub const fn int(width: u8, big_endian: bool) -> Prefix {
        Prefix::Int {
            width,
            big_endian,
            signed: true,
        }
    }
}

macro_rules! read_int {
    ($($name:ident: $ty:ty, $n:expr, $conv:ident;)*) => {$(
        #[doc = concat!("Reads a `", stringify!($ty), "` (", stringify!($conv), ").")]
        #[inline]
        pub fn $name(&mut self, field: &'static str) -> Result<$ty, DecodeError> {
            let b = self.array::<$n>(field)?;
            Ok(<$ty>::$conv(b))
        }
    )*};
}

/// The most elements [`Reader::capacity_guess`] makes room for.
pub const GUESS_CAP: usize = 16;

impl<'a> Reader<'a> {
    /// A reader over a whole frame.
    #[inline]
    pub fn new(buf: &'a Bytes, limits: Limits) -> Self {
        Reader {
            owner: Some(buf),
            whole: &buf[..],
            open_end: false,
            depth: 0,
            rest: &buf[..],
            limits,
            base: 0,
            version: 0,
            sender: None,
        }
    }

    /// A reader that measures the frame at the front of `buf`, bytes that may end before
    /// the frame does: reading past their end fails with [`DecodeErrorKind::Incomplete`],
    /// and string and bytes values come out empty (and unchecked: only their extent
    /// counts). Frames without a length prefix find their end with it.
    pub fn measure(buf: &'a [u8], limits: Limits) -> Self {
        Reader {
            owner: None,
            whole: buf,
            open_end: true,
            depth: 0,
            rest: buf,
            limits,
            base: 0,
            version: 0,
            sender: None,
        }
    }

    /// A reader over the frame at `range` of `buf`, which holds several frames: values taken
    /// out of it are slices of `buf`, and offsets count from `range.start`.
    ///
    /// # Panics
    ///
    /// If `range` is not within `buf` (callers pass the boundaries they found in it).
    #[inline]
    pub fn within(buf: &'a Bytes, range: std::ops::Range<usize>, limits: Limits) -> Self {
        Reader {
            owner: Some(buf),
            whole: &buf[..],
            open_end: false,
            depth: 0,
            base: range.start,
            rest: &buf[range],
            limits,
            version: 0,
            sender: None,
        }
    }

    /// The same reader with protocol version `v` in effect.
    #[inline]
    pub fn with_version(mut self, v: u32) -> Self {
        self.version = v;
        self
    }

    /// The protocol version in effect (0 when unknown). Regions taken from this reader
    /// inherit it.
    #[inline]
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The reader with its end only where the bytes received so far end: reading past it
    /// fails with [`DecodeErrorKind::Incomplete`] ("need more"), as [`Reader::measure`]'s
    /// does, while values are read as usual. Frames without a length prefix are read in
    /// one pass with it.
    pub fn open_ended(mut self) -> Self {
        self.open_end = true;
        self
    }

    /// The reader with the side that sent its bytes set (see [`Sender`]).
    pub fn with_sender(mut self, sender: Option<Sender>) -> Self {
        self.sender = sender;
        self
    }

    /// The side that sent the bytes (`None` when unknown). Regions taken from this reader
    /// inherit it.
    #[inline]
    pub fn sender(&self) -> Option<Sender> {
        self.sender
    }

    /// Sets the protocol version in effect for what is read next (a field marked
    /// `@version` does).
    #[inline]
    pub fn set_version(&mut self, v: u32) {
        self.version = v;
    }

    /// The limits in force.
    #[inline]
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Offset of the next byte from the start of the frame.
    #[inline]
    pub fn offset(&self) -> usize {
        self.pos() - self.base
    }

    /// Offset of the next byte from the start of `buf`.
    #[inline]
    fn pos(&self) -> usize {
        // `rest` always lies inside `buf`: the difference of their addresses is the position.
        self.rest.as_ptr().addr() - self.whole.as_ptr().addr()
    }

    /// Bytes left in this reader's region.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.rest.len()
    }

    /// An error at the current offset.
    #[cold]
    pub fn error(&self, field: &'static str, kind: DecodeErrorKind) -> DecodeError {
        DecodeError::new(self.offset(), field, kind)
    }

    #[cold]
    fn truncated(&self, n: usize, field: &'static str) -> DecodeError {
        if self.open_end {
            return self.error(field, DecodeErrorKind::Incomplete);
        }
        self.error(
            field,
            DecodeErrorKind::Truncated {
                needed: n,
                available: self.remaining(),
            },
        )
    }

    #[inline]
    fn need(&self, n: usize, field: &'static str) -> Result<(), DecodeError> {
        if self.rest.len() < n {
            return Err(self.truncated(n, field));
        }
        Ok(())
    }

    #[inline(always)]
    fn array<const N: usize>(&mut self, field: &'static str) -> Result<[u8; N], DecodeError> {
        match self.rest.split_first_chunk::<N>() {
            Some((head, tail)) => {
                self.rest = tail;
                Ok(*head)
            }
            None => Err(self.truncated(N, field)),
        }
    }

    read_int! {
        u8: u8, 1, from_be_bytes;
        i8: i8, 1, from_be_bytes;
        u16_be: u16, 2, from_be_bytes;
        u16_le: u16, 2, from_le_bytes;
        i16_be: i16, 2, from_be_bytes;
        i16_le: i16, 2, from_le_bytes;
        u32_be: u32, 4, from_be_bytes;
        u32_le: u32, 4, from_le_bytes;
        i32_be: i32, 4, from_be_bytes;
        i32_le: i32, 4, from_le_bytes;
        u64_be: u64, 8, from_be_bytes;
        u64_le: u64, 8, from_le_bytes;
        i64_be: i64, 8, from_be_bytes;
        i64_le: i64, 8, from_le_bytes;
    }

    /// Reads a 24-bit big-endian unsigned integer.
    pub fn u24_be(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let [a, b, c] = self.array::<3>(field)?;
        Ok(u32::from_be_bytes([0, a, b, c]))
    }

    /// Reads a 24-bit little-endian unsigned integer.
    pub fn u24_le(&mut self, field: &'static str) -> Result<u32, DecodeError> {
        let [a, b, c] = self.array::<3>(field)?;
        Ok(u32::from_le_bytes([a, b, c, 0]))
    }

    /// Reads an unsigned integer of `width` bytes (1 to 8) as u64: its bit pattern, for a
    /// signed one. Generated code passes constants, so this is the one read.
    #[inline(always)]
    pub fn uint(
        &mut self,
        width: usize,
        big_endian: bool,
        field: &'static str,
    ) -> Result<u64, DecodeError> {
        Ok(match (width, big_endian) {
            (1, _) => u64::from(self.u8(field)?),
            (2, true) => u64::from(self.u16_be(field)?),
            (2, false) => u64::from(self.u16_le(field)?),
            (3, true) => u64::from(self.u24_be(field)?),
            (3, false) => u64::from(self.u24_le(field)?),
            (4, true) => u64::from(self.u32_be(field)?),
            (4, false) => u64::from(self.u32_le(field)?),
            (8, true) => self.u64_be(field)?,
            (8, false) => self.u64_le(field)?,
            _ => {
                self.need(width, field)?;
                let (head, tail) = self.rest.split_at(width);
                self.rest = tail;
                peek_uint(head, 0, width, big_endian).unwrap_or_default()
            }
        })
    }

    /// Reads a constant field of `width` bytes: an error unless it holds `expected`.
    #[inline]
    pub fn constant(
        &mut self,
        width: usize,
        big_endian: bool,
        expected: u64,
        field: &'static str,
    ) -> Result<(), DecodeError> {
        let at = self.offset();
        let v = self.uint(width, big_endian, field)?;
        expect_const(v, expected, at, field)
    }

    /// Reads a length or count written as `prefix`, as i64 (a u64 past i64's range
    /// saturates, so that it fails any limit; a signed one is sign-extended).
    #[inline(always)]
    pub fn prefix(&mut self, prefix: Prefix, field: &'static str) -> Result<i64, DecodeError> {
        match prefix {
            Prefix::Varint => Ok(sat_i64(self.varint(field)?)),
            Prefix::VarintMax(max) => Ok(sat_i64(self.varint_max(max, field)?)),
            Prefix::Int {
                width,
                big_endian,
                signed,
            } => {
                let v = self.uint(usize::from(width), big_endian, field)?;
                let shift = 64 - 8 * u32::from(width.min(8));
                Ok(if signed {
                    ((v << shift) as i64) >> shift
                } else {
                    sat_i64(v)
                })
            }
        }
    }

    /// Reads a string written after its length (`prefix`), which is checked against the
    /// limits and the bytes left.
    #[inline]
    pub fn prefixed_str(
        &mut self,
        prefix: Prefix,
        field: &'static str,
    ) -> Result<Str, DecodeError> {
        let n = self.prefixed_len(prefix, None, field)?;
        self.str(n, field)
    }

    /// [`prefixed_str`](Self::prefixed_str) of a string with a maximum length of its own.
    #[inline]
    pub fn prefixed_str_max(
        &mut self,
        prefix: Prefix,
        max: u64,
        field: &'static str,
    ) -> Result<Str, DecodeError> {
        let n = self.prefixed_len(prefix, Some(max), field)?;
        self.str(n, field)
    }

    /// Reads bytes written after their length (`prefix`), as
    /// [`prefixed_str`](Self::prefixed_str) reads a string.
    #[inline]
    pub fn prefixed_bytes(
        &mut self,
        prefix: Prefix,
        field: &'static str,
    ) -> Result<Bytes, DecodeError> {
        let n = self.prefixed_len(prefix, None, field)?;
        self.bytes(n, field)
    }

    /// [`prefixed_bytes`](Self::prefixed_bytes) of bytes with a maximum length of their own.
    #[inline]
    pub fn prefixed_bytes_max(
        &mut self,
        prefix: Prefix,
        max: u64,
        field: &'static str,
    ) -> Result<Bytes, DecodeError> {
        let n = self.prefixed_len(prefix, Some(max), field)?;
        self.bytes(n, field)
    }

    #[inline(always)]
    fn prefixed_len(
        &mut self,
        prefix: Prefix,
        max: Option<u64>,
        field: &'static str,
    ) -> Result<usize, DecodeError> {
        let at = self.offset();
        let n = self.prefix(prefix, field)?;
        let n = self.check_len(n, at, field)?;
        if let Some(max) = max {
            check_max(n, max, at, field)?;
        }
        Ok(n)
    }

    /// Reads the element count of a list or map written as `prefix`, checked as
    /// [`check_count`](Self::check_count) checks it (each element takes at least
    /// `min_elem` bytes).
    #[inline]
    pub fn prefixed_count(
        &mut self,
        prefix: Prefix,
        min_elem: usize,
        field: &'static str,
    ) -> Result<usize, DecodeError> {
        let at = self.offset();
        let n = self.prefix(prefix, field)?;
        self.check_count(n, min_elem, at, field)
    }

    /// Splits off the region a length written as `prefix` announces (checked as
    /// [`region_len`](Self::region_len) checks it), as [`region`](Self::region) does.
    #[inline]
    pub fn prefixed_region(
        &mut self,
        prefix: Prefix,
        field: &'static str,
    ) -> Result<Reader<'a>, DecodeError> {
        let at = self.offset();
        let n = self.prefix(prefix, field)?;
        let n = self.region_len(n, at, field)?;
        self.region(n, field)
    }

    /// Reads a bool byte (0 or 1; anything else is an error).
    pub fn bool(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        let at = self.offset();
        match self.u8(field)? {
            0 => Ok(false),
            1 => Ok(true),
            b => Err(DecodeError::new(at, field, DecodeErrorKind::InvalidBool(b))),
        }
    }

    /// Reads an unsigned LEB128 varint of at most 10 bytes.
    #[inline(always)]
    pub fn varint(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        let rest = self.rest;
        // One byte (small ids, counts, lengths) is the common case.
        if let Some((&b, tail)) = rest.split_first()
            && b < 0x80
        {
            self.rest = tail;
            return Ok(u64::from(b));
        }
        // Up to four bytes without a loop; longer values, overflow and truncation take the
        // long way.
        if let Some(&[b0, b1, b2, b3]) = rest.first_chunk::<4>() {
            let mut v = u64::from(b0 & 0x7f) | u64::from(b1 & 0x7f) << 7;
            if b1 < 0x80 {
                self.rest = &rest[2..];
                return Ok(v);
            }
            v |= u64::from(b2 & 0x7f) << 14;
            if b2 < 0x80 {
                self.rest = &rest[3..];
                return Ok(v);
            }
            v |= u64::from(b3 & 0x7f) << 21;
            if b3 < 0x80 {
                self.rest = &rest[4..];
                return Ok(v);
            }
        }
        self.varint_long(field)
    }

    #[inline(never)]
    fn varint_long(&mut self, field: &'static str) -> Result<u64, DecodeError> {
        let at = self.offset();
        match decode_varint(self.rest) {
            Ok(Some((v, n))) => {
                self.rest = &self.rest[n..];
                Ok(v)
            }
            Ok(None) => Err(self.error(
                field,
                DecodeErrorKind::Truncated {
                    needed: self.remaining() + 1,
                    available: self.remaining(),
                },
            )),
            Err(kind) => Err(DecodeError::new(at, field, kind)),
        }
    }

    /// The next `width` bytes (1..=8) as an unsigned integer, without consuming them (a
    /// union's members are told apart by their first word).
    #[inline]
    pub fn peek_word(
        &self,
        width: usize,
        big_endian: bool,
        field: &'static str,
    ) -> Result<u64, DecodeError> {
        peek_uint(self.rest, 0, width, big_endian).ok_or_else(|| self.truncated(width, field))
    }

    /// Reads an unsigned LEB128 varint no larger than `max`, in no more bytes than `max`
    /// needs (`varint<max = 268435455>` is at most four bytes: a fifth is an error, as MQTT's
    /// variable byte integer requires).
    #[inline]
    pub fn varint_max(&mut self, max: u64, field: &'static str) -> Result<u64, DecodeError> {
        let at = self.offset();
        match decode_varint_max(self.rest, max) {
            Ok(Some((v, n))) => {
                self.rest = &self.rest[n..];
                Ok(v)
            }
            Ok(None) => Err(self.error(
                field,
                DecodeErrorKind::Truncated {
                    needed: self.remaining() + 1,
                    available: self.remaining(),
                },
            )),
            Err(kind) => Err(DecodeError::new(at, field, kind)),
        }
    }

    /// Reads a zigzag-encoded signed varint.
    pub fn svarint(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        let v = self.varint(field)?;
        Ok(((v >> 1) as i64) ^ -((v & 1) as i64))
    }

    /// Checks a string/bytes length read at `at` against the limits and the remaining bytes.
    #[inline]
    pub fn check_len(
        &self,
        len: i64,
        at: usize,
        field: &'static str,
    ) -> Result<usize, DecodeError> {
        let len = bounded(len, self.limits.max_string_len, at, field)?;
        self.need(len, field)?;
        Ok(len)
    }

    /// Checks a string/bytes length read at `at` against `max_string_len` alone, before the
    /// region it announces is taken (so that a frame measured while it arrives fails at
    /// once rather than waiting for bytes past the limit).
    #[inline]
    pub fn check_string_len(
        &self,
        len: i64,
        at: usize,
        field: &'static str,
    ) -> Result<(), DecodeError> {
        if len > 0 && len as u64 > self.limits.max_string_len as u64 {
            return Err(DecodeError::new(
                at,
                field,
                DecodeErrorKind::TooLong {
                    len: len as u64,
                    max: self.limits.max_string_len,
                },
            ));
        }
        Ok(())
    }

    /// Checks an element count read at `at` against the limits and against the remaining
    /// bytes (each element takes at least `min_elem` bytes), before any `Vec` is sized.
    #[inline]
    pub fn check_count(
        &self,
        count: i64,
        min_elem: usize,
        at: usize,
        field: &'static str,
    ) -> Result<usize, DecodeError> {
        let count = bounded(count, self.limits.max_collection_len, at, field)?;
        self.need(count.saturating_mul(min_elem), field)?;
        Ok(count)
    }

    /// Reads an optional's presence byte: 0 absent, 1 present, anything else an error.
    pub fn presence(&mut self, field: &'static str) -> Result<bool, DecodeError> {
        self.bool(field)
    }

    /// Checks a region length (from a length field) read at `at`: not negative and not past
    /// the end of the enclosing data.
    #[inline]
    pub fn region_len(
        &self,
        len: i64,
        at: usize,
        field: &'static str,
    ) -> Result<usize, DecodeError> {
        if len < 0 {
            return Err(DecodeError::new(
                at,
                field,
                DecodeErrorKind::NegativeLength(len),
            ));
        }
        if len as u64 > self.remaining() as u64 {
            if self.open_end {
                return Err(DecodeError::new(at, field, DecodeErrorKind::Incomplete));
            }
            return Err(DecodeError::new(
                at,
                field,
                DecodeErrorKind::LengthMismatch {
                    announced: len as u64,
                    actual: self.remaining() as u64,
                },
            ));
        }
        Ok(len as usize)
    }

    /// In a loop that reads elements until a region ends: fails once `len` elements have
    /// been read and the collection limit is reached.
    pub fn check_more(&self, len: usize, field: &'static str) -> Result<(), DecodeError> {
        if len >= self.limits.max_collection_len {
            return Err(self.error(
                field,
                DecodeErrorKind::TooLong {
                    len: len as u64 + 1,
                    max: self.limits.max_collection_len,
                },
            ));
        }
        Ok(())
    }

    /// How many elements of at least `min_elem` bytes to make room for before reading a
    /// collection that runs to the end of this reader: what the bytes left could hold, at
    /// most [`GUESS_CAP`] (a guess, not a count: it must not let a frame make the decoder
    /// allocate much more than the frame).
    #[inline]
    pub fn capacity_guess(&self, min_elem: usize) -> usize {
        (self.rest.len() / min_elem.max(1)).min(GUESS_CAP)
    }

    /// Takes `n` bytes as a zero-copy slice (callers check `n` first with [`Reader::check_len`]).
    #[inline]
    pub fn bytes(&mut self, n: usize, field: &'static str) -> Result<Bytes, DecodeError> {
        self.need(n, field)?;
        let at = self.pos();
        let out = match self.owner {
            Some(buf) => buf.slice(at..at + n),
            None => Bytes::new(),
        };
        self.rest = &self.rest[n..];
        Ok(out)
    }

    /// Takes `n` bytes as a UTF-8 string, zero-copy.
    pub fn str(&mut self, n: usize, field: &'static str) -> Result<Str, DecodeError> {
        let at = self.offset();
        if self.owner.is_none() {
            // Measuring: no value, but the check reading makes, so that both fail alike.
            self.need(n, field)?;
            let (text, rest) = self.rest.split_at(n);
            std::str::from_utf8(text)
                .map_err(|_| DecodeError::new(at, field, DecodeErrorKind::InvalidUtf8))?;
            self.rest = rest;
            return Ok(Str::default());
        }
        let b = self.bytes(n, field)?;
        Str::from_utf8(b).map_err(|_| DecodeError::new(at, field, DecodeErrorKind::InvalidUtf8))
    }

    /// Splits off the next `n` bytes as a region reader (for `sized_by` fields). No copy
    /// and no reference count: the region borrows the frame.
    #[inline(always)]
    pub fn region(&mut self, n: usize, field: &'static str) -> Result<Reader<'a>, DecodeError> {
        let Some((head, tail)) = self.rest.split_at_checked(n) else {
            return Err(self.truncated(n, field));
        };
        self.rest = tail;
        Ok(Reader {
            owner: self.owner,
            whole: self.whole,
            open_end: false,
            depth: self.depth,
            rest: head,
            limits: self.limits,
            base: self.base,
            version: self.version,
            sender: self.sender,
        })
    }

    /// Everything that is left, zero-copy.
    #[inline]
    pub fn rest(&mut self) -> Bytes {
        let at = self.pos();
        let out = match self.owner {
            Some(buf) => buf.slice(at..at + self.rest.len()),
            None => Bytes::new(),
        };
        self.rest = &self.rest[self.rest.len()..];
        out
    }

    /// The unread bytes, without consuming them.
    #[inline]
    pub fn peek_rest(&self) -> &[u8] {
        self.rest
    }

    /// Enters one level of a recursive value: fails once the levels entered exceed
    /// `max_depth`. [`Reader::leave`] undoes it.
    #[inline]
    pub fn enter(&mut self, field: &'static str) -> Result<(), DecodeError> {
        if self.depth >= self.limits.max_depth {
            return Err(self.error(
                field,
                DecodeErrorKind::DepthExceeded {
                    max: self.limits.max_depth,
                },
            ));
        }
        self.depth += 1;
        Ok(())
    }

    /// Leaves a level entered with [`Reader::enter`].
    #[inline]
    pub fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }

    /// The bytes before the next `delim`, which is consumed too. A line longer than
    /// `max_line_len` is an error as soon as that many bytes are there without `delim`;
    /// before that, running out of bytes is [`Truncated`](DecodeErrorKind::Truncated)
    /// (or [`Incomplete`](DecodeErrorKind::Incomplete) while measuring).
    #[inline]
    pub fn until(&mut self, delim: &[u8], field: &'static str) -> Result<&'a [u8], DecodeError> {
        let max = self.limits.max_line_len;
        let window = &self.rest[..self.rest.len().min(max.saturating_add(delim.len()))];
        let found = find(window, delim);
        match found {
            Some(i) if i <= max => {
                let rest: &'a [u8] = self.rest;
                let (line, tail) = rest.split_at(i);
                self.rest = &tail[delim.len()..];
                Ok(line)
            }
            _ if window.len() > max => Err(self.error(
                field,
                DecodeErrorKind::TooLong {
                    len: window.len() as u64,
                    max,
                },
            )),
            _ => Err(self.truncated(self.rest.len() + 1, field)),
        }
    }

    /// The bytes before the next `delim` as a zero-copy slice ([`Reader::until`]).
    pub fn bytes_until(&mut self, delim: &[u8], field: &'static str) -> Result<Bytes, DecodeError> {
        let at = self.offset();
        let n = self.until(delim, field)?.len();
        check_max(n, self.limits.max_string_len as u64, at, field)?;
        Ok(match self.owner {
            Some(buf) => {
                let start = at + self.base;
                buf.slice(start..start + n)
            }
            None => Bytes::new(),
        })
    }

    /// The text before the next `delim` ([`Reader::until`]), zero-copy.
    pub fn str_until(&mut self, delim: &[u8], field: &'static str) -> Result<Str, DecodeError> {
        let at = self.offset();
        if self.owner.is_none() {
            // Measuring: no value, but the checks reading makes, so that both fail alike.
            let line = self.until(delim, field)?;
            check_max(line.len(), self.limits.max_string_len as u64, at, field)?;
            std::str::from_utf8(line)
                .map_err(|_| DecodeError::new(at, field, DecodeErrorKind::InvalidUtf8))?;
            return Ok(Str::default());
        }
        let b = self.bytes_until(delim, field)?;
        Str::from_utf8(b).map_err(|_| DecodeError::new(at, field, DecodeErrorKind::InvalidUtf8))
    }

    /// An ASCII decimal integer before the next `delim` ([`Reader::until`]): an optional
    /// `-` and one or more digits.
    #[inline]
    pub fn decimal_until(&mut self, delim: &[u8], field: &'static str) -> Result<i64, DecodeError> {
        // The common case in one pass: up to 18 digits (no overflow possible), right after
        // them the delimiter. A delimiter that starts with a digit or `-` could end the line
        // inside them, so it takes the long way, as does everything unusual (an empty line,
        // an error, bytes still to come).
        let rest = self.rest;
        if let Some(&d0) = delim.first()
            && !d0.is_ascii_digit()
            && d0 != b'-'
        {
            let neg = rest.first() == Some(&b'-');
            let start = usize::from(neg);
            let mut i = start;
            let mut v: i64 = 0;
            while let Some(&b) = rest.get(i) {
                let d = b.wrapping_sub(b'0');
                if d > 9 || i - start == 18 {
                    break;
                }
                v = v * 10 + i64::from(d);
                i += 1;
            }
            if i > start
                && i <= self.limits.max_line_len
                && let Some(tail) = rest[i..].strip_prefix(delim)
            {
                self.rest = tail;
                return Ok(if neg { -v } else { v });
            }
        }
        self.decimal_until_slow(delim, field)
    }

    #[inline(never)]
    fn decimal_until_slow(
        &mut self,
        delim: &[u8],
        field: &'static str,
    ) -> Result<i64, DecodeError> {
        let at = self.offset();
        let line = self.until(delim, field)?;
        parse_decimal(line, at, field)
    }

    /// An ASCII decimal integer filling the rest of this reader's region.
    pub fn decimal_rest(&mut self, field: &'static str) -> Result<i64, DecodeError> {
        let at = self.offset();
        let line: &'a [u8] = self.rest;
        self.rest = &line[line.len()..];
        parse_decimal(line, at, field)
    }

    /// Checks that the next bytes are `lit` and consumes them.
    #[inline]
    pub fn literal(&mut self, lit: &[u8], field: &'static str) -> Result<(), DecodeError> {
        match self.rest.strip_prefix(lit) {
            Some(tail) => {
                self.rest = tail;
                Ok(())
            }
            None => self.literal_slow(lit, field),
        }
    }

    /// [`Reader::literal`] when the next bytes are not `lit`: which error.
    #[cold]
    fn literal_slow(&mut self, lit: &[u8], field: &'static str) -> Result<(), DecodeError> {
        let n = lit.len().min(self.rest.len());
        // Byte by byte: literals are short (`\r\n`), too short for a call to memcmp.
        if !self.rest[..n].iter().eq(&lit[..n]) {
            let i = self
                .rest
                .iter()
                .zip(lit)
                .position(|(a, b)| a != b)
                .unwrap_or(0);
            return Err(DecodeError::new(
                self.offset() + i,
                field,
                DecodeErrorKind::BadLiteral {
                    expected: lit.to_vec(),
                },
            ));
        }
        self.need(lit.len(), field)?;
        self.rest = &self.rest[lit.len()..];
        Ok(())
    }

    /// Fails when bytes are left over.
    #[inline]
    pub fn finish(&self, field: &'static str) -> Result<(), DecodeError> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(self.error(field, DecodeErrorKind::TrailingBytes(n))),
        }
    }
}

/// Where `needle` first occurs in `hay`: its first byte looked for, then the rest compared
/// byte by byte (delimiters are short: `\r\n`, a space).
#[inline]
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (first, rest) = needle.split_first()?;
    let mut from = 0;
    while let Some(i) = hay[from..].iter().position(|b| b == first) {
        let at = from + i;
        let tail = hay.get(at + 1..at + needle.len())?;
        if tail.iter().eq(rest) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

/// Parses ASCII decimal `text` (an optional `-`, then digits) read at offset `at`.
pub fn parse_decimal(text: &[u8], at: usize, field: &'static str) -> Result<i64, DecodeError> {
    let (neg, digits) = match text.split_first() {
        Some((b'-', d)) => (true, d),
        _ => (false, text),
    };
    let skip = usize::from(neg);
    if digits.is_empty() {
        return Err(DecodeError::new(
            at + skip,
            field,
            DecodeErrorKind::InvalidDecimal,
        ));
    }
    let mut v: i64 = 0;
    for (i, &b) in digits.iter().enumerate() {
        if !b.is_ascii_digit() {
            return Err(DecodeError::new(
                at + skip + i,
                field,
                DecodeErrorKind::InvalidDecimal,
            ));
        }
        let d = i64::from(b - b'0');
        v = v
            .checked_mul(10)
            .and_then(|v| {
                if neg {
                    v.checked_sub(d)
                } else {
                    v.checked_add(d)
                }
            })
            .ok_or_else(|| DecodeError::new(at, field, DecodeErrorKind::DecimalOverflow))?;
    }
    Ok(v)
}

/// Narrows a decoded decimal to its field's type.
pub fn narrow_decimal<T: TryFrom<i64>>(
    v: i64,
    at: usize,
    field: &'static str,
) -> Result<T, DecodeError> {
    T::try_from(v).map_err(|_| DecodeError::new(at, field, DecodeErrorKind::DecimalOverflow))
}

/// The number of bytes `v` takes in ASCII decimal.
pub fn decimal_len(v: i64) -> usize {
    let digits = v
        .unsigned_abs()
        .checked_ilog10()
        .map_or(1, |l| l as usize + 1);
    usize::from(v < 0) + digits
}

/// Fails when `value` holds `delim`: a delimiter-terminated field could not be read back.
pub fn check_no_delimiter(
    value: &[u8],
    delim: &[u8],
    path: &'static str,
) -> Result<(), EncodeError> {
    if !delim.is_empty() && value.windows(delim.len()).any(|w| w == delim) {
        return Err(EncodeError::ContainsDelimiter { path });
    }
    Ok(())
}

/// Decodes a LEB128 varint from the start of `buf`: `Ok(None)` when `buf` ends first.
#[inline]
pub fn decode_varint(buf: &[u8]) -> Result<Option<(u64, usize)>, DecodeErrorKind> {
    let mut v: u64 = 0;
    for (i, &b) in buf.iter().enumerate().take(10) {
        if i == 9 && b > 1 {
            return Err(DecodeErrorKind::VarintOverflow);
        }
        v |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(Some((v, i + 1)));
        }
    }
    if buf.len() >= 10 {
        return Err(DecodeErrorKind::VarintOverflow);
    }
    Ok(None)
}

/// The most bytes a LEB128 varint of at most `max` takes.
#[inline]
pub const fn varint_max_bytes(max: u64) -> usize {
    let bits = 64 - max.leading_zeros() as usize;
    if bits == 0 { 1 } else { bits.div_ceil(7) }
}

/// Decodes a LEB128 varint of at most `max` from the start of `buf`: `Ok(None)` when `buf`
/// ends first; an error when it runs longer than `max` needs or exceeds `max`.
#[inline]
pub fn decode_varint_max(buf: &[u8], max: u64) -> Result<Option<(u64, usize)>, DecodeErrorKind> {
    let limit = varint_max_bytes(max);
    let mut v: u64 = 0;
    for (i, &b) in buf.iter().enumerate().take(limit) {
        v |= u64::from(b & 0x7f).checked_shl(7 * i as u32).unwrap_or(0);
        if b & 0x80 == 0 {
            return if v > max {
                Err(DecodeErrorKind::VarintAboveMax { max })
            } else {
                Ok(Some((v, i + 1)))
            };
        }
    }
    if buf.len() >= limit {
        return Err(DecodeErrorKind::VarintTooLong { max_bytes: limit });
    }
    Ok(None)
}

/// Peeks a varint of at most `max` at `off` of a possibly incomplete buffer: `Ok(None)`
/// means "need more".
#[inline]
pub fn peek_varint_max(
    buf: &[u8],
    off: usize,
    max: u64,
    field: &'static str,
) -> Result<Option<(u64, usize)>, DecodeError> {
    let rest = buf.get(off..).unwrap_or_default();
    decode_varint_max(rest, max).map_err(|k| DecodeError::new(off, field, k))
}

/// Peeks a varint at `off` of a possibly incomplete buffer: `Ok(None)` means "need more".
#[inline]
pub fn peek_varint(
    buf: &[u8],
    off: usize,
    field: &'static str,
) -> Result<Option<(u64, usize)>, DecodeError> {
    let rest = buf.get(off..).unwrap_or_default();
    // One or two bytes (lengths up to 16 KiB) without the loop.
    match *rest {
        [b0, ..] if b0 < 0x80 => return Ok(Some((u64::from(b0), 1))),
        [b0, b1, ..] if b1 < 0x80 => {
            return Ok(Some((u64::from(b0 & 0x7f) | u64::from(b1) << 7, 2)));
        }
        _ => {}
    }
    decode_varint(rest).map_err(|k| DecodeError::new(off, field, k))
}

/// Peeks an unsigned big- or little-endian integer of `width` bytes (1..=8) at `off`.
#[inline]
pub fn peek_uint(buf: &[u8], off: usize, width: usize, big_endian: bool) -> Option<u64> {
    let b = buf.get(off..off.checked_add(width)?)?;
    let mut v = 0u64;
    if big_endian {
        for &x in b {
            v = (v << 8) | u64::from(x);
        }
    } else {
        for &x in b.iter().rev() {
            v = (v << 8) | u64::from(x);
        }
    }
    Some(v)
}

/// Reads a frame's leading fields up to its length field in bytes that may not hold them
/// all yet, consuming nothing: what a generated [`Framed::frame_len`] is made of, one call
/// per field (`p.constant(..)?; p.skip(1); p.length(..)`). Once the bytes run out, the
/// steps after do nothing and [`length`](Probe::length) says "need more".
///
/// [`Framed::frame_len`]: crate::codec::Framed::frame_len
#[derive(Debug, Clone)]
pub struct Probe<'a> {
    buf: &'a [u8],
    off: usize,
    frame: &'static str,
    short: bool,
}

impl<'a> Probe<'a> {
    /// A probe at the start of `buf`, for frame type `frame` (the path of its errors).
    #[inline]
    pub fn new(buf: &'a [u8], frame: &'static str) -> Self {
        Probe {
            buf,
            off: 0,
            frame,
            short: false,
        }
    }

    /// Steps over a field of `width` bytes.
    #[inline]
    pub fn skip(&mut self, width: usize) {
        if self.buf.len() < self.off + width {
            self.short = true;
        }
        self.off += width;
    }

    /// Checks a constant field of `width` bytes (once its bytes are there).
    #[inline]
    pub fn constant(
        &mut self,
        width: usize,
        big_endian: bool,
        expected: u64,
        field: &'static str,
    ) -> Result<(), DecodeError> {
        if self.short {
            return Ok(());
        }
        let Some(v) = peek_uint(self.buf, self.off, width, big_endian) else {
            self.short = true;
            return Ok(());
        };
        expect_const(v, expected, self.off, field).map_err(|e| e.within(self.frame))?;
        self.off += width;
        Ok(())
    }

    /// Steps over a varint field.
    #[inline]
    pub fn skip_varint(&mut self, field: &'static str) -> Result<(), DecodeError> {
        if self.short {
            return Ok(());
        }
        match peek_varint(self.buf, self.off, field).map_err(|e| e.within(self.frame))? {
            Some((_, n)) => self.off += n,
            None => self.short = true,
        }
        Ok(())
    }

    /// The whole frame's length from its length field, written as `prefix` and counting
    /// the bytes after it: `Ok(None)` until it has arrived, an error when it is negative or
    /// the frame would be longer than `limits.max_frame_len`.
    #[inline]
    pub fn length(
        self,
        prefix: Prefix,
        field: &'static str,
        limits: &Limits,
    ) -> Result<Option<usize>, DecodeError> {
        if self.short {
            return Ok(None);
        }
        let (buf, at, frame) = (self.buf, self.off, self.frame);
        let (v, n) = match prefix {
            Prefix::Int {
                width,
                big_endian,
                signed,
            } => {
                let width = usize::from(width);
                let Some(v) = peek_uint(buf, at, width, big_endian) else {
                    return Ok(None);
                };
                if signed {
                    let shift = 64 - 8 * width.min(8) as u32;
                    let v = ((v << shift) as i64) >> shift;
                    if v < 0 {
                        return Err(DecodeError::new(
                            at,
                            field,
                            DecodeErrorKind::NegativeLength(v),
                        )
                        .within(frame));
                    }
                }
                (v, width)
            }
            Prefix::Varint => match peek_varint(buf, at, field).map_err(|e| e.within(frame))? {
                Some(vn) => vn,
                None => return Ok(None),
            },
            Prefix::VarintMax(max) => {
                match peek_varint_max(buf, at, max, field).map_err(|e| e.within(frame))? {
                    Some(vn) => vn,
                    None => return Ok(None),
                }
            }
        };
        let total = ((at + n) as u64).saturating_add(v);
        if total > limits.max_frame_len as u64 {
            return Err(DecodeError::new(
                at,
                field,
                DecodeErrorKind::TooLong {
                    len: total,
                    max: limits.max_frame_len,
                },
            )
            .within(frame));
        }
        Ok(Some(total as usize))
    }
}

/// `n` (read at `at`) as a size: not negative, at most `max`.
#[inline]
fn bounded(n: i64, max: usize, at: usize, field: &'static str) -> Result<usize, DecodeError> {
    if n < 0 {
        return Err(DecodeError::new(
            at,
            field,
            DecodeErrorKind::NegativeLength(n),
        ));
    }
    if n as u64 > max as u64 {
        return Err(DecodeError::new(
            at,
            field,
            DecodeErrorKind::TooLong { len: n as u64, max },
        ));
    }
    Ok(n as usize)
}

/// A u64 length as i64, saturating (so that an absurd value fails the limit check).
#[inline]
pub fn sat_i64(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

/// Checks a decoded length against a maximum declared in the protocol.
#[inline]
pub fn check_max(len: usize, max: u64, at: usize, field: &'static str) -> Result<(), DecodeError> {
    if len as u64 > max {
        return Err(DecodeError::new(
            at,
            field,
            DecodeErrorKind::TooLong {
                len: len as u64,
                max: usize::try_from(max).unwrap_or(usize::MAX),
            },
        ));
    }
    Ok(())
}

/// Checks a constant field's value.
#[inline]
pub fn expect_const(
    found: u64,
    expected: u64,
    at: usize,
    field: &'static str,
) -> Result<(), DecodeError> {
    if found != expected {
        return Err(DecodeError::new(
            at,
            field,
            DecodeErrorKind::BadConstant { expected, found },
        ));
    }
    Ok(())
}

/// Number of bytes `v` takes as a varint.
pub const fn varint_len(v: u64) -> usize {
    let bits = 64 - (v | 1).leading_zeros() as usize;
    bits.div_ceil(7)
}

/// Writes `v` as a LEB128 varint at the end of `dst` (for hand-built frames; generated
/// code writes through a [`Writer`]).
pub fn put_varint(dst: &mut BytesMut, v: u64) {
    let mut w = Writer::new(dst);
    w.cursor().put_varint(v);
    w.finish();
}

/// Zigzag-encodes a signed value for [`Cursor::put_varint`].
pub const fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

/// Appends encoded bytes to a [`BytesMut`], writing straight into its spare capacity.
///
/// A writer is what [`WireMessage::write_to`](crate::WireMessage::write_to) receives; the
/// bytes are written through a [`Cursor`] taken from it. The bytes become part of the
/// buffer at [`finish`](Writer::finish); a writer dropped without it (an encode that
/// failed) leaves the buffer's length where it was, except for bytes committed when the
/// buffer had to grow, which [`WireMessage::encode_to`](crate::WireMessage::encode_to)
/// truncates away.
///
/// ```
/// let mut buf = bytes::BytesMut::new();
/// let mut w = polywire_core::wire::Writer::new(&mut buf);
/// let mut c = w.cursor();
/// c.put_uint(0x5057, 2, true);
/// c.put_varint(300);
/// let at = c.len();
/// c.put_u8(0);
/// c.patch_uint(at, 7, 1, true);
/// drop(c);
/// w.finish();
/// assert_eq!(&buf[..], &[0x50, 0x57, 0xac, 0x02, 7]);
/// ```
pub struct Writer<'a> {
    dst: &'a mut BytesMut,
    /// The protocol version in effect (see [`Reader::version`]).
    version: u32,
    /// `dst`'s spare capacity: the address just past its last byte.
    spare: *mut u8,
    /// Bytes of spare capacity at `spare`.
    room: usize,
    /// Bytes written at `spare` (all initialized), not yet counted in `dst.len()`.
    pos: usize,
    /// `dst.len()`, cached.
    base: usize,
}

// Invariant of `Writer` (every method keeps it, and `Cursor` keeps it for the writer it
// borrows): `base == dst.len()`, `spare` points at `dst`'s spare capacity (`dst`'s storage
// plus `base`) and `room` is its length, both as of the last refresh, and `dst` has not been
// touched since (the writer holds the only `&mut` to it and refreshes after each use);
// `pos <= room` and `spare[..pos]` is initialized, written in order without gaps.
#[allow(unsafe_code)]
impl<'a> Writer<'a> {
    /// A writer appending to `dst`.
    #[inline]
    pub fn new(dst: &'a mut BytesMut) -> Self {
        let mut w = Writer {
            dst,
            version: 0,
            spare: std::ptr::null_mut(),
            room: 0,
            pos: 0,
            base: 0,
        };
        w.refresh();
        w
    }

    /// Reads `base`, `spare` and `room` from `dst` again (after `dst` was used directly).
    #[inline]
    fn refresh(&mut self) {
        self.base = self.dst.len();
        let spare = self.dst.spare_capacity_mut();
        self.room = spare.len();
        self.spare = spare.as_mut_ptr().cast();
    }

    /// The same writer with protocol version `v` in effect.
    #[inline]
    pub fn with_version(mut self, v: u32) -> Self {
        self.version = v;
        self
    }

    /// The protocol version in effect (0 when unknown).
    #[inline]
    pub fn version(&self) -> u32 {
        self.version
    }

    /// The buffer's length with what was written so far (positions for
    /// [`Cursor::patch_uint`] and lengths are measured with it).
    #[inline]
    pub fn len(&self) -> usize {
        self.base + self.pos
    }

    /// True when the buffer holds no bytes (none before the writer, none written).
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A cursor to write with. It keeps the position in its own fields (registers, once
    /// inlined) and hands it back to the writer when dropped.
    #[inline(always)]
    pub fn cursor(&mut self) -> Cursor<'_, 'a> {
        Cursor {
            spare: self.spare,
            room: self.room,
            pos: self.pos,
            base: self.base,
            w: self,
        }
    }

    /// Makes the written bytes part of the buffer.
    #[inline]
    pub fn finish(mut self) {
        self.set_len();
    }

    /// Adds the written bytes to `dst.len()` (`spare` and `room` are stale afterwards: the
    /// callers that go on writing `refresh` once they are done with `dst`).
    #[inline]
    fn set_len(&mut self) {
        // SAFETY: by the invariant, `spare[..pos]` is initialized and lies within `dst`'s
        // capacity right after its `base` bytes, so `dst[..base + pos]` is initialized.
        unsafe { self.dst.set_len(self.base + self.pos) };
        self.base += self.pos;
        self.pos = 0;
    }

    /// Commits what was written and makes room for at least `n` more bytes.
    #[cold]
    #[inline(never)]
    fn grow(&mut self, n: usize) {
        self.set_len();
        self.dst.reserve(n);
        self.refresh();
    }

    /// See [`Cursor::patch_uint`].
    #[inline(never)]
    fn patch(&mut self, at: usize, src: &[u8]) {
        if at + src.len() > self.len() {
            panic!(
                "patch at {at}+{} past the {} bytes written",
                src.len(),
                self.len()
            );
        }
        // Commit so that the bytes to patch are in `dst` proper, where a checked slice can
        // change them.
        self.set_len();
        self.dst[at..at + src.len()].copy_from_slice(src);
        self.refresh();
    }

    /// See [`Cursor::with_bytes_mut`].
    fn with_bytes_mut<R>(&mut self, f: impl FnOnce(&mut BytesMut) -> R) -> R {
        self.set_len();
        let r = f(self.dst);
        self.refresh();
        r
    }
}

impl std::fmt::Debug for Writer<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("len", &self.len())
            .field("room", &(self.room - self.pos))
            .finish()
    }
}

/// Writes through a [`Writer`], with the position in the cursor's own fields.
///
/// Generated `write_to` bodies take one cursor and write every field through it: each
/// write checks the room left once and stores the bytes, without the per-call bookkeeping
/// of `BufMut` (a capacity check, a length update and often a `memcpy` call per field), and
/// without reloading the position after every byte stored (which a position kept behind a
/// `&mut` would need, since a byte store may alias it).
pub struct Cursor<'w, 'a> {
    w: &'w mut Writer<'a>,
    spare: *mut u8,
    room: usize,
    pos: usize,
    base: usize,
}

// Invariant of `Cursor`: while it lives its `spare`, `room`, `pos` and `base` stand for the
// writer's (the writer's own `pos` may be behind); every call that lets the writer act
// (`grow`, `patch`, `with_bytes_mut`, `nested`) first stores `pos` into it and afterwards
// loads all four back; `Drop` stores `pos` back. So the writer's invariant holds for the
// cursor's fields.
#[allow(unsafe_code)]
impl Cursor<'_, '_> {
    /// Hands the position to the writer before it acts.
    #[inline(always)]
    fn sync(&mut self) {
        self.w.pos = self.pos;
    }

    /// Takes the writer's state back after it acted.
    #[inline(always)]
    fn reload(&mut self) {
        self.spare = self.w.spare;
        self.room = self.w.room;
        self.pos = self.w.pos;
        self.base = self.w.base;
    }

    /// The buffer's length with what was written so far.
    #[inline(always)]
    pub fn len(&self) -> usize {
        self.base + self.pos
    }

    /// True when the buffer holds no bytes (none before the writer, none written).
    #[inline(always)]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    // Inlined so that the cursor's address never escapes (its fields stay in registers);
    // the writer's `grow` is the cold call.
    #[inline(always)]
    fn grow(&mut self, n: usize) {
        self.sync();
        self.w.grow(n);
        self.reload();
    }

    /// Appends `src`.
    #[inline(always)]
    pub fn put_slice(&mut self, src: &[u8]) {
        if self.room - self.pos < src.len() {
            self.grow(src.len());
        }
        // SAFETY: the check above (or `grow`, which reserves `src.len()` bytes after
        // committing, leaving `pos == 0`) leaves `room - pos >= src.len()`, so the
        // destination `spare[pos..pos + src.len()]` lies in `dst`'s spare capacity (the
        // writer's invariant), is valid for writes, and cannot overlap `src`, which is
        // borrowed shared while the writer borrows `dst` exclusively. The bytes written
        // extend `spare[..pos]` without a gap.
        unsafe {
            self.spare
                .add(self.pos)
                .copy_from_nonoverlapping(src.as_ptr(), src.len())
        };
        self.pos += src.len();
    }

    /// Appends `v` in ASCII decimal.
    pub fn put_decimal(&mut self, v: i64) {
        // The text is built left-aligned in a buffer as wide as the longest, which is then
        // copied whole (a fixed-size copy, no call) and only its length counted: the bytes
        // after it are overwritten by what comes next, or lie past the buffer's length.
        const WIDTH: usize = 20;
        let n = decimal_len(v);
        let mut buf = [0u8; WIDTH];
        let mut u = v.unsigned_abs();
        let mut i = n;
        loop {
            i -= 1;
            buf[i] = b'0' + (u % 10) as u8;
            u /= 10;
            if u == 0 {
                break;
            }
        }
        if v < 0 {
            buf[0] = b'-';
        }
        if self.room - self.pos < WIDTH {
            self.grow(WIDTH);
        }
        // SAFETY: as in `put_slice`: after the check (or `grow`) `room - pos >= WIDTH`, so
        // `spare[pos..pos + WIDTH]` is in `dst`'s spare capacity, valid for writes and not
        // overlapping the local `buf`. Only `n <= WIDTH` bytes are counted as written.
        unsafe {
            self.spare
                .add(self.pos)
                .copy_from_nonoverlapping(buf.as_ptr(), WIDTH)
        };
        self.pos += n;
    }

    /// Appends one byte.
    #[inline(always)]
    pub fn put_u8(&mut self, v: u8) {
        self.put_slice(&[v]);
    }

    /// Appends the low `width` bytes of `v` (1..=8), big- or little-endian.
    #[inline(always)]
    pub fn put_uint(&mut self, v: u64, width: usize, big_endian: bool) {
        let (bytes, at) = uint_bytes(v, width, big_endian);
        self.put_slice(&bytes[at]);
    }

    /// Appends `v` as a LEB128 varint.
    #[inline(always)]
    pub fn put_varint(&mut self, v: u64) {
        if v < 0x80 {
            self.put_u8(v as u8);
        } else if v < 0x4000 {
            self.put_slice(&[(v as u8) | 0x80, (v >> 7) as u8]);
        } else if v < 1 << 56 && self.room - self.pos >= 8 {
            // Up to eight bytes, built in a register and stored at once (bytes built one at a
            // time in memory and then loaded as a block stall the load); the step back
            // leaves the unused tail in spare capacity, never counted as written.
            let (word, n) = varint_word(v);
            self.put_slice(&word.to_le_bytes());
            self.pos -= 8 - n;
        } else {
            let (b, n) = varint_bytes(v);
            self.put_slice(&b[..n]);
        }
    }

    /// Overwrites `width` bytes at buffer position `at` (a placeholder written earlier, see
    /// [`len`](Cursor::len)) with `v`.
    ///
    /// # Panics
    /// If `at + width` is past what was written: generated code patches only placeholders
    /// it wrote itself.
    #[inline(always)]
    pub fn patch_uint(&mut self, at: usize, v: u64, width: usize, big_endian: bool) {
        let (bytes, range) = uint_bytes(v, width, big_endian);
        self.sync();
        self.w.patch(at, &bytes[range]);
        self.reload();
    }

    /// Runs `f` on the buffer itself (for encoders that need a [`BytesMut`], such as the
    /// JSON encoder), after committing what was written.
    #[inline(always)]
    pub fn with_bytes_mut<R>(&mut self, f: impl FnOnce(&mut BytesMut) -> R) -> R {
        self.sync();
        let r = self.w.with_bytes_mut(f);
        self.reload();
        r
    }

    /// The protocol version in effect (0 when unknown).
    #[inline(always)]
    pub fn version(&self) -> u32 {
        self.w.version
    }

    /// Sets the protocol version in effect for what is written next (a field marked
    /// `@version` does).
    #[inline(always)]
    pub fn set_version(&mut self, v: u32) {
        self.w.version = v;
    }

    /// Runs `f` on the writer (a nested message's `write_to`).
    #[inline(always)]
    pub fn nested<R>(&mut self, f: impl FnOnce(&mut Writer<'_>) -> R) -> R {
        self.sync();
        let r = f(self.w);
        self.reload();
        r
    }
}

impl Drop for Cursor<'_, '_> {
    #[inline(always)]
    fn drop(&mut self) {
        self.sync();
    }
}

impl std::fmt::Debug for Cursor<'_, '_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cursor")
            .field("len", &self.len())
            .field("room", &(self.room - self.pos))
            .finish()
    }
}

/// The bytes of `v` in the given order, and where its low `width` (1..=8) bytes are in them.
#[inline(always)]
fn uint_bytes(v: u64, width: usize, big_endian: bool) -> ([u8; 8], std::ops::Range<usize>) {
    let width = width.min(8);
    if big_endian {
        (v.to_be_bytes(), 8 - width..8)
    } else {
        (v.to_le_bytes(), 0..width)
    }
}

/// `v` (below 2^56) as LEB128 in the low bytes of a little-endian word, and its length.
#[inline(always)]
fn varint_word(mut v: u64) -> (u64, usize) {
    let mut word = 0u64;
    let mut n = 0;
    while v >= 0x80 && n < 7 {
        word |= ((v & 0x7f) | 0x80) << (8 * n);
        v >>= 7;
        n += 1;
    }
    word |= v << (8 * n);
    (word, n + 1)
}

/// `v` as LEB128 (at most 10 bytes) in an array, and its length.
fn varint_bytes(mut v: u64) -> ([u8; 10], usize) {
    let mut b = [0u8; 10];
    let mut n = 0;
    while v >= 0x80 && n < 9 {
        b[n] = (v as u8) | 0x80;
        v >>= 7;
        n += 1;
    }
    b[n] = v as u8;
    (b, n + 1)
}

/// Checks that `len` fits below `max` (the prefix's range or a declared maximum).
#[inline]
pub fn check_encode_len(len: usize, max: u64, path: &'static str) -> Result<u64, EncodeError> {
    if len as u64 > max {
        return Err(EncodeError::TooLong {
            path,
            len: len as u64,
            max,
        });
    }
    Ok(len as u64)
}

/// Checks a value against the maximum of its `varint<max = n>`.
#[inline]
pub fn check_max_value(value: u64, max: u64, path: &'static str) -> Result<u64, EncodeError> {
    if value > max {
        return Err(EncodeError::AboveMax { path, value, max });
    }
    Ok(value)
}

/// Checks that `value` fits in `bits` bits.
#[inline]
pub fn check_bits(value: u64, bits: u32, path: &'static str) -> Result<u64, EncodeError> {
    if bits < 64 && value >> bits != 0 {
        return Err(EncodeError::Overflow { path, value, bits });
    }
    Ok(value)
}

/// The 24-bit pattern of an `i24` flags value held in an `i32`: a value with bit 23 set
/// is held sign-extended (`-0x80_0000` is bit 23 alone, as decoding gives it) and is
/// written as its low 24 bits. Any other value is its 32-bit pattern, which
/// [`check_bits`] then accepts only when it fits in 24 bits (so `1 << 23` is written as
/// bit 23 too, and decodes as `-0x80_0000`).
#[inline]
pub fn i24_bits(value: i32) -> u64 {
    if (-0x80_0000..0).contains(&value) {
        u64::from(value as u32 & 0xFF_FFFF)
    } else {
        u64::from(value as u32)
    }
}

/// Parses a header field carried as a string.
pub fn parse_field<T: std::str::FromStr>(v: &str, field: &'static str) -> Result<T, DecodeError> {
    v.parse()
        .map_err(|_| DecodeError::new(0, field, DecodeErrorKind::InvalidField(v.to_string())))
}

/// Parses a bool header field as Java's `Boolean.parseBoolean` does: `true` in any case is
/// true, anything else false.
pub fn parse_bool_field(v: &str, _field: &'static str) -> Result<bool, DecodeError> {
    Ok(v.eq_ignore_ascii_case("true"))
}

/// The error for a required header field that is absent.
pub fn missing_field(field: &'static str) -> DecodeError {
    DecodeError::new(0, field, DecodeErrorKind::MissingField)
}

/// A required header field's text in a string header map: the error of
/// [`missing_field`] when it is absent.
#[inline]
pub fn field<'m>(
    map: &'m OrderedMap<Str, Str>,
    field: &'static str,
) -> Result<&'m Str, DecodeError> {
    map.get(field).ok_or_else(|| missing_field(field))
}

/// The text a response carries in its `@message` field (bytes, a string or an optional
/// string), if it is not empty: what a generated `Protocol::message` returns.
pub trait MessageText {
    /// The text, if there is some.
    fn message_text(&self) -> Option<String>;
}

impl MessageText for Bytes {
    fn message_text(&self) -> Option<String> {
        (!self.is_empty()).then(|| String::from_utf8_lossy(self).into_owned())
    }
}

impl MessageText for Str {
    fn message_text(&self) -> Option<String> {
        (!self.is_empty()).then(|| self.as_str().to_string())
    }
}

impl<T: MessageText> MessageText for Option<T> {
    fn message_text(&self) -> Option<String> {
        self.as_ref().and_then(T::message_text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `decimal_until`'s one-pass path answers as the line found first and parsed after.
    #[test]
    fn decimal_until_agrees_with_the_line_parsed() {
        let lines: &[&[u8]] = &[
            b"0\r\n",
            b"-0\r\n",
            b"42\r\nrest",
            b"-1\r\n",
            b"007\r\n",
            b"999999999999999999\r\n",
            b"-999999999999999999\r\n",
            b"9223372036854775807\r\n",
            b"-9223372036854775808\r\n",
            b"9223372036854775808\r\n",
            b"12345678901234567890123\r\n",
            b"\r\n",
            b"-\r\n",
            b"+1\r\n",
            b"1 \r\n",
            b"12",
            b"12\r",
            b"1a\r\n",
        ];
        for (delim, lines) in [(&b"\r\n"[..], lines), (&b"5"[..], &[&b"1234567"[..]][..])] {
            for &line in lines {
                let buf = Bytes::copy_from_slice(line);
                for open in [false, true] {
                    let reader = || {
                        let r = Reader::new(&buf, Limits::DEFAULT);
                        if open { r.open_ended() } else { r }
                    };
                    let mut fast = reader();
                    let got = fast.decimal_until(delim, "n");
                    let mut slow = reader();
                    let want = slow.decimal_until_slow(delim, "n");
                    assert_eq!(got, want, "{line:?} until {delim:?}");
                    assert_eq!(fast.remaining(), slow.remaining(), "{line:?}");
                }
            }
        }
        // A line over the limit is an error either way.
        let buf = Bytes::from_static(b"12345\r\n");
        let limits = Limits {
            max_line_len: 3,
            ..Limits::DEFAULT
        };
        let mut r = Reader::new(&buf, limits);
        assert!(r.decimal_until(b"\r\n", "n").is_err());
    }

    #[test]
    fn literal_errors_are_unchanged() {
        let buf = Bytes::from_static(b"\r\n\rx");
        let mut r = Reader::new(&buf, Limits::DEFAULT);
        assert_eq!(r.literal(b"\r\n", "end"), Ok(()));
        let e = r.literal(b"\r\n", "end").expect_err("mismatch");
        assert_eq!(e.offset, 3);
        let buf = Bytes::from_static(b"\r");
        let mut r = Reader::new(&buf, Limits::DEFAULT).open_ended();
        let e = r.literal(b"\r\n", "end").expect_err("short");
        assert_eq!(e.kind, DecodeErrorKind::Incomplete);
    }

    #[test]
    fn i24_bits_of_flags_values() {
        assert_eq!(i24_bits(0), 0);
        assert_eq!(i24_bits(1), 1);
        assert_eq!(i24_bits(-0x80_0000), 0x80_0000);
        assert_eq!(i24_bits(-1), 0xFF_FFFF);
        assert_eq!(i24_bits(1 << 23), 0x80_0000);
        assert_eq!(i24_bits(0xFF_FFFF), 0xFF_FFFF);
        // Outside both forms: the check that follows rejects it.
        assert!(check_bits(i24_bits(-0x80_0001), 24, "f").is_err());
        assert!(check_bits(i24_bits(0x100_0000), 24, "f").is_err());
        assert!(check_bits(i24_bits(i32::MIN), 24, "f").is_err());
    }

    #[test]
    fn varint_round_trip_and_len() {
        for v in [
            0u64,
            1,
            127,
            128,
            300,
            16_383,
            16_384,
            u32::MAX as u64,
            u64::MAX,
        ] {
            let mut b = BytesMut::new();
            put_varint(&mut b, v);
            assert_eq!(b.len(), varint_len(v), "len of {v}");
            assert_eq!(decode_varint(&b), Ok(Some((v, b.len()))));
            assert_eq!(decode_varint(&b[..b.len() - 1]), Ok(None));
        }
    }

    /// `put_varint` (each of its paths) and the short paths of `peek_varint` agree with the
    /// plain LEB128 loop on every value up to four bytes and around every power of two above.
    #[test]
    fn varint_short_paths_match_the_loop() {
        fn reference(mut v: u64) -> Vec<u8> {
            let mut out = Vec::new();
            while v >= 0x80 {
                out.push(v as u8 | 0x80);
                v >>= 7;
            }
            out.push(v as u8);
            out
        }
        let powers = (0..64).flat_map(|k| {
            let p = 1u64 << k;
            [p - 1, p, p + 1]
        });
        for v in (0..0x30_0000u64).chain(powers).chain([u64::MAX]) {
            // Without room (the buffer grows) and with room (the one-store paths).
            let mut b = BytesMut::new();
            put_varint(&mut b, v);
            assert_eq!(&b[..], &reference(v)[..], "encoding of {v}");
            let mut roomy = BytesMut::with_capacity(32);
            put_varint(&mut roomy, v);
            assert_eq!(roomy, b, "encoding of {v} with room");
            let mut framed = vec![0xAA];
            framed.extend_from_slice(&b);
            framed.push(0x55);
            assert_eq!(
                peek_varint(&framed, 1, "v"),
                Ok(Some((v, b.len()))),
                "peek of {v}"
            );
            assert_eq!(peek_varint(&framed[..b.len()], 1, "v"), Ok(None));
        }
    }

    #[test]
    fn varint_overflow_is_an_error() {
        assert_eq!(
            decode_varint(&[0xff; 10]),
            Err(DecodeErrorKind::VarintOverflow)
        );
        assert_eq!(
            decode_varint(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02]),
            Err(DecodeErrorKind::VarintOverflow)
        );
    }

    #[test]
    fn lengths_are_checked_before_taking() {
        let b = Bytes::from_static(&[1, 2, 3]);
        let r = Reader::new(&b, Limits::DEFAULT);
        let e = r.check_len(1 << 40, 0, "s").unwrap_err();
        assert!(matches!(e.kind, DecodeErrorKind::TooLong { .. }));
        let e = r.check_len(4, 0, "s").unwrap_err();
        assert!(matches!(
            e.kind,
            DecodeErrorKind::Truncated {
                needed: 4,
                available: 3
            }
        ));
        let e = r.check_count(2, 2, 0, "l").unwrap_err();
        assert!(matches!(
            e.kind,
            DecodeErrorKind::Truncated { needed: 4, .. }
        ));
        assert_eq!(r.check_count(1, 2, 0, "l"), Ok(1));
    }

    #[test]
    fn patch_and_peek_agree() {
        let mut b = BytesMut::new();
        let mut w = Writer::new(&mut b);
        let mut c = w.cursor();
        c.put_uint(0, 3, true);
        c.patch_uint(0, 0x0a0b0c, 3, true);
        drop(c);
        w.finish();
        assert_eq!(&b[..], &[0x0a, 0x0b, 0x0c]);
        assert_eq!(peek_uint(&b, 0, 3, true), Some(0x0a0b0c));
        let mut w = Writer::new(&mut b);
        w.cursor().patch_uint(0, 0x0a0b0c, 3, false);
        w.finish();
        assert_eq!(peek_uint(&b, 0, 3, false), Some(0x0a0b0c));
        assert_eq!(peek_uint(&b, 1, 3, false), None);
    }

    /// The same writes through a `Writer` and through a plain `Vec`, starting from every
    /// capacity between 0 and 48 bytes and with bytes already in the buffer, so that the
    /// buffer has to grow before, inside and after each kind of write (and around patches,
    /// nested writers and direct use of the buffer).
    #[test]
    fn writer_matches_a_vec_whatever_the_room() {
        fn ops(w: &mut Writer<'_>, v: &mut Vec<u8>) {
            let mut c = w.cursor();
            let at = c.len();
            assert_eq!(at, v.len());
            c.put_uint(0, 2, true);
            v.extend_from_slice(&[0, 0]);
            for (i, x) in [0u64, 1, 127, 128, 300, 1 << 35, u64::MAX]
                .into_iter()
                .enumerate()
            {
                c.put_varint(x);
                let mut r = x;
                while r >= 0x80 {
                    v.push((r as u8) | 0x80);
                    r >>= 7;
                }
                v.push(r as u8);
                c.put_uint(x, i % 8 + 1, i % 2 == 0);
                let be = x.to_be_bytes();
                let le = x.to_le_bytes();
                if i % 2 == 0 {
                    v.extend_from_slice(&be[8 - (i % 8 + 1)..]);
                } else {
                    v.extend_from_slice(&le[..i % 8 + 1]);
                }
                c.put_u8(i as u8);
                v.push(i as u8);
            }
            c.put_slice(&[7; 33]);
            v.extend_from_slice(&[7; 33]);
            for x in [0i64, 7, -1, 10, 99, -100, 123_456_789, i64::MAX, i64::MIN] {
                c.put_decimal(x);
                v.extend_from_slice(x.to_string().as_bytes());
                c.put_u8(b',');
                v.push(b',');
            }
            let n = (c.len() - at) as u64;
            c.patch_uint(at, n, 2, true);
            v[at..at + 2].copy_from_slice(&(n as u16).to_be_bytes());
            c.put_slice(b"tail");
            v.extend_from_slice(b"tail");
            c.with_bytes_mut(|b| b.extend_from_slice(b"json"));
            v.extend_from_slice(b"json");
            c.nested(|w| {
                let mut c = w.cursor();
                c.put_slice(b"inner");
                c.put_varint(1 << 20);
            });
            v.extend_from_slice(b"inner");
            v.extend_from_slice(&[0x80, 0x80, 0x40]);
            c.put_varint(1 << 14);
            v.extend_from_slice(&[0x80, 0x80, 0x01]);
            assert_eq!(c.len(), v.len());
        }
        for cap in 0..48 {
            for before in [0usize, 5] {
                let mut b = BytesMut::with_capacity(cap);
                b.extend_from_slice(&vec![9u8; before]);
                let mut v = vec![9u8; before];
                let mut w = Writer::new(&mut b);
                ops(&mut w, &mut v);
                ops(&mut w, &mut v);
                assert_eq!(w.len(), v.len());
                w.finish();
                assert_eq!(&b[..], &v[..], "capacity {cap}, {before} bytes before");
            }
        }
    }

    #[test]
    fn a_writer_dropped_unfinished_adds_nothing_it_did_not_commit() {
        let mut b = BytesMut::with_capacity(64);
        b.extend_from_slice(b"kept");
        {
            let mut w = Writer::new(&mut b);
            let mut c = w.cursor();
            c.put_slice(b"lost");
            c.put_varint(300);
        }
        assert_eq!(&b[..], b"kept");
    }

    #[test]
    #[should_panic(expected = "past the")]
    fn patching_past_the_written_bytes_panics_rather_than_writing_uninitialized_memory() {
        let mut b = BytesMut::with_capacity(64);
        let mut w = Writer::new(&mut b);
        let mut c = w.cursor();
        c.put_u8(1);
        c.patch_uint(0, 0, 2, true);
    }

    /// A reader over `bytes` with limits small enough to be hit.
    fn small(bytes: &Bytes) -> Reader<'_> {
        Reader::new(
            bytes,
            Limits {
                max_string_len: 8,
                max_collection_len: 3,
                ..Limits::DEFAULT
            },
        )
    }

    #[test]
    fn prefixed_values_read_as_the_reads_they_replace() {
        // u16 length 3, "abc", varint count 1, then a signed byte length of -1.
        let b = Bytes::from_static(b"\x00\x03abc\x01\xff");
        let mut r = small(&b);
        assert_eq!(r.prefixed_str(Prefix::uint(2, true), "s").unwrap(), "abc");
        assert_eq!(r.prefixed_count(Prefix::Varint, 1, "c").unwrap(), 1);
        assert_eq!(r.prefix(Prefix::int(1, true), "n").unwrap(), -1);
        // A negative length is an error at the length's offset.
        let mut r = small(&b);
        r.uint(2, true, "x").unwrap();
        r.uint(3, true, "x").unwrap();
        r.uint(1, true, "x").unwrap();
        let err = r.prefixed_bytes(Prefix::int(1, true), "neg").unwrap_err();
        assert_eq!(
            (err.offset, err.kind.clone()),
            (6, DecodeErrorKind::NegativeLength(-1))
        );
    }

    #[test]
    fn prefixed_lengths_keep_to_the_limits_and_their_maximum() {
        let b = Bytes::from_static(b"\x09123456789\x04abcd");
        let err = small(&b).prefixed_str(Prefix::Varint, "long").unwrap_err();
        assert_eq!(err.kind, DecodeErrorKind::TooLong { len: 9, max: 8 });
        let b = Bytes::from_static(b"\x04abcd");
        let err = small(&b)
            .prefixed_str_max(Prefix::Varint, 3, "max")
            .unwrap_err();
        assert_eq!(
            (err.offset, err.kind.clone()),
            (0, DecodeErrorKind::TooLong { len: 4, max: 3 })
        );
        assert_eq!(
            &small(&b)
                .prefixed_bytes_max(Prefix::Varint, 4, "b")
                .unwrap()[..],
            b"abcd"
        );
        // More elements than the collection limit, and a count the bytes cannot hold.
        let b = Bytes::from_static(b"\x04\x00\x02\x00");
        let err = small(&b)
            .prefixed_count(Prefix::Varint, 0, "many")
            .unwrap_err();
        assert_eq!(err.kind, DecodeErrorKind::TooLong { len: 4, max: 3 });
        let b = Bytes::from_static(b"\x00\x02\x00");
        let err = small(&b)
            .prefixed_count(Prefix::uint(2, true), 2, "few")
            .unwrap_err();
        assert!(
            matches!(err.kind, DecodeErrorKind::Truncated { .. }),
            "{err}"
        );
        // A region: its bytes, then what follows.
        let b = Bytes::from_static(b"\x02\x00\x07\x09");
        let mut r = small(&b);
        let mut region = r.prefixed_region(Prefix::uint(1, true), "region").unwrap();
        assert_eq!(region.u16_be("x").unwrap(), 7);
        assert_eq!(r.u8("after").unwrap(), 9);
        let err = small(&b)
            .prefixed_region(Prefix::uint(1, true), "x")
            .map(|_| ());
        assert!(err.is_ok());
        let b = Bytes::from_static(b"\x05\x00");
        let err = small(&b)
            .prefixed_region(Prefix::uint(1, true), "short")
            .unwrap_err();
        assert!(
            matches!(err.kind, DecodeErrorKind::LengthMismatch { .. }),
            "{err}"
        );
    }

    #[test]
    fn constants_and_uints_of_every_width() {
        let b = Bytes::from_static(b"PW\x01\x02\x03\x04\x05\x06\x07\x08\x01\x02\x03");
        let mut r = Reader::new(&b, Limits::DEFAULT);
        r.constant(2, true, 0x5057, "magic").unwrap();
        assert_eq!(r.uint(8, false, "le").unwrap(), 0x0807_0605_0403_0201);
        assert_eq!(r.uint(3, true, "u24").unwrap(), 0x01_0203);
        let mut r = Reader::new(&b, Limits::DEFAULT);
        let err = r.constant(2, false, 0x5057, "magic").unwrap_err();
        assert_eq!(
            (err.offset, err.kind.clone()),
            (
                0,
                DecodeErrorKind::BadConstant {
                    expected: 0x5057,
                    found: 0x5750
                }
            )
        );
        let mut r = Reader::new(&b, Limits::DEFAULT);
        assert_eq!(r.uint(5, true, "odd").unwrap(), 0x0050_5701_0203);
        let b = Bytes::from_static(b"\x01");
        let err = Reader::new(&b, Limits::DEFAULT)
            .uint(4, true, "short")
            .unwrap_err();
        assert!(
            matches!(err.kind, DecodeErrorKind::Truncated { needed: 4, .. }),
            "{err}"
        );
    }

    #[test]
    fn a_probe_finds_the_length_or_waits_or_fails() {
        let limits = Limits::DEFAULT;
        // `PW`, a version byte, a varint length of 300 (two bytes).
        let frame = b"PW\x01\xac\x02";
        let probe = |buf: &[u8]| {
            let mut p = Probe::new(buf, "Frame");
            p.constant(2, true, 0x5057, "magic")?;
            p.skip(1);
            p.length(Prefix::Varint, "length", &limits)
        };
        for n in 0..frame.len() {
            assert_eq!(probe(&frame[..n]).unwrap(), None, "{n} bytes");
        }
        assert_eq!(probe(frame).unwrap(), Some(5 + 300));
        let err = probe(b"PX\x01\x01").unwrap_err();
        assert_eq!(err.offset, 0);
        assert_eq!(err.path, ["Frame", "magic"]);
        // Over the frame limit, and a negative signed length.
        let small = Limits {
            max_frame_len: 100,
            ..limits
        };
        let err = Probe::new(b"\x00\x00\x00\x61", "F")
            .length(Prefix::uint(4, true), "len", &small)
            .unwrap_err();
        assert_eq!(
            (err.offset, err.kind.clone()),
            (0, DecodeErrorKind::TooLong { len: 101, max: 100 })
        );
        let err = Probe::new(b"\xff\xff", "F")
            .length(Prefix::int(2, true), "len", &small)
            .unwrap_err();
        assert_eq!(err.kind, DecodeErrorKind::NegativeLength(-1));
        // A varint field skipped on the way.
        let mut p = Probe::new(b"\x80\x01\x05", "F");
        p.skip_varint("id").unwrap();
        assert_eq!(
            p.length(Prefix::uint(1, true), "len", &limits).unwrap(),
            Some(8)
        );
    }

    #[test]
    fn header_fields_and_message_texts() {
        let mut m = OrderedMap::new();
        m.push(Str::from("level"), Str::from("5"));
        assert_eq!(field(&m, "level").unwrap(), "5");
        assert_eq!(
            field(&m, "source").unwrap_err().kind,
            DecodeErrorKind::MissingField
        );
        assert_eq!(
            Bytes::from_static(b"no").message_text().as_deref(),
            Some("no")
        );
        assert_eq!(Bytes::new().message_text(), None);
        assert_eq!(Some(Str::from("x")).message_text().as_deref(), Some("x"));
        assert_eq!(Some(Str::default()).message_text(), None);
        assert_eq!(None::<Str>.message_text(), None);
    }
}
