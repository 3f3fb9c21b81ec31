//! The Rust-items front end on the constructs `.wire` files write as `union`, `tagged`,
//! `if`, `present(..)`, `varint<max = n>` and `detect { .. } or { .. }`: what they lower
//! to, and the errors for their misuse (rendered as `protocols_in_file` renders them).

use polywire_codegen::ir::{
    CmpOp, Cond, FieldKind, PartValue, Prefix, Protocol, Region, Type, TypeDef,
};

fn lower(body: &str, args: &str) -> Result<Protocol, String> {
    let src = format!("#[polywire::protocol(id = \"t\"{args})]\nmod t {{\n{body}\n}}\n");
    polywire_codegen::items::protocols_in_file(&src).map(|mut v| v.remove(0))
}

fn errors(body: &str, args: &str) -> String {
    match lower(body, args) {
        Ok(_) => panic!("lowered without errors:\n{body}"),
        Err(e) => e,
    }
}

const TWO: &str = r#"
    pub struct Ping {
        #[wire(bits = 4..8, packed = u8, carrier = header, constant = 1)]
        kind: u8,
        #[wire(bits = 0..1, present = "note")]
        has_note: bool,
        #[wire(bits = 1..4)]
        level: u8,
        #[wire(len = "..", varint, max = 127)]
        length: u64,
        #[wire(if = "level >= 2 && @version > 1")]
        id: Option<u32>,
        #[wire(prefix = u8, if = "has_note")]
        note: Option<Str>,
        #[wire(sized_by = "varint<max = 1000>", if = "@more")]
        props: Option<Props>,
    }

    pub struct Pong {
        #[wire(constant = 0x20)]
        header: u8,
        #[wire(len = "..", varint, max = 127)]
        length: u64,
    }

    #[wire(tagged = u8)]
    pub struct Props {
        #[wire(tag = 1, varint, max = 300)]
        size: Option<u64>,
        #[wire(tag = 0x26, prefix = u16)]
        names: Vec<Str>,
    }

    /// Either packet.
    #[wire(union, frame)]
    pub enum Packet {
        /// A ping.
        Ping(Ping),
        Pong(Pong),
    }
"#;

#[test]
fn unions_tagged_lists_conditions_and_presence_bits_lower_to_the_ir() {
    let p = lower(TWO, ", versions = 1..=2").unwrap_or_else(|e| panic!("{e}"));
    let names: Vec<&str> = p.types.iter().map(TypeDef::name).collect();
    // A union frame stays where it is written.
    assert_eq!(names, ["Ping", "Pong", "Props", "Packet"]);
    assert_eq!(p.frame, Some(3));
    let TypeDef::Union(u) = &p.types[3] else {
        panic!()
    };
    assert_eq!(u.arms.iter().map(|a| a.ty).collect::<Vec<_>>(), [0, 1]);
    assert_eq!(u.arms[0].docs, ["A ping."]);
    assert_eq!(u.docs, ["Either packet."]);

    let TypeDef::Tagged(t) = &p.types[2] else {
        panic!()
    };
    assert_eq!(
        t.tag,
        Prefix::Int(polywire_codegen::ir::IntType::parse("u8", Default::default()).unwrap())
    );
    let m: Vec<_> = t
        .members
        .iter()
        .map(|m| (m.name.as_str(), m.tag, m.repeated, &m.ty))
        .collect();
    assert_eq!(
        m[0],
        (
            "size",
            1,
            false,
            &Type::Varint {
                signed: false,
                max: Some(300)
            }
        )
    );
    assert_eq!(m[1].0, "names");
    assert_eq!((m[1].1, m[1].2), (0x26, true));
    assert!(matches!(
        m[1].3,
        Type::String {
            prefix: Some(Prefix::Int(_)),
            max: None
        }
    ));

    let s = p.struct_def(0);
    let FieldKind::Bits { parts, .. } = &s.fields[0].kind else {
        panic!()
    };
    assert_eq!(s.fields[0].name, "header");
    assert_eq!(parts[1].value, PartValue::Present("note".into()));
    assert_eq!(
        s.fields[1].kind,
        FieldKind::Length {
            ty: Prefix::Varint { max: Some(127) },
            of: polywire_codegen::ir::LenTarget::From(None)
        }
    );
    let Some(Cond::And(a, b)) = &s.fields[2].cond else {
        panic!("{:?}", s.fields[2].cond)
    };
    assert!(
        matches!(&**a, Cond::Cmp(CmpOp::Ge, l, r) if matches!((&**l, &**r), (Cond::Ref(n, _), Cond::Int(2, _)) if n == "level"))
    );
    assert!(matches!(&**b, Cond::Cmp(CmpOp::Gt, l, _) if **l == Cond::Version));
    // The field holds `u32`: the `Option` is the condition's.
    assert_eq!(
        s.fields[2].kind,
        FieldKind::Value(Type::Int(
            polywire_codegen::ir::IntType::parse("u32", Default::default()).unwrap()
        ))
    );
    assert_eq!(
        s.fields[4].region,
        Region::Prefixed(Prefix::Varint { max: Some(1000) })
    );
    assert_eq!(s.fields[4].cond, Some(Cond::More));
}

#[test]
fn detection_alternatives_are_separated_by_or() {
    let p = lower(
        TWO,
        ", detect(prefix = [0x10], at = 0), detect(prefix = \"AB\", at = 2), or, detect(prefix = [0x20], at = 0)",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let alts: Vec<Vec<(usize, Vec<u8>)>> = p
        .detect
        .iter()
        .map(|a| a.iter().map(|r| (r.at, r.bytes.clone())).collect())
        .collect();
    assert_eq!(
        alts,
        [
            vec![(0, vec![0x10]), (2, b"AB".to_vec())],
            vec![(0, vec![0x20])]
        ]
    );
    let e = errors(TWO, ", or, detect(prefix = [0x20], at = 0)");
    assert!(e.contains("no `detect(..)` comes before it"), "{e}");
    let e = errors(TWO, ", detect(prefix = [0x20], at = 0), or");
    assert!(e.contains("no `detect(..)` follows it"), "{e}");
}

/// `TWO` with `from` replaced by `to`, lowered: its errors.
fn misuse(from: &str, to: &str) -> String {
    assert!(TWO.contains(from), "{from}");
    errors(&TWO.replacen(from, to, 1), ", versions = 1..=2")
}

#[test]
fn misused_attributes_say_what_is_wrong() {
    for (from, to, expected) in [
        (
            "\"level >= 2 && @version > 1\"",
            "\"level >= && 2\"",
            "the condition `level >= && 2` does not parse: expected",
        ),
        ("\"has_note\"", "\"has_nota\"", "cannot read `has_nota`"),
        (
            "id: Option<u32>",
            "id: u32",
            "a field present on a condition is held as an `Option`",
        ),
        (
            "size: Option<u64>",
            "size: u64",
            "a member of a tagged list is held as an `Option`",
        ),
        (
            "#[wire(tag = 1, varint, max = 300)]",
            "#[wire(varint, max = 300)]",
            "needs its tag",
        ),
        (
            "#[wire(tag = 1, varint, max = 300)]",
            "#[wire(tag = 1, varint, max = 300, rest)]",
            "`rest` does not apply to a member of a tagged list",
        ),
        (
            "#[wire(prefix = u8, if = \"has_note\")]",
            "#[wire(prefix = u8, tag = 3)]",
            "`tag` marks a member of a tagged list",
        ),
        (
            "#[wire(bits = 1..4)]",
            "#[wire(bits = 1..4, if = \"@more\")]",
            "`if` does not apply to a bit part",
        ),
        (
            "#[wire(constant = 0x20)]",
            "#[wire(constant = 0x20, present = \"x\")]",
            "`present` is the value of a bit part",
        ),
        (
            "Pong(Pong),",
            "Pung(Pong),",
            "named after the struct it holds: `Pong`, not `Pung`",
        ),
        (
            "Pong(Pong),",
            "Pong,",
            "a variant of a union holds one struct",
        ),
        (
            "Pong(Pong),",
            "Pong(Pong) = 2,",
            "a variant of a union has no value",
        ),
        (
            "Pong(Pong),",
            "Pong(Vec<Pong>),",
            "holds a struct of the protocol, not `Vec<Pong>`",
        ),
        (
            "#[wire(union, frame)]",
            "#[wire(frame)]",
            "`frame` does not apply to an enum",
        ),
        (
            "#[wire(union, frame)]",
            "#[wire(union, open)]",
            "`open` does not apply to a union",
        ),
        (
            "#[wire(tagged = u8)]",
            "#[wire(tagged = u8, frame)]",
            "`frame` does not apply to a tagged list",
        ),
        (
            "#[wire(tagged = u8)]",
            "#[wire(tagged = \"varint<max = >\")]",
            "`varint<max = >` does not parse as a type: expected an integer",
        ),
        (
            "#[wire(tagged = u8)]",
            "#[wire(tagged = \"string<u8>\")]",
            "cannot be a length prefix",
        ),
        (
            "#[wire(len = \"..\", varint, max = 127)]\n        length: u64,\n        #[wire(if",
            "#[wire(len = \"..\", max = 127)]\n        length: u64,\n        #[wire(if",
            "`max` bounds a `varint` length",
        ),
    ] {
        let e = misuse(from, to);
        assert!(
            e.contains(expected),
            "{from} -> {to}: expected {expected:?} in\n{e}"
        );
    }
}

#[test]
fn a_standalone_derive_refuses_unions_and_tagged_lists() {
    let di: syn::DeriveInput = syn::parse_str("#[wire(union)] enum P { A(A) }").unwrap();
    let e = polywire_codegen::items::lower_derive(&di)
        .err()
        .expect("an error");
    assert!(
        e[0].to_string()
            .contains("`union` needs the whole protocol"),
        "{}",
        e[0]
    );
    let di: syn::DeriveInput =
        syn::parse_str("#[wire(tagged = u8)] struct P { #[wire(tag = 1)] a: Option<u8> }").unwrap();
    let e = polywire_codegen::items::lower_derive(&di)
        .err()
        .expect("an error");
    assert!(
        e[0].to_string()
            .contains("`tagged` needs the whole protocol"),
        "{}",
        e[0]
    );
}

#[test]
fn prefixes_written_as_text_are_bounded_varints() {
    let body = r#"
    #[wire(frame)]
    pub struct Frame {
        #[wire(len = "..")]
        length: u32,
        #[wire(prefix = "varint<max = 64>")]
        s: Str,
        #[wire(count = "varint<max = 3>")]
        l: Vec<u8>,
        #[wire(sized_by = "u16", rest)]
        b: Bytes,
    }
"#;
    let e = errors(body, "");
    assert!(
        e.contains("`rest` and `sized_by` exclude each other"),
        "{e}"
    );
    let p = lower(&body.replace(", rest", ""), "").unwrap_or_else(|e| panic!("{e}"));
    let s = p.frame_struct().expect("a struct frame");
    let bound = |n| Some(Prefix::Varint { max: Some(n) });
    assert!(
        matches!(&s.fields[1].kind, FieldKind::Value(Type::String { prefix, .. }) if *prefix == bound(64))
    );
    assert!(
        matches!(&s.fields[2].kind, FieldKind::Value(Type::List { count, .. }) if *count == bound(3))
    );
    assert!(matches!(
        s.fields[3].region,
        Region::Prefixed(Prefix::Int(_))
    ));
}

const LINE: &str = r#"
    pub struct Bulk {
        #[wire(constant = b'$')]
        marker: u8,
        #[wire(decimal, until = "\r\n", len = "data", else = -1)]
        len: i64,
        #[wire(sized_by = len, if = "len >= 0")]
        data: Option<Bytes>,
        #[wire(literal = "\r\n", if = "len >= 0")]
        end: (),
        #[wire(decimal, until = "\r\n")]
        n: i32,
        #[wire(count = "n")]
        items: Vec<u8>,
    }
"#;

#[test]
fn text_framing_attributes_lower_to_the_ir() {
    let p = lower(LINE, "").unwrap_or_else(|e| panic!("{e}"));
    let TypeDef::Struct(s) = &p.types[0] else {
        panic!("a struct")
    };
    let f = |n: &str| s.fields.iter().find(|f| f.name == n).expect("field");
    assert!(matches!(
        f("marker").kind,
        FieldKind::Const { value: 0x24, .. }
    ));
    assert!(f("len").decimal && f("len").len_else == Some(-1));
    assert_eq!(f("len").region, Region::Until(b"\r\n".to_vec()));
    assert_eq!(f("end").kind, FieldKind::Literal(b"\r\n".to_vec()));
    assert!(f("end").cond.is_some());
    assert!(f("n").decimal && matches!(f("n").kind, FieldKind::Value(Type::Int(_))));
    assert_eq!(f("items").region, Region::Count("n".into()));
    assert!(matches!(
        f("items").kind,
        FieldKind::Value(Type::List { count: None, .. })
    ));
}

#[test]
fn misused_text_framing_attributes_say_what_is_wrong() {
    for (from, to, expected) in [
        (
            "end: (),",
            "end: u8,",
            "a literal field holds nothing: its type is `()`",
        ),
        (
            "#[wire(decimal, until = \"\\r\\n\")]\n        n: i32",
            "#[wire(decimal, until = \"\\r\\n\")]\n        n: Str",
            "`decimal` writes an integer no wider than `i64`",
        ),
        (
            "#[wire(count = \"n\")]",
            "#[wire(count = \"n\", until = \";\")]",
            "a field has one extent",
        ),
        (
            "#[wire(decimal, until = \"\\r\\n\")]\n        n: i32",
            "#[wire(decimal, until = \"\\r\\n\", else = -1)]\n        n: i32",
            "`else` follows `len = \"x\"`",
        ),
        (
            "else = -1)]\n        len: i64",
            "else = -1)]\n        len: u16",
            "`else = -1` does not fit the length's type",
        ),
        (
            "literal = \"\\r\\n\", if",
            "literal = \"\", if",
            "a literal field needs at least one byte",
        ),
    ] {
        assert!(LINE.contains(from), "{from}");
        let e = errors(&LINE.replacen(from, to, 1), "");
        assert!(
            e.contains(expected),
            "{from} -> {to}: expected {expected:?} in\n{e}"
        );
    }
}
