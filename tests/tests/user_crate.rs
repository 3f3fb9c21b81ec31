//! Builds and tests `tests/user-crate`, a crate outside the workspace that defines its own
//! protocol (`chat.wire`) the way a user would: path dependencies on `polywire` and
//! `polywire-codegen`, a `build.rs` and an `include_protocol!`.

use std::path::Path;
use std::process::Command;
use std::time::Instant;

/// The fixture's tests; each must be reported as passing.
const FIXTURE_TESTS: &[&str] = &[
    "tests::round_trip",
    "tests::half_a_frame_decodes_to_none_and_consumes_nothing",
    "tests::bad_magic_is_reported_at_byte_0",
    "tests::bad_enum_in_nested_struct_has_its_path_and_offset",
];

#[test]
fn user_crate_builds_and_its_tests_pass() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the tests package lives in the repository root");
    let manifest = repo.join("tests/user-crate/Cargo.toml");
    // A target dir of its own: the outer `cargo test` holds the lock on the workspace's
    // build directory, and the fixture's artifacts stay cached between runs.
    let target_dir = repo.join("target/user-crate");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());

    let mut cmd = Command::new(cargo);
    cmd.arg("test")
        .arg("--manifest-path")
        .arg(&manifest)
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove("CARGO_MANIFEST_PATH")
        .env_remove("CARGO_PRIMARY_PACKAGE")
        .env_remove("CARGO_CRATE_NAME")
        .env_remove("CARGO_TARGET_TMPDIR");
    // RUSTFLAGS and the toolchain selection are kept on purpose.
    for (key, _) in std::env::vars_os() {
        let key = key.to_string_lossy();
        if key.starts_with("CARGO_PKG_") || key.starts_with("CARGO_BIN_EXE_") {
            cmd.env_remove(&*key);
        }
    }

    let started = Instant::now();
    let out = cmd.output().expect("cargo runs");
    let elapsed = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let report = format!(
        "`cargo test --manifest-path {}` ({:.1?}, {})\n--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}",
        manifest.display(),
        elapsed,
        out.status
    );
    assert!(out.status.success(), "the user crate failed:\n{report}");
    // A diagnostic that points into the generated `chat.rs` means the generator emitted
    // code that warns in a user's crate.
    assert!(
        !stderr.contains("chat.rs:"),
        "the generated code has diagnostics:\n{report}"
    );
    for name in FIXTURE_TESTS {
        let line = format!("test {name} ... ok");
        assert!(
            stdout.lines().any(|l| l == line),
            "missing `{line}` in the output:\n{report}"
        );
    }
    println!("{report}");
}
