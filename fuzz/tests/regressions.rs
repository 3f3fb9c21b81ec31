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
