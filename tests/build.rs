//! Generates `wire/kitchen.wire`, the protocol that uses every feature of the language,
//! `wire/regress.wire`, shapes the random protocols found bugs in, `wire/catalog.wire` and
//! `wire/catalog_ids.wire`, requests answered by a series, and `wire/snake_case.wire`,
//! types named in snake case.
use std::path::PathBuf;

fn main() {
    polywire_codegen::configure().compile_or_exit(&["wire/kitchen.wire", "wire/regress.wire"]);
    // The catalogs also carry attributes of the build's own (`tests/series.rs` uses them).
    polywire_codegen::configure()
        .type_attribute("Total", "#[derive(Hash)]")
        .type_attribute(".", "#[doc(alias = \"catalog\")]")
        .compile_or_exit(&["wire/catalog.wire", "wire/catalog_ids.wire"]);
    // One side of the typed glue alone compiles (`server(false)`, `client(false)`), in
    // folders of their own under OUT_DIR (`src/lib.rs` includes them).
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR is set"));
    for (dir, server, files) in [
        (
            "client_only",
            false,
            &[
                "../protocols/wire/native.wire",
                "../protocols/wire/mqtt.wire",
            ][..],
        ),
        ("server_only", true, &["../protocols/wire/native.wire"][..]),
    ] {
        let dir = out.join(dir);
        std::fs::create_dir_all(&dir).expect("creates the folder");
        polywire_codegen::configure()
            .out_dir(dir)
            .server(server)
            .client(!server)
            .compile_or_exit(files);
    }
    // Its names are what it tests: the checker's warnings about them (W0103) are expected,
    // and are left out of the build's output.
    let file = "wire/snake_case.wire";
    println!("cargo:rerun-if-changed={file}");
    let generated = polywire_codegen::load(std::path::Path::new(file))
        .map_err(|e| e.rendered)
        .and_then(|c| polywire_codegen::generate(&c.ir, &c.sources).map_err(|e| e.rendered));
    match generated {
        Ok(code) => {
            let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR is set"));
            std::fs::write(out.join("snake_case.rs"), code).expect("writes snake_case.rs");
        }
        Err(rendered) => {
            eprintln!("{rendered}");
            std::process::exit(1);
        }
    }
}
