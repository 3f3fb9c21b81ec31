//! Codes of the parser, of import handling and of the lowering to IR (`E01xx`, `W01xx`):
//! `E0101`–`E0109` the text, `E0110`–`E0119` imports, `E0120` on names, types and
//! declarations, `W01xx` the front end's warnings.

use super::Code;

/// The parser's, the imports' and the lowering's codes.
pub const CODES: &[Code] = &[
    Code {
        code: "E0101",
        title: "syntax error",
        explanation: r#"The text does not follow the `.wire` grammar at the caret: a token is
missing or one stands where it cannot.

```wire
struct Header {
    level u8        // `:` is missing
}
```

Write the construct as the help line shows, here `level: u8`. Other items of the file are
still checked; names of the broken item are not reported again as unknown."#,
    },
    Code {
        code: "E0102",
        title: "unterminated block",
        explanation: r#"A `{` is never closed by its `}`.

```wire
struct Header {
    level: u8

struct Other { x: u8 }
```

Add the `}` where the block ends. When a `}` further down is indented less than the line
that opened a block, that block is the one reported."#,
    },
    Code {
        code: "E0103",
        title: "unexpected closing brace",
        explanation: r#"A `}` closes no block.

```wire
protocol p {
    struct A { x: u8 }
    }
}
```

Remove it, or add the `{` of the block it was meant to close."#,
    },
    Code {
        code: "E0104",
        title: "more than one protocol in a file",
        explanation: r#"A `.wire` file describes at most one protocol.

```wire
protocol a { ... }
protocol b { ... }
```

Move the second protocol into a file of its own; shared definitions can live in a third
file that both `import`."#,
    },
    Code {
        code: "E0105",
        title: "unterminated string",
        explanation: r#"A string opened with `"` has no closing `"` on its line (strings do not
span lines).

```wire
import "common.wire
```

Close the string: `import "common.wire"`."#,
    },
    Code {
        code: "E0106",
        title: "unterminated block comment",
        explanation: r#"A comment opened with `/*` is never closed by `*/`, so the rest of the
file is inside it.

```wire
/* the header
struct Header { level: u8 }
```

Close the comment with `*/`, or use `//` line comments."#,
    },
    Code {
        code: "E0107",
        title: "detection byte out of range",
        explanation: r#"A number in `detect { prefix ... }` gives bytes. A hexadecimal or
binary number gives as many bytes as its digits say, big-endian (`0x5057` is the two bytes
`50 57`, `0x0057` is `00 57`); a decimal number is one byte, so it must be 0 to 255, and
no number may be negative.

```wire
detect { prefix 20567 at 0 }
```

Write the bytes in hexadecimal (`prefix 0x5057`), one decimal number per byte
(`prefix 80 87`) or as a string (`prefix "PW"`)."#,
    },
    Code {
        code: "E0110",
        title: "import cycle",
        explanation: r#"Files import each other in a circle, so none can be read first.

```wire
// a.wire
import "b.wire"
// b.wire
import "a.wire"
```

Move the definitions both need into a third file that imports neither, and import it from
both."#,
    },
    Code {
        code: "E0111",
        title: "imported file cannot be read",
        explanation: r#"The file named by an `import` does not exist or cannot be read.

```wire
import "comon.wire"
```

Import paths are relative to the directory of the importing file; check the spelling and
the location."#,
    },
    Code {
        code: "E0120",
        title: "no protocol in the file",
        explanation: r#"The file compiled (the one given to the build, not an imported one)
has no `protocol` block, so there is nothing to generate.

```wire
struct Header { level: u8 }
```

Add `protocol name { ... }` with the frame and services, or give the build the file that
imports this one."#,
    },
    Code {
        code: "E0121",
        title: "unknown byte order",
        explanation: r#"`endian` takes `big` or `little`.

```wire
endian network
```

Write `endian big` (network order, the default) or `endian little`."#,
    },
    Code {
        code: "E0122",
        title: "more than one frame",
        explanation: r#"A protocol has one `frame`: the unit its codec reads and writes.

```wire
frame Request { ... }
frame Response { ... }
```

Describe both shapes inside one frame, e.g. with a kind field and a discriminator
(`payload: Body by kind { 0 => request, 1 => response }`)."#,
    },
    Code {
        code: "E0123",
        title: "encoding of something other than a struct",
        explanation: r#"An `encoding` block describes how a struct is written in another format;
enums and flags have no fields to rename.

```wire
enum Color : u8 { RED = 0 }
encoding Color json { rename_all camelCase }
```

Put the encoding on the struct that holds the enum."#,
    },
    Code {
        code: "E0124",
        title: "invalid version range",
        explanation: r#"`versions` takes a non-empty range of non-negative versions that fit
in 32 bits.

```wire
versions 3..1
```

Write the lowest and the highest version: `versions 1..=3`."#,
    },
    Code {
        code: "E0125",
        title: "unknown limit",
        explanation: r#"`limits` knows `max_frame_len`, `max_string_len` and
`max_collection_len`.

```wire
limits { max_frame = 65536 }
```

Use one of the known names: `limits { max_frame_len = 65536 }`."#,
    },
    Code {
        code: "E0126",
        title: "empty detection alternative",
        explanation: r#"A `detect` alternative with no rule matches every connection, so no
other protocol on the port could ever be chosen.

```wire
detect { prefix "PW" at 0 } or { }
```

Give each alternative at least one `prefix` rule, or remove it."#,
    },
    Code {
        code: "E0127",
        title: "type defined twice",
        explanation: r#"Two definitions (in this file or in the files it imports) have the same
name, so a reference to it would be ambiguous.

```wire
struct Header { level: u8 }
enum Header : u8 { A = 0 }
```

Rename one of them."#,
    },
    Code {
        code: "E0128",
        title: "representation is not an integer type",
        explanation: r#"An enum, flags, responses or packed-bits field is held in an integer on
the wire; its type must be one.

```wire
enum Color : string { RED = 0 }
```

Use an integer type wide enough for the values: `enum Color : u8 { RED = 0 }`."#,
    },
    Code {
        code: "E0129",
        title: "invalid length prefix",
        explanation: r#"The type argument of `string`, `bytes`, `list` or `map` that gives the
length or count prefix must be an integer type or `varint`.

```wire
name: string<bool>
```

Write e.g. `string<u16>` or `list<Item, varint>`."#,
    },
    Code {
        code: "E0130",
        title: "unknown type",
        explanation: r#"A type name is neither built in (`u8`..`u64`, `i8`..`i64`, `u24`, `varint`,
`bool`, `string`, `bytes`, `list`, `map`) nor defined in this file or in an imported one.

```wire
struct Request {
    header: Heder
}
```

Fix the spelling (the help suggests the closest name), define the type, or `import` the
file that defines it."#,
    },
    Code {
        code: "E0131",
        title: "wrong number of type arguments",
        explanation: r#"A type takes a fixed number of arguments: `string<prefix>` and
`bytes<prefix>` zero or one, `list<Elem, count>` one or two, `map<K, V, count>` two or three,
integers and defined types none.

```wire
items: list<u8, u16, u32>
```

Write it as the help shows, e.g. `list<u8, u16>`."#,
    },
    Code {
        code: "E0132",
        title: "`max` on a type other than string or bytes",
        explanation: r#"`max = n` bounds the length of a string or a byte string; other types
have no such bound.

```wire
items: list<u8, u16, max = 10>
```

Remove `max`, or set a decoder limit with `limits { max_collection_len = 10 }`."#,
    },
    Code {
        code: "E0133",
        title: "unknown or misplaced attribute",
        explanation: r#"An `@attribute` is misspelt, or is one the language knows elsewhere
but not in this place (e.g. a variant attribute on a field).

```wire
id: u32 @corelation
```

Fix the spelling (`@correlation`) or move it where it applies; the help lists the
attributes allowed here."#,
    },
    Code {
        code: "E0134",
        title: "attribute given twice",
        explanation: r#"The same attribute appears twice on one item.

```wire
id: u32 @correlation @correlation
```

Remove the repetition."#,
    },
    Code {
        code: "E0135",
        title: "discriminator arm without a number",
        explanation: r#"The arms of `by field { ... }` are chosen by the discriminator's numeric
value.

```wire
payload: Body by format { JSON => json }
```

Write the value: `payload: Body by format { 1 => json }`."#,
    },
    Code {
        code: "E0136",
        title: "constant out of range",
        explanation: r#"A field's constant value does not fit in its integer type.

```wire
magic: u8 = 0x5057
```

Widen the type (`magic: u16 = 0x5057`) or fix the value."#,
    },
    Code {
        code: "E0137",
        title: "length field that is not an integer",
        explanation: r#"A field computed with `= len(...)` holds a byte count, so its type must
be an integer type or `varint`.

```wire
length: string = len(..)
```

Write e.g. `length: u32 = len(..)`."#,
    },
    Code {
        code: "E0138",
        title: "`rest` together with `sized_by`",
        explanation: r#"A field's extent is given either by the end of its frame (`rest`) or by
a length (`sized_by`), not both.

```wire
body: bytes sized_by length rest
```

Keep one of them."#,
    },
    Code {
        code: "E0139",
        title: "widening to something other than an integer type",
        explanation: r#"`field: i16 as i32` keeps a narrow wire integer in a wider Rust
integer; the type after `as` must be an integer type.

```wire
code: i16 as string
```

Write an integer type: `code: i16 as i32`."#,
    },
    Code {
        code: "E0140",
        title: "`@default` without an integer",
        explanation: r#"`@default(n)` gives the value an absent field takes, so it needs a
number.

```wire
version: u16 @default
```

Write the value: `version: u16 @default(479)`."#,
    },
    Code {
        code: "E0141",
        title: "unknown encoding format",
        explanation: r#"`encoding Struct FORMAT { ... }` knows the format `json` (the struct's
own layout is `binary`, which needs no block).

```wire
encoding Header xml { }
```

Write `encoding Header json { ... }`."#,
    },
    Code {
        code: "E0142",
        title: "unknown case in `rename_all`",
        explanation: r#"`rename_all` takes `camelCase`, `snake_case`, `PascalCase`,
`SCREAMING_SNAKE_CASE`, `kebab-case` or `lowercase`.

```wire
encoding Header json { rename_all camel }
```

Write one of them: `rename_all camelCase`."#,
    },
    Code {
        code: "E0143",
        title: "unknown representation in an encoding",
        explanation: r#"`field as name` writes an enum field as its variant's name, `field as
number` as its value; nothing else is known.

```wire
encoding Header json { language as text }
```

Write `language as name` or `language as number`."#,
    },
    Code {
        code: "E0144",
        title: "unknown encoding rule",
        explanation: r#"An encoding block holds `rename_all case`, `rename field = "name"`,
`field as name|number`, `constant "key" = value`, `sort_keys` and `omit_none`.

```wire
encoding Header json { sorted }
```

Use one of the known rules, e.g. `sort_keys`."#,
    },
    Code {
        code: "E0145",
        title: "invalid handshake rule",
        explanation: r#"A handshake holds `hello Struct`, `accept Struct`, `reject Struct`,
`choose highest` or `choose lowest`, and `timeout_ms N`.

```wire
handshake { hello Hello, accept Accept, choose newest }
```

Write one of the known rules: `choose highest`."#,
    },
    Code {
        code: "E0146",
        title: "incomplete handshake",
        explanation: r#"A handshake needs the client's first message (`hello`) and the server's
answer (`accept`).

```wire
handshake { hello Hello }
```

Add the answer: `handshake { hello Hello, accept Accept }`."#,
    },
    Code {
        code: "E0147",
        title: "header without its carrier field",
        explanation: r#"A typed header travels as strings in a map field of the frame; the
request must say which one.

```wire
request Send = 10 { header SendHeader, body bytes }
```

Name the frame's map field: `header SendHeader in ext_fields`."#,
    },
    Code {
        code: "E0148",
        title: "unknown payload part",
        explanation: r#"A request or response body holds `header T in field` and `body T`
parts.

```wire
request Echo = 1 { payload bytes }
```

Write `request Echo = 1 { body bytes }`."#,
    },
    Code {
        code: "E0149",
        title: "oneway request with a response",
        explanation: r#"A `oneway` request is never answered, so it cannot declare a response.

```wire
oneway Log = 3 { body bytes } -> { body bytes }
```

Remove `-> { ... }`, or make it a `request`."#,
    },
    Code {
        code: "W0101",
        title: "unused import",
        explanation: r#"None of the definitions of an imported file is used by the files that
import it, so the import only slows the build and misleads the reader.

```wire
import "common.wire"   // defines Header, used nowhere

protocol p { ... }
```

Remove the import, or use what it defines."#,
    },
    Code {
        code: "W0102",
        title: "protocol in an imported file",
        explanation: r#"Only the definitions outside a `protocol` block are taken from an
imported file; its protocol (frame, services, detection) is ignored.

```wire
// a.wire
import "b.wire"   // b.wire holds `protocol b { ... }`
```

Move the definitions `a.wire` needs out of `b`'s protocol block into a file both import,
or compile `b.wire` on its own."#,
    },
    Code {
        code: "W0103",
        title: "type name not in CamelCase",
        explanation: r#"Type names become Rust type names, which are written in CamelCase; a
name such as `my_header` makes Rust code that reads oddly (and that Rust's own lint would
flag).

```wire
struct my_header { level: u8 }
```

Rename it as the help shows: `struct MyHeader { level: u8 }`."#,
    },
    Code {
        code: "E0150",
        title: "`present(..)` on a whole field",
        explanation: r#"`= present(x)` computes a presence bit from whether the optional field `x` is there. It
is the value of a bit part, not of a whole field.

```wire
has_name: u8 = present(name)
```

Pack it into a word: `flags: u8 { has_name: bool bits 0..1 = present(name) }`, and give
`name` the condition `if has_name`."#,
    },
    Code {
        code: "E0151",
        title: "`sized_by` with something that is not a length",
        explanation: r#"`sized_by` takes the name of a length field (`sized_by body_len`) or the type of a
length prefix written in front of the field (`sized_by u16`, `sized_by varint`,
`sized_by varint<max = 268435455>`).

```wire
body: bytes sized_by string<u8>
```

Write a length field's name or an integer type."#,
    },
    Code {
        code: "E0152",
        title: "the frame is not a struct or union",
        explanation: r#"`frame Name` makes a type declared elsewhere the protocol's frame; only a struct or a
union of structs can be one.

```wire
enum Kind : u8 { A = 1 }
frame Kind
```

Name a `struct` or a `union`."#,
    },
    Code {
        code: "E0153",
        title: "a part of an exchange written twice",
        explanation: r#"A protocol has one `exchange` block, an exchange has one `hello` rule (the message
that opens a connection), one `keepalive` line, one `on` line per failure
(`malformed`, `violation`, `keepalive`, `shutdown`) and one `status` line per message.

```wire
exchange {
    hello Connect -> ConnAck
    hello Auth -> AuthOk
}
```

Keep one of them."#,
    },
    Code {
        code: "E0154",
        title: "answers matched to requests in two ways",
        explanation: r#"An exchange matches answers to their requests either by an integer field both carry
(`correlate packet_id`) or by order (`order`, the default); one of them, written once.

```wire
exchange {
    Ping -> Pong
    correlate id
    order
}
```

Keep `correlate FIELD` or `order`."#,
    },
    Code {
        code: "E0155",
        title: "a keepalive factor out of range",
        explanation: r#"`keepalive Msg.field seconds * FACTOR ping Msg`: a side closes a connection that has
been silent for FACTOR intervals. The factor is above 0 and at most 1000, with at most
three decimals.

```wire
keepalive Connect.keep_alive seconds * 1.2345 ping PingReq
```

Write a factor such as `1.5` or `2`."#,
    },
    Code {
        code: "E0156",
        title: "a keepalive interval read from another message than the hello",
        explanation: r#"The keepalive interval is a field of the message that opens the connection, the
exchange's `hello`: it is known from the start.

```wire
exchange {
    hello Connect -> ConnAck
    keepalive Publish.interval seconds * 1.5 ping PingReq
}
```

Write `keepalive Connect.FIELD ..`."#,
    },
    Code {
        code: "E0157",
        title: "`accept if` on a rule that is not the hello",
        explanation: r#"`accept if cond` says when the answer to the hello, the message that opens a
connection, accepts it; other rules have no such clause.

```wire
exchange {
    hello Connect -> ConnAck
    Subscribe -> SubAck accept if code == 0
}
```

Move the clause to the `hello` rule."#,
    },
    Code {
        code: "E0112",
        title: "an empty literal or delimiter",
        explanation: r#"A literal field stands for the bytes it names, and `until` reads up to the bytes it
names: neither can be empty.

```wire
struct Line { text: string until "", end: "" }
```

Write the bytes, e.g. `until "\r\n"`."#,
    },
    Code {
        code: "E0113",
        title: "a decimal field with a constant",
        explanation: r#"A `decimal<..>` field is a value or a computed length (`= len(field)`); a constant
written as text is a literal field.

```wire
struct S { n: decimal<i64> until "\r\n" = 5 }
```

Drop the `=`, or write the text as a literal field: `n: "5\r\n"`."#,
    },
    Code {
        code: "E0114",
        title: "a field with two extents",
        explanation: r#"`rest`, `sized_by`, `until` and `count` each say where a field ends; a field takes one.

```wire
struct S { text: string until "\r\n" rest }
```

Keep one of them."#,
    },
    Code {
        code: "E0115",
        title: "a decimal of no integer type",
        explanation: r#"`decimal<T>` writes an integer of type `T` as ASCII decimal; `T` is an integer type no
wider than `i64` (decimal text is read as an `i64`).

```wire
struct S { n: decimal<string> until "\r\n" }
```

Write e.g. `decimal<i64>`."#,
    },
    Code {
        code: "E0116",
        title: "an `else` that follows no computed length",
        explanation: r#"`else V` follows `= len(x)`: it is the length written when the conditional field `x` is
absent. A field that is no computed length has nothing for it to stand in for.

```wire
struct S { n: decimal<i64> until "\r\n" else -1 }
```

Write `= len(x) else -1`, or drop the `else`."#,
    },
    Code {
        code: "E0117",
        title: "an `else` value the length cannot hold",
        explanation: r#"The value after `else` is written in the length field itself, so it must fit its type:
an unsigned length cannot say -1.

```wire
struct S { n: u16 = len(data) else -1, data: bytes sized_by n if present }
```

Choose a value of the length's type, or a signed type (`decimal<i64>`, `i32`)."#,
    },
];
