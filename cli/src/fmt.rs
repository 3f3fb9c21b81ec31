//! `polywire fmt`: `.wire` files in their canonical form
//! ([`polywire_codegen::format_wire`]), rewritten in place, checked, or piped.

use std::fmt::Write as _;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// How many changed lines of each side a `--check` diff shows.
const DIFF_LINES: usize = 8;
/// Unchanged lines shown around them.
const CONTEXT: usize = 2;

/// Formats `files` (stdin to stdout for none or `-`). Exit status: 0 when done (with
/// `check`: when every file is canonical), 1 when `check` finds a file that would change,
/// 2 when a file does not parse or cannot be read or written.
pub fn run(files: &[PathBuf], check: bool) -> ExitCode {
    let stdin = Path::new("-");
    let files: Vec<&Path> = if files.is_empty() {
        vec![stdin]
    } else {
        files.iter().map(PathBuf::as_path).collect()
    };
    let (mut failed, mut changed) = (false, false);
    for file in files {
        let piped = file == stdin;
        let name = if piped {
            "<stdin>".to_string()
        } else {
            file.display().to_string()
        };
        let text = match read(file, piped) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
                continue;
            }
        };
        let out = match polywire_codegen::format_wire(&name, &text) {
            Ok(o) => o,
            Err(e) => {
                e.eprint();
                failed = true;
                continue;
            }
        };
        let result = if check {
            if out != text {
                changed = true;
                print!("{}", diff(&name, &text, &out));
            }
            Ok(())
        } else if piped {
            let mut stdout = std::io::stdout().lock();
            stdout
                .write_all(out.as_bytes())
                .and_then(|()| stdout.flush())
                .map_err(|e| format!("cannot write: {e}"))
        } else if out != text {
            std::fs::write(file, &out).map_err(|e| format!("cannot write {name}: {e}"))
        } else {
            Ok(())
        };
        if let Err(e) = result {
            eprintln!("error: {e}");
            failed = true;
        }
    }
    match (failed, changed) {
        (true, _) => ExitCode::from(2),
        (false, true) => ExitCode::from(1),
        (false, false) => ExitCode::SUCCESS,
    }
}

fn read(file: &Path, piped: bool) -> Result<String, String> {
    let bytes = if piped {
        let mut b = Vec::new();
        std::io::stdin()
            .read_to_end(&mut b)
            .map_err(|e| format!("cannot read stdin: {e}"))?;
        b
    } else {
        std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?
    };
    String::from_utf8(bytes).map_err(|e| format!("{}: not UTF-8 text: {e}", file.display()))
}

/// `name` would change: a unified-style hunk from the first to the last line that differ,
/// each side cut to [`DIFF_LINES`] lines.
fn diff(name: &str, old: &str, new: &str) -> String {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let head = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let tail = a[head..]
        .iter()
        .rev()
        .zip(b[head..].iter().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let (gone, came) = (&a[head..a.len() - tail], &b[head..b.len() - tail]);
    let from = head.saturating_sub(CONTEXT);
    let after = &a[a.len() - tail..][..tail.min(CONTEXT)];
    let mut out = format!("would reformat {name}\n--- {name}\n+++ {name} (formatted)\n");
    let _ = writeln!(
        out,
        "@@ -{},{} +{},{} @@",
        from + 1,
        head - from + gone.len() + after.len(),
        from + 1,
        head - from + came.len() + after.len()
    );
    let side = |out: &mut String, mark: char, lines: &[&str]| {
        for l in lines.iter().take(DIFF_LINES) {
            let _ = writeln!(out, "{mark}{l}");
        }
        if lines.len() > DIFF_LINES {
            let _ = writeln!(out, "{mark}... ({} more lines)", lines.len() - DIFF_LINES);
        }
    };
    for l in &a[from..head] {
        let _ = writeln!(out, " {l}");
    }
    side(&mut out, '-', gone);
    side(&mut out, '+', came);
    for l in after {
        let _ = writeln!(out, " {l}");
    }
    if gone.is_empty() && came.is_empty() {
        // Only line ends or the final newline differ.
        out.push_str(" (line endings or the end of the file)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_diff_shows_the_changed_lines_with_context() {
        let old = "a\nb\nc\nd  \ne\nf\ng\n";
        let new = "a\nb\nc\nd\ne\nf\ng\n";
        assert_eq!(
            diff("x.wire", old, new),
            "would reformat x.wire\n--- x.wire\n+++ x.wire (formatted)\n\
             @@ -2,5 +2,5 @@\n b\n c\n-d  \n+d\n e\n f\n"
        );
        let long: String = (0..20).map(|i| format!("x{i}\n")).collect();
        let d = diff("y.wire", &long, "");
        assert!(d.contains("-x7\n-... (12 more lines)\n"), "{d}");
        assert!(d.contains("@@ -1,20 +1,0 @@"), "{d}");
    }
}
