//! What the tests against a real server (mosquitto, redis-server) share: finding the
//! program, a free loopback port, and a process that is killed when dropped.

// Each test crate uses what it needs of this module.
#![allow(dead_code)]

use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The first of `candidates` that runs with `probe` as its argument; `None` (a loud skip,
/// or under CI a failure) when none does.
pub fn program(candidates: &[&'static str], probe: &str, what: &str) -> Option<&'static str> {
    let found = candidates.iter().copied().find(|b| {
        Command::new(b)
            .arg(probe)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok()
    });
    if found.is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{what} is not installed, and CI must run this test"
        );
        eprintln!("\n!!!!!!!! {what} not found: test SKIPPED !!!!!!!!\n");
    }
    found
}

/// A loopback port nobody listens on.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// A server process listening on `port`, killed when dropped.
pub struct Running {
    child: Child,
    /// Its loopback port.
    pub port: u16,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (up to 5 s) until `child` listens on `port`; it is killed if it does not.
pub fn listening(mut child: Child, port: u16, what: &str) -> Running {
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Running { child, port };
        }
        std::thread::sleep(Duration::from_millis(25));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("{what} did not listen on {port}");
}
