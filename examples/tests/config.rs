//! The runtime's configuration loads from TOML: durations as `"90s"`, defaults for what is
//! left out, TLS from PEM files, and errors that name the unknown field or the bad file.

use polywire::rt::{ClientConfig, MultiServerConfig, Overload, ServerConfig, TlsMode};
use std::time::Duration;

/// A configuration file of an application: one section per part.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    server: ServerConfig,
    client: ClientConfig,
    shared: MultiServerConfig,
}

#[test]
fn server_client_and_shared_port_settings_load_from_toml() {
    let dir = std::env::temp_dir().join(format!("polywire-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let rcgen::CertifiedKey { cert, key_pair } =
        rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert_path, cert.pem()).unwrap();
    std::fs::write(&key_path, key_pair.serialize_pem()).unwrap();
    let text = format!(
        r#"
[server]
max_connections = 500
idle_timeout = "90s"
executor_threads = 2
versions = [1, 2]

[client]
connect_timeout = "750ms"
overload = "fail_fast"

[shared]
detect_timeout = "2s"

[shared.tls]
mode = "enforcing"
cert = {cert:?}
key = {key:?}
"#,
        cert = cert_path.display().to_string(),
        key = key_path.display().to_string()
    );
    let f: File = toml::from_str(&text).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(f.server.max_connections, 500);
    assert_eq!(f.server.idle_timeout, Duration::from_secs(90));
    assert_eq!(f.server.executor_threads, 2);
    assert_eq!(f.server.versions, Some((1, 2)));
    // What is left out keeps its default.
    assert_eq!(
        f.server.max_in_flight,
        ServerConfig::default().max_in_flight
    );
    assert_eq!(f.client.connect_timeout, Duration::from_millis(750));
    assert_eq!(f.client.overload, Overload::FailFast);
    assert_eq!(f.client.backoff_max, ClientConfig::default().backoff_max);
    assert_eq!(f.shared.detect_timeout, Duration::from_secs(2));
    assert_eq!(
        f.shared.max_detect_bytes,
        MultiServerConfig::default().max_detect_bytes
    );
    assert_eq!(
        f.shared.tls.as_ref().map(|t| t.mode),
        Some(TlsMode::Enforcing)
    );

    // A misspelt field and an unreadable key file say which.
    let e = toml::from_str::<ServerConfig>("max_conections = 1").unwrap_err();
    assert!(e.to_string().contains("max_conections"), "{e}");
    let missing = dir.join("missing-key.pem");
    let bad = text.replace(
        &format!("{:?}", key_path.display().to_string()),
        &format!("{:?}", missing.display().to_string()),
    );
    let e = toml::from_str::<File>(&bad)
        .err()
        .expect("a missing key file fails");
    assert!(e.to_string().contains("missing-key.pem"), "{e}");
    let e = toml::from_str::<ServerConfig>("idle_timeout = \"soon\"").unwrap_err();
    assert!(e.to_string().contains("idle_timeout"), "{e}");
    let _ = std::fs::remove_dir_all(&dir);
}
