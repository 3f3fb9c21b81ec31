//! Random protocols (`polywire_tests::random`): each one is generated, compiled by
//! `polywire_codegen` and written with its round-trip tests into one scratch crate, which
//! is built with every warning denied and tested. Mutants of each protocol must be
//! rejected with a diagnostic or give code that compiles; none may panic.
//!
//! `POLYWIRE_RANDOM_SEED` (default a fixed seed), `POLYWIRE_RANDOM_COUNT` (protocols,
//! default 100), `POLYWIRE_RANDOM_MUTANTS` (mutants per protocol, default 3) and
//! `POLYWIRE_RANDOM_ONLY` (one protocol's index) select a run. The scratch crate is kept
//! in `target/random-protocols`, each protocol beside its generated code as `pNNNN.wire`.

use polywire_tests::random::{self, KNOWN_ISSUES, rng};
use std::fmt::Write as _;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Instant;

const DEFAULT_SEED: u64 = 0x5EED_0001;

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    let v = v.trim();
    let parsed = match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => v.parse(),
    };
    Some(parsed.unwrap_or_else(|_| panic!("{name}={v} is not a number")))
}

/// A module of the scratch crate: a protocol (with tests) or a mutant (compile only).
struct Module {
    name: String,
    wire: String,
    code: String,
    tests: Option<String>,
}

/// Runs the front end and the emitter, turning a panic into its message.
fn compile(name: &str, wire: &str) -> Result<Result<String, String>, String> {
    catch_unwind(AssertUnwindSafe(|| {
        let c =
            polywire_codegen::load_str(&format!("{name}.wire"), wire).map_err(|e| e.rendered)?;
        polywire_codegen::generate(&c.ir, &c.sources).map_err(|e| e.rendered)
    }))
    .map_err(|p| {
        p.downcast_ref::<String>()
            .cloned()
            .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "a panic without a message".into())
    })
}

fn known(text: &str) -> Option<&'static str> {
    KNOWN_ISSUES
        .iter()
        .find(|k| k.failure.iter().any(|f| text.contains(f)))
        .map(|k| k.id)
}

fn cargo(dir: &Path, target_dir: &Path, args: &[&str]) -> Output {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    // `--manifest-path` before the arguments: they may end with `-- <test options>`.
    cmd.arg(args[0])
        .arg("--manifest-path")
        .arg(dir.join("Cargo.toml"))
        .args(&args[1..])
        .env("CARGO_TARGET_DIR", target_dir)
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("CARGO_MANIFEST_PATH")
        .env_remove("CARGO_PRIMARY_PACKAGE")
        .env_remove("CARGO_CRATE_NAME")
        .env_remove("CARGO_TARGET_TMPDIR");
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_PKG_") || key.starts_with("CARGO_BIN_EXE_") {
            cmd.env_remove(&*key);
        }
    }
    cmd.output().expect("cargo runs")
}

const SUPPORT: &str = r#"//! Checks the protocols' tests share.
use ::polywire::bytes::{Bytes, BytesMut};

/// Encodes `v`, checks its size, decodes it back and checks that every strict prefix of
/// its bytes fails to decode without panicking.
pub fn check_msg<T>(v: &T, len: usize, limits: ::polywire::Limits, what: &str)
where
    T: ::polywire::WireMessage + PartialEq + ::std::fmt::Debug,
{
    let mut buf = BytesMut::new();
    ::polywire::WireMessage::encode_to(v, &mut buf)
        .unwrap_or_else(|e| panic!("{what}: encode: {e}"));
    assert_eq!(buf.len(), len, "{what}: encoded_len");
    let b: Bytes = buf.freeze();
    let mut r = ::polywire::wire::Reader::new(&b, limits);
    let back = <T as ::polywire::WireMessage>::decode_from(&mut r)
        .and_then(|m| r.finish("test").map(|()| m))
        .unwrap_or_else(|e| panic!("{what}: decode: {e}; bytes {:?}", &b[..]));
    assert_eq!(&back, v, "{what}: round trip; bytes {:?}", &b[..]);
    for cut in 0..b.len() {
        let part = b.slice(..cut);
        let mut r = ::polywire::wire::Reader::new(&part, limits);
        let got = <T as ::polywire::WireMessage>::decode_from(&mut r)
            .and_then(|m| r.finish("test").map(|()| m));
        assert!(got.is_err(), "{what}: {cut} of {} bytes decoded: {got:?}", b.len());
    }
}

/// Encodes frame `v` with `codec`, checks its size and `frame_len`, that every strict
/// prefix gives `Ok(None)` and consumes nothing, that two frames in a row decode as two,
/// and that the frame decodes back.
pub fn check_frame<C>(mut codec: C, v: &C::Frame, len: usize, what: &str)
where
    C: ::polywire::Codec,
    C::Frame: PartialEq + ::std::fmt::Debug,
{
    let mut buf = BytesMut::new();
    codec.encode(v, &mut buf).unwrap_or_else(|e| panic!("{what}: encode: {e}"));
    assert_eq!(buf.len(), len, "{what}: encoded_len");
    assert_eq!(codec.frame_len(&buf), Ok(Some(len)), "{what}: frame_len");
    for cut in 0..buf.len() {
        let mut part = BytesMut::from(&buf[..cut]);
        let got = codec.decode(&mut part);
        assert!(matches!(got, Ok(None)), "{what}: {cut} of {len} bytes gave {got:?}");
        assert_eq!(&part[..], &buf[..cut], "{what}: {cut} of {len} bytes were consumed");
    }
    let mut two = buf.clone();
    two.extend_from_slice(&buf);
    let mut frames = Vec::new();
    let n = codec
        .decode_batch(&mut two, 8, |f| frames.push(f))
        .unwrap_or_else(|e| panic!("{what}: two frames: {e}"));
    assert_eq!(n, 2, "{what}: two frames");
    assert!(two.is_empty(), "{what}: two frames left bytes");
    assert!(frames.iter().all(|f| f == v), "{what}: two frames differ");
    let back = codec
        .decode(&mut buf)
        .unwrap_or_else(|e| panic!("{what}: decode: {e}"))
        .unwrap_or_else(|| panic!("{what}: a whole frame gave None"));
    assert!(buf.is_empty(), "{what}: bytes left");
    assert_eq!(&back, v, "{what}: round trip");
}
"#;

fn write_crate(dir: &Path, repo: &Path, modules: &[Module]) {
    let src = dir.join("src");
    let _ = std::fs::remove_dir_all(&src);
    std::fs::create_dir_all(&src).expect("creates the scratch crate");
    let manifest = format!(
        "[package]\nname = \"polywire-random-protocols\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         # Not a member of the polywire workspace.\n[workspace]\n\n[lib]\ndoctest = false\n\n\
         [dependencies]\npolywire = {{ path = {:?} }}\n\n\
         # This crate only: its dependencies stay as the user crate builds them. No debug\n\
         # info and no incremental cache for tens of thousands of generated lines.\n\
         [profile.dev.package.polywire-random-protocols]\ndebug = 0\nincremental = false\n",
        repo.join("runtime").display().to_string()
    );
    std::fs::write(dir.join("Cargo.toml"), manifest).expect("writes Cargo.toml");
    if !dir.join("Cargo.lock").exists() {
        // The user crate's lock: the same versions, so dependencies are built once for both.
        let _ = std::fs::copy(
            repo.join("tests/user-crate/Cargo.lock"),
            dir.join("Cargo.lock"),
        );
    }
    let mut lib = String::from(
        "//! Random protocols generated by `polywire-tests`; every warning is an error.\n\
         #![deny(warnings)]\n#![warn(missing_docs)]\n#[cfg(test)]\nmod support;\n",
    );
    for m in modules {
        let _ = writeln!(
            lib,
            "/// Protocol `{n}` ({n}.wire).\npub mod {n} {{\n    include!(\"{n}.rs\");\n}}",
            n = m.name
        );
        std::fs::write(src.join(format!("{}.rs", m.name)), &m.code).expect("writes code");
        std::fs::write(src.join(format!("{}.wire", m.name)), &m.wire).expect("writes wire");
        if let Some(t) = &m.tests {
            let _ = writeln!(lib, "#[cfg(test)]\nmod t_{};", m.name);
            std::fs::write(src.join(format!("t_{}.rs", m.name)), t).expect("writes tests");
        }
    }
    std::fs::write(src.join("support.rs"), SUPPORT).expect("writes support");
    std::fs::write(src.join("lib.rs"), lib).expect("writes lib.rs");
}

/// The modules the compiler's messages point into.
fn modules_in_errors(stderr: &str, modules: &[Module]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for line in stderr.lines() {
        let Some(at) = line.find("src/") else {
            continue;
        };
        let rest = &line[at + 4..];
        let Some(end) = rest.find(".rs") else {
            continue;
        };
        let file = rest[..end].trim_start_matches("t_");
        if modules.iter().any(|m| m.name == file) && !out.iter().any(|o| o == file) {
            out.push(file.to_string());
        }
    }
    out
}

/// What the compiler said about module `name`: its diagnostics, whole.
fn errors_for(stderr: &str, name: &str) -> String {
    let mut out = String::new();
    for block in stderr.split("\n\n") {
        if block.contains(&format!("src/{name}.rs")) || block.contains(&format!("src/t_{name}.rs"))
        {
            out.push_str(block);
            out.push_str("\n\n");
        }
    }
    out.chars().take(6000).collect()
}

#[test]
fn random_protocols_compile_and_round_trip() {
    let seed = env_u64("POLYWIRE_RANDOM_SEED").unwrap_or(DEFAULT_SEED);
    let count = env_u64("POLYWIRE_RANDOM_COUNT").unwrap_or(100);
    let per = env_u64("POLYWIRE_RANDOM_MUTANTS").unwrap_or(3) as usize;
    let only = env_u64("POLYWIRE_RANDOM_ONLY");
    println!(
        "random protocols: POLYWIRE_RANDOM_SEED={seed:#x} POLYWIRE_RANDOM_COUNT={count} POLYWIRE_RANDOM_MUTANTS={per}"
    );
    let rerun = |i: u64| {
        format!(
            "POLYWIRE_RANDOM_SEED={seed:#x} POLYWIRE_RANDOM_ONLY={i} cargo test -p polywire-tests --test random_protocols"
        )
    };

    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests package lives in the repository root")
        .to_path_buf();
    let dir: PathBuf = repo.join("target/random-protocols");
    let target_dir = repo.join("target/user-crate");

    let started = Instant::now();
    // (module, its `.wire` text, the report)
    let mut failures: Vec<(String, String, String)> = Vec::new();
    let mut modules: Vec<Module> = Vec::new();
    let (mut rejected, mut accepted, mut known_mutants) = (0usize, 0usize, 0usize);
    for i in 0..count {
        if only.is_some_and(|o| o != i) {
            continue;
        }
        let name = format!("p{i:04}");
        let pseed = rng::derive(seed, i);
        let g = random::protocol(pseed, &name);
        match compile(&name, &g.wire) {
            Err(panic) => failures.push((
                name.clone(),
                g.wire.clone(),
                format!(
                    "protocol {name} (seed {seed:#x}, index {i}; rerun: {}): the compiler panicked: {panic}\n{}",
                    rerun(i),
                    g.wire
                ),
            )),
            Ok(Err(diag)) => failures.push((
                name.clone(),
                g.wire.clone(),
                format!(
                    "protocol {name} (seed {seed:#x}, index {i}; rerun: {}): a valid protocol was rejected:\n{diag}\n{}",
                    rerun(i),
                    g.wire
                ),
            )),
            Ok(Ok(code)) => modules.push(Module {
                name: name.clone(),
                wire: g.wire.clone(),
                code,
                tests: Some(g.tests),
            }),
        }
        for (k, m) in random::mutants(&g.wire, pseed ^ 0xA5A5, per)
            .into_iter()
            .enumerate()
        {
            let mname = format!("m{i:04}_{k}");
            match compile(&mname, &m) {
                Err(panic) => match known(&panic) {
                    Some(_) => known_mutants += 1,
                    None => failures.push((
                        mname.clone(),
                        m.clone(),
                        format!(
                            "mutant {mname} of protocol {name} (seed {seed:#x}, index {i}): the compiler panicked: {panic}\n--- {mname}.wire ---\n{m}"
                        ),
                    )),
                },
                Ok(Err(_)) => rejected += 1,
                Ok(Ok(code)) => {
                    accepted += 1;
                    modules.push(Module {
                        name: mname,
                        wire: m,
                        code,
                        tests: None,
                    });
                }
            }
        }
    }
    let generated = started.elapsed();
    println!(
        "generated and compiled {} protocols and {} mutants ({rejected} rejected, {accepted} accepted) in {generated:.1?}",
        modules.iter().filter(|m| m.tests.is_some()).count(),
        rejected + accepted + known_mutants
    );

    // Build; a module that does not compile is reported and left out of the next build.
    let mut build_out = None;
    for _ in 0..4 {
        write_crate(&dir, &repo, &modules);
        let built = Instant::now();
        let out = cargo(&dir, &target_dir, &["test", "--no-run"]);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        println!("built the scratch crate in {:.1?}", built.elapsed());
        if out.status.success() {
            build_out = Some(out);
            break;
        }
        let bad = modules_in_errors(&stderr, &modules);
        if bad.is_empty() {
            panic!("the scratch crate failed to build:\n{stderr}");
        }
        for b in &bad {
            let m = modules.iter().find(|m| m.name == *b).expect("a module");
            let errs = errors_for(&stderr, b);
            if m.tests.is_none() && known(&errs).is_some() {
                known_mutants += 1;
                continue;
            }
            let what = if m.tests.is_some() {
                "protocol"
            } else {
                "mutant"
            };
            let i: u64 = b[1..5].parse().unwrap_or(0);
            failures.push((
                b.clone(),
                m.wire.clone(),
                format!(
                    "{what} {b} (seed {seed:#x}, index {i}; rerun: {}): the generated code does not compile:\n{errs}--- {b}.wire ---\n{}",
                    rerun(i),
                    m.wire
                ),
            ));
        }
        modules.retain(|m| !bad.contains(&m.name));
    }
    assert!(build_out.is_some(), "the scratch crate never built");

    let ran = Instant::now();
    let out = cargo(&dir, &target_dir, &["test", "--", "--test-threads=2"]);
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    let rebuilt: Vec<&str> = std::str::from_utf8(&out.stderr)
        .unwrap_or_default()
        .lines()
        .filter(|l| l.trim_start().starts_with("Compiling") || l.contains("Blocking"))
        .collect();
    println!(
        "ran the round trips in {:.1?} (rebuilt: {rebuilt:?})",
        ran.elapsed()
    );
    for line in stdout.lines() {
        let Some(rest) = line.strip_prefix("test t_") else {
            continue;
        };
        if !line.ends_with("FAILED") {
            continue;
        }
        let name = rest.split("::").next().unwrap_or_default();
        let i: u64 = name.get(1..5).and_then(|n| n.parse().ok()).unwrap_or(0);
        let detail: String = stdout
            .split("---- ")
            .find(|b| b.starts_with(&format!("t_{name}::")))
            .unwrap_or_default()
            .chars()
            .take(4000)
            .collect();
        let wire = modules
            .iter()
            .find(|m| m.name == name)
            .map_or(String::new(), |m| m.wire.clone());
        let report = format!(
            "protocol {name} (seed {seed:#x}, index {i}; rerun: {}): a round trip failed ({}):\n{detail}\n--- {name}.wire ---\n{wire}",
            rerun(i),
            line,
        );
        failures.push((name.to_string(), wire, report));
    }
    if !out.status.success() && failures.is_empty() {
        panic!(
            "the scratch crate's tests failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    println!(
        "{} failures; known issues skipped: {} ({} mutant failures matched one); total {:.1?}",
        failures.len(),
        KNOWN_ISSUES.len(),
        known_mutants,
        started.elapsed()
    );
    let kept = dir.join("failed");
    let _ = std::fs::remove_dir_all(&kept);
    if !failures.is_empty() {
        let _ = std::fs::create_dir_all(&kept);
        for (name, wire, report) in &failures {
            let _ = std::fs::write(kept.join(format!("{name}.wire")), wire);
            let _ = std::fs::write(kept.join(format!("{name}.txt")), report);
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures (seed {seed:#x}); their .wire files and reports are in {}:\n\n{}",
        failures.len(),
        kept.display(),
        failures
            .iter()
            .map(|(_, _, r)| r.as_str())
            .collect::<Vec<_>>()
            .join("\n\n========\n\n")
    );
}
