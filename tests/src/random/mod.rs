//! Random `.wire` protocols, in the manner of Csmith: each seed gives one valid protocol
//! (every construct of the language, names that are keywords, prelude items or
//! near-collisions) together with Rust tests that build values of its types through the
//! generated API and round-trip them, and random mutations of it that the compiler must
//! either reject with a diagnostic or turn into code that compiles.
//!
//! `tests/random_protocols.rs` drives it; [`KNOWN_ISSUES`] lists the shapes it leaves out
//! while a bug they reveal stands.

mod generate;
pub mod model;
mod mutate;
pub mod names;
pub mod rng;
mod values;
mod wire;

pub use rng::Rng;

/// A bug the generator steps around until it is fixed: while an entry is listed, the shape
/// it names is not generated (or, for mutants, a failure matching it is not reported).
#[derive(Debug, Clone, Copy)]
pub struct KnownIssue {
    /// What the generator checks for.
    pub id: &'static str,
    /// What goes wrong.
    pub what: &'static str,
    /// A minimal `.wire` reproduction.
    pub repro: &'static str,
    /// For mutants: texts of the failure (panic message or compiler output), any of which
    /// marks it.
    pub failure: &'static [&'static str],
}

/// Shapes left out while their bug stands, each with its reproduction; none at present.
/// The generator keeps a hook for every shape once listed
/// (`skip("rename-all-kebab-case")`), so that a bug found again can be listed again while
/// it is fixed.
pub const KNOWN_ISSUES: &[KnownIssue] = &[];

/// Shapes the checker rejects (a diagnostic, as it should): the generator, which writes
/// valid protocols only, leaves them out; mutants that reach them get the diagnostic.
pub const REJECTED: &[KnownIssue] = &[
    KnownIssue {
        id: "json-union-or-tagged",
        what: "a struct written as JSON that holds a union or a tagged list (directly, or \
               through a struct it holds) is rejected (E0380): they have a binary form only",
        repro: "protocol p { tagged T : u8 { 0x01 a: u8 }\n struct S { t: T sized_by u8 }\n \
                encoding S json { } }",
        failure: &["have no JSON form"],
    },
    KnownIssue {
        id: "body-json-without-encoding",
        what: "a request body `as json` whose struct declares no JSON encoding is rejected \
               (E0367); an `encoding` of an unknown type is an unknown type (E0130)",
        repro: "protocol p { struct B { x: u8 }\n encoding Nope json { }\n \
                flags K : u8 { R = bit 0 @response }\n frame { length: u32 = len(..)\n \
                code: u16 @code\n id: u32 @correlation\n k: K @kind\n body: bytes rest }\n \
                service S { /// Put.\n request Put = 1 { body B as json } } }",
        failure: &["named `decode_json` found", "named `encode_json` found"],
    },
    KnownIssue {
        id: "status-code-over-i64",
        what: "status codes pass through i64: a `responses` value over i64::MAX (a u64 code) \
               is rejected (E0351)",
        repro: "protocol p { flags K : u8 { R = bit 0 @response }\n frame { length: u32 = len(..)\n \
                code: u64 @code\n id: u32 @correlation\n k: K @kind\n body: bytes rest }\n \
                responses St : u64 { OK = 18446744073709551615 @success, ERR = 1 @system_error }\n \
                service S { /// Ping.\n request Ping = 1 } }",
        failure: &[
            "comparison is useless due to type limits",
            "literal out of range for `i64`",
        ],
    },
    KnownIssue {
        id: "request-named-new",
        what: "a request called `New` gives the service client a method `new` beside its \
               constructor (E0592 duplicate definitions)",
        repro: "protocol p { flags K : u8 { R = bit 0 @response }\n frame { length: u32 = len(..)\n \
                code: u16 @code\n id: u32 @correlation\n k: K @kind\n body: bytes rest }\n \
                service S { /// New.\n request New = 1 } }",
        failure: &["duplicate definitions with name `new`"],
    },
    KnownIssue {
        id: "request-code-out-of-range",
        what: "a request code that the frame's `@code` type cannot hold is accepted, and \
               `request_codes` does not compile (`-8` for a u32, a value over i32::MAX for \
               an i32)",
        repro: "protocol p { flags K : u8 { R = bit 0 @response }\n frame { length: u32 = len(..)\n \
                code: u32 @code\n id: u32 @correlation\n k: K @kind\n body: bytes rest }\n \
                service S { /// Ping.\n request Ping = -8 } }",
        failure: &["cannot apply unary operator `-`", "literal out of range"],
    },
    KnownIssue {
        id: "header-field-named-map",
        what: "a `header` field called `map` shadows `from_fields`'s `map` parameter \
               (`let map = match map.get(\"map\")`, E0282)",
        repro: "protocol p { header H { map: u8 }\n flags K : u8 { R = bit 0 @response }\n \
                frame { length: u32 = len(..)\n code: u16 @code\n id: u32 @correlation\n \
                k: K @kind\n ext: map<string<u8>, string<u8>>\n body: bytes rest }\n \
                service S { /// Put.\n request Put = 1 { header H in ext } } }",
        failure: &["match map.get("],
    },
];

/// Whether the shape `id` is currently left out.
pub fn skipped(id: &str) -> bool {
    KNOWN_ISSUES.iter().chain(REJECTED).any(|k| k.id == id)
}

/// One generated protocol.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The `.wire` text.
    pub wire: String,
    /// The Rust test module (a file's contents) for the generated code in module `module`.
    pub tests: String,
    /// The generator's model.
    pub model: model::Proto,
}

/// The protocol of `seed`, whose generated code will live at `crate::<module>`.
pub fn protocol(seed: u64, module: &str) -> Generated {
    let skip = |id: &str| skipped(id);
    let model = generate::Gen::new(seed, &skip).protocol();
    let wire = wire::write(&model);
    let tests =
        values::Values::new(&model, seed ^ 0x5EED, &format!("crate::{module}")).tests(module);
    Generated { wire, tests, model }
}

/// `n` mutants of `wire`, deterministic per seed.
pub fn mutants(wire: &str, seed: u64, n: usize) -> Vec<String> {
    let mut rng = Rng::new(seed);
    (0..n).map(|_| mutate::mutate(wire, &mut rng)).collect()
}
