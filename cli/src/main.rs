//! `polywire`: decode and encode frames of the bundled protocols, check `.wire` files.
//!
//! ```text
//! polywire decode --protocol rocketmq < frame.hex      # hex in, JSON out
//! polywire encode --protocol rocketmq < frame.json     # JSON in, hex out
//! polywire print-wire src/lib.rs                        # #[polywire::protocol] modules as .wire text
//! polywire print-wire wire/native.wire                  # a .wire file, checked and reprinted
//! polywire check wire/native.wire [--deny-warnings]     # every error and warning, with codes
//! polywire explain E0130                                # what a diagnostic code means
//! ```
//!
//! `decode`, `encode` and `print-wire` answer invalid input with a one-line error naming
//! the byte offset and field (for source files, the rendered diagnostics with
//! file:line:col), exit code 2. `check` exits with 1 on errors (and on warnings with
//! `--deny-warnings`), `explain` with 1 on an unknown code.

mod rocketmq;

use clap::{Parser, Subcommand};
use polywire_codegen::{Diagnostic, Severity, codes};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Decode and encode frames of the bundled protocols, check `.wire` files and explain
/// their diagnostics.
#[derive(Parser)]
#[command(name = "polywire", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The protocol of `decode` and `encode` (known: rocketmq).
    #[arg(short, long, global = true)]
    protocol: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Reads a frame as hex on stdin and prints it as JSON.
    Decode,
    /// Reads a frame as JSON on stdin and prints it as hex.
    Encode,
    /// Prints the protocols of a Rust file (its `#[polywire::protocol]` modules) or of a
    /// `.wire` file as `.wire` text.
    PrintWire {
        /// A `.rs` or `.wire` file.
        file: PathBuf,
    },
    /// Checks a `.wire` file and its imports: prints every error and warning with its code.
    Check {
        /// The `.wire` file.
        file: PathBuf,
        /// Fail (exit status 1) on warnings too.
        #[arg(long)]
        deny_warnings: bool,
    },
    /// Explains a diagnostic code (`E0130`); without one, lists every code.
    Explain {
        /// The code, e.g. `E0130`.
        code: Option<String>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let protocol = cli.protocol;
    match cli.command {
        Command::Decode | Command::Encode => {
            let decode = matches!(cli.command, Command::Decode);
            let Some(protocol) = protocol else {
                return fail("missing --protocol (known: rocketmq)");
            };
            let mut input = String::new();
            if let Err(e) = std::io::stdin().read_to_string(&mut input) {
                return fail(&format!("cannot read stdin: {e}"));
            }
            finish(match (decode, protocol.as_str()) {
                (true, "rocketmq") => rocketmq::decode(&input),
                (false, "rocketmq") => rocketmq::encode(&input),
                (_, p) => Err(format!("unknown protocol `{p}` (known: rocketmq)")),
            })
        }
        _ if protocol.is_some() => fail("--protocol applies to `decode` and `encode` only"),
        Command::PrintWire { file } => print_wire(&file),
        Command::Check {
            file,
            deny_warnings,
        } => check(&file, deny_warnings),
        Command::Explain { code } => explain(code.as_deref()),
    }
}

/// Prints `out`, or the error and exit code 2.
fn finish(result: Result<String, String>) -> ExitCode {
    match result {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// Prints `error: {msg}` and returns exit code 2.
fn fail(msg: &str) -> ExitCode {
    eprintln!("error: {msg}");
    ExitCode::from(2)
}

/// The protocols of a Rust file (its `#[polywire::protocol]` modules) or of a `.wire` file
/// (with its imports), each printed as `.wire` text that parses back to the same IR.
fn print_wire(path: &Path) -> ExitCode {
    let protocols = if path.extension().is_some_and(|e| e == "wire") {
        match polywire_codegen::load(path) {
            Ok(c) => vec![c.ir],
            Err(e) => {
                // Rendered diagnostics carry their own `error[...]` headers.
                e.eprint();
                return ExitCode::from(2);
            }
        }
    } else {
        let src = match std::fs::read_to_string(path) {
            Ok(s) => s,
            Err(e) => return fail(&format!("cannot read {}: {e}", path.display())),
        };
        match polywire_codegen::items::protocols_in_file(&src) {
            Ok(p) => p,
            Err(e) => return fail(&format!("{}: {e}", path.display())),
        }
    };
    if protocols.is_empty() {
        return fail(&format!(
            "{}: no #[polywire::protocol] module found",
            path.display()
        ));
    }
    finish(Ok(protocols
        .iter()
        .map(polywire_codegen::ir::print::to_wire)
        .collect::<Vec<_>>()
        .join("\n")))
}

/// `polywire check`: every diagnostic of a `.wire` file and its imports, with the closing
/// count; a one-line `ok` on success.
fn check(path: &Path, deny_warnings: bool) -> ExitCode {
    let c = match polywire_codegen::load(path) {
        Ok(c) => c,
        Err(e) => {
            e.eprint();
            return ExitCode::from(1);
        }
    };
    if let Err(e) = polywire_codegen::generate(&c.ir, &c.sources) {
        e.eprint();
        return ExitCode::from(1);
    }
    let warnings = c.warnings.len();
    if deny_warnings && warnings > 0 {
        let denied: Vec<Diagnostic> = c
            .warnings
            .into_iter()
            .map(|mut d| {
                d.severity = Severity::Error;
                d
            })
            .collect();
        c.sources.eprint(&denied);
        return ExitCode::from(1);
    }
    if warnings > 0 {
        c.sources.eprint(&c.warnings);
    }
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    println!(
        "ok: {}: protocol `{}` ({}, {}, {})",
        path.display(),
        c.ir.name,
        plural(c.ir.types.len(), "type"),
        plural(c.ir.services.len(), "service"),
        plural(warnings, "warning"),
    );
    ExitCode::SUCCESS
}

/// `polywire explain`: a code's explanation, or the list of codes.
fn explain(code: Option<&str>) -> ExitCode {
    let Some(code) = code else {
        for c in codes::all() {
            println!("{}  {}", c.code, c.title);
        }
        return ExitCode::SUCCESS;
    };
    match codes::lookup(code) {
        Some(c) => {
            println!("{}: {}\n\n{}", c.code, c.title, c.explanation);
            ExitCode::SUCCESS
        }
        None => {
            match codes::closest(code) {
                Some(c) => eprintln!(
                    "error: unknown code `{code}`; the closest is `{}` ({})",
                    c.code, c.title
                ),
                None => eprintln!(
                    "error: unknown code `{code}`; codes look like `E0130` (`polywire explain` lists them)"
                ),
            }
            ExitCode::from(1)
        }
    }
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
