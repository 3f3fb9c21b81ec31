//! What the tests against software nobody here wrote share.

use std::process::{Command, Stdio};

/// Whether `program args` runs (and, when `success`, exits 0); a loud skip (or, under CI, a
/// failure) when it does not.
pub fn have(program: &str, args: &[&str], success: bool, what: &str) -> bool {
    let ok = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success() || !success);
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "{what} is not installed, and CI must run this test"
        );
        eprintln!("\n!!!!!!!! {what} not found: test SKIPPED !!!!!!!!\n");
    }
    ok
}
