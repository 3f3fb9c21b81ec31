//! # polywire-macros
//!
//! Protocols as annotated Rust items. The macros read Rust syntax into the same IR the
//! `.wire` parser builds (`polywire_codegen::ir`), run the same checks and call the same
//! emitter: only the way input is read differs. Use them through `polywire`
//! (feature `derive`, off by default: `polywire = { version = "0.1", features = ["derive"] }`).
//!
//! ## A whole protocol: `#[polywire::protocol]` on a module
//!
//! ```
//! #[polywire::protocol(id = "echo-demo", versions = 1..=1, detect(prefix = "ED", at = 0))]
//! pub mod echo {
//!     use polywire::bytes::Bytes;
//!     use polywire::{OrderedMap, Str};
//!
//!     #[wire(flags)]
//!     #[repr(u8)]
//!     pub enum Flags {
//!         #[wire(response)] Response = 0,
//!         #[wire(oneway)] Oneway = 1,
//!     }
//!
//!     #[wire(frame)]
//!     pub struct Frame {
//!         #[wire(constant = 0x4544)] magic: u16,
//!         #[wire(len = "..", varint)] length: u64,
//!         #[wire(code)] code: u16,
//!         #[wire(correlation, varint)] id: u64,
//!         #[wire(kind)] flags: Flags,
//!         #[wire(key(prefix = varint), value(prefix = varint))] headers: OrderedMap<Str, Str>,
//!         #[wire(rest, message)] body: Bytes,
//!     }
//!
//!     pub trait Echo {
//!         #[wire(code = 1)]
//!         fn echo(body: Bytes) -> Bytes;
//!     }
//! }
//!
//! // A request frame, encoded and decoded with the generated codec.
//! use polywire::{Codec, Protocol};
//! let mut frame = echo::EchoProtocol.request(1);
//! frame.body = "hi".into();
//! let mut buf = polywire::bytes::BytesMut::new();
//! echo::EchoProtocol.codec().encode(&frame, &mut buf).unwrap();
//! assert_eq!(&buf[..2], b"ED");
//! let back = echo::EchoProtocol.codec().decode(&mut buf).unwrap().expect("a whole frame");
//! assert_eq!((back.code, &back.body[..]), (1, &b"hi"[..]));
//! ```
//!
//! The module's items are replaced by what the emitter writes for them (message types,
//! codec, handshake, the `Echo` server trait, `serve_echo`, `EchoClient`, ...); items
//! other than structs, enums and traits are kept as written.
//!
//! | DSL | macro |
//! | --- | --- |
//! | `protocol p "id" { endian big; versions 1..=3; limits {..} }` | `#[protocol(id = "id", endian = big, versions = 1..=3, limits(max_frame_len = N))]` |
//! | `detect { prefix "PW" at 0 }` | `detect(prefix = "PW", at = 0)` or `prefix = [0x50, 0x57]` (several `detect(..)` all hold) |
//! | `detect { .. } or { .. }` | `detect(..), detect(..), or, detect(..)`: a bare `or` starts the next set of rules |
//! | `handshake { hello H accept A reject R choose highest timeout_ms 5000 }` | `#[wire(hello)]`, `#[wire(accept)]`, `#[wire(reject)]` on the structs; `handshake(choose = highest, timeout_ms = 5000)` |
//! | `frame { .. }` / `header H { .. }` | `#[wire(frame)]` / `#[wire(header)]` on a struct |
//! | `enum E : u8 open { A = 0 @success }` | `#[repr(u8)] #[wire(open)] enum E { #[wire(success)] A = 0 }` (names become `SCREAMING_CASE`; `#[wire(rename = "..")]`) |
//! | `flags F : u8 { A = bit 0 @response }` | `#[wire(flags)] #[repr(u8)] enum F { #[wire(response)] A = 0 }` |
//! | `responses S : u16 { .. }` | `#[wire(responses)] #[repr(u16)] enum S { .. }` |
//! | `x: u16le`, `x: u24`, `code: i16 as i32` | `#[wire(le)] x: u16`, `#[wire(repr = u24)] x: u32`, `#[wire(repr = i16)] code: i32` |
//! | `id: varint`, `n: svarint` | `#[wire(varint)] id: u64`, `#[wire(varint)] n: i64` |
//! | `s: string<u16, max = 255>`, `b: bytes<varint>` | `#[wire(prefix = u16, max = 255)] s: Str`, `#[wire(prefix = varint)] b: Bytes` |
//! | `l: list<T, u8>`, `m: map<string<u8>, T>` | `#[wire(count = u8)] l: Vec<T>`, `#[wire(key(prefix = u8))] m: OrderedMap<Str, T>` |
//! | `o: T?`, `@empty_is_none` | `o: Option<T>`, `#[wire(empty_is_none)]` |
//! | `magic: u16 = 0x5057` | `#[wire(constant = 0x5057)] magic: u16` |
//! | `length: u32 = len(..)`, `= len(f)`, `= len(f..)` | `#[wire(len = "..")]`, `len = "f"`, `len = "f.."` |
//! | `word: u32 { a: u8 bits 24..32, b: u24 bits 0..24 = len(h) }` | `#[wire(bits = 24..32, packed = u32)] a: u8`, `#[wire(bits = 0..24, repr = u24, len = "h")] b: u32` (consecutive parts share the integer; `carrier = word` names it) |
//! | `h: H by d { 0 => json, 1 => binary }` | `#[wire(by(d, 0 => json, 1 => binary))] h: H` |
//! | `union P { A, B }`, `frame P` | `#[wire(union)] enum P { A(A), B(B) }` (one struct per variant, named after it); `#[wire(union, frame)]` makes it the frame |
//! | `tagged T : u8 { 0x01 a: u8, 0x26 b: S repeated }` | `#[wire(tagged = u8)] struct T { #[wire(tag = 0x01)] a: Option<u8>, #[wire(tag = 0x26)] b: Vec<S> }`; `tagged = "varint<max = N>"` |
//! | `x: T if qos > 0 && @version >= 5`, `if @more` | `#[wire(if = "qos > 0 && @version >= 5")] x: Option<T>` (read by the `.wire` grammar's condition rule) |
//! | `has_x: bool bits 0..1 = present(x)` | `#[wire(bits = 0..1, present = "x")] has_x: bool` |
//! | `n: varint<max = N>`, `len: varint<max = N> = len(..)` | `#[wire(varint, max = N)] n: u64`, `#[wire(len = "..", varint, max = N)] len: u64` |
//! | `sized_by varint<max = N>`, `string<varint<max = N>>` | `#[wire(sized_by = "varint<max = N>")]`, `#[wire(prefix = "varint<max = N>")]` |
//! | `body: bytes rest`, `sized_by f`, `sized_by u32` | `#[wire(rest)]`, `#[wire(sized_by = f)]`, `#[wire(sized_by = u32)]` |
//! | `marker: u8 = '+'` | `#[wire(constant = b'+')] marker: u8` |
//! | `end: "\r\n"`, `end: "\r\n" if len >= 0` | `#[wire(literal = "\r\n")] end: ()`, `#[wire(literal = "\r\n", if = "len >= 0")] end: ()` |
//! | `text: string until "\r\n"` | `#[wire(until = "\r\n")] text: Str` |
//! | `n: decimal<i64> until "\r\n"` | `#[wire(decimal, until = "\r\n")] n: i64` |
//! | `len: decimal<i64> until "\r\n" = len(data) else -1` | `#[wire(decimal, until = "\r\n", len = "data", else = -1)] len: i64` |
//! | `items: list<T> count n` | `#[wire(count = "n")] items: Vec<T>` |
//! | `@correlation @kind @code @message @version @default(5) ..` | `#[wire(correlation, kind, code, message, version, default = 5)]` |
//! | `encoding S json { rename_all camelCase; f as name; rename g = "G"; sort_keys }` | `#[wire(json(rename_all = "camelCase", sort_keys))]` on `S`, `#[wire(as_name)]`, `#[wire(rename = "G")]` on fields |
//! | `service S { request Echo = 1 { header H in headers, body bytes } -> { body bytes } }` | `trait S { #[wire(code = 1)] fn echo(header: H, body: Bytes) -> Bytes; }` (`-> (H, B)` for a typed response header; `#[wire(oneway)]`; `#[wire(carrier = f)]` when the frame has several maps; `#[wire(encoding = json)]` on `body`) |
//!
//! ## One message: `#[derive(Message)]`
//!
//! On a standalone struct (or `#[repr]` enum) with the same field attributes, it emits the
//! `WireMessage` impl (or `WireEnum`) and the inherent helpers for the type as written. The
//! type holds only stored fields: constants and computed lengths, which are not stored,
//! need the protocol module. Other types are referred to by name and encoded through their
//! `WireMessage` impl: another derived struct, or a derived enum, which is also a
//! `WireMessage` of its integer (so it must be `Copy`, as every wire enum is). Flags sets,
//! bit parts of a named type and a struct's JSON encoding holding another type (the
//! derive cannot tell how that type is written in JSON) need the protocol module, where
//! every type is known; each is reported at the field. A `by(d, 0 => json, 1 => binary)`
//! switch over another derived struct works: it calls that struct's own `decode_json` /
//! `encode_json` / `json_len`, which its `#[wire(json)]` provides (without it, rustc reports
//! them missing), and, as in the DSL, the field needs `rest` or `sized_by`.
//!
//! ```
//! use polywire::WireMessage;
//!
//! #[derive(polywire::Message, Clone, Copy, Debug, PartialEq, Eq)]
//! #[repr(u8)]
//! pub enum Colour { Red = 1, Green = 2 }
//!
//! #[derive(polywire::Message, Debug, PartialEq)]
//! pub struct Pixel {
//!     #[wire(le)] x: u16,
//!     colour: Colour,
//!     #[wire(prefix = u8)] label: polywire::Str,
//! }
//!
//! let p = Pixel { x: 258, colour: Colour::Green, label: "dot".into() };
//! let mut buf = polywire::bytes::BytesMut::new();
//! p.encode_to(&mut buf).unwrap();
//! assert_eq!(&buf[..], b"\x02\x01\x02\x03dot");
//! ```
//!
//! Errors point at the attribute or field at fault and say what would be right; rules
//! that span several items (bit overlaps, length targets, duplicate codes, ...) come from
//! the checker the `.wire` front end uses, mapped back to the item's span.

mod expand;

use proc_macro::TokenStream;

/// Turns an inline module of annotated structs, enums and traits into a protocol. See the
/// crate docs for the attribute syntax.
#[proc_macro_attribute]
pub fn protocol(args: TokenStream, input: TokenStream) -> TokenStream {
    expand::protocol(args.into(), input.into()).into()
}

/// Derives the wire encoding of a standalone struct or `#[repr]` enum from its
/// `#[wire(..)]` attributes. See the crate docs.
#[proc_macro_derive(Message, attributes(wire))]
pub fn derive_message(input: TokenStream) -> TokenStream {
    expand::derive(input.into()).into()
}
