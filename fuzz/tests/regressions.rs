//! Replays every input under `fuzz/regressions/<target>/` through its target's check, without
//! libFuzzer: inputs that once failed must pass now.

use std::path::Path;

#[test]
fn regression_inputs_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let mut replayed = 0;
    for (name, run) in polywire_fuzz::targets::ALL {
        let Ok(dir) = std::fs::read_dir(root.join(name)) else {
            continue;
        };
        for entry in dir {
            let path = entry.expect("a directory entry").path();
            let data = std::fs::read(&path).expect("a regression input");
            eprintln!("{name}: {}", path.display());
            run(&data);
            replayed += 1;
        }
    }
    assert!(
        replayed > 0,
        "no regression inputs under {}",
        root.display()
    );
}

/// Every seed under `fuzz/seeds/<target>/` passes its target's check (the seeds are real
/// traffic and test vectors: a target that rejects them checks the wrong thing).
#[test]
fn seed_inputs_pass() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds");
    for (name, run) in polywire_fuzz::targets::ALL {
        let dir = std::fs::read_dir(root.join(name))
            .unwrap_or_else(|e| panic!("no seeds for {name} under {}: {e}", root.display()));
        let mut replayed = 0;
        for entry in dir {
            let path = entry.expect("a directory entry").path();
            let data = std::fs::read(&path).expect("a seed input");
            run(&data);
            replayed += 1;
        }
        assert!(replayed > 0, "{name} has no seeds");
    }
}
