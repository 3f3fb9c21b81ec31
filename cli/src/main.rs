//! `polywire`: decode and encode frames of the bundled protocols.
//!
//! ```text
//! polywire decode --protocol rocketmq < frame.hex      # hex in, JSON out
//! polywire encode --protocol rocketmq < frame.json     # JSON in, hex out
//! polywire print-wire src/lib.rs                        # #[polywire::protocol] modules as .wire text
//! polywire print-wire wire/native.wire                  # a .wire file, checked and reprinted
//! ```
//!
//! Invalid input gets a one-line error naming the byte offset and field (for source files,
//! the rendered diagnostics with file:line:col); exit code 2.

mod rocketmq;

use std::io::Read;
use std::process::ExitCode;

const USAGE: &str = "usage: polywire <decode|encode> --protocol rocketmq  (input on stdin)\n       polywire print-wire <file.rs|file.wire>";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|a| a == "print-wire") {
        return match args.get(1..) {
            Some([path]) => finish(print_wire(std::path::Path::new(path))),
            _ => {
                eprintln!("error: print-wire takes one file\n{USAGE}");
                ExitCode::from(2)
            }
        };
    }
    let (cmd, protocol) = match parse_args(&args) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut input = String::new();
    if let Err(e) = std::io::stdin().read_to_string(&mut input) {
        eprintln!("error: cannot read stdin: {e}");
        return ExitCode::from(2);
    }
    let result = match (cmd.as_str(), protocol.as_str()) {
        ("decode", "rocketmq") => rocketmq::decode(&input),
        ("encode", "rocketmq") => rocketmq::encode(&input),
        (_, p) => Err(format!("unknown protocol `{p}` (known: rocketmq)")),
    };
    finish(result)
}

/// Prints `out`, or the error and exit code 2.
fn finish(result: Result<String, String>) -> ExitCode {
    match result {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// The protocols of a Rust file (its `#[polywire::protocol]` modules) or of a `.wire` file
/// (with its imports), each printed as `.wire` text that parses back to the same IR.
fn print_wire(path: &std::path::Path) -> Result<String, String> {
    let protocols = if path.extension().is_some_and(|e| e == "wire") {
        vec![polywire_codegen::load(path).map_err(|e| e.rendered)?.ir]
    } else {
        let src = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        polywire_codegen::items::protocols_in_file(&src)
            .map_err(|e| format!("{}: {e}", path.display()))?
    };
    if protocols.is_empty() {
        return Err(format!(
            "{}: no #[polywire::protocol] module found",
            path.display()
        ));
    }
    Ok(protocols
        .iter()
        .map(polywire_codegen::ir::print::to_wire)
        .collect::<Vec<_>>()
        .join("\n"))
}

fn parse_args(args: &[String]) -> Result<(String, String), String> {
    let mut cmd = None;
    let mut protocol = None;
    let mut it = args.iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--protocol" | "-p" => protocol = it.next().cloned(),
            "decode" | "encode" if cmd.is_none() => cmd = Some(a.clone()),
            "-h" | "--help" => return Err("help requested".into()),
            other => return Err(format!("unexpected argument `{other}`")),
        }
    }
    Ok((
        cmd.ok_or("missing command (decode or encode)")?,
        protocol.ok_or("missing --protocol")?,
    ))
}

/// Parses hex (whitespace ignored); errors name the character position.
pub fn parse_hex(s: &str) -> Result<Vec<u8>, String> {
    let digits: Vec<(usize, char)> = s
        .char_indices()
        .filter(|(_, c)| !c.is_whitespace())
        .collect();
    if !digits.len().is_multiple_of(2) {
        return Err(format!("odd number of hex digits ({})", digits.len()));
    }
    digits
        .chunks(2)
        .map(|p| {
            let hi = p[0]
                .1
                .to_digit(16)
                .ok_or_else(|| format!("invalid hex digit `{}` at character {}", p[0].1, p[0].0))?;
            let lo = p[1]
                .1
                .to_digit(16)
                .ok_or_else(|| format!("invalid hex digit `{}` at character {}", p[1].1, p[1].0))?;
            Ok((hi * 16 + lo) as u8)
        })
        .collect()
}

/// Lower-case hex.
pub fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
