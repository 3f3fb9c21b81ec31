//! [`RemotingClient`]: pooled connections per address, many requests in flight on each,
//! matched to responses by correlation id, with timeouts, backpressure and reconnect
//! backoff.

#[cfg(feature = "tls")]
use super::ClientTls;
use super::pipeline::{Deliveries, PipeRegistry, Route, RouteCache};
use super::queue::WriteQueue;
use super::transport::{self, Opened};
use super::{
    Hook, IdHash, Io, Metrics, MetricsSnapshot, RemotingError, RequestContext, Transport,
    TransportKind, next_connection_id,
};
use crate::codec::{Codec, FrameKind};
use crate::protocol::{HandshakeEvent, Negotiated, Protocol, RemotingFrame};
use bytes::BytesMut;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{Semaphore, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// What `invoke` does when the connection already has `max_in_flight` requests pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overload {
    /// Wait for a slot (within the call's timeout).
    #[default]
    Wait,
    /// Fail at once with [`RemotingError::TooManyInFlight`].
    FailFast,
}

/// Client limits, timeouts, transport and TLS. Loadable with serde (from TOML, say):
/// durations are written as `"3s"` or `"500ms"`, and fields left out keep their defaults.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientConfig {
    /// Time allowed to open a connection.
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
    /// Time allowed for the handshake.
    #[serde(with = "humantime_serde")]
    pub handshake_timeout: Duration,
    /// Requests pending per connection.
    pub max_in_flight: usize,
    /// Behaviour past `max_in_flight`.
    pub overload: Overload,
    /// Queued outbound bytes past which callers wait.
    pub write_high_water: usize,
    /// First delay after a failed connect; doubles per failure up to `backoff_max`.
    #[serde(with = "humantime_serde")]
    pub backoff_min: Duration,
    /// Longest delay between connect attempts.
    #[serde(with = "humantime_serde")]
    pub backoff_max: Duration,
    /// Versions offered in the handshake (default: the protocol's).
    pub versions: Option<(u32, u32)>,
    /// Feature bits offered.
    pub features: u64,
    /// TLS to the server (`None`: plaintext). In a file, `[tls]` with `ca`, `server_name`
    /// and optionally `cert` and `key` (PEM files, read as the configuration loads).
    #[cfg(feature = "tls")]
    #[serde(skip_serializing)]
    pub tls: Option<ClientTls>,
    /// What carries the frames over the connection (inside TLS when `tls` is set).
    pub transport: Transport,
    /// Ways to connect tried in order, each when the one before is refused or fails (a
    /// connection error, a TLS or WebSocket or HTTP/2 refusal, versions that do not
    /// overlap): h2 then ws then tcp, say, or version 3 then 2. Empty (the default): one
    /// attempt with `transport`, TLS when `tls` is set, and `versions`. See [`Negotiation`].
    pub fallback: Vec<Attempt>,
}

/// One way to connect that a client tries: a transport, inside TLS or not, offering some
/// versions (for protocols with a handshake). In TOML:
/// `{ transport = "http2", tls = true, versions = [3, 3] }`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Attempt {
    /// What carries the frames.
    #[serde(default)]
    pub transport: Transport,
    /// Inside TLS (with the client's `tls` settings).
    #[serde(default)]
    pub tls: bool,
    /// The versions offered (`None`: all the protocol speaks).
    #[serde(default)]
    pub versions: Option<(u32, u32)>,
}

impl Attempt {
    /// `transport`, without TLS, offering every version the protocol speaks.
    pub fn new(transport: Transport) -> Self {
        Attempt {
            transport,
            tls: false,
            versions: None,
        }
    }

    /// The same inside TLS.
    pub fn tls(mut self) -> Self {
        self.tls = true;
        self
    }

    /// Offering only `version`.
    pub fn version(mut self, version: u32) -> Self {
        self.versions = Some((version, version));
        self
    }
}

impl std::fmt::Display for Attempt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.transport.kind(self.tls))?;
        match self.versions {
            Some((lo, hi)) if lo == hi => write!(f, " v{lo}"),
            Some((lo, hi)) => write!(f, " v{lo}..={hi}"),
            None => Ok(()),
        }
    }
}

/// How a client settles the transport and version with its server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Negotiation {
    /// Fixed by the parameters: this transport and exactly this version; a server that does
    /// not speak it is an error. (Protocols without a handshake ignore the version.)
    Explicit(Attempt),
    /// The handshake picks the highest version both sides speak, over this transport (and
    /// TLS or not).
    Automatic {
        /// What carries the frames.
        transport: Transport,
        /// Inside TLS.
        tls: bool,
    },
    /// Each attempt in turn until one connects and agrees (e.g. h2, then ws, then tcp; or
    /// version 3, then 2).
    Fallback(Vec<Attempt>),
}

impl Negotiation {
    /// Sets `config` to negotiate this way.
    pub fn apply(self, config: &mut ClientConfig) {
        let attempts = match self {
            Negotiation::Explicit(a) => vec![a],
            Negotiation::Automatic { transport, tls } => vec![Attempt {
                transport,
                tls,
                versions: None,
            }],
            Negotiation::Fallback(list) => list,
        };
        config.fallback = attempts;
    }
}

impl Default for ClientConfig {
    fn default() -> Self {
        ClientConfig {
            connect_timeout: Duration::from_secs(3),
            handshake_timeout: Duration::from_secs(5),
            max_in_flight: 65_535,
            overload: Overload::Wait,
            write_high_water: 1 << 20,
            backoff_min: Duration::from_millis(50),
            backoff_max: Duration::from_secs(5),
            versions: None,
            features: u64::MAX,
            #[cfg(feature = "tls")]
            tls: None,
            transport: Transport::Tcp,
            fallback: Vec::new(),
        }
    }
}

struct Backoff {
    retry_at: Instant,
    delay: Duration,
}

struct Inner<P: Protocol> {
    proto: Arc<P>,
    config: ClientConfig,
    conns: RwLock<HashMap<String, Arc<ClientConnection<P>>>>,
    connecting: tokio::sync::Mutex<HashMap<String, Backoff>>,
    hooks: RwLock<Arc<Vec<Arc<dyn Hook<P>>>>>,
    metrics: Arc<Metrics>,
    /// [`RemotingClient::shutdown`] was called: no new connection opens.
    shut: std::sync::atomic::AtomicBool,
    /// The TLS settings with ALPN `h2` only, made on the first HTTP/2 connection over TLS.
    #[cfg(feature = "tls")]
    h2_tls: std::sync::OnceLock<Arc<super::tls::rustls::ClientConfig>>,
}

/// A client for protocol `P`, with a connection pool keyed by address. An address is
/// `host:port`, or `unix:<path>` for a Unix socket; TLS, WebSocket and HTTP/2 work over
/// either.
///
/// ```no_run
/// # async fn demo<P: polywire::protocol::Protocol>(proto: P, req: P::Frame) -> Result<(), polywire::rt::RemotingError> {
/// use polywire::rt::{ClientConfig, RemotingClient};
/// use std::time::Duration;
/// let client = RemotingClient::new(proto, ClientConfig::default());
/// let response = client.invoke("127.0.0.1:9876", req, Duration::from_secs(3)).await?;
/// # Ok(()) }
/// ```
pub struct RemotingClient<P: Protocol> {
    inner: Arc<Inner<P>>,
}

impl<P: Protocol> Clone for RemotingClient<P> {
    fn clone(&self) -> Self {
        RemotingClient {
            inner: self.inner.clone(),
        }
    }
}

impl<P: Protocol> RemotingClient<P> {
    /// A client; connections open on first use.
    pub fn new(proto: P, config: ClientConfig) -> Self {
        RemotingClient {
            inner: Arc::new(Inner {
                proto: Arc::new(proto),
                config,
                conns: RwLock::new(HashMap::new()),
                connecting: tokio::sync::Mutex::new(HashMap::new()),
                hooks: RwLock::new(Arc::new(Vec::new())),
                metrics: Arc::new(Metrics::default()),
                shut: std::sync::atomic::AtomicBool::new(false),
                #[cfg(feature = "tls")]
                h2_tls: std::sync::OnceLock::new(),
            }),
        }
    }

    /// The protocol.
    pub fn protocol(&self) -> &P {
        &self.inner.proto
    }

    /// Adds a hook run around every request of this client.
    pub fn add_hook(&self, hook: impl Hook<P>) {
        let mut g = self.inner.hooks.write().unwrap_or_else(|p| p.into_inner());
        let mut v = (**g).clone();
        v.push(Arc::new(hook));
        *g = Arc::new(v);
    }

    /// The client's counters.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.inner.metrics.snapshot()
    }

    /// Shuts the client down gracefully: new calls fail at once with
    /// [`RemotingError::Shutdown`], `invoke` calls in flight get their responses (waiting
    /// up to `grace`), then every pooled connection closes (what is still in flight then
    /// fails with `ConnectionClosed`). Pipelines are their owners': finish them first.
    ///
    /// Dropping the last handle of a client closes its connections at once, without
    /// waiting for calls in flight.
    pub async fn shutdown(&self, grace: Duration) {
        self.inner.shut.store(true, Ordering::Release);
        let conns: Vec<_> = {
            let mut g = self.inner.conns.write().unwrap_or_else(|p| p.into_inner());
            g.drain().map(|(_, c)| c).collect()
        };
        for c in &conns {
            c.draining.store(true, Ordering::Release);
        }
        let deadline = Instant::now() + grace;
        for c in &conns {
            c.drained_by(deadline).await;
        }
        for c in conns {
            c.close();
        }
    }

    /// Sends `request` to `addr` and waits for its response.
    pub async fn invoke(
        &self,
        addr: &str,
        request: P::Frame,
        timeout: Duration,
    ) -> Result<P::Frame, RemotingError> {
        let deadline = Instant::now() + timeout;
        // The pooled connection needs no timer; only opening one is bounded by the deadline.
        let conn = match self.pooled(addr) {
            Some(c) => c,
            // Boxed: the slow path would otherwise make every call's future larger.
            None => Box::pin(tokio::time::timeout_at(deadline, self.connection(addr)))
                .await
                .map_err(|_| RemotingError::Timeout {
                    addr: addr.to_string(),
                    timeout,
                })??,
        };
        conn.invoke_until(request, deadline, timeout).await
    }

    /// A [`Pipeline`](super::Pipeline) of up to `window` requests in flight on the pooled
    /// connection to `addr` (opened if needed), each failing after `timeout`.
    pub async fn pipeline(
        &self,
        addr: &str,
        window: usize,
        timeout: Duration,
    ) -> Result<super::Pipeline<P>, RemotingError> {
        self.connection(addr).await?.pipeline(window, timeout).await
    }

    /// Sends `request` to `addr` as a oneway request (no response).
    pub async fn invoke_oneway(&self, addr: &str, request: P::Frame) -> Result<(), RemotingError> {
        self.connection(addr).await?.invoke_oneway(request).await
    }

    /// The pooled connection to `addr`, opened (with handshake) if there is none or it
    /// closed. After a failed attempt, further attempts fail fast until the backoff delay
    /// has passed.
    pub async fn connection(&self, addr: &str) -> Result<Arc<ClientConnection<P>>, RemotingError> {
        if self.inner.shut.load(Ordering::Acquire) {
            return Err(RemotingError::Shutdown);
        }
        if let Some(c) = self.pooled(addr) {
            return Ok(c);
        }
        let mut connecting = self.inner.connecting.lock().await;
        if let Some(c) = self.pooled(addr) {
            return Ok(c);
        }
        if let Some(b) = connecting.get(addr)
            && Instant::now() < b.retry_at
        {
            return Err(RemotingError::Connect {
                addr: addr.to_string(),
                reason: format!(
                    "backing off after a failed attempt; next try in {:?}",
                    b.retry_at - Instant::now()
                ),
            });
        }
        let cfg = &self.inner.config;
        match self.open(addr).await {
            Ok(conn) => {
                connecting.remove(addr);
                self.inner
                    .conns
                    .write()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(addr.to_string(), conn.clone());
                Ok(conn)
            }
            res => {
                let delay = connecting
                    .get(addr)
                    .map_or(cfg.backoff_min, |b| (b.delay * 2).min(cfg.backoff_max));
                connecting.insert(
                    addr.to_string(),
                    Backoff {
                        retry_at: Instant::now() + delay,
                        delay,
                    },
                );
                res
            }
        }
    }

    fn pooled(&self, addr: &str) -> Option<Arc<ClientConnection<P>>> {
        let g = self.inner.conns.read().unwrap_or_else(|p| p.into_inner());
        g.get(addr).filter(|c| !c.is_closed()).cloned()
    }

    /// Opens a connection the first way that works: the configured transport, or each of
    /// `fallback` in turn.
    async fn open(&self, addr: &str) -> Result<Arc<ClientConnection<P>>, RemotingError> {
        let cfg = &self.inner.config;
        let single;
        let attempts = if cfg.fallback.is_empty() {
            #[cfg(feature = "tls")]
            let tls = cfg.tls.is_some();
            #[cfg(not(feature = "tls"))]
            let tls = false;
            single = [Attempt {
                transport: cfg.transport.clone(),
                tls,
                versions: cfg.versions,
            }];
            &single[..]
        } else {
            &cfg.fallback[..]
        };
        let mut failed = Vec::new();
        for attempt in attempts {
            let err = match tokio::time::timeout(cfg.connect_timeout, self.open_one(addr, attempt))
                .await
            {
                Ok(Ok(conn)) => return Ok(conn),
                Ok(Err(e)) => e,
                Err(_) => connect_failed(
                    addr,
                    format!("no connection within {:?}", cfg.connect_timeout),
                ),
            };
            tracing::debug!(%addr, attempt = %attempt, error = %err, "connection attempt failed");
            if attempts.len() == 1 {
                return Err(err);
            }
            failed.push(format!("{attempt}: {err}"));
        }
        Err(connect_failed(
            addr,
            format!("every attempt failed ({})", failed.join("; ")),
        ))
    }

    /// Opens a connection as `attempt` says: to the address (TCP or a Unix socket), then
    /// TLS if asked for, then the attempt's transport.
    async fn open_one(
        &self,
        addr: &str,
        attempt: &Attempt,
    ) -> Result<Arc<ClientConnection<P>>, RemotingError> {
        let opened = Opened::connect(addr)
            .await
            .map_err(|e| connect_failed(addr, e))?;
        let kind = attempt.transport.kind(attempt.tls);
        let stream = match opened {
            // The protocol's bytes on TCP: owned halves, no lock between reader and writer.
            Opened::Tcp(stream) if kind == TransportKind::Tcp => {
                let (rd, wr) = stream.into_split();
                return self.start(addr, rd, wr, kind, attempt.versions).await;
            }
            other => other.boxed(),
        };
        let stream = if attempt.tls {
            self.tls(addr, stream, &attempt.transport).await?
        } else {
            stream
        };
        let framing = super::Framing::of(self.inner.proto.clone());
        let io = attempt
            .transport
            .connect(stream, transport::authority(addr), attempt.tls, framing)
            .await
            .map_err(|e| connect_failed(addr, e))?;
        let (rd, wr) = tokio::io::split(io);
        self.start(addr, rd, wr, kind, attempt.versions).await
    }

    /// Starts TLS on `stream` for a connection of `transport` (HTTP/2 asks for ALPN `h2`).
    #[cfg(feature = "tls")]
    async fn tls(
        &self,
        addr: &str,
        stream: Box<dyn Io>,
        transport: &Transport,
    ) -> Result<Box<dyn Io>, RemotingError> {
        let Some(tls) = &self.inner.config.tls else {
            return Err(connect_failed(addr, "TLS asked for, but no TLS settings"));
        };
        let config = if *transport == Transport::Http2 {
            self.inner.h2_tls.get_or_init(|| tls.h2_config()).clone()
        } else {
            tls.config.clone()
        };
        super::tls::connect(stream, config, tls.server_name.clone())
            .await
            .map_err(|e| connect_failed(addr, e))
    }

    /// TLS is not built in: an attempt inside TLS fails.
    #[cfg(not(feature = "tls"))]
    async fn tls(
        &self,
        addr: &str,
        _stream: Box<dyn Io>,
        _transport: &Transport,
    ) -> Result<Box<dyn Io>, RemotingError> {
        Err(connect_failed(
            addr,
            "TLS is not built in (polywire's `tls` feature)",
        ))
    }

    /// Negotiates (for protocols with a handshake) over a connected stream and starts the
    /// connection's reader, writer and timeout sweeper.
    async fn start<R, W>(
        &self,
        addr: &str,
        mut rd: R,
        mut wr: W,
        transport: TransportKind,
        versions: Option<(u32, u32)>,
    ) -> Result<Arc<ClientConnection<P>>, RemotingError>
    where
        R: AsyncRead + Send + Unpin + 'static,
        W: AsyncWrite + Send + Unpin + 'static,
    {
        let cfg = &self.inner.config;
        // No read buffer while the connection waits: see `Inbound`.
        let mut input = super::Inbound::new(BytesMut::new());
        let proto = self.inner.proto.clone();
        let negotiated = match proto.handshake() {
            None => None,
            Some(hs) => {
                let (min, max) = versions.unwrap_or_else(|| hs.versions());
                let mut hello = BytesMut::new();
                hs.client_hello(min, max, cfg.features, &mut hello)?;
                let handshake = async {
                    wr.write_all(&hello).await?;
                    // Message transports send the hello as one message when flushed.
                    wr.flush().await?;
                    loop {
                        match hs.client_read_reply(&mut input.buf)? {
                            HandshakeEvent::NeedMore => {}
                            // The server must pick one of the versions offered.
                            HandshakeEvent::Done(n) if !(min..=max).contains(&n.version) => {
                                return Err(RemotingError::Handshake {
                                    addr: addr.to_string(),
                                    reason: format!(
                                        "server chose version {}, we offered {min}..={max}",
                                        n.version
                                    ),
                                });
                            }
                            HandshakeEvent::Done(n) => return Ok(n),
                            HandshakeEvent::Rejected {
                                min: smin,
                                max: smax,
                            } => {
                                return Err(RemotingError::Handshake {
                                    addr: addr.to_string(),
                                    reason: format!(
                                        "server speaks versions {smin}..={smax}, we offered {min}..={max}"
                                    ),
                                });
                            }
                        }
                        if std::future::poll_fn(|cx| input.poll_read(&mut rd, cx)).await? == 0 {
                            return Err(RemotingError::ConnectionClosed {
                                addr: addr.to_string(),
                            });
                        }
                    }
                };
                Some(
                    tokio::time::timeout(cfg.handshake_timeout, handshake)
                        .await
                        .map_err(|_| RemotingError::Handshake {
                            addr: addr.to_string(),
                            reason: "timed out".into(),
                        })??,
                )
            }
        };
        let conn = Arc::new(ClientConnection {
            addr: addr.to_string(),
            ctx: RequestContext {
                peer: addr.into(),
                protocol: proto.id(),
                transport,
                negotiated,
                connection_id: next_connection_id(),
            },
            codec: proto.codec(),
            proto,
            q: Arc::new(WriteQueue::new(
                cfg.write_high_water,
                self.inner.metrics.clone(),
            )),
            pending: Mutex::new(PendingTable::default()),
            pipes: PipeRegistry::default(),
            next_id: AtomicU64::new(1),
            permits: Arc::new(Semaphore::new(cfg.max_in_flight)),
            max_in_flight: cfg.max_in_flight,
            overload: cfg.overload,
            closed: CancellationToken::new(),
            closed_flag: std::sync::atomic::AtomicBool::new(false),
            hooks: self
                .inner
                .hooks
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
            metrics: self.inner.metrics.clone(),
            sweeper: Arc::new(tokio::sync::Notify::new()),
            sweeper_parked: std::sync::atomic::AtomicBool::new(false),
            sweeps: AtomicU64::new(0),
            draining: std::sync::atomic::AtomicBool::new(false),
            drained: tokio::sync::Notify::new(),
        });
        self.inner.metrics.conn_opened();
        // The tasks hold the connection weakly: it lives while the client's pool or a user's
        // handle (a `ClientConnection`, a `Pipeline`) holds it, and closes when the last
        // goes (see `Drop`), which ends the tasks.
        {
            let q = conn.q.clone();
            let weak = Arc::downgrade(&conn);
            let addr = conn.addr.clone();
            tokio::spawn(async move {
                if let Err(e) = q.run_writer(wr).await {
                    tracing::debug!(%addr, error = %e, "write failed");
                }
                if let Some(conn) = weak.upgrade() {
                    conn.close();
                }
            });
        }
        {
            let weak = Arc::downgrade(&conn);
            let closed = conn.closed.clone();
            tokio::spawn(read_loop(weak, closed, rd, input));
        }
        {
            let conn = Arc::downgrade(&conn);
            tokio::spawn(async move {
                loop {
                    let Some(c) = conn.upgrade() else { return };
                    if c.is_closed() {
                        return;
                    }
                    // Armed only while calls wait: an idle connection costs no wake-ups.
                    if c.sweep(Instant::now()) {
                        let idle = c.sweeper.clone();
                        drop(c);
                        idle.notified().await;
                    } else {
                        drop(c);
                        tokio::time::sleep(SWEEP).await;
                    }
                }
            });
        }
        Ok(conn)
    }
}

/// A failed connection attempt to `addr`.
fn connect_failed(addr: &str, reason: impl std::fmt::Display) -> RemotingError {
    RemotingError::Connect {
        addr: addr.to_string(),
        reason: reason.to_string(),
    }
}

/// How often a connection looks for requests past their deadline: timeouts fire up to this
/// late. (RocketMQ's Java client scans once a second.)
const SWEEP: Duration = Duration::from_millis(5);

/// The response did not arrive before the deadline.
pub(super) struct Expired;

/// An `invoke` call waiting for its response. (A [`Pipeline`](super::Pipeline) keeps its
/// own requests; responses reach it by their id's block.)
pub(super) struct Pending<F> {
    pub(super) waiter: oneshot::Sender<Result<F, Expired>>,
    pub(super) deadline: Instant,
}

/// What a connection's reader looks up under one lock per read: the `invoke` calls waiting
/// by correlation id (sequential ids are their own hash) and the pipelines' id blocks.
pub(super) struct PendingTable<F> {
    pub(super) calls: HashMap<u64, Pending<F>, IdHash>,
    pub(super) routes: Vec<Route>,
}

impl<F> Default for PendingTable<F> {
    fn default() -> Self {
        PendingTable {
            calls: HashMap::default(),
            routes: Vec::new(),
        }
    }
}

/// One open connection of a [`RemotingClient`].
pub struct ClientConnection<P: Protocol> {
    pub(super) addr: String,
    pub(super) ctx: RequestContext,
    pub(super) proto: Arc<P>,
    pub(super) codec: P::Codec,
    pub(super) q: Arc<WriteQueue>,
    pub(super) pending: Mutex<PendingTable<P::Frame>>,
    /// The open pipelines and the id blocks they own.
    pub(super) pipes: PipeRegistry<P::Frame>,
    pub(super) next_id: AtomicU64,
    pub(super) permits: Arc<Semaphore>,
    pub(super) max_in_flight: usize,
    pub(super) overload: Overload,
    pub(super) closed: CancellationToken,
    /// Set once, first thing in `close` (cheaper to read than the token).
    pub(super) closed_flag: std::sync::atomic::AtomicBool,
    pub(super) hooks: Arc<Vec<Arc<dyn Hook<P>>>>,
    pub(super) metrics: Arc<Metrics>,
    /// Wakes the timeout sweeper, parked while no call waits (see [`Self::sweep`]).
    pub(super) sweeper: Arc<tokio::sync::Notify>,
    /// Set by the sweeper before it parks; the call that finds it set wakes the sweeper.
    pub(super) sweeper_parked: std::sync::atomic::AtomicBool,
    /// Times the sweeper has looked at the pending table.
    pub(super) sweeps: AtomicU64,
    /// Shutting down: calls in flight finish, new ones fail.
    pub(super) draining: std::sync::atomic::AtomicBool,
    /// Told when a draining connection's last `invoke` call completes (or it closes).
    drained: tokio::sync::Notify,
}

/// The last handle gone (the client's pool, `ClientConnection`s and `Pipeline`s held by
/// users): the connection closes, which ends its reader, writer and sweeper.
impl<P: Protocol> Drop for ClientConnection<P> {
    fn drop(&mut self) {
        self.close();
    }
}

impl<P: Protocol> ClientConnection<P> {
    /// The negotiated version, when the protocol has a handshake.
    pub fn negotiated(&self) -> Option<Negotiated> {
        self.ctx.negotiated
    }

    /// What carries the connection: `tcp`, `tls`, `ws`, `wss`, `h2c` or `h2`.
    pub fn transport(&self) -> TransportKind {
        self.ctx.transport
    }

    /// True once the connection has closed.
    pub fn is_closed(&self) -> bool {
        self.closed_flag.load(Ordering::Acquire)
    }

    /// `invoke` calls waiting for their response (requests of a pipeline are counted by
    /// its [`outstanding`](super::Pipeline::outstanding)).
    pub fn pending(&self) -> usize {
        self.lock_pending().calls.len()
    }

    /// Shuts the connection down gracefully: new calls fail with
    /// [`RemotingError::Shutdown`], `invoke` calls in flight get their responses (waiting
    /// up to `grace`), then it closes.
    pub async fn shutdown(&self, grace: Duration) {
        self.draining.store(true, Ordering::Release);
        self.drained_by(Instant::now() + grace).await;
        self.close();
    }

    /// Waits until no `invoke` call is in flight, or `deadline`: woken by the call that
    /// leaves the table empty (see [`left`](Self::left)), not by polling.
    async fn drained_by(&self, deadline: Instant) {
        loop {
            // Registered before looking, so that a call completing in between is not missed.
            let told = self.drained.notified();
            tokio::pin!(told);
            told.as_mut().enable();
            if self.pending() == 0 || self.is_closed() {
                return;
            }
            tokio::select! {
                _ = told => {}
                _ = tokio::time::sleep_until(deadline) => return,
            }
        }
    }

    /// Called after calls left the pending table, with how many are still in it: tells a
    /// shutdown waiting for the last one (an atomic load otherwise).
    fn left(&self, still_pending: usize) {
        if still_pending == 0 && self.draining.load(Ordering::Acquire) {
            self.drained.notify_waiters();
        }
    }

    /// Takes call `id` out of the pending table (it failed before it was sent).
    fn forget(&self, id: u64) {
        let mut table = self.lock_pending();
        table.calls.remove(&id);
        let left = table.calls.len();
        drop(table);
        self.left(left);
    }

    /// How many times the timeout sweeper has woken up. It runs every few milliseconds
    /// while `invoke` calls wait and not at all while none does: an idle connection costs
    /// no wake-ups.
    pub fn sweeps(&self) -> u64 {
        self.sweeps.load(Ordering::Relaxed)
    }

    pub(super) fn lock_pending(&self) -> std::sync::MutexGuard<'_, PendingTable<P::Frame>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Closes the connection; pending requests fail with `ConnectionClosed`.
    pub fn close(&self) {
        if !self.closed_flag.swap(true, Ordering::AcqRel) {
            self.closed.cancel();
            self.q.close();
            // Calls see their sender dropped (after the lock); pipelines are told, and fail
            // what they have in flight.
            let calls: Vec<_> = self.lock_pending().calls.drain().collect();
            drop(calls);
            self.drained.notify_waiters();
            self.pipes.close_all();
            self.metrics.conn_closed();
        }
    }

    pub(super) fn closed_error(&self) -> RemotingError {
        RemotingError::ConnectionClosed {
            addr: self.addr.clone(),
        }
    }

    /// Sends `request` and waits up to `timeout` for its response.
    pub async fn invoke(
        &self,
        request: P::Frame,
        timeout: Duration,
    ) -> Result<P::Frame, RemotingError> {
        self.invoke_until(request, Instant::now() + timeout, timeout)
            .await
    }

    async fn invoke_until(
        &self,
        mut req: P::Frame,
        deadline: Instant,
        timeout: Duration,
    ) -> Result<P::Frame, RemotingError> {
        let timed_out = || RemotingError::Timeout {
            addr: self.addr.clone(),
            timeout,
        };
        if self.draining.load(Ordering::Acquire) {
            return Err(RemotingError::Shutdown);
        }
        // Fast paths first: a free slot and room in the write queue need no timer.
        let _permit = match (self.permits.try_acquire(), self.overload) {
            (Ok(p), _) => p,
            (Err(_), Overload::FailFast) => {
                return Err(RemotingError::TooManyInFlight {
                    addr: self.addr.clone(),
                    limit: self.max_in_flight,
                });
            }
            (Err(_), Overload::Wait) => {
                Box::pin(tokio::time::timeout_at(deadline, self.permits.acquire()))
                    .await
                    .map_err(|_| timed_out())?
                    .map_err(|_| self.closed_error())?
            }
        };
        if !self.q.has_space() {
            Box::pin(tokio::time::timeout_at(deadline, self.q.wait_for_space()))
                .await
                .map_err(|_| timed_out())?;
        }
        for h in self.hooks.iter() {
            h.before(&self.ctx, &mut req)
                .map_err(RemotingError::Refused)?;
        }
        let code = req.code();
        req.set_kind(FrameKind::Request);
        req.set_correlation_id(self.next_id.fetch_add(1, Ordering::Relaxed));
        // Key by the id as the frame carries it (narrow id fields truncate).
        let id = req.correlation_id();
        let (tx, rx) = oneshot::channel();
        self.lock_pending().calls.insert(
            id,
            Pending {
                waiter: tx,
                deadline,
            },
        );
        // The sweeper parked on an empty table (it sets the flag before it looks, under the
        // table's lock): this call needs it again.
        if self.sweeper_parked.load(Ordering::Acquire)
            && self.sweeper_parked.swap(false, Ordering::AcqRel)
        {
            self.sweeper.notify_one();
        }
        // `close` cancels, then drains the table: an entry inserted after the drain would
        // never complete, so look again now that it is in.
        if self.is_closed() {
            self.forget(id);
            return Err(self.closed_error());
        }
        let mut codec = self.codec.clone();
        match self.q.push(|b| codec.encode(&req, b)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => {
                self.forget(id);
                return Err(e.into());
            }
            Err(_) => {
                self.forget(id);
                return Err(self.closed_error());
            }
        }
        self.metrics.request();
        // The deadline was computed from the call's start: no second clock read.
        let start = deadline - timeout;
        // No timer per call: the connection's sweeper fails entries past their deadline.
        match rx.await {
            Ok(Ok(resp)) => {
                let error = !self.proto.is_success(&resp);
                self.metrics.response(start.elapsed(), error);
                for h in self.hooks.iter() {
                    h.after(&self.ctx, code, Some(&resp));
                }
                Ok(resp)
            }
            Ok(Err(Expired)) => {
                self.metrics.error();
                Err(timed_out())
            }
            Err(_) => {
                self.metrics.error();
                Err(self.closed_error())
            }
        }
    }

    /// Fails every pending request whose deadline is before `now`. Returns true when no
    /// call is left waiting: the sweeper then parks until a call wakes it.
    fn sweep(&self, now: Instant) -> bool {
        self.sweeps.fetch_add(1, Ordering::Relaxed);
        // Set before looking: a call that inserts after this look sees the flag and wakes
        // the sweeper; one that inserted before is seen by the look.
        self.sweeper_parked.store(true, Ordering::Release);
        let mut pending = self.lock_pending();
        if pending.calls.is_empty() {
            return true;
        }
        self.sweeper_parked.store(false, Ordering::Release);
        // Removes in place: no allocation per tick.
        for (_, p) in pending.calls.extract_if(|_, p| p.deadline <= now) {
            let _ = p.waiter.send(Err(Expired));
        }
        let left = pending.calls.len();
        drop(pending);
        self.left(left);
        false
    }

    /// Sends `request` as oneway: no response, no timeout tracking.
    pub async fn invoke_oneway(&self, mut req: P::Frame) -> Result<(), RemotingError> {
        if self.draining.load(Ordering::Acquire) {
            return Err(RemotingError::Shutdown);
        }
        if !self.q.has_space() {
            self.q.wait_for_space().await;
        }
        for h in self.hooks.iter() {
            h.before(&self.ctx, &mut req)
                .map_err(RemotingError::Refused)?;
        }
        req.set_kind(FrameKind::Oneway);
        req.set_correlation_id(self.next_id.fetch_add(1, Ordering::Relaxed));
        let mut codec = self.codec.clone();
        match self.q.push(|b| codec.encode(&req, b)) {
            Ok(Ok(())) => {
                self.metrics.request();
                Ok(())
            }
            Ok(Err(e)) => Err(e.into()),
            Err(_) => Err(self.closed_error()),
        }
    }
}

/// A connection's reader: hands each response to its caller or pipeline. It holds the
/// connection only while it works on a read, so that dropping the last handle closes it.
async fn read_loop<P: Protocol, R: AsyncRead + Unpin>(
    weak: std::sync::Weak<ClientConnection<P>>,
    closed: CancellationToken,
    mut rd: R,
    mut input: super::Inbound,
) {
    let Some((mut codec, metrics)) = weak.upgrade().map(|c| (c.codec.clone(), c.metrics.clone()))
    else {
        return;
    };
    // Kept from read to read so that handing responses over allocates nothing.
    let mut staged = Vec::new();
    let mut routes = RouteCache::default();
    // One waiter for the connection's life, not one per read.
    let closed = closed.cancelled();
    tokio::pin!(closed);
    loop {
        let Some(conn) = weak.upgrade() else { return };
        // Responses for pipelines are handed over once per read, not once per frame.
        let mut out = Deliveries::with_buffer(&conn.pipes, &conn.metrics, staged);
        // The pending table is locked once per read, not once per frame (in a block: the
        // guard must be gone before the next await).
        let undecodable = {
            let mut pending = None;
            let mut take = |frame: P::Frame| {
                if frame.kind() != FrameKind::Response {
                    tracing::debug!(addr = %conn.addr, "request from the server ignored");
                    return;
                }
                let id = frame.correlation_id();
                if let Some(pipe) = routes.hit(id, &conn.pipes) {
                    out.add(pipe, id, frame);
                    return;
                }
                let table = pending.get_or_insert_with(|| conn.lock_pending());
                if let Some(pipe) = routes.lookup(id, &conn.pipes, &table.routes) {
                    out.add(pipe, id, frame);
                    return;
                }
                match table.calls.remove(&id) {
                    Some(p) => {
                        let _ = p.waiter.send(Ok(frame));
                        conn.left(table.calls.len());
                    }
                    None => conn.metrics.late(),
                }
            };
            loop {
                match codec.decode_batch(&mut input.buf, usize::MAX, &mut take) {
                    Ok(0) => break false,
                    Ok(_) => {}
                    Err(e) => {
                        tracing::warn!(addr = %conn.addr, error = %e, "undecodable frame from server; closing");
                        break true;
                    }
                }
            }
        };
        out.flush();
        staged = out.into_buffer();
        if undecodable {
            conn.close();
            return;
        }
        drop(conn);
        if input.short() {
            // The frames just handed over still share the buffer: let their takers run
            // first, so that the buffer can usually be reused in place (hot in cache)
            // instead of replaced by a new allocation.
            tokio::task::yield_now().await;
        }
        input.fair_turn().await;
        // An idle connection waits without a read buffer (`Inbound` gives it back).
        let n = tokio::select! {
            r = std::future::poll_fn(|cx| input.poll_read(&mut rd, cx)) => r,
            _ = &mut closed => return,
        };
        match n {
            Ok(0) | Err(_) => break,
            Ok(n) => metrics.bytes_in(n),
        }
    }
    if let Some(conn) = weak.upgrade() {
        conn.close();
    }
}
