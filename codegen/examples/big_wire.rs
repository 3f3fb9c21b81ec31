//! How long a large `.wire` file takes to generate: a protocol of N structs (1,000 by
//! default, about 1 MB of `.wire` text) loaded, checked and emitted, each step timed.
//!
//! `cargo run --release -p polywire-codegen --example big_wire -- [STRUCTS] [OUT.rs]`
//! (OUT.rs: where to write the generated Rust, to compile it or measure it).

use std::fmt::Write;
use std::time::Instant;

/// A protocol of `n` structs of about 1 KB each: integers of every width, strings, bytes,
/// lists and optional fields, each documented, and a frame that carries one of them.
fn wire(n: usize) -> String {
    let mut s = String::from(
        "/// A protocol as large as a big one gets.\nprotocol big \"big\" {\n    endian big\n    versions 1..=1\n\n",
    );
    for i in 0..n {
        let _ = writeln!(
            s,
            "    /// Record number {i}, with the fields a real message has."
        );
        let _ = writeln!(s, "    struct Record{i} {{");
        for (f, ty) in [
            ("id", "u64"),
            ("kind", "u8"),
            ("flags", "u16"),
            ("count", "u32"),
            ("offset", "i64"),
            ("name", "string<u16>"),
            ("owner", "string<u16>"),
            ("payload", "bytes<u32>"),
            ("tags", "list<string<u8>, u16>"),
            ("sizes", "list<u32, u16>"),
            ("created", "u64"),
            ("updated", "u64"),
            ("version", "u32"),
            ("checksum", "u32"),
            ("region", "string<u8>"),
        ] {
            let _ = writeln!(
                s,
                "        /// The record's {f}, as the system of record keeps it for record {i}."
            );
            let _ = writeln!(s, "        {f}: {ty}");
        }
        let _ = writeln!(s, "    }}\n");
    }
    s.push_str("    /// One message on the wire.\n    frame {\n        length: u32 = len(..)\n        code: u16 @code\n        id: u32 @correlation\n        body: bytes rest\n    }\n}\n");
    s
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(1000);
    let out = args.next();
    let text = wire(n);
    let t = Instant::now();
    let compiled = match polywire_codegen::load_str("big.wire", &text) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let loaded = t.elapsed();
    let t = Instant::now();
    let rust = match polywire_codegen::generate(&compiled.ir, &compiled.sources) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(1);
        }
    };
    let generated = t.elapsed();
    println!(
        "{n} structs, {} bytes / {} lines of .wire: parsed and checked in {:.3} s, Rust emitted in {:.3} s ({:.3} s in all): {} bytes / {} lines of Rust",
        text.len(),
        text.lines().count(),
        loaded.as_secs_f64(),
        generated.as_secs_f64(),
        (loaded + generated).as_secs_f64(),
        rust.len(),
        rust.lines().count()
    );
    if let Some(path) = out {
        std::fs::write(&path, &rust).unwrap_or_else(|e| panic!("writing {path}: {e}"));
    }
}
