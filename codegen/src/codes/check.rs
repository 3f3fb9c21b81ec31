//! Codes of the checker (`E03xx`, `W03xx`).

use super::Code;

/// The checker's codes.
pub const CODES: &[Code] = &[
    Code {
        code: "E0301",
        title: "a variant or bit is declared twice",
        explanation: r#"Two variants of one enum, or two bits of one flags type, have the same name.

```wire
enum Color : u8 { RED = 0, RED = 1 }
```

Rename one of them, or remove the second."#,
    },
    Code {
        code: "E0302",
        title: "two variants or bits share a value",
        explanation: r#"Two variants of an enum (or two bits of a flags type) have the same value, so a value
read from the wire could not tell them apart.

```wire
enum Color : u8 { RED = 0, GREEN = 0 }
```

Give each variant its own value (`GREEN = 1`)."#,
    },
    Code {
        code: "E0303",
        title: "a variant or bit does not fit the representation",
        explanation: r#"An enum value lies outside the range of the enum's integer type, or a flag's bit index
lies outside the flags' width.

```wire
enum Big : u8 { HUGE = 300 }
flags F : u8 { TOP = bit 8 }
```

Widen the representation (`: u16`) or change the value."#,
    },
    Code {
        code: "E0304",
        title: "a length prefix cannot express the declared maximum",
        explanation: r#"`max = N` on a string or bytes is larger than its length prefix can hold, so the
maximum could never be reached and values near it could not be encoded.

```wire
name: string<u8, max = 1000>
```

Widen the prefix (`string<u16, max = 1000>`) or lower `max`."#,
    },
    Code {
        code: "E0305",
        title: "a string or bytes has no length",
        explanation: r#"A string or bytes without a prefix takes its extent from its region, but this one has
none: nothing says where it ends.

```wire
struct A { name: string, id: u32 }
```

Give it a prefix (`string<u16>`), or mark it `rest` (last field) or
`sized_by <length field>`."#,
    },
    Code {
        code: "E0306",
        title: "a list's end cannot be found",
        explanation: r#"A list without a count reads elements until its region ends, but its elements can
encode to zero bytes, so the reader would never advance.

```wire
items: list<Empty> rest
```

Give the list a count prefix: `list<Empty, u16>`."#,
    },
    Code {
        code: "E0307",
        title: "`@empty_is_none` on a type with no empty value",
        explanation: r#"`@empty_is_none` writes an absent value as an empty string, bytes, list or map. Other
types have no empty encoding.

```wire
n: u32? @empty_is_none
```

Remove the attribute: other optionals are written with a presence byte."#,
    },
    Code {
        code: "E0308",
        title: "a header field cannot be carried as a string",
        explanation: r#"The fields of a `header` travel as strings in a map, so they must be scalars: strings,
integers, bools, enums or flags (each optionally `?`).

```wire
header H { items: list<u32> }
```

Carry structured data in the body instead, or encode it into a string field."#,
    },
    Code {
        code: "E0309",
        title: "`as` that does not widen an integer",
        explanation: r#"`as` gives a narrower wire integer a wider Rust type; it applies to integer fields, and
the Rust type must hold every value of the wire type (else decoding would change values).

```wire
name: string<u8> as i32
count: u32 as i32          // 4000000000 would not survive
```

Remove `as`, or widen: `code: i16 as i32`."#,
    },
    Code {
        code: "E0310",
        title: "`@default` on a field that is not an integer or enum",
        explanation: r#"`@default(n)` sets the value a new message starts with; it applies to integer and enum
fields.

```wire
name: string<u8> @default(3)
```

Remove the attribute."#,
    },
    Code {
        code: "E0311",
        title: "a default is not a value of its field",
        explanation: r#"`@default(n)` gives a value the field's type cannot hold (or that no variant of the
enum has).

```wire
port: u8 @default(1000)
```

Give a value in the type's range, or for an enum the value of one of its variants."#,
    },
    Code {
        code: "E0312",
        title: "a field is declared twice",
        explanation: r#"Two fields (or bit parts) of one struct have the same name.

```wire
struct A { id: u32, id: u16 }
```

Rename one of them."#,
    },
    Code {
        code: "E0313",
        title: "a length names a field that does not exist",
        explanation: r#"`len(x)` or `len(x..)` measures a field `x` of the same struct, but there is none.

```wire
struct A { n: u16 = len(nmae), name: string sized_by n }
```

Name a field declared in the same struct."#,
    },
    Code {
        code: "E0314",
        title: "a `rest` field is not last",
        explanation: r#"A field marked `rest` takes every byte left in its region, so nothing can follow it.

```wire
struct A { body: bytes rest, crc: u32 }
```

Move it to the end, or give it a length (`bytes<u32>`, `sized_by u32`)."#,
    },
    Code {
        code: "E0315",
        title: "`sized_by` names no matching length field",
        explanation: r#"`sized_by n` takes its extent from an earlier `n: u32 = len(field)`, but no earlier field
computes this field's length.

```wire
struct A { data: bytes sized_by n, n: u32 = len(data) }
```

Declare the length before the field, measuring this field."#,
    },
    Code {
        code: "E0316",
        title: "bit range outside its integer",
        explanation: r#"A bit part's range is empty or reaches past the width of the integer that carries it.

```wire
word: u8 { hi: u8 bits 4..12 }
```

Use a range within `0..` the carrier's width in bits."#,
    },
    Code {
        code: "E0317",
        title: "bit parts overlap",
        explanation: r#"Two parts of one packed integer use the same bits, so writing one would change the other.

```wire
word: u8 { a: u8 bits 0..4, b: u8 bits 3..8 }
```

Give each part its own bits."#,
    },
    Code {
        code: "E0318",
        title: "a bit part's type cannot hold its bits",
        explanation: r#"A bit part is an unsigned integer at least as wide as its bits, a bool (one bit), an enum
or flags.

```wire
word: u16 { n: u8 bits 0..12 }
```

Widen the part's type (`u16`) or narrow its range."#,
    },
    Code {
        code: "E0319",
        title: "`by` on a field that is not a struct",
        explanation: r#"`by disc { .. }` chooses among the encodings of a struct; the field's type is not one.

```wire
n: u32 by kind { 0 => json }
```

Use `by` on a struct field."#,
    },
    Code {
        code: "E0320",
        title: "a discriminator that cannot choose",
        explanation: r#"The field named by `by` must be an earlier integer field, or an earlier integer or bool
bit part without a constant value: its value at run time picks the encoding.

```wire
struct F { header: Header by kind { 0 => json, 1 => binary }, kind: u8 }
```

Declare the discriminator before the field, as a stored integer (or bool bit part)."#,
    },
    Code {
        code: "E0321",
        title: "an arm selects an encoding the struct does not declare",
        explanation: r#"A `by` arm names an encoding that the struct has no `encoding` block for.

```wire
header: Header by serialize { 0 => json }   // but no `encoding Header json { .. }`
```

Declare `encoding Header json { .. }`, or use `binary`."#,
    },
    Code {
        code: "E0322",
        title: "two arms for one discriminator value",
        explanation: r#"Two `by` arms have the same value, so that value would have two encodings.

```wire
header: Header by serialize { 0 => json, 0 => binary }
```

Give each value one arm."#,
    },
    Code {
        code: "E0323",
        title: "a text-encoded field has no length",
        explanation: r#"A field whose encoding a discriminator may choose to be JSON needs an extent: JSON does
not say where it ends.

```wire
header: Header by serialize { 0 => json, 1 => binary }
```

Add `sized_by <length field>` or `rest`."#,
    },
    Code {
        code: "E0324",
        title: "a correlation id that is not an integer",
        explanation: r#"The `@correlation` field matches responses to requests by number.

```wire
id: string<u8> @correlation
```

Use an integer type or `varint`."#,
    },
    Code {
        code: "E0325",
        title: "two correlation ids",
        explanation: r#"Only one field can be `@correlation`: the generated code reads and sets one id.

```wire
frame { .. id: u32 @correlation, other: u32 @correlation .. }
```

Keep the attribute on one field."#,
    },
    Code {
        code: "E0326",
        title: "`@kind` on a field that is not flags with a `@response` bit",
        explanation: r#"The `@kind` field tells requests, responses and oneway frames apart with its `@response`
(and `@oneway`) bits.

```wire
flag: u8 @kind
```

Make it a `flags` type whose response bit is `@response`."#,
    },
    Code {
        code: "E0327",
        title: "two `@kind` fields",
        explanation: r#"Only one field can be `@kind`: the generated code reads and sets one set of flags.

```wire
frame { .. kind: Kind @kind, more: Kind @kind .. }
```

Keep the attribute on one field."#,
    },
    Code {
        code: "E0328",
        title: "a struct contains itself",
        explanation: r#"A struct that holds itself (directly, through an optional, or through other structs)
would be infinitely large.

```wire
struct Node { value: u32, next: Node? }
```

Break the cycle with a list: `children: list<Node, u16>`."#,
    },
    Code {
        code: "E0329",
        title: "the codec cannot find the frame's length",
        explanation: r#"The codec learns a frame's size from a `len(..)` field preceded only by fixed-size
fields and varints.

```wire
frame { name: string<u8>, length: u32 = len(..), body: bytes rest }
```

Start the frame with fixed-size fields and a `length: u32 = len(..)` field."#,
    },
    Code {
        code: "E0330",
        title: "a request code is used twice",
        explanation: r#"Two requests (of any services) have the same code, so a server could not tell them
apart.

```wire
service A { request Ping = 1 }
service B { request Stop = 1 }
```

Give every request its own code."#,
    },
    Code {
        code: "E0331",
        title: "a request is declared twice",
        explanation: r#"Two requests have the same name; request names are unique across the protocol's
services (each names a request type and a request code constant).

```wire
service A { request Ping = 1 }
service B { request Ping = 2 }
```

Rename one of them."#,
    },
    Code {
        code: "E0332",
        title: "a oneway request declares a response",
        explanation: r#"A `oneway` request gets no response.

```wire
oneway Note = 3 -> { body bytes }
```

Remove `-> { .. }`, or make it a `request`."#,
    },
    Code {
        code: "E0333",
        title: "a request header that is not a struct",
        explanation: r#"`header T in field` carries a `header` struct as strings; `T` is not one.

```wire
enum Mode : u8 { A = 0 }
service S { request Put = 1 { header Mode in ext } }
```

Declare the header with `header T { .. }`."#,
    },
    Code {
        code: "E0334",
        title: "a header's carrier is not a string map of the frame",
        explanation: r#"A typed header travels as strings in a `map<string<..>, string<..>>` field of the frame
(or of a struct in it); `in` names no such field.

```wire
service S { request Put = 1 { header PutHeader in body } }   // `body` is bytes
```

Name the frame's string map field, or add one."#,
    },
    Code {
        code: "E0335",
        title: "a handshake message that is not a struct",
        explanation: r#"`hello`, `accept` and `reject` name the structs the handshake exchanges.

```wire
handshake { hello Mode, accept Accept }   // `Mode` is an enum
```

Name a struct."#,
    },
    Code {
        code: "E0336",
        title: "a handshake without versions",
        explanation: r#"A handshake negotiates a version, but the protocol declares none.

```wire
protocol p { handshake { hello Hello, accept Accept } .. }   // no `versions`
```

Add `versions 1..=N` to the protocol."#,
    },
    Code {
        code: "E0337",
        title: "a union with two `else` members",
        explanation: r#"A union reads the member whose constant bits its first word has; its `else` member,
if it has one, is read when the word is no other member's. There is one such member.

```wire
union Command { Array, else Inline, else Raw }
```

Keep one `else`."#,
    },
    Code {
        code: "E0338",
        title: "a union of the two directions of a connection, misdeclared",
        explanation: r#"A union whose members say which side sends them reads bytes as the member of the
side that sent them: a protocol whose client and server speak different messages (RESP's
commands and replies, HTTP's requests and responses) is one such union.

```wire
union Message {
    Command from client
    Value from server
}
frame Message
```

It has exactly one member `from client` and one `from server`, each a struct or a union
whose members do not say a side themselves; no member is `else` (the side picks the
member, not the first word), and every member says its side."#,
    },
    Code {
        code: "E0340",
        title: "names that are equal in Rust",
        explanation: r#"The emitter converts names to Rust's conventions: fields to `snake_case`, enum variants to
`PascalCase`, flag bits to `SCREAMING_SNAKE_CASE`, requests to all three (methods, request
and response types, request code constants). Two names that differ only in case or
underscores become one Rust name, which the generated code would define twice.

```wire
struct A { userId: u32, user_id: u32 }      // both `user_id`
enum E : u8 { OK = 0, Ok = 1 }              // both `Ok`
```

Rename one so that they differ in more than case and underscores."#,
    },
    Code {
        code: "E0341",
        title: "a variant named like a generated enum member",
        explanation: r#"The emitter adds members to an enum: `Unknown(..)` to an open enum (for values no variant
names) and the constant `ALL`. A variant that would have one of these names clashes.

```wire
enum Level : u8 open { LOW = 0, UNKNOWN = 1 }   // `Level::Unknown` is generated
```

Rename the variant (`UNSPECIFIED`)."#,
    },
    Code {
        code: "E0342",
        title: "a request named like a client method",
        explanation: r#"A service's generated client has the methods `new`, `with_timeout` and `pipeline`; a
request whose method name is one of them clashes.

```wire
service Store { request Pipeline = 1 }
```

Rename the request."#,
    },
    Code {
        code: "E0343",
        title: "a name the generated code would define twice",
        explanation: r#"Besides the user's types the emitter generates items: `protocol_info` and
`request_codes`, the frame's codec `<Frame>Codec`, the protocol type `<Protocol>Protocol`,
per service a trait `<Service>`, `<Service>Now`, a client `<Service>Client` and
`serve_<service>` functions, per request `<Request>Request` and `<Request>Response`, and
JSON mirror types. A type (or a service or request) whose generated name equals another
item's clashes.

```wire
struct GetRequest { .. }
service Store { request Get = 1 }   // generates `GetRequest` too
```

Rename the type (or the service or request)."#,
    },
    Code {
        code: "E0344",
        title: "a type named like a Rust keyword or primitive",
        explanation: r#"Generated code names types as written; a type named like a keyword (`type`, `Self`) is
not an identifier, and one named like a primitive (`u8`, `str`) would change what the
generated code's integers mean.

```wire
struct u8 { .. }
```

Rename the type."#,
    },
    Code {
        code: "E0345",
        title: "a name the generated code keeps for itself",
        explanation: r#"Generated decoders use locals starting with `__`, a header's conversions name their
string map `map`, and `serve_<service>` names the service's implementation `S` (the
service's trait is the service's name, so neither `S` nor the keyword `Self` can be one).

```wire
struct A { __r: u8, b: string<u8> }    // `__r` is the decoder's reader
header H { map: string<u8>, b: u32 }  // `map` is the header map
service S { request Get = 1 }
```

Rename the field or service."#,
    },
    Code {
        code: "E0346",
        title: "an enum without variants",
        explanation: r#"A closed enum without variants has no value: nothing can be decoded into it, and a
message holding it has no starting value.

```wire
enum Mode : u8 { }
```

Add a variant, or make it `open` to keep whatever value arrives."#,
    },
    Code {
        code: "E0347",
        title: "a header held in a message",
        explanation: r#"A `header` is carried as strings in a map of the frame; it has no binary layout, so a
struct (or list, map, optional) cannot hold it.

```wire
header H { key: string<u16> }
struct A { h: H }
```

Declare it with `struct` to hold it in a message, or carry it with
`header H in <map field>` in a request."#,
    },
    Code {
        code: "E0348",
        title: "`@echo` on a value it cannot copy",
        explanation: r#"`@echo` copies values from a request frame onto its response: at most four integer, bool
or enum fields or bit parts of the frame itself, 16 bits each. Other values would not
compile, be dropped, or lose their high bits.

```wire
frame { .. tag: string<u8> @echo .. }
```

Echo small integer, bool or enum fields of the frame."#,
    },
    Code {
        code: "E0349",
        title: "a handshake message without the fields the negotiation reads",
        explanation: r#"The generated handshake reads the client's highest version from the `hello` message's
`@max_version` field (and lowest from `@min_version`), and the agreed version from the
`accept` message's `@version` field; `@features` carries feature bits. A missing field
reads as 0; a field of another type, or too narrow for the highest of `versions`, would not
compile or would lose versions.

```wire
versions 1..=300
struct Hello { min_version: u8 @min_version, max_version: u8 @max_version }   // 300 > 255
struct Accept { tag: u8 = 2 }                                                // no `@version`
```

Mark the fields, as unsigned integers wide enough for every version (features: an
unsigned integer or flags)."#,
    },
    Code {
        code: "E0350",
        title: "a request code does not fit the `@code` field",
        explanation: r#"Request codes travel in the frame's `@code` field; a code outside its type's range
could not be sent (or would arrive as another code).

```wire
frame { .. code: u8 @code .. }
service S { request Big = 300 }
```

Use a code in the field's range, or widen the field."#,
    },
    Code {
        code: "E0351",
        title: "a response code does not fit the `@code` field",
        explanation: r#"Responses carry a code of the `responses` enum in the frame's `@code` field; a value
outside the field's range could not be sent.

```wire
frame { .. code: u16 @code .. }
responses Status : i16 { SUCCESS = 0 @success, DENIED = -7 }
```

Use codes in the field's range, or widen the field."#,
    },
    Code {
        code: "E0352",
        title: "a bit-part constant does not fit its bits",
        explanation: r#"A constant bit part is written with its bits; a value wider than the part (or negative)
would spill into its neighbours, and reading it back would fail.

```wire
word: u8 { version: u8 bits 0..2 = 5, rest: u8 bits 2..8 }
```

Widen the part or change the constant."#,
    },
    Code {
        code: "E0353",
        title: "a limit that would refuse every message",
        explanation: r#"A limit is a size or a count: negative values are meaningless, `max_frame_len` must allow
the smallest frame, and a zero string or collection limit would refuse every non-empty
string or list the protocol declares.

```wire
limits { max_frame_len = 0 }
```

Give a positive value (at least the smallest frame), or leave the limit out."#,
    },
    Code {
        code: "E0354",
        title: "a frame limit the length field cannot reach",
        explanation: r#"The frame's `len(..)` field cannot describe frames as large as `max_frame_len`: the limit
promises frames the protocol cannot write.

```wire
limits { max_frame_len = 1048576 }
frame { length: u16 = len(..), body: bytes rest }   // at most 65537 bytes
```

Lower `max_frame_len`, or widen the length field."#,
    },
    Code {
        code: "E0355",
        title: "a `by` arm the discriminator can never choose",
        explanation: r#"The discriminator's type (or bit part) cannot hold the arm's value, so the arm is dead
and the value it was meant for has no encoding.

```wire
word: u8 { serialize: u8 bits 6..8 }
header: Header by serialize { 0 => json, 4 => binary }   // 2 bits: 0 to 3
```

Use a value the discriminator holds, or widen it."#,
    },
    Code {
        code: "E0356",
        title: "a length after what it measures",
        explanation: r#"A `len(x)` or `len(x..)` field (or bit part) tells the decoder how many bytes `x` takes,
so it must be read before `x`.

```wire
struct A { name: bytes<u8>, n: u8 = len(name) }
```

Move the length before the field it measures."#,
    },
    Code {
        code: "E0358",
        title: "a field with two lengths",
        explanation: r#"A field with its own byte-length prefix (`sized_by varint`, `sized_by u16`) carries its
extent; a `len(x)` field that measures it too would give a second, different length.

```wire
struct A { n: u32 = len(s), s: string sized_by varint }
```

Keep one: `s: string sized_by n` (the length field), or drop `n`."#,
    },
    Code {
        code: "E0359",
        title: "an absent field whose length its condition does not refuse",
        explanation: r#"When a field's condition reads its own computed length (`data: .. sized_by len if len >=
0`), the length decides on decode whether the field is there. On encode an absent field
still writes the length, so it needs a value the condition refuses, given with `else`;
decoding then requires exactly that value whenever the field is absent, so every message
reads back as it was written.

```wire
struct Bulk {
    len: decimal<i64> until "\r\n" = len(data)           // absent: which length?
    data: bytes sized_by len if len >= 0
}
```

Write `= len(data) else -1`: an absent `data` writes `-1`, and `len >= 0` refuses it."#,
    },
    Code {
        code: "E0360",
        title: "a struct that reads to its region's end, not last in it",
        explanation: r#"A struct whose last field is `rest` (or another struct that is) takes every byte left in
its region. Anywhere but last in a region it would swallow what follows; as a list or map
element the first element would swallow the others.

```wire
struct Msg { kind: u8, text: bytes rest }
struct Frame { .. msg: Msg, crc: u32 }       // `msg` eats `crc`
struct Batch { msgs: list<Msg, u16> }        // the first `Msg` eats the rest
```

Make the field last, give it a length (`msg: Msg sized_by u32`), or give the struct its own
length (`size: u32 = len(..)` as its first field)."#,
    },
    Code {
        code: "E0361",
        title: "a nested struct without the encoding of its parent",
        explanation: r#"A struct written as JSON writes the structs it holds as JSON too, with their own
encoding of the same name; one of them has none.

```wire
struct Point { x: i32 }
struct A { at: Point }
encoding A json { }       // but no `encoding Point json { }`
```

Declare `encoding Point json { }`."#,
    },
    Code {
        code: "E0362",
        title: "an encoding rule that names no suitable field",
        explanation: r#"`rename f = ".."` and `f as name` name stored fields of the struct (`as name` an enum
field, written by its variant's name). A rule naming another field would be ignored.

```wire
struct A { id: u32 }
encoding A json { rename ident = "ID", id as name }
```

Name a stored field (an enum for `as name`)."#,
    },
    Code {
        code: "E0363",
        title: "two JSON members with one key",
        explanation: r#"After `rename_all` and `rename`, two fields (or a field and a `constant`) of one JSON
encoding have the same key: reading would fill only one of them.

```wire
struct A { a: u8, b: u8 }
encoding A json { rename a = "x", rename b = "x" }
```

Rename one of them."#,
    },
    Code {
        code: "E0364",
        title: "an `else` on a length whose target is never absent",
        explanation: r#"`= len(x) else V` gives the length written when the conditional field `x` is absent. When
`x` is always there, or the length measures a run of fields (`len(..)`, `len(a..)`), the
value is never used.

```wire
struct S { n: decimal<i64> until "\r\n" = len(data) else -1, data: bytes sized_by n }
```

Drop the `else`, or make `x` conditional (`data: bytes sized_by n if n >= 0`)."#,
    },
    Code {
        code: "E0365",
        title: "a service on a frame without the roles it needs",
        explanation: r#"The generated server and client read the request code from the frame's `@code` field,
write error messages into its `@message` field, match responses with `@correlation`, tell
them apart with `@kind`, and carry bodies in a `bytes rest` field. Without them the
services would not be generated, or would answer with an empty message.

```wire
frame { magic: u16 = 1, length: u32 = len(..), id: u32 @correlation, kind: Kind @kind,
        code: u16 @code, body: bytes rest }   // no `@message`
```

Add the missing fields (e.g. `remark: string<u16> @message`)."#,
    },
    Code {
        code: "E0366",
        title: "a frame role field of the wrong type",
        explanation: r#"`@code` must be an integer (request codes are numbers; response codes are the
`responses` enum's values written as that integer), `@message` a string (optionally `?`)
or bytes.

```wire
code: Status @code     // an enum
```

Give `@code` an integer type such as `i16`, and `@message` a string type."#,
    },
    Code {
        code: "E0367",
        title: "a request body the generated code cannot carry",
        explanation: r#"A body is `bytes`, or a struct (not a `header`), optionally `as` an encoding the struct
declares; `bytes` has only its own encoding.

```wire
request Get = 1 { body Point as json }   // but no `encoding Point json { .. }`
```

Declare the encoding, or use `bytes` or a struct."#,
    },
    Code {
        code: "E0368",
        title: "a union member that cannot be one",
        explanation: r#"A union lists structs with a binary layout, each once; an enum, flags, a `header`, an
empty union or a repeated member cannot be one.

```wire
union Packet { }
```

List the structs the value may be: `union Packet { Connect, Publish }`."#,
    },
    Code {
        code: "E0369",
        title: "union members that cannot be told apart",
        explanation: r#"A union's decoder looks at the first word of the input and picks the member whose
constant bits match. Every member must start with a word of the same integer type with
constant bits at the same places.

```wire
struct Ping { kind: u8 = 12 }
struct Data { body: bytes rest }
union Packet { Ping, Data }
```

Start every member with its constant: `header: u8 { kind: u8 bits 4..8 = 3, flags: u8 bits 0..4 }`."#,
    },
    Code {
        code: "E0370",
        title: "two union members with the same constant",
        explanation: r#"Two members of a union have the same value in the bits that tell members apart, so a
decoder could not choose between them.

```wire
struct A { kind: u8 = 1 }
struct B { kind: u8 = 1, x: u8 }
union U { A, B }
```

Give each member its own value."#,
    },
    Code {
        code: "E0371",
        title: "union frame members that start differently",
        explanation: r#"The codec finds a frame's end from the words before its `len(..)` field before it knows
which member the frame is, so every member of a union frame has the same words and the
same length field first.

```wire
struct A { kind: u8 = 1, length: u8 = len(..) }
struct B { kind: u8 = 2, length: u16 = len(..) }
union F { A, B }
frame F
```

Give every member the same start."#,
    },
    Code {
        code: "E0372",
        title: "a tag that does not fit",
        explanation: r#"A tagged list's tags are written as its tag type; a tag beyond it could not be written.

```wire
tagged Props : u8 { 0x100 big: u8 }
```

Use a smaller tag or a wider tag type (`: u16`, `: varint`)."#,
    },
    Code {
        code: "E0373",
        title: "two members with one tag",
        explanation: r#"Two members of a tagged list share a tag, so a reader could not tell which one it read.

```wire
tagged Props : u8 { 1 a: u8, 1 b: u16 }
```

Give each member its own tag."#,
    },
    Code {
        code: "E0374",
        title: "a tagged member without an extent",
        explanation: r#"A tagged list's members follow each other without lengths of their own: each value must
know where it ends (a fixed size or a length prefix).

```wire
tagged Props : u8 { 1 name: string }
```

Give it a prefix: `string<u16>`."#,
    },
    Code {
        code: "E0376",
        title: "a condition that reads something it cannot",
        explanation: r#"A field's `if` condition reads earlier fields and bit parts of the same struct that hold
an integer, bool, enum or flags value, earlier computed lengths as they are on the wire
(`data: bytes sized_by len if len >= 0`), and `@version`, the protocol version in effect.
Later fields, constants, bit-part lengths, strings and conditional fields cannot be read.

```wire
struct S { id: u16 if qos > 0, qos: u8 }
```

Declare what the condition reads before the field."#,
    },
    Code {
        code: "E0377",
        title: "a condition on a field that is always there",
        explanation: r#"Only stored values and literal fields (`end: "\r\n" if len >= 0`) can be conditional:
constants, computed lengths, packed words and fields chosen by `by` are always written,
and a header's fields travel as strings.

```wire
struct S { magic: u16 = 0x5057 if version > 1 }
```

Drop the condition, or make the field a stored value."#,
    },
    Code {
        code: "E0378",
        title: "a presence bit nothing reads",
        explanation: r#"`present(x)` sets a bit when the optional field `x` is there. `x` must come later, with a
condition that reads the bit (`x: T if has_x`), and the part must be a bool or integer;
otherwise the bit and the field could disagree.

```wire
struct S { flags: u8 { has_x: bool bits 0..1 = present(x) }, x: u16 }
```

Write `x: u16 if has_x`."#,
    },
    Code {
        code: "E0379",
        title: "`@version` on a field without an integer",
        explanation: r#"A field marked `@version` sets the protocol version that later conditions
(`if @version >= 5`) read; it holds an integer.

```wire
struct Hello { name: string<u8> @version }
```

Mark the integer field that carries the version."#,
    },
    Code {
        code: "E0380",
        title: "a union or tagged list in a struct written as JSON",
        explanation: r#"Unions and tagged lists have a binary layout only: a struct with a JSON encoding
cannot hold one, directly or in a list, map or optional.

```wire
tagged Props : u8 { 0x01 a: u8 }
struct A { props: Props sized_by u8 }
encoding A json { }
```

Keep the union or tagged list out of the struct, or drop its JSON encoding."#,
    },
    Code {
        code: "E0381",
        title: "an exchange without a union frame",
        explanation: r#"An `exchange` block says how the messages of a union frame answer each other; the
protocol's frame must be that union (`frame Name` where `Name` is a `union`).

```wire
frame { length: u32 = len(..), body: bytes rest }
exchange { Ping -> Pong }
```

Declare the messages as structs, a union of them, and `frame Union`."#,
    },
    Code {
        code: "E0382",
        title: "an exchange names a message outside the frame union",
        explanation: r#"Every message a rule, an answer, `push` or the keepalive's `ping` names travels as the
frame, so it is a member of the frame union.

```wire
union Packet { Ping, Pong }
frame Packet
exchange { Ping -> Hello }
```

Add the message to the union, or name a member."#,
    },
    Code {
        code: "E0383",
        title: "a message with two rules",
        explanation: r#"Each message has at most one rule saying what answers it (the `hello` rule counts);
its answers, with their conditions, are all in that rule.

```wire
exchange {
    Publish -> PubAck if qos == 1
    Publish -> PubRec if qos == 2
}
```

Write `Publish -> PubAck if qos == 1, PubRec if qos == 2`."#,
    },
    Code {
        code: "E0384",
        title: "an answer's condition reads something it cannot",
        explanation: r#"An answer's `if` condition reads the request's own integer, bool, enum or flags
fields and bit parts that are always there, and `@version`. `@more` describes a region
being read and means nothing for a whole message.

```wire
exchange { Publish -> PubAck if topic == 1 }   // topic is a string
```

Read an integer field or bit part of the request."#,
    },
    Code {
        code: "E0385",
        title: "a correlation field that is not an unsigned integer",
        explanation: r#"`correlate F` matches answers to requests by the field `F`: at least one member of the
frame union has it, and every member that has a field of that name holds an unsigned
integer (u8 to u64, possibly present on a condition) there.

```wire
struct Ping { kind: u8 = 1, id: string<u8> }
exchange { Ping -> Pong; correlate id }
```

Name the integer field answers share with their requests."#,
    },
    Code {
        code: "E0386",
        title: "a keepalive whose interval cannot be read",
        explanation: r#"`keepalive Hello.field seconds * 1.5 ping Ping` reads the interval from the hello, the
message that opens a connection: the exchange has a `hello` rule, and the field is an
unsigned integer of it that is always there.

```wire
exchange {
    Connect -> ConnAck                       // no `hello`
    keepalive Connect.keep_alive seconds * 1.5 ping PingReq
}
```

Mark the rule with `hello` and name an unsigned integer field."#,
    },
    Code {
        code: "E0387",
        title: "an answer that is never chosen",
        explanation: r#"Answers are tried in order and the first whose condition holds is sent; an answer
without a condition always holds, so the answers after it are never chosen.

```wire
exchange { Publish -> PubAck, PubRec if qos == 2 }
```

Give the earlier answer a condition, or reorder them."#,
    },
    Code {
        code: "E0388",
        title: "a farewell sets a field it cannot",
        explanation: r#"`on FAILURE -> Msg(field = value, ..)` sets top-level fields of the message that hold
an integer, a bool or an enum, stored or conditional (`if ..`); constants, computed
lengths, bit-packed fields and other types are not set this way.

```wire
exchange { on malformed -> Disconnect(length = 2) }   // a computed length
```

Name a field of the message holding an integer, bool or enum."#,
    },
    Code {
        code: "E0389",
        title: "a farewell's value does not fit its field",
        explanation: r#"A farewell gives an integer field an integer in its range, a bool field `true` or
`false`, and an enum field one of the enum's variants, named as declared.

```wire
exchange { on malformed -> Disconnect(reason = MALFORMED) }   // no such variant
```

Write a value of the field's type: `reason = MALFORMED_PACKET`."#,
    },
    Code {
        code: "E0390",
        title: "a farewell's condition reads more than `@version`",
        explanation: r#"A farewell is sent on a failure, when there is no message to read: its condition
reads `@version` only.

```wire
exchange { on malformed -> Disconnect if qos == 1 }
```

Write a condition over `@version`: `if @version >= 5`."#,
    },
    Code {
        code: "E0391",
        title: "`accept if` reads something it cannot",
        explanation: r#"`hello A -> B accept if cond` says when the answer `B` accepts the hello: the condition
reads the integer, bool, enum or flags fields and bit parts of `B` that are always there,
and `@version`. `@more` describes a region being read and means nothing here.

```wire
exchange { hello Connect -> ConnAck accept if reason == 0 }   // ConnAck has `code`
```

Read a field or bit part of the hello's answer."#,
    },
    Code {
        code: "E0392",
        title: "`accept if` without one answer message to read",
        explanation: r#"`accept if` reads the message that answers the hello, so the hello's answers name
exactly one message; `close`, `nothing` or two different messages leave it unknown.

```wire
exchange { hello Connect -> ConnAck if level == 5, Refused accept if code == 0 }
```

Answer the hello with one message, or leave `accept if` out."#,
    },
    Code {
        code: "E0393",
        title: "a `status` reads a field that is not an integer or enum",
        explanation: r#"`status Msg.field` names the field of an answer saying whether its request
succeeded: a top-level field of the message holding an integer or an enum (it may be
conditional; absent, it holds its default). Bit parts, constants, lengths, strings and
structs cannot say it.

```wire
struct Ack { kind: u8 = 4, length: u32 = len(..), note: string<u8> }
exchange { Ask -> Ack; status Ack.note }
```

Name the integer or enum field holding the result code: `status Ack.code`."#,
    },
    Code {
        code: "E0394",
        title: "a `status`'s `ok` values do not fit its field",
        explanation: r#"`ok LO..HI` lists the values of the status field meaning success, inclusive:
LO is at most HI and both are values the field can hold (an enum's by their wire values).
A value may be written as an integer, or, for an enum field, as one of its variants.

```wire
struct Ack { kind: u8 = 4, length: u32 = len(..), code: u8 }
exchange { Ask -> Ack; status Ack.code ok 0..300 }
```

Write `ok 0` (the default), `ok 0x00..0x7F`, or `ok SUCCESS..GRANTED_QOS_2` for an enum."#,
    },
    Code {
        code: "E0395",
        title: "a `status`'s `message` is not a string field",
        explanation: r#"`message PATH` names where an answer says why it failed: a dotted path from a
top-level field of the message through fields of structs and members of tagged lists
(each possibly optional or conditional) to a `string<..>`. A repeated tagged member has
no one value.

```wire
struct Ack { kind: u8 = 4, length: u32 = len(..), code: u8, properties: Properties }
exchange { Ask -> Ack; status Ack.code message properties.reason }
```

Name the string: `message properties.reason_string`."#,
    },
    Code {
        code: "E0396",
        title: "a `status` of a message that answers nothing",
        explanation: r#"A status says whether the request an answer answers succeeded, so its message
is one some rule answers with (the hello's included).

```wire
exchange { Ask -> Ack; status Ask.code }
```

Name an answer: `status Ack.code`."#,
    },
    Code {
        code: "E0397",
        title: "a series that ends with its own item",
        explanation: r#"`Item* then End` answers a request with any number of `Item` messages and then one
`End`: the receiving side knows the answer is over when `End` comes, so `End` must be
another message than `Item`.

```wire
exchange { List -> Entry* then Entry }
```

End the series with a message of its own: `List -> Entry* then EndOfList`."#,
    },
    Code {
        code: "E0398",
        title: "a hello answered by a series, or only on an outcome",
        explanation: r#"The hello opens a connection and its one answer, always sent, says whether it is
accepted (and which version is in effect): a series of answers has no one answer to read,
and an answer sent only on failure or success leaves the client waiting.

```wire
exchange { hello Connect -> Banner* then Ready }
```

Answer the hello with one message, and let a request after it have the series."#,
    },
    Code {
        code: "E0399",
        title: "an answer sent on an outcome its message cannot report",
        explanation: r#"`Msg on failure` sends `Msg` only when it reports a failure, `Msg on success` only
when it reports a success; what reports it is the message's `status` line.

```wire
exchange { Write -> Error on failure }
```

Add `status Error.code ok 0` (the field and the values of success)."#,
    },
    Code {
        code: "W0301",
        title: "a response status falls back to a default code",
        explanation: r#"The generated server answers with the `responses` enum's `@success` and
`@system_error` codes; without the attribute it uses 0 (success) and 1 (failure), which
the enum may not have, or may mean something else by.

```wire
responses Status : i16 { OK = 200, ERROR = 500 }   // success would be 0
```

Mark the codes: `OK = 200 @success`, `ERROR = 500 @system_error`."#,
    },
    Code {
        code: "W0302",
        title: "the default frame limit exceeds the length field",
        explanation: r#"The frame's `len(..)` field describes smaller frames than the default `max_frame_len`
(16 MiB), so the limit is never what stops a frame.

```wire
frame { length: u16 = len(..), body: bytes rest }
```

Declare the limit the protocol really has: `limits { max_frame_len = 65537 }`."#,
    },
];
