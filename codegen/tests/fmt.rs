//! `format_wire` on every `.wire` file of the repository (found when the test runs, so a
//! new file is covered): idempotent, the same IR, every comment kept in order; the bundled
//! protocols are already canonical; a messy file gets an exact expected form.

use polywire_codegen::{format_wire, ir::print::to_wire};
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Every `.wire` file under the repository root, build outputs and hidden directories
/// left out, as paths relative to the root.
fn wire_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, rel: &Path, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name();
            let name = name.to_string_lossy();
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() && !name.starts_with('.') && name != "target" {
                walk(&e.path(), &rel.join(&*name), out);
            } else if kind.is_file() && name.ends_with(".wire") {
                out.push(rel.join(&*name));
            }
        }
    }
    let mut out = Vec::new();
    walk(&root(), Path::new(""), &mut out);
    out.sort();
    // The glob must see the bundled protocols and the test fixtures, or it is broken.
    for must in ["protocols/wire/rocketmq.wire", "tests/wire/kitchen.wire"] {
        assert!(out.iter().any(|p| p == Path::new(must)), "{must} not found");
    }
    out
}

fn fmt(name: &Path, text: &str) -> String {
    format_wire(&name.display().to_string(), text).unwrap_or_else(|e| panic!("{e}"))
}

/// The comments of a `.wire` text in order (`//` and `/* */`, not `///`), trailing spaces
/// left out. Written apart from the formatter's own scanner, so that the two check each
/// other.
fn comments(text: &str) -> Vec<String> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i..].starts_with(b"///") {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i..].starts_with(b"//") {
            let start = i;
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            out.push(text[start..i].trim_end().to_string());
        } else if b[i..].starts_with(b"/*") {
            let start = i;
            i += 2;
            while i < b.len() && !b[i..].starts_with(b"*/") {
                i += 1;
            }
            i = (i + 2).min(b.len());
            out.push(text[start..i].to_string());
        } else if b[i] == b'"' || b[i] == b'\'' {
            let quote = b[i];
            i += 1;
            while i < b.len() && b[i] != quote && b[i] != b'\n' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            i += 1;
        } else {
            i += 1;
        }
    }
    out
}

/// The first line where two texts differ, for failure messages.
fn first_difference(a: &str, b: &str) -> String {
    let (mut la, mut lb) = (a.lines(), b.lines());
    for n in 1.. {
        match (la.next(), lb.next()) {
            (None, None) => return "the same lines (line endings differ)".into(),
            (x, y) if x == y => {}
            (x, y) => return format!("line {n}:\n- {x:?}\n+ {y:?}"),
        }
    }
    unreachable!()
}

#[test]
fn formatting_every_wire_file_is_idempotent_and_keeps_every_comment_in_order() {
    let mut seen = 0;
    for rel in wire_files() {
        let text = std::fs::read_to_string(root().join(&rel)).unwrap();
        let once = fmt(&rel, &text);
        let twice = fmt(&rel, &once);
        assert!(
            once == twice,
            "{}: formatting twice differs at {}",
            rel.display(),
            first_difference(&once, &twice)
        );
        let (before, after) = (comments(&text), comments(&once));
        seen += before.len();
        assert_eq!(before, after, "{}: comments changed", rel.display());
    }
    assert!(seen >= 40, "the comment scanner found only {seen} comments");
}

/// `text` with a comment in every run of spaces between tokens: `/* cN */` and, at every
/// third, `// cN` and a line break.
fn with_comments_everywhere(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::new();
    let (mut i, mut n) = (0, 0);
    while i < b.len() {
        let start = i;
        if b[i..].starts_with(b"//") || b[i] == b'"' || b[i] == b'\'' {
            // A comment, doc comment, string or character: copied as it is.
            let end = |c: u8| {
                if b[start] == b'/' {
                    c == b'\n'
                } else {
                    c == b[start]
                }
            };
            i += 1;
            while i < b.len() && !end(b[i]) && b[i] != b'\n' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            if b[start] != b'/' {
                i += 1;
            }
        } else if b[i..].starts_with(b"/*") {
            i += 2;
            while i < b.len() && !b[i..].starts_with(b"*/") {
                i += 1;
            }
            i += 2;
        } else if b[i] == b' ' {
            while i < b.len() && b[i] == b' ' {
                i += 1;
            }
            n += 1;
            out.push_str(&if n % 3 == 0 {
                format!(" // c{n}\n")
            } else {
                format!(" /* c{n} */ ")
            });
            continue;
        } else {
            i += 1;
        }
        let i2 = i.min(b.len());
        out.push_str(&text[start..i2]);
        i = i2;
    }
    out
}

#[test]
fn comments_between_any_two_tokens_are_kept_in_order() {
    for rel in wire_files() {
        let plain = std::fs::read_to_string(root().join(&rel)).unwrap();
        let text = with_comments_everywhere(&plain);
        let once = fmt(&rel, &text);
        assert_eq!(fmt(&rel, &once), once, "{}", rel.display());
        let (before, after) = (comments(&text), comments(&once));
        assert!(
            before.len() > comments(&plain).len() + 10,
            "{}: {} comments",
            rel.display(),
            before.len()
        );
        assert_eq!(before, after, "{}: comments changed", rel.display());
    }
}

#[test]
fn every_formatted_wire_file_lowers_to_the_same_ir() {
    // The formatted files side by side in a copy of the tree, so imports find each other.
    let copy = std::env::temp_dir().join(format!("polywire-fmt-{}", std::process::id()));
    let files = wire_files();
    for rel in &files {
        let text = std::fs::read_to_string(root().join(rel)).unwrap();
        let to = copy.join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(&to, fmt(rel, &text)).unwrap();
    }
    let mut compared = 0;
    for rel in &files {
        let before = polywire_codegen::load(&root().join(rel));
        let after = polywire_codegen::load(&copy.join(rel));
        match (before, after) {
            (Ok(b), Ok(a)) => {
                assert_eq!(
                    to_wire(&b.ir),
                    to_wire(&a.ir),
                    "{}: the formatted file means something else",
                    rel.display()
                );
                compared += 1;
            }
            // A file of shared items alone has no protocol: it fails alike, and is compared
            // through the files that import it.
            (Err(b), Err(a)) => {
                let what = |e: &polywire_codegen::Error| {
                    e.diagnostics
                        .iter()
                        .map(|d| (d.code, d.message.clone()))
                        .collect::<Vec<_>>()
                };
                assert_eq!(what(&b), what(&a), "{}", rel.display());
            }
            (b, a) => panic!(
                "{}: loads {} before formatting, {} after",
                rel.display(),
                if b.is_ok() { "fine" } else { "with errors" },
                if a.is_ok() { "fine" } else { "with errors" },
            ),
        }
    }
    let _ = std::fs::remove_dir_all(&copy);
    assert!(compared >= 8, "only {compared} files loaded");
}

#[test]
fn the_bundled_protocols_are_already_canonical() {
    // Reformatting them would move the `.wire` lines that generated code cites.
    let bundled: Vec<PathBuf> = wire_files()
        .into_iter()
        .filter(|p| p.starts_with("protocols/wire"))
        .collect();
    assert!(bundled.len() >= 4, "{bundled:?}");
    for rel in bundled {
        let text = std::fs::read_to_string(root().join(&rel)).unwrap();
        let out = fmt(&rel, &text);
        assert!(
            out == text,
            "{} is not canonical (`polywire fmt {0}` fixes it): {}",
            rel.display(),
            first_difference(&text, &out)
        );
    }
}

const MESSY: &str = r#"// A messy file: every kind of spacing the formatter must settle.
import "common.wire";   import "other.wire"
/// The protocol.
protocol  messy"messy-1"{
  endian big;versions 1..=3
  limits{max_frame_len=1024,max_string_len = 64}



  ///Kinds.
  flags Kind:u8{RESPONSE=bit 0 @response,ONEWAY = bit 1 @oneway}
  enum Mode : u16le open {
    OFF = 0, ON = 0x10 // on
    /* spare */ SPARE=-1
  }
  struct Point{x:i16;y : i16le}
  encoding Point json{rename_all camelCase,x as name}
  struct Msg {

      len : u32=len( .. ) // the rest
      word: u32 { kind: u8 bits 24 ..32, hl: u32 bits 0..24 = len( header ) }
      header: Point by kind{0=>json,1=>binary}sized_by hl
      opt: u8 ? if ( kind == 1 ||! (hl> 2) ) && @version >= 2
      name :string< u16 , max = 255 > @message ( "x" , 1 )
      tail: bytes rest, rest: u8;

  }
  tagged Props : varint<max=268435455>{0x01 a:u8, 0x26 b:string<u16> repeated}
  union Packet{
    Msg from client,else Point
  }
  frame Msg;
  handshake{hello Msg accept Msg choose highest}
  service S{
    /// Echo.
    request Echo=1{body bytes}->{body Point as json}
    oneway Note = 2 { header Point in ext ,body bytes }
    request Ping=3 { }
  }
  responses Status:i16{SUCCESS=0 @success}
  detect{prefix "M/" at 0}or{prefix 0x4D 0x53}
  exchange { Msg -> Msg if kind == 1, close; push Msg, Point; correlate opaque }
  exchange {
    hello Msg -> Msg accept if kind == 0
    keepalive Msg.kind seconds*1.5 ping Msg
    on malformed->Msg(kind=1,name="x") if @version>=2
    status Msg.kind ok 0x00..0x7F message header.x
    Point -> Point* then Msg
  } // end of exchange
}
   /* after */
"#;

const MESSY_FORMATTED: &str = r#"// A messy file: every kind of spacing the formatter must settle.
import "common.wire"
import "other.wire"

/// The protocol.
protocol messy "messy-1" {
    endian big
    versions 1..=3
    limits { max_frame_len = 1024, max_string_len = 64 }

    /// Kinds.
    flags Kind : u8 { RESPONSE = bit 0 @response, ONEWAY = bit 1 @oneway }
    enum Mode : u16le open {
        OFF = 0
        ON = 0x10 // on
        /* spare */
        SPARE = -1
    }
    struct Point { x: i16, y: i16le }
    encoding Point json { rename_all camelCase; x as name }
    struct Msg {
        len: u32 = len(..) // the rest
        word: u32 { kind: u8 bits 24..32, hl: u32 bits 0..24 = len(header) }
        header: Point by kind { 0 => json, 1 => binary } sized_by hl
        opt: u8? if (kind == 1 || !(hl > 2)) && @version >= 2
        name: string<u16, max = 255> @message("x", 1)
        tail: bytes rest,
        rest: u8
    }
    tagged Props : varint<max = 268435455> { 0x01 a: u8, 0x26 b: string<u16> repeated }
    union Packet {
        Msg from client
        else Point
    }
    frame Msg
    handshake { hello Msg, accept Msg, choose highest }
    service S {
        /// Echo.
        request Echo = 1 { body bytes } -> { body Point as json }
        oneway Note = 2 { header Point in ext, body bytes }
        request Ping = 3 {}
    }
    responses Status : i16 { SUCCESS = 0 @success }
    detect { prefix "M/" at 0 } or { prefix 0x4D 0x53 }
    exchange { Msg -> Msg if kind == 1, close; push Msg, Point; correlate opaque }
    exchange {
        hello Msg -> Msg accept if kind == 0
        keepalive Msg.kind seconds * 1.5 ping Msg
        on malformed -> Msg(kind = 1, name = "x") if @version >= 2
        status Msg.kind ok 0x00..0x7F message header.x
        Point -> Point* then Msg
    } // end of exchange
}
/* after */
"#;

#[test]
fn a_messy_file_gets_its_canonical_form() {
    let out = fmt(Path::new("messy.wire"), MESSY);
    assert!(
        out == MESSY_FORMATTED,
        "{}\n--- got:\n{out}",
        first_difference(MESSY_FORMATTED, &out)
    );
    assert_eq!(fmt(Path::new("messy.wire"), &out), out);
    assert_eq!(comments(MESSY), comments(&out));
}

#[test]
fn invalid_text_fails_with_the_parser_s_diagnostics() {
    let text = "protocol p {\n    struct A {\n        level u8\n    }\n}\n";
    let e = format_wire("bad.wire", text).unwrap_err();
    let parsed = polywire_codegen::load_str("bad.wire", text).unwrap_err();
    assert_eq!(e.rendered, parsed.rendered);
    assert!(e.rendered.contains("bad.wire:3:15"), "{}", e.rendered);
    for text in [
        "struct A {",
        "/* open",
        "\"",
        "}",
        "protocol p { frame { a: u8 } } }",
    ] {
        assert!(format_wire("x.wire", text).is_err(), "{text:?}");
    }
}
