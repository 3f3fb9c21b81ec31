//! `polywire`: decode and encode the frames of any `.wire` protocol, check and format
//! `.wire` files.
//!
//! ```text
//! polywire decode --wire proto.wire < frames.hex       # a stream of frames in, JSON lines out
//! polywire decode --wire proto.wire --to tree in.bin --from raw   # every part with its offsets
//! polywire encode --wire proto.wire < frames.json      # JSON values in, one hex frame per line
//! polywire decode --protocol rocketmq < frame.hex      # the bundled RocketMQ codec's own view
//! polywire encode --protocol rocketmq < frame.json
//! polywire print-wire src/lib.rs                        # #[polywire::protocol] modules as .wire text
//! polywire print-wire wire/native.wire                  # a .wire file, checked and reprinted
//! polywire check wire/native.wire [--deny-warnings]     # every error and warning, with codes
//! polywire fmt wire/*.wire [--check]                    # canonical layout, comments kept
//! polywire probe 127.0.0.1:9876 --wire p.wire --tls --ca ca.pem < frames.json
//! polywire explain E0130                                # what a diagnostic code means
//! polywire completions bash                             # a shell completion script
//! ```
//!
//! `decode`, `encode` and `print-wire` answer invalid input with a one-line error naming
//! the byte offset and field (for source files, the rendered diagnostics with
//! file:line:col), exit code 2. `check` exits with 1 on errors (and on warnings with
//! `--deny-warnings`), `explain` with 1 on an unknown code, `fmt --check` with 1 when a
//! file would change and `fmt` with 2 on a file that does not parse.

mod conn;
mod dynamic;
mod fmt;
mod rocketmq;

use clap::{Parser, Subcommand};
use polywire_codegen::{Diagnostic, Severity, codes};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Decode and encode the frames of any `.wire` protocol, probe its servers (TCP or TLS),
/// check and format `.wire` files and explain their diagnostics.
#[derive(Parser)]
#[command(name = "polywire", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The bundled protocol of `decode` and `encode` without `--wire` (known: rocketmq).
    #[arg(short, long, global = true)]
    protocol: Option<String>,
    /// A folder an `import` is looked for in when it is not next to the importing file
    /// (repeatable, searched in order).
    #[arg(short = 'I', long = "include", global = true, value_name = "DIR")]
    include: Vec<PathBuf>,
}

/// What `decode` and `encode` work on.
#[derive(clap::Args)]
struct Frames {
    /// The protocol's `.wire` file (with its imports).
    #[arg(short, long)]
    wire: Option<PathBuf>,
    /// A message type read as a frame of its own, instead of the protocol's frame.
    #[arg(short, long)]
    message: Option<String>,
    /// The side whose bytes these are, for a frame that is a union of both directions.
    #[arg(long, value_enum)]
    side: Option<dynamic::Side>,
    /// The protocol version in effect (for `@version` conditions).
    #[arg(long)]
    protocol_version: Option<u32>,
    /// Read this file instead of stdin.
    file: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Decodes a stream of frames (hex, base64 or raw bytes) and prints each one.
    Decode {
        #[command(flatten)]
        frames: Frames,
        /// How the input's bytes are written.
        #[arg(long, value_enum, default_value = "hex")]
        from: dynamic::Bytes,
        /// How frames are shown.
        #[arg(long, value_enum, default_value = "json")]
        to: dynamic::View,
    },
    /// Encodes JSON values (one, or several one after another) as frames.
    Encode {
        #[command(flatten)]
        frames: Frames,
        /// How the frames' bytes are written.
        #[arg(long, value_enum, default_value = "hex")]
        to: dynamic::Bytes,
    },
    /// Connects to a server (TCP, or TLS with `--tls`), sends frames given as JSON (stdin or
    /// a file) and prints the frames it answers with, decoded, one JSON value per line.
    Probe {
        /// The server's address (`host:port`).
        addr: String,
        #[command(flatten)]
        frames: Frames,
        /// Speak TLS; trust the server's certificate with `--ca` or `--insecure`.
        #[arg(long)]
        tls: bool,
        /// PEM file of the CA certificates the server's certificate must chain to.
        #[arg(
            long,
            value_name = "PEM_FILE",
            requires = "tls",
            conflicts_with = "insecure"
        )]
        ca: Option<PathBuf>,
        /// Accept any server certificate (the server must still hold its key).
        #[arg(long, requires = "tls")]
        insecure: bool,
        /// The name the server's certificate must carry (default: the host of ADDR).
        #[arg(long, value_name = "NAME", requires = "tls")]
        server_name: Option<String>,
        /// How many frames to wait for (default: as many as were sent).
        #[arg(long)]
        answers: Option<usize>,
        /// How long to wait for the connection (and its TLS handshake) and the answers, in
        /// milliseconds.
        #[arg(long, default_value = "3000")]
        timeout_ms: u64,
    },
    /// Prints a `.wire` file's protocol as a Markdown reference: every message's byte
    /// layout, unions, tagged lists, enums and flags, the exchange rules.
    Doc {
        /// The `.wire` file.
        file: PathBuf,
    },
    /// Writes a Wireshark dissector (Lua) for a `.wire` file's protocol.
    Dissector {
        /// The `.wire` file.
        file: PathBuf,
        /// Write it here instead of printing it.
        #[arg(short, long)]
        output: Option<PathBuf>,
    },
    /// Prints a completion script for a shell.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
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
    /// Formats `.wire` files canonically, in place (a file is written only when it
    /// changes); comments and imports are kept as written. Without a file, or with `-`,
    /// reads stdin and writes stdout.
    Fmt {
        /// The `.wire` files (`-`: stdin).
        files: Vec<PathBuf>,
        /// Write nothing: print how each file would change, and exit with status 1 if any
        /// would.
        #[arg(long)]
        check: bool,
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
    let include = &cli.include[..];
    match cli.command {
        Command::Decode { frames, from, to } => match (&frames.wire, protocol) {
            (Some(wire), None) => {
                let input = match read_input(frames.file.as_deref()) {
                    Ok(i) => i,
                    Err(e) => return fail(&e),
                };
                let bytes = match dynamic::bytes_of(&input, from) {
                    Ok(b) => b,
                    Err(e) => return fail(&e),
                };
                let (out, result) = dynamic::decode(&target(wire, include, &frames), &bytes, to);
                print!("{out}");
                match result {
                    Ok(()) => ExitCode::SUCCESS,
                    Err(e) => fail(&e),
                }
            }
            (None, Some(p)) => bundled(true, &p, &frames),
            (Some(_), Some(_)) => fail("give --wire or --protocol, not both"),
            (None, None) => fail("missing --wire FILE.wire (or --protocol rocketmq)"),
        },
        Command::Encode { frames, to } => match (&frames.wire, protocol) {
            (Some(wire), None) => {
                let input = match read_input(frames.file.as_deref()) {
                    Ok(i) => i,
                    Err(e) => return fail(&e),
                };
                let Ok(text) = String::from_utf8(input) else {
                    return fail("the JSON input is not UTF-8 text");
                };
                match dynamic::encode(&target(wire, include, &frames), &text, to) {
                    Ok(out) => {
                        use std::io::Write;
                        let mut stdout = std::io::stdout().lock();
                        match stdout.write_all(&out).and_then(|()| stdout.flush()) {
                            Ok(()) => ExitCode::SUCCESS,
                            Err(e) => fail(&format!("cannot write: {e}")),
                        }
                    }
                    Err(e) => fail(&e),
                }
            }
            (None, Some(p)) => bundled(false, &p, &frames),
            (Some(_), Some(_)) => fail("give --wire or --protocol, not both"),
            (None, None) => fail("missing --wire FILE.wire (or --protocol rocketmq)"),
        },
        _ if protocol.is_some() => fail("--protocol applies to `decode` and `encode` only"),
        Command::PrintWire { file } => print_wire(&file, include),
        Command::Check {
            file,
            deny_warnings,
        } => check(&file, include, deny_warnings),
        Command::Fmt { files, check } => fmt::run(&files, check),
        Command::Explain { code } => explain(code.as_deref()),
        Command::Dissector { file, output } => dissector(&file, include, output.as_deref()),
        Command::Doc { file } => match polywire_dynamic::Schema::load_with(&file, include) {
            Ok(s) => {
                print!("{}", polywire_dynamic::doc::markdown(&s));
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e.to_string()),
        },
        Command::Probe {
            addr,
            frames,
            tls,
            ca,
            insecure,
            server_name,
            answers,
            timeout_ms,
        } => {
            let Some(wire) = &frames.wire else {
                return fail("missing --wire FILE.wire");
            };
            let security = match (tls, ca, insecure) {
                (false, ..) => conn::Security::Plain,
                (true, Some(ca), _) => conn::Security::Tls {
                    trust: conn::Trust::Ca(ca),
                    server_name,
                },
                (true, None, true) => conn::Security::Tls {
                    trust: conn::Trust::Any,
                    server_name,
                },
                (true, None, false) => {
                    return fail(
                        "--tls needs the certificates to trust: --ca PEM_FILE, or --insecure",
                    );
                }
            };
            let input = match read_input(frames.file.as_deref()) {
                Ok(i) => i,
                Err(e) => return fail(&e),
            };
            let Ok(text) = String::from_utf8(input) else {
                return fail("the JSON input is not UTF-8 text");
            };
            let wait = std::time::Duration::from_millis(timeout_ms);
            let (out, result) = dynamic::probe(
                &target(wire, include, &frames),
                &addr,
                &security,
                &text,
                answers,
                wait,
            );
            print!("{out}");
            match result {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => fail(&e),
            }
        }
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "polywire",
                &mut std::io::stdout(),
            );
            ExitCode::SUCCESS
        }
    }
}

/// `polywire dissector`: the Lua dissector, printed or written to a file.
fn dissector(file: &Path, include: &[PathBuf], output: Option<&Path>) -> ExitCode {
    let schema = match polywire_dynamic::Schema::load_with(file, include) {
        Ok(s) => s,
        Err(e) => return fail(&e.to_string()),
    };
    let lua = match polywire_dynamic::dissector::lua(&schema) {
        Ok(l) => l,
        Err(e) => return fail(&e),
    };
    match output {
        Some(path) => match std::fs::write(path, lua) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&format!("cannot write {}: {e}", path.display())),
        },
        None => {
            print!("{lua}");
            ExitCode::SUCCESS
        }
    }
}

fn target<'a>(wire: &'a Path, include: &'a [PathBuf], frames: &'a Frames) -> dynamic::Target<'a> {
    dynamic::Target {
        wire,
        include,
        message: frames.message.as_deref(),
        side: frames.side,
        version: frames.protocol_version,
    }
}

/// The input: the file, or stdin.
fn read_input(file: Option<&Path>) -> Result<Vec<u8>, String> {
    match file {
        Some(f) => std::fs::read(f).map_err(|e| format!("cannot read {}: {e}", f.display())),
        None => {
            let mut input = Vec::new();
            std::io::stdin()
                .read_to_end(&mut input)
                .map_err(|e| format!("cannot read stdin: {e}"))?;
            Ok(input)
        }
    }
}

/// `decode`/`encode --protocol rocketmq`: one frame through the bundled generated codec.
fn bundled(decode: bool, protocol: &str, frames: &Frames) -> ExitCode {
    if frames.message.is_some() || frames.side.is_some() || frames.protocol_version.is_some() {
        return fail("--message, --side and --protocol-version apply with --wire");
    }
    let input = match read_input(frames.file.as_deref()) {
        Ok(i) => i,
        Err(e) => return fail(&e),
    };
    let Ok(input) = String::from_utf8(input) else {
        return fail("the input is not UTF-8 text");
    };
    finish(match (decode, protocol) {
        (true, "rocketmq") => rocketmq::decode(&input),
        (false, "rocketmq") => rocketmq::encode(&input),
        (_, p) => Err(format!(
            "unknown protocol `{p}` (known: rocketmq; any other with --wire FILE.wire)"
        )),
    })
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
fn print_wire(path: &Path, include: &[PathBuf]) -> ExitCode {
    let protocols = if path.extension().is_some_and(|e| e == "wire") {
        match polywire_codegen::load_with(path, include) {
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
fn check(path: &Path, include: &[PathBuf], deny_warnings: bool) -> ExitCode {
    let c = match polywire_codegen::load_with(path, include) {
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
