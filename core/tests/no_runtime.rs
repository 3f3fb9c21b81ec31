//! polywire-core stays free of any async runtime: none of these crates may be among its
//! normal dependencies, direct or not.

use std::process::Command;

const RUNTIME_CRATES: &[&str] = &["tokio", "tokio-util", "futures", "mio"];

/// Whether `name` is one of [`RUNTIME_CRATES`] or a part of `futures` (`futures-util`, ...).
fn is_runtime(name: &str) -> bool {
    RUNTIME_CRATES.contains(&name) || name.starts_with("futures-")
}

/// The names of the crates `cargo tree` lists for polywire-core's normal dependencies.
fn dependency_names() -> Vec<String> {
    let out = Command::new(env!("CARGO"))
        .args(["tree", "--offline", "-p", "polywire-core", "-e", "normal"])
        .args(["--prefix", "none", "--manifest-path"])
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml"))
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "cargo tree failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

#[test]
fn no_async_runtime_in_the_dependency_tree() {
    let names = dependency_names();
    assert!(names.iter().any(|n| n == "polywire-core"), "{names:?}");
    assert!(names.iter().any(|n| n == "bytes"), "{names:?}");
    let runtime: Vec<&String> = names.iter().filter(|n| is_runtime(n)).collect();
    assert!(
        runtime.is_empty(),
        "polywire-core depends on {runtime:?}: {names:?}"
    );
}

#[test]
fn the_runtime_crates_are_recognised() {
    for name in [
        "tokio",
        "tokio-util",
        "futures",
        "futures-util",
        "futures-core",
        "mio",
    ] {
        assert!(is_runtime(name), "{name}");
    }
    for name in ["polywire-core", "bytes", "serde", "serde_json", "thiserror"] {
        assert!(!is_runtime(name), "{name}");
    }
}
