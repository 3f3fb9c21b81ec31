//! The `polywire` binary: every RocketMQ vector survives decode → JSON → encode, through the
//! bundled codec and through `--wire rocketmq.wire`; any protocol's stream of frames, in every
//! input form; bad input gets one line naming the frame, the offset and the field, with exit
//! code 2.

mod common;
use common::*;

fn vectors() -> Vec<(String, String)> {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/vectors/rocketmq");
    let mut out = Vec::new();
    for f in ["frames.json", "captures.json", "java_harness_frames.json"] {
        let Ok(text) = std::fs::read_to_string(dir.join(f)) else {
            eprintln!(
                "!!!!!!!! {} missing: CLI vector round trips SKIPPED",
                dir.join(f).display()
            );
            continue;
        };
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        for x in v["vectors"].as_array().unwrap() {
            out.push((
                x["id"].as_str().unwrap().to_string(),
                x["frame_hex"].as_str().unwrap().to_string(),
            ));
        }
    }
    out
}

#[test]
fn every_vector_round_trips_through_json() {
    for (id, hex) in vectors() {
        let (code, json, err) = run(&["decode", "--protocol", "rocketmq"], &hex);
        assert_eq!(code, 0, "{id}: {err}");
        let view: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(view["code"].is_i64(), "{id}: {json}");
        let (code, back, err) = run(&["encode", "--protocol", "rocketmq"], &json);
        assert_eq!(code, 0, "{id}: {err}");
        assert_eq!(back.trim(), hex, "{id}");
    }
}

#[test]
fn decode_prints_the_documented_fields() {
    let Some((_, frame)) = vectors().into_iter().find(|(id, _)| id == "json-req-body") else {
        return;
    };
    let (code, json, err) = run(&["decode", "--protocol", "rocketmq"], &frame);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["serializeType"], "JSON");
    assert_eq!(v["code"], 103);
    assert_eq!(v["language"], "JAVA");
    assert_eq!(v["version"], 2333);
    assert_eq!(v["extFields"], serde_json::json!({}));
    assert_eq!(v["remark"], serde_json::Value::Null);
    assert_eq!(v["body"], "0001020304");
}

#[test]
fn bad_input_gets_one_line_and_exit_code_2() {
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["decode", "--protocol", "rocketmq"],
            "0000001902000015000000000000000000000000000000000000000000",
            "at byte 8 in `Frame.header`",
        ),
        (
            &["decode", "--protocol", "rocketmq"],
            "00fffffd00000000",
            "at byte 0 in `Frame.length`",
        ),
        (
            &["decode", "--protocol", "rocketmq"],
            "000000080000001000000000",
            "length field says 16 byte(s)",
        ),
        (
            &["decode", "--protocol", "rocketmq"],
            "00zz",
            "invalid hex digit `z` at character 2",
        ),
        (
            &["encode", "--protocol", "rocketmq"],
            r#"{"serializeType":"XML","code":1,"language":"JAVA","version":1,"opaque":1,"flag":0}"#,
            "field `serializeType`",
        ),
        (
            &["encode", "--protocol", "rocketmq"],
            r#"{"serializeType":"JSON","code":1,"language":"KLINGON","version":1,"opaque":1,"flag":0}"#,
            "field `language`",
        ),
        (
            &["decode", "--protocol", "kafka"],
            "00",
            "unknown protocol `kafka`",
        ),
    ];
    for (args, input, want) in cases {
        let (code, out, err) = run(args, input);
        assert_eq!(code, 2, "{input}: {out} {err}");
        assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
        assert!(err.contains(want), "{input}: expected `{want}` in `{err}`");
    }
}

#[test]
fn print_wire_turns_a_macro_protocol_into_wire_text_that_parses_back() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let example = root.join("examples/derive_protocol.rs");
    let (code, out, err) = run(&["print-wire", example.to_str().unwrap()], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("protocol calc \"calc\" {"), "{out}");
    assert!(out.contains("service Calc {"), "{out}");
    // The text is a .wire file: it parses and checks, and prints back the same.
    let back = polywire_codegen::load_str("calc.wire", &out).expect("parses back");
    let printed = out.strip_suffix('\n').expect("println's newline");
    assert_eq!(polywire_codegen::ir::print::to_wire(&back.ir), printed);
}

#[test]
fn print_wire_reprints_a_wire_file_and_reports_errors_with_positions() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let native = root.join("protocols/wire/native.wire");
    let (code, out, err) = run(&["print-wire", native.to_str().unwrap()], "");
    assert_eq!(code, 0, "{err}");
    let original = polywire_codegen::load(&native).expect("native.wire loads");
    let back = polywire_codegen::load_str("native.wire", &out).expect("parses back");
    assert_eq!(
        polywire_codegen::ir::print::to_wire(&back.ir),
        polywire_codegen::ir::print::to_wire(&original.ir)
    );

    let dir = std::env::temp_dir().join(format!("polywire-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.wire");
    std::fs::write(&bad, "protocol p \"p\" {\n    struct S { a: u33 }\n}\n").unwrap();
    let (code, out, err) = run(&["print-wire", bad.to_str().unwrap()], "");
    assert_eq!(code, 2);
    assert!(out.is_empty());
    assert!(err.contains("bad.wire:2:"), "{err}");
    assert!(
        err.starts_with("error[E0130]: unknown type `u33`"),
        "one prefix: {err}"
    );
    let none = dir.join("plain.rs");
    std::fs::write(&none, "fn main() {}\n").unwrap();
    let (code, _, err) = run(&["print-wire", none.to_str().unwrap()], "");
    assert_eq!(code, 2);
    assert!(err.contains("no #[polywire::protocol] module"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

const FRAME: &str = "    frame {\n        length: u32 = len(..)\n        body: bytes rest\n    }\n";

#[test]
fn check_accepts_a_good_file_with_one_ok_line() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let native = root.join("protocols/wire/native.wire");
    let (code, out, err) = run(&["check", native.to_str().unwrap()], "");
    assert_eq!(code, 0, "{err}");
    assert!(err.is_empty(), "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("ok: "), "{out}");
    assert!(
        out.contains("protocol `native`") && out.contains("0 warnings"),
        "{out}"
    );
}

#[test]
fn check_prints_every_error_with_its_code_and_the_count() {
    let dir = Dir::new("check-errors");
    let bad = dir.write(
        "bad.wire",
        &format!("protocol p {{\n    struct A {{\n        level u8\n    }}\n    struct B {{\n        x: u33\n    }}\n{FRAME}}}\n"),
    );
    let (code, out, err) = run(&["check", &bad], "");
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("error[E0101]: syntax error"), "{err}");
    assert!(err.contains("error[E0130]: unknown type `u33`"), "{err}");
    assert!(err.contains("bad.wire:3:15"), "{err}");
    assert!(!err.contains("error: error"), "{err}");
    assert!(
        err.trim_end()
            .ends_with("error: aborting due to 2 previous errors"),
        "{err}"
    );
    // Not a terminal: no colour codes.
    assert!(!err.contains('\u{1b}'), "{err}");
}

#[test]
fn check_warnings_pass_unless_denied() {
    let dir = Dir::new("check-warnings");
    let file = dir.write(
        "warn.wire",
        &format!("protocol p {{\n    struct my_header {{\n        x: u8\n    }}\n{FRAME}}}\n"),
    );
    let (code, out, err) = run(&["check", &file], "");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("warning[W0103]: type `my_header`"), "{err}");
    assert!(
        err.trim_end().ends_with("warning: 1 warning emitted"),
        "{err}"
    );
    assert!(
        out.starts_with("ok: ") && out.contains("1 warning"),
        "{out}"
    );

    let (code, out, err) = run(&["check", &file, "--deny-warnings"], "");
    assert_eq!(code, 1, "{err}");
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("error[W0103]"), "{err}");
    assert!(
        err.trim_end()
            .ends_with("error: aborting due to 1 previous error"),
        "{err}"
    );
}

#[test]
fn explain_prints_a_code_and_names_the_closest_unknown_one() {
    let (code, out, err) = run(&["explain", "E0130"], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("E0130: unknown type\n"), "{out}");
    assert!(out.contains("```"), "an example: {out}");
    // Case does not matter.
    let (code, lower, _) = run(&["explain", "e0130"], "");
    assert_eq!((code, &lower), (0, &out));

    let (code, out, err) = run(&["explain", "E0199"], "");
    assert_eq!(code, 1);
    assert!(out.is_empty(), "{out}");
    assert!(err.contains("unknown code `E0199`"), "{err}");
    assert!(err.contains("the closest is `E0157`"), "{err}");

    let (code, out, _) = run(&["explain"], "");
    assert_eq!(code, 0);
    assert!(out.lines().any(|l| l.starts_with("W0101")), "{out}");
}

#[test]
fn help_and_version_exit_0_and_usage_errors_2() {
    let (code, out, _) = run(&["--help"], "");
    assert_eq!(code, 0);
    assert!(out.contains("check") && out.contains("explain"), "{out}");
    let (code, out, _) = run(&["--version"], "");
    assert_eq!(code, 0);
    assert!(out.starts_with("polywire "), "{out}");
    let (code, _, err) = run(&["frobnicate"], "");
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = run(&["decode"], "00");
    assert_eq!(code, 2);
    assert!(
        err.contains("missing --wire FILE.wire (or --protocol rocketmq)"),
        "{err}"
    );
}

// ---- `--wire`: any protocol, through the run-time interpreter ----

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn wire(name: &str) -> String {
    root()
        .join("protocols/wire")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

/// Whole RocketMQ frames: the shared vectors when they are there, and the committed fuzz
/// seed that holds one frame each.
fn rocketmq_frames() -> Vec<(String, String)> {
    let mut out = vectors();
    let dir = root().join("fuzz/seeds/rocketmq_frame");
    for e in std::fs::read_dir(&dir).unwrap() {
        let p = e.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        if ["json-", "rmq-", "rust-harness-", "newlife-"]
            .iter()
            .any(|p| name.starts_with(p))
        {
            out.push((name, to_hex(&std::fs::read(&p).unwrap())));
        }
    }
    assert!(out.len() >= 5, "{} frames", out.len());
    out
}

fn to_hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn every_rocketmq_frame_decodes_through_the_wire_file_and_encodes_back() {
    let rocketmq = wire("rocketmq.wire");
    let vectors: Vec<String> = vectors().into_iter().map(|(id, _)| id).collect();
    let mut round_trips = 0;
    for (id, hex) in rocketmq_frames() {
        let (code, json, err) = run(&["decode", "--wire", &rocketmq], &hex);
        if code != 0 {
            // A fuzz seed may be a frame the codec refuses (a seed for an error path); a
            // shared vector may not.
            assert!(!vectors.contains(&id), "{id}: {err}");
            assert!(
                err.starts_with("error: frame 1 (byte 0 of the input): "),
                "{id}: {err}"
            );
            continue;
        }
        assert_eq!(json.lines().count(), 1, "{id}: {json}");
        let (code, back, err) = run(&["encode", "--wire", &rocketmq], &json);
        assert_eq!(code, 0, "{id}: {err}");
        assert_eq!(back.trim(), hex.to_lowercase(), "{id}: {json}");
        round_trips += 1;
    }
    // The committed seeds alone hold more than 40 whole frames.
    assert!(round_trips > 40, "{round_trips} frames round-tripped");
}

#[test]
fn a_stream_of_frames_decodes_to_one_line_each_and_encodes_back_to_the_same_stream() {
    let rocketmq = wire("rocketmq.wire");
    let frames: Vec<String> = rocketmq_frames()
        .into_iter()
        .filter(|(_, hex)| run(&["decode", "--wire", &rocketmq], hex).0 == 0)
        .map(|(_, hex)| hex.to_lowercase())
        .collect();
    let stream = frames.join("\n");
    let (code, json, err) = run(&["decode", "--wire", &rocketmq], &stream);
    assert_eq!(code, 0, "{err}");
    assert_eq!(json.lines().count(), frames.len(), "{json}");
    let (code, back, err) = run(&["encode", "--wire", &rocketmq], &json);
    assert_eq!(code, 0, "{err}");
    assert_eq!(back.lines().collect::<Vec<_>>(), frames);
}

#[test]
fn hex_base64_and_raw_input_from_stdin_or_a_file_decode_alike() {
    let dir = Dir::new("formats");
    let resp = wire("resp.wire");
    let bytes = b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\nPING\r\n";
    let raw = dir.0.join("in.bin");
    std::fs::write(&raw, bytes).unwrap();
    let args = ["decode", "--wire", &resp, "--side", "client"];
    let (code, from_hex, err) = run(&args, &to_hex(bytes));
    assert_eq!(code, 0, "{err}");
    assert_eq!(from_hex.lines().count(), 2, "{from_hex}");
    assert!(
        from_hex.contains(r#"{"BulkString":{"data":"GET"}}"#),
        "{from_hex}"
    );
    assert!(
        from_hex.contains(r#"{"Inline":{"line":"PING"}}"#),
        "{from_hex}"
    );
    // Base64 in two chunks, one per line.
    let b64 = "KjINCiQzDQpHRVQNCiQxDQprDQo=\nUElORw0K\n";
    let (code, from_b64, err) = run(&[&args[..], &["--from", "base64"]].concat(), b64);
    assert_eq!((code, from_b64.as_str()), (0, from_hex.as_str()), "{err}");
    let file = raw.to_str().unwrap();
    let (code, from_raw, err) = run(&[&args[..], &["--from", "raw", file]].concat(), "");
    assert_eq!((code, from_raw.as_str()), (0, from_hex.as_str()), "{err}");
    // And back, as raw bytes.
    let (code, out, err) = run(
        &["encode", "--wire", &resp, "--side", "client", "--to", "raw"],
        &from_hex,
    );
    assert_eq!((code, out.as_bytes()), (0, &bytes[..]), "{err}");
}

#[test]
fn the_tree_shows_every_part_with_its_byte_offsets() {
    let (code, out, err) = run(
        &[
            "decode",
            "--wire",
            &wire("resp.wire"),
            "--side",
            "server",
            "--to",
            "tree",
        ],
        &to_hex(b":-42\r\n$2\r\nhi\r\n"),
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    for want in [
        "frame 1 @0 (6 bytes)",
        "Integer [0..6]",
        "value [1..6] = -42",
        "frame 2 @6 (8 bytes)",
        "len [1..4] = 2",
        "data [4..6] = 2 bytes \"hi\"",
    ] {
        assert!(lines.contains(&want), "no `{want}` in\n{out}");
    }
}

#[test]
fn a_bad_frame_in_a_stream_names_the_frame_its_start_and_the_field() {
    let resp = wire("resp.wire");
    // The second value's length is not a number.
    let (code, out, err) = run(
        &["decode", "--wire", &resp, "--side", "server"],
        &to_hex(b"+OK\r\n$x\r\n"),
    );
    assert_eq!(code, 2);
    assert_eq!(out.lines().count(), 1, "the first frame is shown: {out}");
    assert_eq!(
        err.trim(),
        "error: frame 2 (byte 5 of the input): at byte 1 in `Message.BulkString.len`: not a decimal integer"
    );
    // Cut short: the frame and how much of it was given.
    let (code, _, err) = run(
        &["decode", "--wire", &resp, "--side", "server"],
        &to_hex(b"+OK\r\n$5\r\nab"),
    );
    assert_eq!(code, 2);
    assert!(
        err.contains(
            "frame 2 (byte 5 of the input): the input ends inside it (6 byte(s) of it given)"
        ),
        "{err}"
    );
    // JSON naming no member.
    let (code, _, err) = run(&["encode", "--wire", &resp], r#"{"Nope": {}}"#);
    assert_eq!(code, 2);
    assert!(err.contains("`Nope` is not a member of `Message`"), "{err}");
    // A .wire file with an error: its diagnostics, with the place.
    let dir = Dir::new("badwire");
    let bad = dir.write("bad.wire", "protocol p {\n    frame { x: u9 }\n}\n");
    let (code, _, err) = run(&["decode", "--wire", &bad], "00");
    assert_eq!(code, 2);
    assert!(err.contains("bad.wire:2:"), "{err}");
}

#[test]
fn help_version_and_completions_exit_0() {
    for args in [
        &["--help"][..],
        &["help"],
        &["help", "decode"],
        &["decode", "--help"],
        &["--version"],
    ] {
        let (code, out, err) = run(args, "");
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(!out.is_empty(), "{args:?}");
    }
    let (_, out, _) = run(&["--version"], "");
    assert_eq!(
        out.trim(),
        format!("polywire {}", env!("CARGO_PKG_VERSION"))
    );
    let (code, out, err) = run(&["completions", "bash"], "");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("_polywire()") && out.contains("--wire"),
        "{out}"
    );
}

#[test]
fn probe_sends_json_frames_to_a_real_redis_server_and_prints_its_answers() {
    if std::process::Command::new("redis-server")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("!!!!!!!! redis-server is not installed: the probe test is SKIPPED");
        assert!(
            std::env::var_os("CI").is_none(),
            "redis-server is not installed, and CI must run this test"
        );
        return;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let addr = format!("127.0.0.1:{port}");
    for _ in 0..100 {
        if std::net::TcpStream::connect(&addr).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let resp = wire("resp.wire");
    let sent = concat!(
        r#"{"Command":{"Array":{"items":[{"BulkString":{"data":"PING"}}]}}}"#,
        "\n",
        r#"{"Command":{"Inline":{"line":"SET k hello"}}}"#,
        "\n",
        r#"{"Command":{"Inline":{"line":"GET k"}}}"#,
    );
    let (code, out, err) = run(&["probe", &addr, "--wire", &resp], sent);
    let _ = server.kill();
    let _ = server.wait();
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().collect::<Vec<_>>(),
        [
            r#"{"Value":{"SimpleString":{"text":"PONG"}}}"#,
            r#"{"Value":{"SimpleString":{"text":"OK"}}}"#,
            r#"{"Value":{"BulkString":{"data":"hello"}}}"#,
        ]
    );
    // Nothing listens any more: the error says so.
    let (code, _, err) = run(&["probe", &addr, "--wire", &resp], sent);
    assert_eq!(code, 2);
    assert!(err.contains("cannot connect"), "{err}");
}

#[test]
fn doc_writes_each_message_s_byte_layout() {
    let (code, out, err) = run(&["doc", &wire("rocketmq.wire")], "");
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("# Protocol `rocketmq` (`rocketmq-remoting`)"),
        "{out}"
    );
    for want in [
        "| 0 | `code` | i16 be (held as i32) | @code;",
        "| 5 | `opaque` | i32 be | @correlation;",
        "| 0 | `length` | u32 be | computed: the bytes after it;",
        "bits 24..32 `serialize`: u8",
        "| 0 | `JAVA` |",
    ] {
        assert!(out.contains(want), "no `{want}` in\n{out}");
    }
    let (code, out, err) = run(&["doc", &wire("mqtt.wire")], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("- hello `Connect` → `ConnAck`"), "{out}");
    assert!(
        out.contains("- `Publish` → `PubAck` if `qos` == 1, `PubRec` if `qos` == 2"),
        "{out}"
    );
}

/// `-I DIR` (any number, searched in order) finds an import that is not next to its
/// importing file, for `check` and for the commands that load a protocol at run time.
#[test]
fn imports_are_found_in_include_folders() {
    let dir = Dir::new("include");
    dir.write("shared/point.wire", "struct Point { x: u8, y: u8 }\n");
    let main = dir.write(
        "main/p.wire",
        "import \"point.wire\"\n\nprotocol p {\n    frame {\n        length: u8 = len(..)\n        at: Point\n    }\n}\n",
    );
    let main = main.as_str();
    let shared = dir.0.join("shared");
    let shared = shared.to_str().unwrap();
    let (code, _, err) = run(&["check", main], "");
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("cannot read"), "{err}");
    let (code, out, err) = run(&["check", "-I", "/nonexistent", "-I", shared, main], "");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("ok"), "{out}");
    let (code, out, err) = run(&["decode", "--wire", main, "-I", shared], "020102");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("\"x\":1") || out.contains("\"x\": 1"), "{out}");
}
