//! [`MultiServer`]: the servers of many protocols behind one entry point.
//!
//! Protocols can share one port: each new connection's first bytes are shown to the
//! registered protocols' [`Detector`](crate::protocol::Detector)s, in the order the
//! protocols were added, and the first that claims them gets the connection, bytes and
//! all. Traffic nobody claims within the detection timeout is closed, or handed to the
//! protocol the configuration names as its `fallback`. A protocol can also
//! have a port of its own ([`MultiServer::bind_protocol`]), which needs no detector; one
//! without a detector (no `detect` block) must have one as soon as the server has a shared
//! port, or no connection could ever reach it: [`MultiServer::add`] and
//! [`MultiServer::bind`] refuse it (see [`RegistryError::NoDetector`]). Other
//! transports hand their streams to the same detection: a Unix socket
//! ([`MultiServer::bind_unix`]), or any byte stream ([`MultiServer::serve_io`]).
//!
//! Protocols are added, replaced and removed while the server runs: the choice is made
//! when a connection arrives, so connections already open stay with the server that took
//! them (and finish on its definition), and new ones go to whatever is registered then.
//!
//! ```no_run
//! # async fn demo<A: polywire::protocol::Protocol, B: polywire::protocol::Protocol>(a: polywire::rt::RemotingServer<A>, b: polywire::rt::RemotingServer<B>) -> std::io::Result<()> {
//! use polywire::rt::{MultiServer, MultiServerConfig};
//! let multi = MultiServer::new(MultiServerConfig::default());
//! multi.add(a).expect("a new protocol id");
//! multi.add(b).expect("a new protocol id");
//! let addr = multi.bind("127.0.0.1:0").await?; // both protocols on one port
//! // ... later
//! multi.shutdown().await;
//! # Ok(()) }
//! ```

use super::transport::{self, Layer, TransportKind, Upgrade, Verdict};
use super::{BoxFuture, CallError, Framing, MetricsSnapshot, RemotingServer};
use crate::protocol::{Detection, Negotiated, Protocol};
use bytes::BytesMut;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite};
use tokio::net::{TcpStream, ToSocketAddrs};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A byte stream from any transport (a Unix socket, a TLS session, ...).
pub trait Io: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> Io for T {}

/// A server of one protocol, as a [`MultiServer`] sees it. Every [`RemotingServer`] is one.
pub trait ProtocolServer: Send + Sync + 'static {
    /// The protocol id.
    fn id(&self) -> &'static str;
    /// What a connection's first bytes say; `None` when the protocol has no detector (it
    /// can then be served only on a port of its own).
    fn detect(&self, first: &[u8]) -> Option<Detection>;
    /// Whether the protocol has a detector, so that it can be served on a shared port.
    fn has_detector(&self) -> bool {
        self.detect(&[]).is_some()
    }
    /// Serves an accepted connection whose first bytes, `first`, were read already.
    fn serve_tcp(&self, stream: TcpStream, peer: String, first: BytesMut);
    /// Serves a stream of another transport (named `transport` in request contexts) whose
    /// first bytes, `first`, were read already.
    fn serve_io(&self, io: Box<dyn Io>, peer: String, transport: TransportKind, first: BytesMut);
    /// The protocol's frame boundaries, for message transports.
    fn framing(&self) -> Framing;
    /// Answers one request frame that arrived on its own (see [`RemotingServer::call`]).
    fn call(
        &self,
        request: BytesMut,
        peer: &str,
        transport: TransportKind,
        negotiated: Option<Negotiated>,
    ) -> BoxFuture<Result<BytesMut, CallError>>;
    /// Answers a handshake hello that arrived on its own (see
    /// [`RemotingServer::accept_hello`]).
    fn accept_hello(&self, hello: BytesMut) -> Result<BytesMut, CallError>;
    /// Stops accepting and drains (see [`RemotingServer::shutdown`]).
    fn shutdown(&self) -> BoxFuture<()>;
    /// Its counters (`None` for a server that keeps none).
    fn metrics(&self) -> Option<MetricsSnapshot> {
        None
    }
    /// Its counters for each transport its connections have come in on (none for a server
    /// that keeps none).
    fn metrics_by_transport(&self) -> Vec<(TransportKind, MetricsSnapshot)> {
        Vec::new()
    }
}

impl<P: Protocol> ProtocolServer for RemotingServer<P> {
    fn id(&self) -> &'static str {
        self.protocol().id()
    }

    fn detect(&self, first: &[u8]) -> Option<Detection> {
        self.protocol().detector().map(|d| d.detect(first))
    }

    fn has_detector(&self) -> bool {
        self.protocol().detector().is_some()
    }

    fn serve_tcp(&self, stream: TcpStream, peer: String, first: BytesMut) {
        RemotingServer::serve_tcp(self, stream, peer, first);
    }

    fn serve_io(&self, io: Box<dyn Io>, peer: String, transport: TransportKind, first: BytesMut) {
        self.serve_stream(io, peer, transport, first);
    }

    fn framing(&self) -> Framing {
        RemotingServer::framing(self)
    }

    fn call(
        &self,
        request: BytesMut,
        peer: &str,
        transport: TransportKind,
        negotiated: Option<Negotiated>,
    ) -> BoxFuture<Result<BytesMut, CallError>> {
        RemotingServer::call(self, request, peer, transport, negotiated)
    }

    fn accept_hello(&self, hello: BytesMut) -> Result<BytesMut, CallError> {
        RemotingServer::accept_hello(self, hello)
    }

    fn shutdown(&self) -> BoxFuture<()> {
        let this = self.clone();
        Box::pin(async move { this.shutdown().await })
    }

    fn metrics(&self) -> Option<MetricsSnapshot> {
        Some(RemotingServer::metrics(self))
    }

    fn metrics_by_transport(&self) -> Vec<(TransportKind, MetricsSnapshot)> {
        RemotingServer::metrics_by_transport(self)
    }
}

/// Protocol detection and TLS on shared ports. Loadable with serde (from TOML, say):
/// `detect_timeout = "3s"`, `fallback = "resp"`, and `[tls]` with `mode` (`disabled`, `permissive` or
/// `enforcing`), `cert`, `key` and an optional `client_ca`, PEM files read as the
/// configuration is loaded.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MultiServerConfig {
    /// Time a new connection has to send enough bytes for a protocol to claim it (and, with
    /// TLS, to finish its handshake).
    #[serde(with = "humantime_serde")]
    pub detect_timeout: Duration,
    /// Bytes read at most before giving up on a connection nobody claims.
    pub max_detect_bytes: usize,
    /// The protocol (its id) that a shared port's connection goes to when nobody claims it:
    /// no detector matches its first bytes, or it sends nothing (or too little to tell)
    /// within `detect_timeout`. `None`: such a connection is closed. For a protocol whose
    /// clients may begin with anything (RESP's inline commands, typed by hand) or wait for
    /// the server to speak first.
    pub fallback: Option<String>,
    /// TLS on every port of the server (`None`: plaintext only).
    #[cfg(feature = "tls")]
    pub tls: Option<super::tls::TlsSettings>,
    /// WebSocket upgrades on every shared port, plain and inside TLS (`None`: off).
    #[cfg(feature = "ws")]
    pub websocket: Option<super::ws::WsSettings>,
    /// HTTP/2 on every shared port, with prior knowledge and inside TLS (`None`: off).
    #[cfg(feature = "h2")]
    pub http2: Option<super::h2::H2Settings>,
}

impl Default for MultiServerConfig {
    fn default() -> Self {
        MultiServerConfig {
            detect_timeout: Duration::from_secs(3),
            max_detect_bytes: 256,
            fallback: None,
            #[cfg(feature = "tls")]
            tls: None,
            #[cfg(feature = "ws")]
            websocket: None,
            #[cfg(feature = "h2")]
            http2: None,
        }
    }
}

/// Why a protocol could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// A server for this protocol id is registered already (use `replace`).
    #[error("protocol {0:?} is registered already")]
    Duplicate(&'static str),
    /// The protocol has no detector, so on a shared port no connection would ever reach
    /// it, and it has no port of its own.
    #[error(
        "protocol {0:?} has no detector, so it cannot be served on a shared port: give it a \
         `detect` block, or a port of its own with `bind_protocol({0:?}, ..)` before the \
         shared port is bound"
    )]
    NoDetector(&'static str),
}

/// Which ports a [`MultiServer`] listens on, as far as protocols without a detector care.
#[derive(Default)]
struct Ports {
    /// A shared port (TCP or Unix socket) is bound.
    shared: bool,
    /// Protocols with a port of their own.
    own: Vec<&'static str>,
}

impl Ports {
    /// Whether a protocol `id`, with or without a detector, can be reached.
    fn check(&self, id: &'static str, has_detector: bool) -> Result<(), RegistryError> {
        if self.shared && !has_detector && !self.own.contains(&id) {
            Err(RegistryError::NoDetector(id))
        } else {
            Ok(())
        }
    }
}

type Servers = Arc<Vec<Arc<dyn ProtocolServer>>>;

struct Inner {
    config: MultiServerConfig,
    /// The transports shared ports detect, made from `config`.
    upgrades: Vec<Arc<dyn Upgrade>>,
    /// Copied on write: a connection being detected keeps the list it started with.
    servers: RwLock<Servers>,
    /// Taken before `servers` where both are.
    ports: Mutex<Ports>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    unclaimed: AtomicU64,
    failed_setups: AtomicU64,
}

/// The servers of many protocols, started and stopped together, on shared or own ports.
#[derive(Clone)]
pub struct MultiServer {
    inner: Arc<Inner>,
}

impl MultiServer {
    /// An empty registry.
    pub fn new(config: MultiServerConfig) -> Self {
        MultiServer {
            inner: Arc::new(Inner {
                upgrades: transport::upgrades(&config),
                config,
                servers: RwLock::new(Arc::new(Vec::new())),
                ports: Mutex::new(Ports::default()),
                shutdown: CancellationToken::new(),
                tracker: TaskTracker::new(),
                unclaimed: AtomicU64::new(0),
                failed_setups: AtomicU64::new(0),
            }),
        }
    }

    /// The registered servers, in detection order.
    pub(crate) fn servers(&self) -> Servers {
        self.inner
            .servers
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn update<R>(&self, f: impl FnOnce(&mut Vec<Arc<dyn ProtocolServer>>) -> R) -> R {
        let mut g = self
            .inner
            .servers
            .write()
            .unwrap_or_else(|p| p.into_inner());
        let mut v = (**g).clone();
        let r = f(&mut v);
        *g = Arc::new(v);
        r
    }

    fn ports(&self) -> std::sync::MutexGuard<'_, Ports> {
        self.inner.ports.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The counters of every registered server that keeps them, by protocol id.
    pub fn metrics(&self) -> Vec<(&'static str, MetricsSnapshot)> {
        self.servers()
            .iter()
            .filter_map(|s| Some((s.id(), s.metrics()?)))
            .collect()
    }

    /// The counters of every registered server that keeps them, by protocol id and by the
    /// transport its connections came in on.
    pub fn metrics_by_transport(&self) -> Vec<(&'static str, TransportKind, MetricsSnapshot)> {
        self.servers()
            .iter()
            .flat_map(|s| {
                let id = s.id();
                s.metrics_by_transport()
                    .into_iter()
                    .map(move |(t, m)| (id, t, m))
            })
            .collect()
    }

    /// The counters of every registered server added up.
    pub fn metrics_total(&self) -> MetricsSnapshot {
        let mut total = MetricsSnapshot::default();
        for (_, m) in self.metrics() {
            total.merge(&m);
        }
        total
    }

    /// Registers `server`; on a shared port its protocol is asked after those added before.
    /// Refuses a protocol without a detector when a shared port is bound and the protocol
    /// has no port of its own ([`RegistryError::NoDetector`]).
    pub fn add(&self, server: impl ProtocolServer) -> Result<(), RegistryError> {
        let id = server.id();
        let ports = self.ports();
        ports.check(id, server.has_detector())?;
        self.update(|v| {
            if v.iter().any(|s| s.id() == id) {
                return Err(RegistryError::Duplicate(id));
            }
            v.push(Arc::new(server));
            Ok(())
        })?;
        tracing::info!(protocol = id, "protocol added");
        Ok(())
    }

    /// Marks a shared port as bound, unless a registered protocol could not be reached
    /// through it nor through a port of its own.
    fn share(&self) -> std::io::Result<()> {
        let mut ports = self.ports();
        let unreachable = self
            .servers()
            .iter()
            .find(|s| !s.has_detector() && !ports.own.contains(&s.id()))
            .map(|s| RegistryError::NoDetector(s.id()));
        match unreachable {
            Some(e) => Err(std::io::Error::new(std::io::ErrorKind::InvalidInput, e)),
            None => {
                ports.shared = true;
                Ok(())
            }
        }
    }

    /// Puts `server` in the place of the server registered for its protocol id (or adds
    /// it), and returns the one it replaced. That one keeps serving the connections it has;
    /// shut it down to drain and close them. Refuses, as [`add`](Self::add) does, a protocol
    /// without a detector when a shared port is bound and it has no port of its own.
    pub fn replace(
        &self,
        server: impl ProtocolServer,
    ) -> Result<Option<Arc<dyn ProtocolServer>>, RegistryError> {
        let id = server.id();
        self.ports().check(id, server.has_detector())?;
        let server: Arc<dyn ProtocolServer> = Arc::new(server);
        let old = self.update(|v| match v.iter_mut().find(|s| s.id() == id) {
            Some(slot) => Some(std::mem::replace(slot, server)),
            None => {
                v.push(server);
                None
            }
        });
        match old {
            Some(_) => tracing::info!(protocol = id, "protocol replaced"),
            None => tracing::info!(protocol = id, "protocol added"),
        }
        Ok(old)
    }

    /// Unregisters the server of protocol `id` and returns it: new connections are no
    /// longer given to it, the ones it has stay until it is shut down or they close.
    pub fn remove(&self, id: &str) -> Option<Arc<dyn ProtocolServer>> {
        let removed = self.update(|v| {
            let i = v.iter().position(|s| s.id() == id)?;
            Some(v.remove(i))
        });
        if removed.is_some() {
            tracing::info!(protocol = id, "protocol removed");
        }
        removed
    }

    /// The registered protocol ids, in detection order.
    pub fn protocols(&self) -> Vec<&'static str> {
        self.servers().iter().map(|s| s.id()).collect()
    }

    /// Connections closed on a shared port because no protocol claimed their first bytes
    /// (plaintext refused by [`TlsMode::Enforcing`](super::TlsMode::Enforcing) included).
    pub fn unclaimed(&self) -> u64 {
        self.inner.unclaimed.load(Ordering::Relaxed)
    }

    /// Connections closed because their TLS handshake or WebSocket upgrade failed or did
    /// not finish within the detection timeout (a client certificate refused, say).
    pub fn failed_setups(&self) -> u64 {
        self.inner.failed_setups.load(Ordering::Relaxed)
    }

    /// Listens on `addr`, shared by every registered protocol that has a detector, until
    /// [`shutdown`](Self::shutdown). Returns the bound address. Fails (`InvalidInput`, with
    /// a [`RegistryError::NoDetector`] inside) when a registered protocol has no detector
    /// and no port of its own.
    pub async fn bind(&self, addr: impl ToSocketAddrs) -> std::io::Result<SocketAddr> {
        self.listen(addr, None).await
    }

    /// Listens on `addr` for protocol `id` alone: every connection goes to the server
    /// registered for `id` when it arrives (closed if there is none), without detection.
    pub async fn bind_protocol(
        &self,
        id: &'static str,
        addr: impl ToSocketAddrs,
    ) -> std::io::Result<SocketAddr> {
        self.listen(addr, Some(id)).await
    }

    async fn listen(
        &self,
        addr: impl ToSocketAddrs,
        only: Option<&'static str>,
    ) -> std::io::Result<SocketAddr> {
        let (listener, local) = transport::tcp::listen(addr).await?;
        match only {
            Some(id) => self.ports().own.push(id),
            None => self.share()?,
        }
        match only {
            Some(id) => tracing::info!(addr = %local, protocol = id, "listening"),
            None => {
                tracing::info!(addr = %local, protocols = ?self.protocols(), "listening (shared)")
            }
        }
        let this = self.clone();
        self.inner.tracker.spawn(async move {
            let serve = |stream, peer: String| match only {
                Some(id) => match this.servers().iter().find(|s| s.id() == id) {
                    Some(s) => s.serve_tcp(stream, peer, BytesMut::new()),
                    None => tracing::debug!(%peer, id, "protocol not registered; closing"),
                },
                None => {
                    // Detection waits for the peer: it runs beside the accept loop.
                    let detecting = this.clone();
                    this.inner
                        .tracker
                        .spawn(async move { detecting.detect_and_serve(stream, peer).await });
                }
            };
            transport::tcp::accept(listener, &this.inner.shutdown, serve).await;
        });
        Ok(local)
    }

    async fn detect_and_serve(&self, mut stream: TcpStream, peer: String) {
        let layer = Layer::Outer(TransportKind::Tcp);
        match self.detect(&mut stream, &peer, layer).await {
            Some(Detected::Protocol(server, first)) => server.serve_tcp(stream, peer, first),
            Some(other) => self.dispatch(Box::new(stream), peer, layer, other).await,
            None => {}
        }
    }

    /// Detects what `io` carries (at `layer`) and serves it.
    pub(crate) fn route(&self, mut io: Box<dyn Io>, peer: String, layer: Layer) -> BoxFuture<()> {
        let this = self.clone();
        Box::pin(async move {
            if let Some(d) = this.detect(&mut io, &peer, layer).await {
                this.dispatch(io, peer, layer, d).await;
            }
        })
    }

    /// Serves `io`, whose first bytes detection read (at `layer`) and found to be `detected`.
    async fn dispatch(&self, io: Box<dyn Io>, peer: String, layer: Layer, detected: Detected) {
        match detected {
            Detected::Protocol(server, first) => server.serve_io(io, peer, layer.kind(), first),
            Detected::Upgrade(upgrade, first) => {
                upgrade.accept(self, io, first, peer, layer).await;
            }
        }
    }

    /// Detects the protocol of `io`, a message transport's stream (WebSocket), from its
    /// first messages: the server that claims it and the bytes read; `None` (the stream to
    /// be closed) when none does.
    #[cfg_attr(not(feature = "ws"), allow(dead_code))]
    pub(crate) async fn claim_message<S: AsyncRead + Unpin>(
        &self,
        io: &mut S,
        peer: &str,
    ) -> Option<(Arc<dyn ProtocolServer>, BytesMut)> {
        match self.detect(io, peer, Layer::Message).await {
            Some(Detected::Protocol(server, first)) => Some((server, first)),
            _ => None,
        }
    }

    /// Counts a connection closed because nobody claimed it (see [`unclaimed`](Self::unclaimed)).
    pub(crate) fn count_unclaimed(&self) {
        self.inner.unclaimed.fetch_add(1, Ordering::Relaxed);
    }

    /// Cancelled when the server shuts down.
    #[cfg_attr(not(feature = "h2"), allow(dead_code))]
    pub(crate) fn shutdown_token(&self) -> tokio_util::sync::CancellationToken {
        self.inner.shutdown.clone()
    }

    /// Runs a transport's set-up (a TLS or WebSocket handshake) within the detection
    /// timeout; `None` when it fails, times out or the server shuts down.
    #[cfg_attr(not(any(feature = "tls", feature = "ws")), allow(dead_code))]
    pub(crate) async fn setup<T, E: std::fmt::Display>(
        &self,
        what: &str,
        peer: &str,
        fut: impl std::future::Future<Output = Result<T, E>>,
    ) -> Option<T> {
        let timed = tokio::time::timeout(self.inner.config.detect_timeout, fut);
        let done = tokio::select! {
            _ = self.inner.shutdown.cancelled() => return None,
            r = timed => r,
        };
        let failed = match done {
            Ok(Ok(s)) => return Some(s),
            Ok(Err(e)) => e.to_string(),
            Err(_) => "timed out".to_string(),
        };
        self.inner.failed_setups.fetch_add(1, Ordering::Relaxed);
        tracing::debug!(%peer, error = %failed, "{what} failed; closing");
        None
    }

    /// Detects the protocol of `io`, a stream of any transport (`peer` names its other end
    /// in logs and request contexts), and hands it to the server that claims it; closes it
    /// when none does. Returns at once: detection runs on a task of its own.
    pub fn serve_io(&self, io: impl Io, peer: String) {
        let route = self.route(Box::new(io), peer, Layer::Outer(TransportKind::Stream));
        self.inner.tracker.spawn(route);
    }

    /// Listens on the Unix socket `path` (which must not exist), shared like
    /// [`bind`](Self::bind)'s port, until [`shutdown`](Self::shutdown). Fails as `bind`
    /// does when a registered protocol has no detector and no port of its own (before
    /// the socket is made).
    #[cfg(unix)]
    pub fn bind_unix(&self, path: impl AsRef<std::path::Path>) -> std::io::Result<()> {
        self.share()?;
        let (listener, name) = transport::unix::listen(path.as_ref())?;
        tracing::info!(path = %name, protocols = ?self.protocols(), "listening (shared)");
        let this = self.clone();
        self.inner.tracker.spawn(async move {
            let serve = |stream| {
                let layer = Layer::Outer(TransportKind::Unix);
                let route = this.route(Box::new(stream), name.clone(), layer);
                this.inner.tracker.spawn(route);
            };
            transport::unix::accept(listener, &this.inner.shutdown, serve).await;
        });
        Ok(())
    }

    /// Reads a connection's first bytes until a protocol claims them, or (at the layers
    /// where they may) they start a TLS session, a WebSocket upgrade or HTTP/2; `None` (the
    /// connection to be closed) when none does, plaintext is refused, the peer goes away,
    /// the detection timeout passes or the server shuts down.
    async fn detect<S: AsyncRead + Unpin>(
        &self,
        stream: &mut S,
        peer: &str,
        layer: Layer,
    ) -> Option<Detected> {
        let cfg = &self.inner.config;
        let deadline = tokio::time::Instant::now() + cfg.detect_timeout;
        let mut first = BytesMut::with_capacity(64);
        loop {
            let claimed = match self.upgrade_for(&first, layer) {
                Found::Upgrade(upgrade) => return Some(Detected::Upgrade(upgrade, first)),
                Found::Undecided => Claim::NeedMore,
                Found::Refused(why) => {
                    self.count_unclaimed();
                    tracing::debug!(%peer, "{why}; closing");
                    return None;
                }
                Found::Nothing => claim(&self.servers(), &first),
            };
            match claimed {
                Claim::Server(s) => return Some(Detected::Protocol(s, first)),
                Claim::NeedMore if first.len() < cfg.max_detect_bytes => {}
                _ => {
                    if let Some(s) = self.fallback() {
                        return Some(Detected::Protocol(s, first));
                    }
                    self.inner.unclaimed.fetch_add(1, Ordering::Relaxed);
                    let shown = &first[..first.len().min(16)];
                    tracing::debug!(%peer, first = ?shown, "no protocol claims the connection; closing");
                    return None;
                }
            }
            let want = cfg.max_detect_bytes - first.len();
            let read = async {
                let mut limited = (&mut *stream).take(want as u64);
                limited.read_buf(&mut first).await
            };
            let n = tokio::select! {
                _ = self.inner.shutdown.cancelled() => return None,
                r = tokio::time::timeout_at(deadline, read) => r,
            };
            match n {
                Ok(Ok(n)) if n > 0 => {}
                Ok(Ok(_)) | Ok(Err(_)) => return None,
                Err(_) => {
                    if let Some(s) = self.fallback() {
                        return Some(Detected::Protocol(s, first));
                    }
                    self.inner.unclaimed.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(%peer, bytes = first.len(), "detection timed out; closing");
                    return None;
                }
            }
        }
    }

    /// The server of the configured fallback protocol, when one is configured and registered.
    fn fallback(&self) -> Option<Arc<dyn ProtocolServer>> {
        let id = self.inner.config.fallback.as_deref()?;
        let found = self.servers().iter().find(|s| s.id() == id).cloned();
        if found.is_none() {
            tracing::debug!(id, "the fallback protocol is not registered");
        }
        found
    }

    /// Which transport `first`, read at `layer`, starts: the upgrades are asked in order,
    /// and the first that takes the bytes or refuses the connection decides.
    fn upgrade_for(&self, first: &[u8], layer: Layer) -> Found {
        if layer == Layer::Message {
            return Found::Nothing;
        }
        let mut found = Found::Nothing;
        for upgrade in &self.inner.upgrades {
            match upgrade.detect(first, layer) {
                Verdict::Yes => return Found::Upgrade(upgrade.clone()),
                Verdict::Undecided => found = Found::Undecided,
                Verdict::No => {}
                Verdict::Refuse(why) => return Found::Refused(why),
            }
        }
        found
    }

    /// Stops accepting on every port, then shuts down every registered server (each drains
    /// its connections, answering the requests it has read).
    pub async fn shutdown(&self) {
        tracing::info!(protocols = ?self.protocols(), "shutting down");
        self.inner.shutdown.cancel();
        self.inner.tracker.close();
        self.inner.tracker.wait().await;
        let servers = self.servers();
        futures_util::future::join_all(servers.iter().map(|s| s.shutdown())).await;
        tracing::info!("shut down");
    }
}

/// What detection found.
enum Detected {
    /// This server's protocol, with the bytes read.
    Protocol(Arc<dyn ProtocolServer>, BytesMut),
    /// A transport (TLS, WebSocket, HTTP/2) begins with these bytes.
    Upgrade(Arc<dyn Upgrade>, BytesMut),
}

/// Which transport the first bytes start.
enum Found {
    /// This one.
    Upgrade(Arc<dyn Upgrade>),
    /// One may, once more bytes have arrived.
    Undecided,
    /// None (they are a protocol's, or nobody's).
    Nothing,
    /// One refuses the connection, for this reason.
    Refused(&'static str),
}

/// What the first bytes decide.
enum Claim {
    /// This server's protocol claims them.
    Server(Arc<dyn ProtocolServer>),
    /// A protocol asked before any that claims them needs more bytes to tell.
    NeedMore,
    /// Nobody claims them.
    Nobody,
}

/// Asks the servers in order: the first that matches gets the connection, unless one
/// before it cannot tell yet.
fn claim(servers: &[Arc<dyn ProtocolServer>], first: &[u8]) -> Claim {
    for s in servers {
        match s.detect(first) {
            Some(Detection::Match) => return Claim::Server(s.clone()),
            Some(Detection::NeedMore(_)) => return Claim::NeedMore,
            Some(Detection::NoMatch) | None => {}
        }
    }
    Claim::Nobody
}
