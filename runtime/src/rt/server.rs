//! [`RemotingServer`]: accepts connections, runs processors by request code, answers
//! unknown codes with the protocol's "not supported" response, drains on shutdown.

use super::metrics::TransportMetrics;
use super::queue::WriteQueue;
use super::{
    BoxFuture, Hook, IdHash, Metrics, MetricsSnapshot, RequestContext, TransportKind,
    next_connection_id,
};
use crate::codec::{Codec, FrameKind};
use crate::protocol::{ErrorStatus, HandshakeEvent, Negotiated, Protocol, RemotingFrame};
use bytes::BytesMut;
use futures_util::StreamExt;
use futures_util::stream::FuturesUnordered;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::ToSocketAddrs;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Why a processor failed; the peer gets a system-error response with this text, or, when
/// it is a [`Status`](crate::Status) of the protocol's `responses`, that status and its
/// message.
pub type ProcessError = Box<dyn std::error::Error + Send + Sync>;

/// What a processor gives back for one request.
pub enum Reply<F> {
    /// The response is ready: no future, no allocation, answered in the same pass.
    Now(Result<F, ProcessError>),
    /// The response comes later: the connection polls the future (once at once, then
    /// when it wakes) and answers when it finishes.
    Later(BoxFuture<Result<F, ProcessError>>),
}

/// Handles the requests of one or more codes.
///
/// An `async` closure `Fn(RequestContext, P::Frame) -> impl Future` is a processor; a plain
/// function that answers at once is one when wrapped in [`Immediate`] (no future and no
/// allocation per request).
pub trait Processor<P: Protocol>: Send + Sync + 'static {
    /// Produces the response to `request` (ignored for oneway requests). The runtime sets the
    /// response's correlation id and kind.
    fn process(&self, ctx: &RequestContext, request: P::Frame) -> Reply<P::Frame>;
}

impl<P, F, Fut> Processor<P> for F
where
    P: Protocol,
    F: Fn(RequestContext, P::Frame) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<P::Frame, ProcessError>> + Send + 'static,
{
    fn process(&self, ctx: &RequestContext, request: P::Frame) -> Reply<P::Frame> {
        Reply::Later(Box::pin(self(ctx.clone(), request)))
    }
}

/// A processor that answers at once: `Immediate(|ctx: &RequestContext, request| ...)`
/// returns the response (or an error) without a future. For handlers that do not wait on
/// anything, like most of RocketMQ's request processors; slow or blocking ones belong on
/// an executor ([`RemotingServer::register_processor_on`]).
pub struct Immediate<F>(pub F);

impl<P, F> Processor<P> for Immediate<F>
where
    P: Protocol,
    F: Fn(&RequestContext, P::Frame) -> Result<P::Frame, ProcessError> + Send + Sync + 'static,
{
    fn process(&self, ctx: &RequestContext, request: P::Frame) -> Reply<P::Frame> {
        Reply::Now((self.0)(ctx, request))
    }
}

/// Server limits and timeouts. Loadable with serde (from TOML, say): durations are written
/// as `"120s"` or `"500ms"`, and fields left out keep their defaults.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Connections served at once; more are closed on accept.
    pub max_connections: usize,
    /// Requests processed at once per connection; past it the connection is not read.
    pub max_in_flight: usize,
    /// A connection with no inbound bytes for this long is closed.
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// Time allowed for the handshake.
    #[serde(with = "humantime_serde")]
    pub handshake_timeout: Duration,
    /// Queued outbound bytes past which the connection stops reading (backpressure).
    pub write_high_water: usize,
    /// How long [`RemotingServer::shutdown`] waits for in-flight requests.
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
    /// Versions spoken, for protocols with a handshake (default: the protocol's).
    pub versions: Option<(u32, u32)>,
    /// Feature bits supported.
    pub features: u64,
    /// Worker threads of this server's own business executor. When above 0, every
    /// processor registered without an executor of its own runs there, so that processors
    /// that are slow or block hold up neither the I/O threads nor other protocols' requests.
    /// 0 (the default) runs processors on the connection's task: the fastest for
    /// processors that answer at once.
    pub executor_threads: usize,
    /// A bounded pool instead (when `executor_threads` is 0): this server's processors run
    /// on the shared runtime's blocking threads, at most this many at once; the others wait
    /// their turn. 0 (the default): no pool.
    pub pool_size: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            max_connections: 10_000,
            max_in_flight: 1024,
            idle_timeout: Duration::from_secs(120),
            handshake_timeout: Duration::from_secs(5),
            write_high_water: 1 << 20,
            shutdown_timeout: Duration::from_secs(30),
            versions: None,
            features: u64::MAX,
            executor_threads: 0,
            pool_size: 0,
        }
    }
}

/// A server's own business executor (see [`ServerConfig::executor_threads`] and
/// [`ServerConfig::pool_size`]).
enum Executor {
    /// A runtime of its own.
    Threads {
        runtime: Option<tokio::runtime::Runtime>,
        handle: tokio::runtime::Handle,
    },
    /// The shared runtime's blocking threads, this many permits at a time.
    Pool(Arc<Semaphore>),
}

impl Executor {
    fn threads(threads: usize, name: &str) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name(format!("{name}-exec"))
            .enable_all()
            .build()?;
        Ok(Executor::Threads {
            handle: runtime.handle().clone(),
            runtime: Some(runtime),
        })
    }
}

impl Drop for Executor {
    fn drop(&mut self) {
        // The last handle to a server may go away on an async task, where a runtime may not
        // block to shut down.
        if let Executor::Threads { runtime, .. } = self
            && let Some(rt) = runtime.take()
        {
            rt.shutdown_background();
        }
    }
}

/// Codes below this are looked up by index (see `Table::dense`).
const DENSE_CODES: usize = 1024;

struct Registered<P: Protocol> {
    processor: Arc<dyn Processor<P>>,
    executor: Option<tokio::runtime::Handle>,
}

impl<P: Protocol> Clone for Registered<P> {
    fn clone(&self) -> Self {
        Registered {
            processor: self.processor.clone(),
            executor: self.executor.clone(),
        }
    }
}

struct Table<P: Protocol> {
    by_code: HashMap<i64, Registered<P>, IdHash>,
    /// The processors of codes below [`DENSE_CODES`], indexed by code (a copy of those
    /// entries of `by_code`): most protocols' codes are small, and an index is cheaper
    /// than a hash lookup per request.
    dense: Vec<Option<Registered<P>>>,
    default: Option<Registered<P>>,
    hooks: Vec<Arc<dyn Hook<P>>>,
}

impl<P: Protocol> Clone for Table<P> {
    fn clone(&self) -> Self {
        Table {
            by_code: self.by_code.clone(),
            dense: self.dense.clone(),
            default: self.default.clone(),
            hooks: self.hooks.clone(),
        }
    }
}

struct Inner<P: Protocol> {
    proto: Arc<P>,
    config: ServerConfig,
    // Each connection takes a snapshot when it opens: registrations apply to new
    // connections, open ones keep the table they started with.
    table: RwLock<Arc<Table<P>>>,
    metrics: TransportMetrics,
    connections: Arc<Semaphore>,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    /// Passes with input in them, made by all connections (see [`ALONE_PIECES`]).
    passes: AtomicU64,
    /// Where processors without an executor of their own run, if not on the connection.
    executor: Option<Executor>,
    /// The protocol's frame boundaries, for message transports (made once).
    framing: super::Framing,
}

impl<P: Protocol> Inner<P> {
    /// The versions this server speaks, for a protocol with handshake `hs`.
    fn versions(&self, hs: &dyn crate::protocol::Handshake) -> (u32, u32) {
        self.config.versions.unwrap_or_else(|| hs.versions())
    }
}

/// A server for protocol `P`.
///
/// ```no_run
/// # async fn demo<P: polywire::protocol::Protocol>(proto: P) -> std::io::Result<()> {
/// use polywire::rt::{RemotingServer, ServerConfig};
/// let server = RemotingServer::new(proto, ServerConfig::default());
/// server.register_processor(1, |_ctx, request| async move { Ok(request) }); // echo
/// let addr = server.bind("127.0.0.1:0").await?;
/// // ... later
/// server.shutdown().await;
/// # Ok(()) }
/// ```
pub struct RemotingServer<P: Protocol> {
    inner: Arc<Inner<P>>,
}

impl<P: Protocol> Clone for RemotingServer<P> {
    fn clone(&self) -> Self {
        RemotingServer {
            inner: self.inner.clone(),
        }
    }
}

impl<P: Protocol> RemotingServer<P> {
    /// A server for `proto`; nothing runs until [`bind`](Self::bind) or
    /// [`serve_stream`](Self::serve_stream).
    ///
    /// # Panics
    ///
    /// If `config.executor_threads` is above 0 and the threads cannot be started.
    pub fn new(proto: P, config: ServerConfig) -> Self {
        let executor = if config.executor_threads > 0 {
            Some(
                Executor::threads(config.executor_threads, proto.id())
                    .unwrap_or_else(|e| panic!("starting the business executor: {e}")),
            )
        } else if config.pool_size > 0 {
            Some(Executor::Pool(Arc::new(Semaphore::new(config.pool_size))))
        } else {
            None
        };
        let proto = Arc::new(proto);
        RemotingServer {
            inner: Arc::new(Inner {
                framing: super::Framing::of(proto.clone()),
                proto,
                connections: Arc::new(Semaphore::new(config.max_connections)),
                config,
                table: RwLock::new(Arc::new(Table {
                    by_code: HashMap::default(),
                    dense: Vec::new(),
                    default: None,
                    hooks: Vec::new(),
                })),
                metrics: TransportMetrics::default(),
                shutdown: CancellationToken::new(),
                tracker: TaskTracker::new(),
                passes: AtomicU64::new(0),
                executor,
            }),
        }
    }

    fn update(&self, f: impl FnOnce(&mut Table<P>)) {
        let mut g = self.inner.table.write().unwrap_or_else(|p| p.into_inner());
        let mut t = (**g).clone();
        f(&mut t);
        let len = t
            .by_code
            .keys()
            .filter_map(|&c| usize::try_from(c).ok().filter(|&c| c < DENSE_CODES))
            .max()
            .map_or(0, |c| c + 1);
        t.dense = (0..len)
            .map(|c| t.by_code.get(&(c as i64)).cloned())
            .collect();
        *g = Arc::new(t);
    }

    /// Handles `code` with `processor`, run on the connection's task.
    pub fn register_processor(&self, code: i64, processor: impl Processor<P>) {
        self.register(code, Arc::new(processor), None);
    }

    /// Handles `code` with `processor`, run on `executor` (e.g. a dedicated runtime's
    /// handle), so that slow or blocking work does not hold up the I/O threads.
    pub fn register_processor_on(
        &self,
        code: i64,
        processor: impl Processor<P>,
        executor: tokio::runtime::Handle,
    ) {
        self.register(code, Arc::new(processor), Some(executor));
    }

    /// Registers an already shared processor.
    pub fn register(
        &self,
        code: i64,
        processor: Arc<dyn Processor<P>>,
        executor: Option<tokio::runtime::Handle>,
    ) {
        self.update(|t| {
            t.by_code.insert(
                code,
                Registered {
                    processor,
                    executor,
                },
            );
        });
    }

    /// Handles every code without a processor (instead of the "not supported" response).
    pub fn set_default_processor(&self, processor: impl Processor<P>) {
        self.update(|t| {
            t.default = Some(Registered {
                processor: Arc::new(processor),
                executor: None,
            })
        });
    }

    /// Adds a hook run around every request.
    pub fn add_hook(&self, hook: impl Hook<P>) {
        self.update(|t| t.hooks.push(Arc::new(hook)));
    }

    /// The server's counters.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.inner.metrics.total()
    }

    /// The server's counters for each transport its connections have come in on.
    pub fn metrics_by_transport(&self) -> Vec<(TransportKind, MetricsSnapshot)> {
        self.inner.metrics.by_transport()
    }

    /// The settings it was made with.
    pub fn config(&self) -> &ServerConfig {
        &self.inner.config
    }

    /// The protocol served.
    pub fn protocol(&self) -> &P {
        &self.inner.proto
    }

    /// Listens on `addr` and serves until [`shutdown`](Self::shutdown). Returns the bound
    /// address (useful with port 0).
    pub async fn bind(&self, addr: impl ToSocketAddrs) -> std::io::Result<SocketAddr> {
        let (listener, local) = super::transport::tcp::listen(addr).await?;
        tracing::info!(protocol = self.inner.proto.id(), addr = %local, "listening");
        let this = self.clone();
        self.inner.tracker.spawn(async move {
            let serve = |stream, peer| this.serve_tcp(stream, peer, BytesMut::new());
            super::transport::tcp::accept(listener, &this.inner.shutdown, serve).await;
        });
        Ok(local)
    }

    /// Serves an accepted TCP connection whose first bytes, `first`, were already read (by
    /// a shared port's protocol detection, say).
    pub fn serve_tcp(&self, stream: tokio::net::TcpStream, peer: String, first: BytesMut) {
        let _ = stream.set_nodelay(true);
        let (rd, wr) = stream.into_split();
        self.spawn_connection(rd, wr, peer, TransportKind::Tcp, first);
    }

    /// Serves one already-open byte stream (a transport adapter's output) whose first
    /// bytes, `first`, were read already (empty when none were); `transport` names what
    /// carries it in the requests' [`RequestContext`].
    pub fn serve_stream<S>(
        &self,
        stream: S,
        peer: String,
        transport: TransportKind,
        first: BytesMut,
    ) where
        S: AsyncRead + AsyncWrite + Send + 'static,
    {
        let (rd, wr) = tokio::io::split(stream);
        self.spawn_connection(rd, wr, peer, transport, first);
    }

    fn spawn_connection<R, W>(
        &self,
        rd: R,
        wr: W,
        peer: String,
        transport: TransportKind,
        first: BytesMut,
    ) where
        R: AsyncRead + Send + Unpin + 'static,
        W: AsyncWrite + Send + Unpin + 'static,
    {
        let inner = &self.inner;
        let connection = {
            let (inner, peer) = (inner.clone(), peer.clone());
            async move {
                inner.metrics.of(transport).conn_opened();
                tracing::debug!("connection opened");
                let res = run_connection(&inner, rd, wr, peer, transport, first).await;
                inner.metrics.of(transport).conn_closed();
                match res {
                    Ok(()) => tracing::debug!("connection closed"),
                    Err(e) => tracing::debug!(error = %e, "connection ended"),
                }
            }
        };
        super::spawn_connection(
            &inner.connections,
            inner.config.max_connections,
            &inner.shutdown,
            &inner.tracker,
            (&peer, transport, inner.proto.id()),
            connection,
        );
    }

    /// The protocol's frame boundaries, for message transports.
    pub fn framing(&self) -> super::Framing {
        self.inner.framing.clone()
    }

    /// Answers one request that arrived on its own, as the body of an HTTP/2 stream: it
    /// must hold exactly one frame. The response's bytes are empty for a oneway request.
    /// `negotiated` is what the caller's earlier handshake agreed (its version must be one
    /// this server speaks); protocols with a handshake need it.
    pub fn call(
        &self,
        request: BytesMut,
        peer: &str,
        transport: TransportKind,
        negotiated: Option<Negotiated>,
    ) -> super::BoxFuture<Result<BytesMut, CallError>> {
        let inner = &self.inner;
        let negotiated = match (inner.proto.handshake(), negotiated) {
            _ if inner.shutdown.is_cancelled() => Err(CallError::ShutDown),
            (None, _) => Ok(None),
            (Some(_), None) => Err(CallError::Version(
                "the protocol negotiates a version: run its handshake first and send the version"
                    .into(),
            )),
            (Some(hs), Some(n)) => match inner.versions(hs) {
                (lo, hi) if (lo..=hi).contains(&n.version) => Ok(Some(Negotiated {
                    version: n.version,
                    features: n.features & inner.config.features,
                })),
                (lo, hi) => Err(CallError::Version(format!(
                    "version {} is not one this server speaks ({lo}..={hi})",
                    n.version
                ))),
            },
        };
        let session = negotiated.map(|n| Session::open(inner.clone(), peer.into(), transport, n));
        Box::pin(async move {
            let mut session = session?;
            let mut input = request;
            if input.is_empty() {
                return Err(CallError::Body("an empty body; one frame expected"));
            }
            let mut out = BytesMut::new();
            let more = std::future::poll_fn(|cx| {
                std::task::Poll::Ready(session.serve_some(&mut input, &mut out, cx, 1))
            })
            .await?;
            if more {
                return Err(CallError::Body("more than one frame; one per request"));
            }
            if !input.is_empty() {
                return Err(CallError::Body("the body ends inside a frame"));
            }
            while out.is_empty() && session.in_flight() > 0 {
                std::future::poll_fn(|cx| session.poll_pending(&mut out, cx)).await;
            }
            Ok(out)
        })
    }

    /// Answers a handshake hello that arrived on its own (an HTTP/2 stream's body) with the
    /// reply's bytes: an acceptance, or a refusal when the versions do not overlap.
    pub fn accept_hello(&self, mut hello: BytesMut) -> Result<BytesMut, CallError> {
        let hs = self.inner.proto.handshake().ok_or(CallError::NoHandshake)?;
        let (ours, features) = (self.inner.versions(hs), self.inner.config.features);
        let mut out = BytesMut::new();
        match hs.server_read_hello(&mut hello, ours, features, &mut out)? {
            HandshakeEvent::NeedMore => Err(CallError::Body("the body ends inside the hello")),
            HandshakeEvent::Done(_) | HandshakeEvent::Rejected { .. } => Ok(out),
        }
    }

    /// Stops accepting, lets every connection finish the requests it has read (answering
    /// them), flushes, and closes. Waits up to `shutdown_timeout`.
    pub async fn shutdown(&self) {
        let protocol = self.inner.proto.id();
        tracing::info!(protocol, "shutting down");
        self.inner.shutdown.cancel();
        self.inner.tracker.close();
        if tokio::time::timeout(
            self.inner.config.shutdown_timeout,
            self.inner.tracker.wait(),
        )
        .await
        .is_err()
        {
            tracing::warn!(protocol, "shutdown timed out with requests still in flight");
        } else {
            tracing::info!(protocol, "shut down");
        }
    }
}

/// Why a request that arrived on its own (see [`RemotingServer::call`]) was not served.
#[derive(Debug, thiserror::Error)]
pub enum CallError {
    /// The frame does not decode.
    #[error(transparent)]
    Decode(#[from] crate::DecodeError),
    /// The body is not one whole frame (or hello).
    #[error("{0}")]
    Body(&'static str),
    /// No version, or one the server does not speak.
    #[error("{0}")]
    Version(String),
    /// A hello was sent to a protocol without a handshake.
    #[error("the protocol has no handshake")]
    NoHandshake,
    /// The server is shut down (or shutting down).
    #[error("the server is shut down")]
    ShutDown,
}

/// The most a pass reserves for its output ahead of encoding.
const MAX_RESERVE: usize = 1 << 20;

/// (correlation id, kind, request code, echo values, start, outcome)
type Done<F> = (u64, FrameKind, i64, u64, Instant, Result<F, ProcessError>);

/// One connection's request handling, without I/O: decodes requests from a buffer, runs
/// their processors, and encodes the responses into another buffer. The TCP driver wraps
/// it; other transports (or a benchmark) can drive it directly.
///
/// Processors that finish when first polled are answered in the same call; the others are
/// kept and answered by [`poll_pending`](Self::poll_pending) when they finish.
pub struct Session<P: Protocol> {
    inner: Arc<Inner<P>>,
    // The processors registered when the session opened: registrations apply to new
    // connections, open ones keep the table they started with.
    table: Arc<Table<P>>,
    ctx: RequestContext,
    /// Decodes requests (it lends them out while responses are encoded with `codec`).
    decoder: P::Codec,
    codec: P::Codec,
    inflight: FuturesUnordered<BoxFuture<Done<P::Frame>>>,
    /// Bytes the last pass appended to its output: the next pass reserves that much (or
    /// its input's size, if larger) up front, so a pass's responses are encoded without
    /// the buffer growing (and copying) part-way.
    last_out: usize,
}

impl<P: Protocol> Session<P> {
    /// A session of `server` for a connection from `peer` that negotiated `negotiated`.
    pub fn new(server: &RemotingServer<P>, peer: &str, negotiated: Option<Negotiated>) -> Self {
        Session::open(
            server.inner.clone(),
            peer.into(),
            TransportKind::Stream,
            negotiated,
        )
    }

    fn open(
        inner: Arc<Inner<P>>,
        peer: Arc<str>,
        transport: TransportKind,
        negotiated: Option<Negotiated>,
    ) -> Self {
        let table = inner
            .table
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let ctx = RequestContext {
            peer,
            protocol: inner.proto.id(),
            transport,
            negotiated,
            connection_id: next_connection_id(),
        };
        Session {
            decoder: inner.proto.codec(),
            codec: inner.proto.codec(),
            inner,
            table,
            ctx,
            inflight: FuturesUnordered::new(),
            last_out: 0,
        }
    }

    /// Requests whose processors are still running.
    pub fn in_flight(&self) -> usize {
        self.inflight.len()
    }

    /// Decodes every complete request in `input` (up to the server's in-flight bound),
    /// runs its processor, and appends the responses that are ready to `output`. `cx` wakes
    /// the caller when a processor that did not finish at once makes progress. Fails on
    /// bytes that do not decode (the connection should close).
    pub fn serve(
        &mut self,
        input: &mut BytesMut,
        output: &mut BytesMut,
        cx: &mut std::task::Context<'_>,
    ) -> Result<(), crate::DecodeError> {
        self.serve_some(input, output, cx, usize::MAX).map(|_| ())
    }

    /// As [`serve`](Self::serve), but takes at most `max` requests out of `input`. Returns
    /// true when it stopped there with bytes left in `input`: write `output`, then call
    /// again before reading more. A driver answers in such chunks when its peer would
    /// otherwise wait idle for the whole batch.
    pub fn serve_some(
        &mut self,
        input: &mut BytesMut,
        output: &mut BytesMut,
        cx: &mut std::task::Context<'_>,
        max: usize,
    ) -> Result<bool, crate::DecodeError> {
        let Session {
            inner,
            table,
            ctx,
            decoder,
            codec,
            inflight,
            last_out,
        } = self;
        // The clock is read when the pass's first request arrives (a pass that finds only part
        // of a frame reads it not at all), and once more at its end for the latency of the
        // requests answered at once.
        let mut now = None;
        let (mut received, mut answered, mut failed) = (0u64, 0u64, 0u64);
        let mut res = Ok(());
        let out_start = output.len();
        // Responses are often about as large as their requests (echo, get); the guess from
        // the input stops at the largest read's size, so that large requests with small answers
        // (put) do not make every pass reserve a lot. The last pass's output covers
        // protocols whose answers are larger.
        let guess = (input.len() + 1024).min(super::MAX_READ);
        let (mut taken, mut stopped) = (0usize, false);
        loop {
            let room = inner.config.max_in_flight.saturating_sub(inflight.len());
            if room == 0 {
                break;
            }
            let batch = decoder.decode_batch(input, room.min(max - taken), |frame| {
                let start = *now.get_or_insert_with(|| {
                    output.reserve((*last_out).max(guess));
                    Instant::now()
                });
                // What the processor and the hooks log carries the request's identity (one
                // check of a cached flag while debug spans are off).
                let span = tracing::debug_span!(
                    "request",
                    code = frame.code(),
                    id = frame.correlation_id()
                );
                let _in = span.enter();
                let done = match dispatch(inner, table, ctx, frame, start) {
                    Dispatch::Skip => return,
                    Dispatch::Done(done) => done,
                    Dispatch::Run((id, kind, code, echo, start), mut fut) => {
                        // Most processors finish at once: answer without a task for them.
                        match fut.as_mut().poll(cx) {
                            std::task::Poll::Ready(r) => (id, kind, code, echo, start, r),
                            std::task::Poll::Pending => {
                                received += 1;
                                let later = async move { (id, kind, code, echo, start, fut.await) };
                                inflight.push(if span.is_disabled() {
                                    Box::pin(later)
                                } else {
                                    Box::pin(tracing::Instrument::instrument(later, span.clone()))
                                });
                                return;
                            }
                        }
                    }
                };
                received += 1;
                if let Some(error) = respond(inner, table, ctx, codec, output, done) {
                    answered += 1;
                    failed += u64::from(error);
                }
            });
            match batch {
                Ok(0) => break,
                Ok(n) => {
                    taken += n;
                    if taken >= max {
                        stopped = !input.is_empty();
                        break;
                    }
                }
                Err(e) => {
                    res = Err(e);
                    break;
                }
            }
        }
        if received > 0 {
            inner.metrics.of(ctx.transport).requests(received);
            *last_out = (output.len() - out_start).min(MAX_RESERVE);
        }
        if answered > 0 {
            let took = now.map_or(Duration::ZERO, |t| t.elapsed());
            inner
                .metrics
                .of(ctx.transport)
                .responses(took, answered, failed);
        }
        res.map(|()| stopped)
    }

    /// Answers the requests whose processors have finished since the last call, appending
    /// their responses to `output`; `Ready` with how many finished, `Pending` when none did.
    pub fn poll_pending(
        &mut self,
        output: &mut BytesMut,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<usize> {
        let mut n = 0;
        while let std::task::Poll::Ready(Some(done)) = self.inflight.poll_next_unpin(cx) {
            let start = done.4;
            let _in = tracing::debug_span!("request", code = done.2, id = done.0).entered();
            if let Some(error) = respond(
                &self.inner,
                &self.table,
                &self.ctx,
                &mut self.codec,
                output,
                done,
            ) {
                self.inner.metrics.of(self.ctx.transport).responses(
                    start.elapsed(),
                    1,
                    u64::from(error),
                );
            }
            n += 1;
        }
        if n > 0 {
            std::task::Poll::Ready(n)
        } else {
            std::task::Poll::Pending
        }
    }
}

/// Chunks a connection answers a pass in while it is the only one of its server making
/// passes and the pass holds at most half the largest read. Its peer then waits on it
/// alone, and answering a whole window in one write leaves each side idle while the other
/// works: in quarters, a lone pipelined connection (1 x 64 in flight, 1 KiB echo) ran
/// about 1.8 times as fast. Larger passes keep the peer busy by themselves, and with other
/// connections busy the extra writes only cost throughput: then a pass goes out in one
/// piece.
const ALONE_PIECES: usize = 4;

/// The fewest requests in a chunk of a pass answered in pieces.
const ALONE_CHUNK: usize = 16;

async fn run_connection<P, R, W>(
    inner: &Arc<Inner<P>>,
    mut rd: R,
    wr: W,
    peer: String,
    transport: TransportKind,
    first: BytesMut,
) -> Result<(), super::RemotingError>
where
    P: Protocol,
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    let cfg = &inner.config;
    let proto = &inner.proto;
    let metrics = inner.metrics.of(transport);
    let q = Arc::new(WriteQueue::new(cfg.write_high_water, metrics.clone()));
    let writer = {
        let q = q.clone();
        tokio::spawn(async move { q.run_writer(wr).await })
    };
    // No read buffer is held while the connection waits with nothing unread (see
    // `Inbound`).
    let mut input = super::Inbound::new(first);

    let negotiated = match proto.handshake() {
        None => None,
        Some(hs) => {
            let ours = inner.versions(hs);
            let fut = server_handshake(hs, &mut rd, &mut input, ours, cfg.features, &q, metrics);
            match tokio::time::timeout(cfg.handshake_timeout, fut).await {
                Ok(Ok(Some(n))) => Some(n),
                Ok(Ok(None)) => {
                    q.close();
                    let _ = writer.await;
                    return Ok(());
                }
                Ok(Err(e)) => {
                    tracing::warn!(%peer, error = %e, "handshake failed; closing");
                    q.close();
                    let _ = writer.await;
                    return Err(e);
                }
                Err(_) => {
                    tracing::warn!(%peer, "handshake timed out; closing");
                    q.close();
                    let _ = writer.await;
                    return Ok(());
                }
            }
        }
    };

    if let Some(n) = &negotiated {
        tracing::Span::current().record("version", n.version);
    }
    let mut session = Session::open(inner.clone(), peer.as_str().into(), transport, negotiated);
    let mut reading = true;
    let idle = tokio::time::sleep(cfg.idle_timeout);
    tokio::pin!(idle);
    // The idle timer is re-armed lazily: a read only notes the time, and when the timer
    // fires early it is moved to the last read plus the timeout (no timer update per read).
    let mut last_read = tokio::time::Instant::now();
    // One shutdown waiter for the connection's life, not one per pass.
    let shutdown = inner.shutdown.cancelled();
    tokio::pin!(shutdown);
    let mut result = Ok(());

    // Responses of one pass are encoded here and handed to the writer together. It is
    // taken from the thread's spare buffers for a pass and left there between passes.
    let mut out = BytesMut::new();
    // The server-wide pass count after this connection's last pass, the size of the next
    // chunk of a pass answered in chunks, and the bytes per request its chunks took.
    let mut last_pass = u64::MAX;
    let mut next_chunk = None;
    let mut per_request = 1024;
    loop {
        // Serve what is buffered (also while draining: a request fully received before
        // shutdown is answered). When no other connection made a pass since this one's
        // last and the pass is small, the peer most likely waits on this connection alone:
        // the answers go out in a few chunks, so that it works on the first while the rest
        // are served (see `ALONE_PIECES`).
        let buf = &mut input.buf;
        if !buf.is_empty() && out.capacity() == 0 {
            let want = session
                .last_out
                .max((buf.len() + 1024).min(super::MAX_READ));
            // At least as large as a spare, so that it can be one once written.
            let want = want.max(super::MIN_READ);
            out = super::spare::take(want).unwrap_or_else(|| BytesMut::with_capacity(want));
        }
        let chunk = match next_chunk.take() {
            Some(c) => c,
            None if buf.is_empty() => usize::MAX,
            None => {
                let pass = inner.passes.fetch_add(1, Ordering::Relaxed);
                let alone = pass == last_pass;
                last_pass = pass + 1;
                if alone && buf.len() <= super::MAX_READ / 2 {
                    (buf.len() / per_request / ALONE_PIECES).max(ALONE_CHUNK)
                } else {
                    usize::MAX
                }
            }
        };
        let before = buf.len();
        let served = std::future::poll_fn(|cx| {
            std::task::Poll::Ready(session.serve_some(buf, &mut out, cx, chunk))
        })
        .await;
        let more = match served {
            Ok(more) => more,
            Err(e) => {
                tracing::warn!(%peer, error = %e, "undecodable frame; closing the connection");
                result = Err(e.into());
                break;
            }
        };
        if !out.is_empty() {
            let _ = q.push_buf(&mut out);
        }
        if more {
            per_request = ((before - buf.len()) / chunk).max(1);
            next_chunk = Some(chunk);
            continue;
        }
        if !reading && session.in_flight() == 0 {
            break;
        }
        if session.in_flight() == 0 && out.capacity() > 0 {
            // Nothing can add to it before the next pass.
            super::spare::give(std::mem::take(&mut out));
        }
        input.fair_turn().await;
        // One look at the write queue per pass (it takes its lock).
        let has_space = q.has_space();
        let room = session.in_flight() < cfg.max_in_flight && has_space;
        tokio::select! {
            biased;
            _ = std::future::poll_fn(|cx| session.poll_pending(&mut out, cx)), if session.in_flight() > 0 => {}
            _ = &mut shutdown, if reading => {
                reading = false;
            }
            _ = q.wait_for_space(), if reading && !has_space => {}
            r = std::future::poll_fn(|cx| input.poll_read(&mut rd, cx)), if reading && room => {
                match r {
                    Ok(0) => {
                        if !input.buf.is_empty() {
                            tracing::debug!(%peer, bytes = input.buf.len(), "peer closed mid-frame");
                        }
                        reading = false;
                    }
                    Ok(n) => {
                        metrics.bytes_in(n);
                        last_read = tokio::time::Instant::now();
                    }
                    Err(e) => {
                        result = Err(e.into());
                        break;
                    }
                }
            }
            _ = &mut idle, if reading => {
                let due = last_read + cfg.idle_timeout;
                if due > tokio::time::Instant::now() {
                    idle.as_mut().reset(due);
                } else {
                    tracing::debug!(%peer, "idle timeout; closing");
                    reading = false;
                }
            }
        }
    }
    if !out.is_empty() {
        let _ = q.push_buf(&mut out);
    }
    q.close();
    // The buffers outlive the connection as the thread's spares: closing connections then
    // take and leave the same ones instead of allocating anew.
    super::spare::give(std::mem::take(&mut input.buf));
    super::spare::give(out);
    let _ = writer.await;
    result
}

async fn server_handshake<R: AsyncRead + Unpin>(
    hs: &dyn crate::protocol::Handshake,
    rd: &mut R,
    input: &mut super::Inbound,
    ours: (u32, u32),
    features: u64,
    q: &WriteQueue,
    metrics: &Metrics,
) -> Result<Option<Negotiated>, super::RemotingError> {
    loop {
        let mut out = BytesMut::new();
        match hs.server_read_hello(&mut input.buf, ours, features, &mut out)? {
            HandshakeEvent::NeedMore => {}
            ev => {
                let _ = q.push(|b| {
                    b.extend_from_slice(&out);
                    Ok::<(), ()>(())
                });
                return Ok(match ev {
                    HandshakeEvent::Done(n) => Some(n),
                    _ => None,
                });
            }
        }
        let n = std::future::poll_fn(|cx| input.poll_read(rd, cx)).await?;
        if n == 0 {
            return Ok(None);
        }
        metrics.bytes_in(n);
    }
}

/// Starts processing `frame`; returns a finished outcome when no processor runs.
/// What [`dispatch`] decided.
enum Dispatch<F> {
    /// Nothing to answer.
    Skip,
    /// Answered without a processor.
    Done(Done<F>),
    /// A processor runs: its request's identity and its future.
    Run(Meta, BoxFuture<Result<F, ProcessError>>),
}

/// (correlation id, kind, request code, echo values, start)
type Meta = (u64, FrameKind, i64, u64, Instant);

/// Starts processing `frame` (received at `now`).
#[inline]
fn dispatch<P: Protocol>(
    inner: &Arc<Inner<P>>,
    table: &Table<P>,
    ctx: &RequestContext,
    mut frame: P::Frame,
    now: Instant,
) -> Dispatch<P::Frame> {
    let kind = frame.kind();
    if kind == FrameKind::Response {
        tracing::debug!(peer = %ctx.peer, "unexpected response frame on a server connection; ignored");
        return Dispatch::Skip;
    }
    let (id, code, echo, start) = (frame.correlation_id(), frame.code(), frame.echo(), now);
    for h in &table.hooks {
        if let Err(msg) = h.before(ctx, &mut frame) {
            let resp = inner
                .proto
                .error_response(code, ErrorStatus::SystemError, &msg);
            return Dispatch::Done((id, kind, code, echo, start, Ok(resp)));
        }
    }
    let reg = match usize::try_from(code).ok().and_then(|c| table.dense.get(c)) {
        Some(dense) => dense.as_ref(),
        None => table.by_code.get(&code),
    };
    let Some(reg) = reg.or(table.default.as_ref()) else {
        let msg = format!("request code {code} not supported");
        let resp = inner
            .proto
            .error_response(code, ErrorStatus::NotSupported, &msg);
        return Dispatch::Done((id, kind, code, echo, start, Ok(resp)));
    };
    let executor = match (&reg.executor, &inner.executor) {
        (Some(h), _) | (None, Some(Executor::Threads { handle: h, .. })) => Some(h),
        (None, Some(Executor::Pool(pool))) => {
            let (processor, ctx, pool) = (reg.processor.clone(), ctx.clone(), pool.clone());
            let fut: BoxFuture<_> = Box::pin(async move {
                let _turn = pool
                    .acquire_owned()
                    .await
                    .map_err(|e| Box::new(e) as ProcessError)?;
                let handle = tokio::runtime::Handle::current();
                tokio::task::spawn_blocking(move || match processor.process(&ctx, frame) {
                    Reply::Now(r) => r,
                    Reply::Later(fut) => handle.block_on(fut),
                })
                .await
                .unwrap_or_else(|e| Err(Box::new(e) as ProcessError))
            });
            return Dispatch::Run((id, kind, code, echo, start), fut);
        }
        (None, None) => None,
    };
    let fut = match executor {
        None => match reg.processor.process(ctx, frame) {
            Reply::Now(r) => return Dispatch::Done((id, kind, code, echo, start, r)),
            Reply::Later(fut) => fut,
        },
        Some(h) => {
            let (processor, ctx) = (reg.processor.clone(), ctx.clone());
            let join = h.spawn(async move {
                match processor.process(&ctx, frame) {
                    Reply::Now(r) => r,
                    Reply::Later(fut) => fut.await,
                }
            });
            Box::pin(async move {
                join.await
                    .unwrap_or_else(|e| Err(Box::new(e) as ProcessError))
            })
        }
    };
    Dispatch::Run((id, kind, code, echo, start), fut)
}

/// Encodes the response for a finished request into `out`. Returns whether it was an
/// error, or `None` for a oneway request (nothing sent; its metrics are recorded here).
#[inline]
fn respond<P: Protocol>(
    inner: &Arc<Inner<P>>,
    table: &Table<P>,
    ctx: &RequestContext,
    codec: &mut P::Codec,
    out: &mut BytesMut,
    (id, kind, code, echo, start, result): Done<P::Frame>,
) -> Option<bool> {
    let mut resp = match result {
        Ok(r) => r,
        // A status of the protocol's own, with its message, for the caller.
        Err(e) => match e.downcast_ref::<crate::Status>() {
            Some(s) if inner.proto.is_status(s.code) => {
                tracing::debug!(peer = %ctx.peer, code, status = s.code, message = %s.message, "processor answered a status");
                inner.proto.status_response(code, s.code, &s.message)
            }
            _ => {
                tracing::warn!(peer = %ctx.peer, code, error = %e, "processor failed");
                inner
                    .proto
                    .error_response(code, ErrorStatus::SystemError, &e.to_string())
            }
        },
    };
    if kind == FrameKind::Oneway {
        tracing::debug!(took = ?start.elapsed(), "oneway processed");
        inner
            .metrics
            .of(ctx.transport)
            .response(start.elapsed(), false);
        for h in &table.hooks {
            h.after(ctx, code, None);
        }
        return None;
    }
    resp.set_correlation_id(id);
    resp.set_kind(FrameKind::Response);
    resp.apply_echo(echo);
    for h in &table.hooks {
        h.after(ctx, code, Some(&resp));
    }
    let error = !inner.proto.is_success(&resp);
    tracing::debug!(error, took = ?start.elapsed(), "answered");
    if let Err(e) = codec.encode(&resp, out) {
        tracing::warn!(peer = %ctx.peer, code, error = %e, "response does not encode; answering with an error");
        let mut err = inner
            .proto
            .error_response(code, ErrorStatus::SystemError, &e.to_string());
        err.set_correlation_id(id);
        err.set_kind(FrameKind::Response);
        err.apply_echo(echo);
        let _ = codec.encode(&err, out);
        return Some(true);
    }
    Some(error)
}
