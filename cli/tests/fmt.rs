//! `polywire fmt`: exit codes of `--check` (0 canonical, 1 would change, 2 invalid), the
//! rewrite in place, and stdin to stdout.

mod common;
use common::*;

const MESSY: &str =
    "// Points.\nstruct  Point{x:i16;y :i16} // two\nenum Color:u8{\n  RED=0\n\n\n  BLUE=2,\n}\n";
const CANONICAL: &str = "// Points.\nstruct Point { x: i16, y: i16 } // two\n\nenum Color : u8 {\n    RED = 0\n\n    BLUE = 2\n}\n";

fn modified(path: &str) -> std::time::SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

#[test]
fn check_exits_0_for_canonical_files_1_for_files_that_would_change_and_2_for_invalid_ones() {
    let dir = Dir::new("check");
    let good = dir.write("good.wire", CANONICAL);
    let (code, out, err) = run(&["fmt", "--check", &good], "");
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));

    let messy = dir.write("messy.wire", MESSY);
    let (code, out, err) = run(&["fmt", "--check", &good, &messy], "");
    assert_eq!(code, 1, "{err}");
    assert!(err.is_empty(), "{err}");
    assert!(
        out.starts_with(&format!("would reformat {messy}\n")),
        "{out}"
    );
    assert!(!out.contains("good.wire"), "{out}");
    assert!(
        out.contains("@@ -1,8 +1,8 @@\n // Points.\n-struct  Point{x:i16;y :i16} // two\n"),
        "{out}"
    );
    assert!(
        out.contains("\n+struct Point { x: i16, y: i16 } // two\n+\n"),
        "{out}"
    );
    // `--check` writes nothing.
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), MESSY);

    let bad = dir.write("bad.wire", "struct A {\n    level u8\n}\n");
    let (code, out, err) = run(&["fmt", "--check", &messy, &bad], "");
    assert_eq!(code, 2, "{err}");
    assert!(
        out.contains("would reformat"),
        "the other files are still checked: {out}"
    );
    assert!(err.contains("error[E0101]: syntax error"), "{err}");
    assert!(err.contains("bad.wire:2:11"), "{err}");
    let (code, _, err) = run(
        &[
            "fmt",
            "--check",
            &dir.0.join("none.wire").display().to_string(),
        ],
        "",
    );
    assert_eq!(code, 2);
    assert!(err.contains("cannot read"), "{err}");
}

#[test]
fn fmt_rewrites_files_in_place_only_when_they_change() {
    let dir = Dir::new("rewrite");
    let messy = dir.write("messy.wire", MESSY);
    let good = dir.write("good.wire", CANONICAL);
    let before = modified(&good);
    std::thread::sleep(std::time::Duration::from_millis(20));
    let (code, out, err) = run(&["fmt", &messy, &good], "");
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    assert_eq!(std::fs::read_to_string(&messy).unwrap(), CANONICAL);
    assert_eq!(modified(&good), before, "a canonical file is not written");
    let (code, _, err) = run(&["fmt", "--check", &messy], "");
    assert_eq!(code, 0, "{err}");

    // An invalid file is left as it is.
    let bad = dir.write("bad.wire", "struct A { a: u8 ");
    let (code, _, err) = run(&["fmt", &bad], "");
    assert_eq!(code, 2);
    assert!(err.contains("bad.wire:1:10"), "{err}");
    assert_eq!(std::fs::read_to_string(&bad).unwrap(), "struct A { a: u8 ");
}

#[test]
fn fmt_without_a_file_or_with_a_dash_reads_stdin_and_writes_stdout() {
    for args in [&["fmt"][..], &["fmt", "-"]] {
        let (code, out, err) = run(args, MESSY);
        assert_eq!(
            (code, out.as_str(), err.as_str()),
            (0, CANONICAL, ""),
            "{args:?}"
        );
    }
    let (code, out, _) = run(&["fmt", "--check"], MESSY);
    assert_eq!(code, 1);
    assert!(out.starts_with("would reformat <stdin>\n"), "{out}");
    let (code, out, err) = run(&["fmt"], "struct {");
    assert_eq!(code, 2);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("<stdin>:1:"), "{err}");
}
