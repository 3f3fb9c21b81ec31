//! `polywire probe --tls` against a TLS-enforcing `MultiServer` on 127.0.0.1 serving a
//! RocketMQ echo: trusted through `--ca` or `--insecure`; refused in plaintext and with the
//! wrong CA, each with a sentence that says why.

mod common;
use common::*;

use polywire::bytes::{Bytes, BytesMut};
use polywire::rt::{
    MultiServer, MultiServerConfig, ProcessError, RemotingServer, RequestContext, ServerConfig,
    TlsMode, TlsSettings,
};
use polywire::{Codec as _, Protocol as _};
use polywire_protocols::rocketmq::{Frame, ResponseCode, RocketmqProtocol};
use std::path::PathBuf;
use std::sync::Arc;

/// A directory with a self-signed `localhost` certificate and its key, and a second,
/// unrelated certificate; removed on drop.
struct Pems(PathBuf);

impl Pems {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("polywire-probe-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let rcgen::CertifiedKey { cert, key_pair } =
            rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
        std::fs::write(dir.join("key.pem"), key_pair.serialize_pem()).unwrap();
        // Another CA, with a name of its own: the server's certificate has no issuer in it.
        let mut params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "another CA");
        let other = params
            .self_signed(&rcgen::KeyPair::generate().unwrap())
            .unwrap();
        std::fs::write(dir.join("other.pem"), other.pem()).unwrap();
        Pems(dir)
    }

    fn path(&self, name: &str) -> String {
        self.0.join(name).to_str().unwrap().to_string()
    }
}

impl Drop for Pems {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The RocketMQ echo code the server answers.
const ECHO: i64 = 2001;

/// A RocketMQ request for [`ECHO`] with body `ping`, as the JSON `decode --wire` prints.
fn request_json(wire: &str) -> String {
    let mut req = RocketmqProtocol.request(ECHO);
    req.body = Bytes::from_static(b"ping");
    let mut bytes = BytesMut::new();
    RocketmqProtocol.codec().encode(&req, &mut bytes).unwrap();
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let (code, json, err) = run(&["decode", "--wire", wire], &hex);
    assert_eq!(code, 0, "{err}");
    json
}

#[test]
fn probe_speaks_tls_to_an_enforcing_port_and_says_why_when_it_cannot() {
    let pems = Pems::new();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let config = polywire::rt::tls::server_config_from_pem(
        std::path::Path::new(&pems.path("cert.pem")),
        std::path::Path::new(&pems.path("key.pem")),
        None,
    )
    .unwrap();
    let multi = MultiServer::new(MultiServerConfig {
        tls: Some(TlsSettings {
            mode: TlsMode::Enforcing,
            config: Arc::new(config),
        }),
        ..MultiServerConfig::default()
    });
    let echo = RemotingServer::new(RocketmqProtocol, ServerConfig::default());
    echo.register_processor(ECHO, |_ctx: RequestContext, mut req: Frame| async move {
        req.header.code = ResponseCode::Success.to_repr();
        Ok::<_, ProcessError>(req)
    });
    multi.add(echo).unwrap();
    let addr = rt.block_on(multi.bind("127.0.0.1:0")).unwrap().to_string();

    let wire = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../protocols/wire/rocketmq.wire"
    );
    let sent = request_json(wire);
    let probe = |extra: &[&str]| {
        let mut args = vec!["probe", &addr, "--wire", wire, "--timeout-ms", "5000"];
        args.extend_from_slice(extra);
        run(&args, &sent)
    };
    let echoed = |out: &str| {
        let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
        let request: serde_json::Value = serde_json::from_str(sent.trim()).unwrap();
        assert_eq!(out.lines().count(), 1, "{out}");
        assert_eq!(v["header"]["code"], 0, "{out}");
        assert_eq!(v["body"], request["body"], "{out}");
        assert_eq!(v["header"]["opaque"], request["header"]["opaque"], "{out}");
    };

    let ca = pems.path("cert.pem");
    let (code, out, err) = probe(&["--tls", "--ca", &ca, "--server-name", "localhost"]);
    assert_eq!(code, 0, "{err}");
    echoed(&out);

    let (code, out, err) = probe(&["--tls", "--insecure"]);
    assert_eq!(code, 0, "{err}");
    echoed(&out);

    // Plaintext: the port closes the connection; the error suggests TLS.
    let (code, out, err) = probe(&[]);
    assert_eq!(code, 2, "{out}");
    assert!(err.starts_with("error: the server "), "{err}");
    assert!(err.contains("try --tls"), "{err}");

    // A CA that did not sign the server's certificate, and a name it does not carry.
    let other = pems.path("other.pem");
    for (args, why) in [
        (
            &["--tls", "--ca", &other, "--server-name", "localhost"][..],
            "UnknownIssuer",
        ),
        (&["--tls", "--ca", &ca], "not valid for name \"127.0.0.1\""),
    ] {
        let (code, out, err) = probe(args);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(
            err.starts_with(&format!(
                "error: TLS handshake with {addr} failed: invalid peer certificate"
            )),
            "{args:?}: {err}"
        );
        assert!(
            err.contains(why) && err.contains("--insecure"),
            "{args:?}: {err}"
        );
        assert!(!err.contains("panicked"), "{err}");
    }

    // Options that do not go together, and a CA file that is not one.
    let (code, _, err) = probe(&["--tls"]);
    assert_eq!(code, 2);
    assert!(err.contains("--ca PEM_FILE, or --insecure"), "{err}");
    let (code, _, err) = probe(&["--ca", &ca]);
    assert_eq!(code, 2);
    assert!(err.contains("--tls"), "{err}");
    let (code, _, err) = probe(&["--tls", "--ca", wire]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--ca") && err.contains("rocketmq.wire"),
        "{err}"
    );

    rt.block_on(multi.shutdown());
}
