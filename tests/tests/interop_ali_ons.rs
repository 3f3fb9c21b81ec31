//! Interoperability: ali-ons, a RocketMQ remoting client written by others (JavaScript, from
//! npm), talks to the RocketMQ echo server generated from `rocketmq.wire`: a topic route
//! lookup parsed by ali-ons itself, echoes with custom header fields, an unknown code, a
//! oneway request and 200 concurrent requests (`tests/interop/ali_ons_check.js`).
//!
//! Needs `node` and `npm` (both on this project's machines); without them the test says so
//! loudly and passes.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ali_ons_talks_to_the_generated_rocketmq_server() {
    if !have("node") || !have("npm") {
        eprintln!(
            "\n!!!!!!!! node/npm not found: ali-ons interoperability test SKIPPED !!!!!!!!\n"
        );
        return;
    }
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("interop");
    if !dir.join("node_modules/ali-ons").is_dir() {
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir)
            .output()
            .expect("npm runs");
        assert!(
            out.status.success(),
            "npm ci failed:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (server, addr) = polywire_examples::rocketmq_echo::serve("127.0.0.1:0")
        .await
        .expect("binds");
    let check = dir.join("ali_ons_check.js");
    let run = tokio::process::Command::new("node")
        .arg(&check)
        .args(["--addr", &addr.to_string()])
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(60), run)
        .await
        .expect("ali-ons check finished within 60 s")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    assert!(
        out.status.success() && stdout.contains("all ali-ons checks passed"),
        "ali-ons check failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    server.shutdown().await;
}
