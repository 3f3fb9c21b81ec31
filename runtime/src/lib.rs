//! # polywire
//!
//! Describe a network protocol once and get, at build time, its message types, a sans-IO
//! codec for its frames, and typed servers and clients on one tokio runtime ([`rt`]). This
//! page walks through the steps: define, build, serve, call, configure, observe.
//!
//! ## Define
//!
//! A protocol is a `.wire` file: its frame, its types, and the requests of its services.
//! `polywire-protocols`' `wire/native.wire` is a complete one; in short:
//!
//! ```text
//! /// A calculator.
//! protocol calc "calc" {
//!     endian big
//!     versions 1..=1
//!     detect { prefix "CA" at 0 }
//!     flags Flags : u8 { RESPONSE = bit 0 @response, ONEWAY = bit 1 @oneway }
//!     responses Status : u8 { OK = 0 @success, NOT_SUPPORTED = 1 @not_supported, FAILED = 2 @system_error }
//!     frame {
//!         magic: u16 = 0x4341
//!         length: u32 = len(..)
//!         code: u8 @code
//!         id: varint @correlation
//!         flags: Flags @kind
//!         body: bytes rest @message
//!     }
//!     struct Numbers { values: list<i32, u8> }
//!     service Calc {
//!         /// Adds the numbers of the body.
//!         request Add = 1 { body Numbers } -> { body bytes }
//!     }
//! }
//! ```
//!
//! The same protocol can be written as an annotated Rust module instead, with the `derive`
//! feature (`polywire = { version = "0.1", features = ["derive"] }`): no `.wire` file and
//! no build step, the same checks and the same generated code. The attribute forms are in
//! `polywire-macros`' documentation.
//!
//! ```
//! #[polywire::protocol(id = "calc", versions = 1..=1, detect(prefix = "CA", at = 0))]
//! pub mod calc {
//!     #[wire(flags)]
//!     #[repr(u8)]
//!     pub enum Flags {
//!         #[wire(response)] Response = 0,
//!         #[wire(oneway)] Oneway = 1,
//!     }
//!
//!     #[wire(responses)]
//!     #[repr(u8)]
//!     pub enum Status {
//!         #[wire(success)] Ok = 0,
//!         #[wire(not_supported)] NotSupported = 1,
//!         #[wire(system_error)] Failed = 2,
//!     }
//!
//!     #[wire(frame)]
//!     pub struct Frame {
//!         #[wire(constant = 0x4341)] magic: u16,
//!         #[wire(len = "..")] length: u32,
//!         #[wire(code)] code: u8,
//!         #[wire(correlation, varint)] id: u64,
//!         #[wire(kind)] flags: Flags,
//!         #[wire(rest, message)] body: Bytes,
//!     }
//!
//!     pub struct Numbers {
//!         #[wire(count = u8)] values: Vec<i32>,
//!     }
//!
//!     pub trait Calc {
//!         /// Adds the numbers of the body.
//!         #[wire(code = 1)]
//!         fn add(body: Numbers) -> Bytes;
//!     }
//! }
//!
//! // What is generated: the messages, a codec for the frame, `CalcProtocol`, the `Calc`
//! // trait to implement and `serve_calc`, and a typed `CalcClient`.
//! use polywire::Codec;
//! let frame = calc::Frame { code: 1, id: 7, body: "hi".into(), ..Default::default() };
//! let mut buf = polywire::bytes::BytesMut::new();
//! calc::FrameCodec::new().encode(&frame, &mut buf).unwrap();
//! assert_eq!(&buf[..2], b"CA");
//! assert_eq!(calc::FrameCodec::new().decode(&mut buf).unwrap(), Some(frame));
//! ```
//!
//! ## Build
//!
//! A `.wire` file becomes Rust in the crate's `build.rs`:
//!
//! ```toml
//! [dependencies]
//! polywire = "0.1"
//! tokio = { version = "1", features = ["macros", "rt-multi-thread"] }
//! [build-dependencies]
//! polywire-codegen = "0.1"
//! ```
//!
//! ```ignore
//! // build.rs: prints the diagnostics of a wrong `.wire` file and fails the build.
//! // (`polywire-protocols`' build.rs is this, for its four files.)
//! fn main() {
//!     polywire_codegen::configure().compile_or_exit(&["wire/calc.wire"]);
//! }
//! ```
//!
//! ```ignore
//! // src/lib.rs: the generated code, from OUT_DIR (as in `polywire-protocols`' lib.rs).
//! pub mod calc {
//!     polywire::include_protocol!("calc");
//! }
//! ```
//!
//! `polywire_codegen::configure()` also chooses the sides generated (`server`, `client`),
//! adds attributes to generated types, and can generate codecs alone for crates that depend
//! on `polywire-core` only.
//!
//! ## Serve and call
//!
//! Each service is a trait; `serve_<service>` registers an implementation on a
//! [`RemotingServer`](rt::RemotingServer), and `<Service>Client` calls it. Here with the
//! native protocol bundled in `polywire-protocols` (generated as above) and its echo
//! service:
//!
//! ```
//! use polywire::rt::{ClientConfig, ProcessError, RemotingClient, RemotingServer, RequestContext, ServerConfig};
//! use polywire_protocols::native::*;
//! use std::sync::Arc;
//!
//! struct Echo;
//!
//! impl Basic for Echo {
//!     async fn echo(&self, _: RequestContext, req: EchoRequest) -> Result<EchoResponse, ProcessError> {
//!         Ok(EchoResponse { body: req.body })
//!     }
//!     async fn ping(&self, _: RequestContext, _: PingRequest) -> Result<PingResponse, ProcessError> {
//!         Ok(PingResponse {})
//!     }
//!     async fn log(&self, _: RequestContext, _: LogRequest) -> Result<(), ProcessError> {
//!         Ok(())
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let server = RemotingServer::new(NativeProtocol, ServerConfig::default());
//!     serve_basic(&server, Arc::new(Echo));
//!     let addr = server.bind("127.0.0.1:0").await?;
//!
//!     let client = RemotingClient::new(NativeProtocol, ClientConfig::default());
//!     let basic = BasicClient::new(client, addr.to_string());
//!     let reply = basic.echo(EchoRequest { body: "hi".into() }).await?;
//!     assert_eq!(reply.body, "hi");
//!
//!     server.shutdown().await; // drains: every request already read is answered
//!     Ok(())
//! }
//! ```
//!
//! A [`MultiServer`](rt::MultiServer) serves several protocols on one port, each connection
//! given to the protocol its first bytes belong to, over TCP, TLS, WebSocket and HTTP/2.
//!
//! ## Configure
//!
//! [`ServerConfig`](rt::ServerConfig) and [`ClientConfig`](rt::ClientConfig) hold the
//! limits, timeouts and executors; both load with serde. A whole multi-protocol server,
//! its ports and per-protocol settings is a [`ServerSetup`](rt::ServerSetup), read from a
//! TOML file:
//!
//! ```
//! use polywire::rt::ServerSetup;
//! use polywire_protocols::native::*;
//! use std::time::Duration;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let path = std::env::temp_dir().join(format!("polywire-doc-{}.toml", std::process::id()));
//!     std::fs::write(&path, r#"
//!         listen = ["127.0.0.1:0"]
//!         [defaults]
//!         idle_timeout = "120s"
//!         [protocols.polywire-native]
//!         server = { max_connections = 100 }
//!     "#)?;
//!     let setup = ServerSetup::from_path(&path)?; // a bad file: a ConfigError with line and column
//!     std::fs::remove_file(&path)?;
//!     setup.check_ids(&["polywire-native"])?;     // a misspelt protocol id is an error
//!
//!     let server = setup.server(NativeProtocol);  // with its configured settings
//!     assert_eq!(setup.server_config("polywire-native").max_connections, 100);
//!     assert_eq!(setup.defaults.idle_timeout, Duration::from_secs(120));
//!     serve_basic_now(&server, std::sync::Arc::new(BasicEcho));
//!     let multi = setup.multi_server();
//!     multi.add(server)?;
//!     for (what, addr) in setup.bind(&multi).await? {
//!         println!("{what} on {addr}");
//!     }
//!     multi.shutdown().await;
//!     Ok(())
//! }
//! ```
//!
//! ## Observe
//!
//! Servers and clients count requests, responses, errors, bytes and open connections per
//! protocol, with a latency histogram: `metrics()` on a [`RemotingServer`](rt::RemotingServer),
//! [`MessageServer`](rt::MessageServer) or [`RemotingClient`](rt::RemotingClient) is a
//! [`MetricsSnapshot`](rt::MetricsSnapshot), servers also keep them per transport
//! (`metrics_by_transport()`), and [`MultiServer::metrics_total`](rt::MultiServer::metrics_total)
//! adds up every server (the `prometheus` feature exports them, labelled by protocol, role
//! and transport). They also report to `tracing`: at info level what an operator wants to
//! see (a server listening, protocols added, replaced or removed, shutting down); at debug
//! level each connection inside a `connection` span carrying its peer, transport, protocol
//! and negotiated version, and inside it a `request` span (code, correlation id) or, for
//! `exchange` protocols, a `message` span (its name) holding the event of its answer.
//!
//! ```
//! use polywire::rt::{ClientConfig, RemotingClient, RemotingServer, ServerConfig};
//! use polywire_protocols::native::*;
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Box<dyn std::error::Error>> {
//!     let server = RemotingServer::new(NativeProtocol, ServerConfig::default());
//!     serve_basic_now(&server, std::sync::Arc::new(BasicEcho));
//!     let addr = server.bind("127.0.0.1:0").await?.to_string();
//!     let client = BasicClient::new(RemotingClient::new(NativeProtocol, ClientConfig::default()), addr);
//!     for _ in 0..3 {
//!         client.echo(EchoRequest { body: "hi".into() }).await?;
//!     }
//!
//!     let m = server.metrics();
//!     assert_eq!((m.requests, m.responses, m.errors), (3, 3, 0));
//!     println!("p99 <= {:?}", m.latency_quantile(0.99));
//!     server.shutdown().await;
//!     Ok(())
//! }
//! ```
//!
//! ## Where things are
//!
//! The generated module holds the message types, a sans-IO [`Codec`] for the frame, and
//! the protocol's constants. Everything that is not protocol-specific lives here: the wire
//! primitives ([`wire`]), the value types ([`Str`], [`OrderedMap`]), the error types and the
//! remoting runtime ([`rt`]). The sans-IO part comes from `polywire-core` and is re-exported
//! under the same paths; a crate that needs only codecs can depend on that crate alone.

#![deny(unsafe_code)]

// The sans-IO part lives in `polywire-core`; its modules keep their paths here.
pub use polywire_core::{codec, error, exchange, json, protocol, types, wire};
pub mod rt;

/// The byte buffers generated codecs read and write.
pub use polywire_core::bytes;
pub use polywire_core::{
    Codec, DecodeError, DecodeErrorDetail, DecodeErrorKind, DecodeResult, Detection, Detector,
    EncodeError, EncodeResult, ErrorStatus, FrameKind, Framed, FramedCodec, Handshake,
    HandshakeEvent, Limits, Negotiated, NoReject, OrderedMap, Protocol, RemotingFrame, Sender,
    SessionCodec, Status, Str, VersionHandshake, WireEnum, WireMessage,
};

/// Protocols as annotated Rust items instead of `.wire` files: the same IR, checks and
/// emitter (see `polywire-macros`).
#[cfg(feature = "derive")]
pub use polywire_macros::{Message, protocol};

/// Includes the code that `polywire-codegen` generated for protocol `name` (the `.wire`
/// file's stem) from `OUT_DIR`.
///
/// ```ignore
/// pub mod native {
///     polywire::include_protocol!("native");
/// }
/// ```
pub use polywire_core::include_protocol;

/// What generated code names. Not a stable API for hand-written code.
#[doc(hidden)]
pub mod __private {
    pub use crate::rt::{BoxFuture, ProcessError, RemotingClient, RemotingError, RequestContext};
    pub use polywire_core::__private::*;
    pub use tokio;
}
