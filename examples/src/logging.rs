//! The examples' logs: what `RUST_LOG` asks for, printed to stderr by `tracing-subscriber`.
//!
//! `RUST_LOG` holds a level (`info`), targets with levels (`polywire=debug,info`) or both,
//! as `tracing_subscriber::filter::Targets` reads them. Unset, nothing is printed and the
//! runtime's spans and events cost one check of a cached flag each.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Prints what `spec` (`RUST_LOG`'s syntax) asks for to stderr, for the whole process.
/// Fails on a spec that does not parse, or when a subscriber is already installed.
pub fn init(spec: &str) -> Result<(), String> {
    let filter: Targets = spec
        .parse()
        .map_err(|e| format!("RUST_LOG={spec:?}: {e}"))?;
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                .with_target(false),
        )
        .with(filter)
        .try_init()
        .map_err(|e| e.to_string())
}

/// [`init`] with `RUST_LOG`, when it is set; a spec that does not parse ends the process
/// with status 2 and the reason.
pub fn from_env() {
    if let Ok(spec) = std::env::var("RUST_LOG")
        && !spec.is_empty()
        && let Err(e) = init(&spec)
    {
        eprintln!("{e}");
        std::process::exit(2);
    }
}
