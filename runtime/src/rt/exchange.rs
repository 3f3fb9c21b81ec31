//! Servers and clients of protocols with an `exchange` block: a thin tokio driver around
//! the sans-IO [`MessageSession`], which decides what answers what, matches answers to
//! requests, and keeps connections alive.
//!
//! A [`MessageServer`] runs one task per connection that handles its messages in the order
//! they arrive (a handler finishes before the next message of that connection is handed
//! over, so a protocol's ordering guarantees hold) and writes what the session and the
//! connection's pushes produce in batches. It is a [`ProtocolServer`], so a
//! [`MultiServer`](super::MultiServer) serves it beside other protocols on one port, over
//! TCP, TLS or WebSocket. A [`MessageClient`] sends the hello, then requests whose answers
//! (the ends of their chains) it waits for, and hands what the server pushes to
//! [`MessageClient::next_push`].

use super::metrics::TransportMetrics;
use super::registry::{Io, ProtocolServer};
use super::transport::{Framing, TransportKind};
use super::{BoxFuture, CallError, Metrics, MetricsSnapshot};
use crate::exchange::{
    Exchange, Failure, Incoming, MessageSession, Role, SendError, Status, Ticket, Violation,
};
use crate::protocol::{Detection, Negotiated};
use bytes::BytesMut;
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::Poll;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// What a [`MessageServer`] does with the messages it receives: generated code implements
/// it over a protocol's typed handler trait, one method per rule of its `exchange` block.
pub trait MessageHandler<E: Exchange>: Send + Sync + 'static {
    /// A received message (the hello included). `answer` is the answer the rule asks for,
    /// every field at its default and the correlation value set (`None` when the message is
    /// answered by nothing); return it (changed or not) to send it, or `None` to send
    /// nothing.
    fn message(
        &self,
        conn: &Connection<E>,
        msg: E::Msg,
        answer: Option<E::Msg>,
    ) -> impl Future<Output = Option<E::Msg>> + Send;

    /// A received message its rule answers with a series (`Item* then End`): the items, in
    /// order, and the end. `end` is the default end (every field at its default, the
    /// correlation value set); the default method sends no item and `end`. `None` sends
    /// nothing.
    fn series(
        &self,
        conn: &Connection<E>,
        msg: E::Msg,
        end: E::Msg,
    ) -> impl Future<Output = Option<(Vec<E::Msg>, E::Msg)>> + Send {
        let _ = (conn, msg);
        async move { Some((Vec::new(), end)) }
    }

    /// The connection ended, and why. Called once, after the last message.
    fn closed(&self, conn: &Connection<E>, end: &Ended) -> impl Future<Output = ()> + Send {
        let _ = (conn, end);
        async {}
    }
}

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The peer sent the message its protocol closes a connection with (`-> close`), or we
    /// sent an answer that closes it (`then close`).
    Closed,
    /// The peer closed the connection without that message.
    PeerGone,
    /// The peer broke the protocol (or fell silent past its keepalive).
    Violation(Violation),
    /// Reading or writing failed.
    Io(String),
    /// [`Connection::close`] was called.
    ClosedHere,
    /// The server shut down.
    Shutdown,
}

impl Ended {
    /// Whether the connection ended as the protocol says a connection ends (the peer's
    /// closing message, or our closing answer).
    pub fn is_clean(&self) -> bool {
        matches!(self, Ended::Closed | Ended::ClosedHere | Ended::Shutdown)
    }
}

/// What a connection's queue holds. A message is boxed: a queue's slots are allocated in
/// blocks, and a union of messages can be large, so an idle connection's queue stays small.
enum Command<M> {
    Push(Box<M>),
    Close,
}

/// Why a push was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// The connection's queue is full (the peer reads too slowly).
    #[error("the connection's queue is full")]
    Full,
    /// The connection is gone.
    #[error("the connection is closed")]
    Closed,
}

/// One connection of a [`MessageServer`], as its handler sees it: cheap to clone, and kept
/// by a handler that wants to push to it later (a broker's subscriber).
pub struct Connection<E: Exchange> {
    inner: Arc<ConnInner<E>>,
}

impl<E: Exchange> Clone for Connection<E> {
    fn clone(&self) -> Self {
        Connection {
            inner: self.inner.clone(),
        }
    }
}

struct ConnInner<E: Exchange> {
    id: u64,
    peer: Arc<str>,
    transport: TransportKind,
    version: AtomicU32,
    /// A version the handler switched to ([`Connection::switch_version`]), 0 for none.
    switch: AtomicU32,
    tx: mpsc::Sender<Command<E::Msg>>,
}

impl<E: Exchange> std::fmt::Debug for Connection<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("id", &self.inner.id)
            .field("peer", &self.inner.peer)
            .field("transport", &self.inner.transport)
            .finish()
    }
}

impl<E: Exchange> Connection<E> {
    /// A number unique to the connection within this process.
    pub fn id(&self) -> u64 {
        self.inner.id
    }

    /// The peer's address.
    pub fn peer(&self) -> &str {
        &self.inner.peer
    }

    /// What carries the connection.
    pub fn transport(&self) -> TransportKind {
        self.inner.transport
    }

    /// Switches the connection to version `v`, from the answer to the message being handled
    /// on (RESP's `HELLO 3` answered in RESP3): for protocols whose version a request's
    /// content switches rather than a hello's `@version` field. Called by a handler.
    pub fn switch_version(&self, v: u32) {
        self.inner.switch.store(v, Ordering::Relaxed);
        self.inner.version.store(v, Ordering::Relaxed);
    }

    /// The version in effect: the one the hello set, the lowest the protocol declares when
    /// it has no hello, or the last [`Self::switch_version`] (`None` before the hello, or
    /// when the protocol declares no versions).
    pub fn version(&self) -> Option<u32> {
        match self.inner.version.load(Ordering::Relaxed) {
            0 => None,
            v => Some(v),
        }
    }

    /// Queues `msg` to be sent unasked (it must be declared `push`). It gets a free
    /// correlation value if it takes one, and its exchange (`A -> B`, ...) is carried out by
    /// the connection. Never waits: a full queue is an error.
    pub fn push(&self, msg: E::Msg) -> Result<(), PushError> {
        self.inner
            .tx
            .try_send(Command::Push(Box::new(msg)))
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => PushError::Full,
                mpsc::error::TrySendError::Closed(_) => PushError::Closed,
            })
    }

    /// [`Self::push`], waiting for room in the connection's queue (a slow reader slows its
    /// pushers down instead of losing messages). A connection takes what is pushed to it
    /// even while its own handler runs, so handlers pushing to each other never wait on
    /// each other.
    pub async fn push_wait(&self, msg: E::Msg) -> Result<(), PushError> {
        self.inner
            .tx
            .send(Command::Push(Box::new(msg)))
            .await
            .map_err(|_| PushError::Closed)
    }

    /// Whether the connection is gone.
    pub fn is_closed(&self) -> bool {
        self.inner.tx.is_closed()
    }

    /// Closes the connection after what is queued for it.
    pub fn close(&self) {
        let tx = self.inner.tx.clone();
        if tx.try_send(Command::Close).is_err() {
            // Full: close after the queue drains.
            tokio::spawn(async move {
                let _ = tx.send(Command::Close).await;
            });
        }
    }
}

/// Settings of a [`MessageServer`] (and of a [`MessageClient`]'s connection).
#[derive(Debug, Clone)]
pub struct MessageConfig {
    /// Messages queued for a connection (pushes) before [`Connection::push`] fails.
    pub queue: usize,
    /// Time a new connection has to send its hello (server), and a client's hello has to
    /// be answered.
    pub hello_timeout: Duration,
    /// Time a client waits for the end of a request's exchange.
    pub request_timeout: Duration,
    /// The most messages handled before the connection's output is written.
    pub batch: usize,
    /// Open connections at most; more are closed as they arrive.
    pub max_connections: usize,
    /// The most items a client keeps of one series answer (`Item* then End`); a longer
    /// series fails its request with [`ClientError::SeriesTooLong`].
    pub max_series: usize,
}

impl Default for MessageConfig {
    fn default() -> Self {
        MessageConfig {
            queue: 4096,
            hello_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(30),
            batch: 64,
            max_connections: 100_000,
            max_series: 65_536,
        }
    }
}

/// A server of a protocol with an `exchange` block: one task per connection, handling its
/// messages in order and writing answers and pushes in batches.
pub struct MessageServer<E: Exchange, H: MessageHandler<E>> {
    inner: Arc<ServerInner<E, H>>,
}

impl<E: Exchange, H: MessageHandler<E>> Clone for MessageServer<E, H> {
    fn clone(&self) -> Self {
        MessageServer {
            inner: self.inner.clone(),
        }
    }
}

struct ServerInner<E: Exchange, H> {
    exchange: E,
    handler: H,
    config: MessageConfig,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    connections: Arc<tokio::sync::Semaphore>,
    metrics: TransportMetrics,
}

impl<E: Exchange, H: MessageHandler<E>> MessageServer<E, H> {
    /// A server of `exchange`'s protocol whose connections `handler` answers.
    pub fn new(exchange: E, handler: H, config: MessageConfig) -> Self {
        let connections = Arc::new(tokio::sync::Semaphore::new(config.max_connections));
        MessageServer {
            inner: Arc::new(ServerInner {
                exchange,
                handler,
                config,
                shutdown: CancellationToken::new(),
                tracker: TaskTracker::new(),
                connections,
                metrics: TransportMetrics::default(),
            }),
        }
    }

    /// The protocol's rules.
    pub fn exchange(&self) -> &E {
        &self.inner.exchange
    }

    /// The handler.
    pub fn handler(&self) -> &H {
        &self.inner.handler
    }

    /// The server's counters: messages received (`requests`), answers sent (`responses`,
    /// the time from a read's first message to its last answer as their latency), failures
    /// answered and protocol violations (`errors`), bytes and open connections.
    pub fn metrics(&self) -> MetricsSnapshot {
        self.inner.metrics.total()
    }

    /// [`metrics`](Self::metrics) for each transport its connections have come in on.
    pub fn metrics_by_transport(&self) -> Vec<(TransportKind, MetricsSnapshot)> {
        self.inner.metrics.by_transport()
    }

    /// Listens on `addr` (a port of its own) until [`Self::shutdown`]; returns the address.
    pub async fn bind(
        &self,
        addr: impl tokio::net::ToSocketAddrs,
    ) -> std::io::Result<std::net::SocketAddr> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let local = listener.local_addr()?;
        tracing::info!(protocol = self.inner.exchange.id(), %local, "listening");
        let this = self.clone();
        self.inner.tracker.spawn(async move {
            let serve = |stream, peer| this.serve_tcp_stream(stream, peer, BytesMut::new());
            super::transport::tcp::accept(listener, &this.inner.shutdown, serve).await;
        });
        Ok(local)
    }

    fn serve_tcp_stream(&self, stream: tokio::net::TcpStream, peer: String, first: BytesMut) {
        let _ = stream.set_nodelay(true);
        // Owned halves: no lock between the reader and the writer.
        let (rd, wr) = stream.into_split();
        self.spawn_halves(rd, wr, peer, TransportKind::Tcp, first);
    }

    /// Serves one open byte stream whose first bytes, `first`, were read already.
    pub fn spawn<S: AsyncRead + AsyncWrite + Send + 'static>(
        &self,
        io: S,
        peer: String,
        transport: TransportKind,
        first: BytesMut,
    ) {
        let (rd, wr) = tokio::io::split(io);
        self.spawn_halves(rd, wr, peer, transport, first);
    }

    fn spawn_halves<R, W>(
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
                let end = serve(&inner, rd, wr, peer, transport, first).await;
                inner.metrics.of(transport).conn_closed();
                tracing::debug!(?end, "connection ended");
            }
        };
        super::spawn_connection(
            &inner.connections,
            inner.config.max_connections,
            &inner.shutdown,
            &inner.tracker,
            (&peer, transport, inner.exchange.id()),
            connection,
        );
    }

    /// Stops accepting, closes every connection (handlers see [`Ended::Shutdown`]) and waits
    /// for their tasks.
    pub async fn shutdown(&self) {
        tracing::info!(protocol = self.inner.exchange.id(), "shutting down");
        self.inner.shutdown.cancel();
        self.inner.tracker.close();
        self.inner.tracker.wait().await;
        tracing::info!(protocol = self.inner.exchange.id(), "shut down");
    }
}

/// Writes what the session produced; returns how many bytes.
async fn flush<W: AsyncWrite + Unpin, E: Exchange>(
    wr: &mut W,
    session: &mut MessageSession<E>,
) -> std::io::Result<usize> {
    if !session.has_output() {
        return Ok(0);
    }
    let out = session.take_output();
    wr.write_all(&out).await?;
    // Message transports (WebSocket) send on flush.
    wr.flush().await?;
    Ok(out.len())
}

/// What a connection's task holds while it serves.
struct Served<'a, E: Exchange> {
    conn: &'a Connection<E>,
    session: MessageSession<E>,
    rx: mpsc::Receiver<Command<E::Msg>>,
    /// Pushes taken from the queue while a handler ran, sent after its answer.
    deferred: std::collections::VecDeque<E::Msg>,
    /// [`Connection::close`] was called while a handler ran.
    close: bool,
    queue: usize,
    /// The time, read once per batch of received messages (not per message).
    now: Instant,
    /// The counters of the server's connections on this one's transport.
    metrics: &'a Metrics,
}

/// What became of a message handed to its handler.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Handled {
    /// Nothing is sent for it (a message no answer is due for, or a declined one).
    Unanswered,
    /// Its answer was sent.
    Answered,
    /// Its answer was a failure (or could not be sent).
    Failed,
}

impl<E: Exchange> Served<'_, E> {
    /// Writes what the session produced, counting the bytes.
    async fn flush<W: AsyncWrite + Unpin>(&mut self, wr: &mut W) -> std::io::Result<()> {
        let n = flush(wr, &mut self.session).await?;
        self.metrics.bytes_out(n);
        Ok(())
    }

    /// Runs `fut` (a handler), taking what is pushed to this connection meanwhile (up to its
    /// queue's size) so that a handler that waits for room in another connection's queue
    /// never leaves its own full. What is taken is sent after the handler's answer.
    ///
    /// `fut` comes pinned by the caller, and this is a plain future over it rather than an
    /// `async fn`: one keeps its arguments in its state apart from its locals, so it held
    /// the handler's future twice (pinned here), and moved its arguments on its first poll.
    fn run<'f, T>(
        &'f mut self,
        mut fut: std::pin::Pin<&'f mut impl Future<Output = T>>,
    ) -> impl Future<Output = T> + 'f {
        std::future::poll_fn(move |cx| {
            loop {
                if let Poll::Ready(out) = fut.as_mut().poll(cx) {
                    self.after_handler();
                    return Poll::Ready(out);
                }
                if self.deferred.len() >= self.queue || self.close {
                    return Poll::Pending;
                }
                match self.rx.poll_recv(cx) {
                    Poll::Ready(Some(Command::Push(m))) => self.deferred.push_back(*m),
                    Poll::Ready(Some(Command::Close)) => self.close = true,
                    // `None` is unreachable while `conn` holds a sender.
                    Poll::Ready(None) | Poll::Pending => return Poll::Pending,
                }
            }
        })
    }

    /// After a handler ran: switches the version if it asked to, and takes what it queued
    /// for its own connection (pushes that follow its answer, a close), so that they leave
    /// in order, before anything received after its message is handled.
    fn after_handler(&mut self) {
        // A load per message; the swap only when a switch was asked for.
        if self.conn.inner.switch.load(Ordering::Relaxed) != 0 {
            match self.conn.inner.switch.swap(0, Ordering::Relaxed) {
                0 => {}
                v => self.session.set_version(v),
            }
        }
        // `is_empty` first: a few loads, where `try_recv` on an empty queue costs more than
        // the rest of this per message.
        while self.deferred.len() < self.queue && !self.close && !self.rx.is_empty() {
            match self.rx.try_recv() {
                Ok(Command::Push(m)) => self.deferred.push_back(*m),
                Ok(Command::Close) => self.close = true,
                Err(_) => break,
            }
        }
    }

    /// Sends the pushes taken while a handler ran.
    fn send_deferred(&mut self) {
        while let Some(m) = self.deferred.pop_front() {
            if let Err(e) = self.session.send(m, self.now) {
                tracing::debug!(error = %e, "push not sent");
            }
        }
    }

    /// Handles `first` and every whole message after it in `buf`, writing the answers
    /// every `batch` messages; `Some` when the connection is to end.
    async fn handle_all<H: MessageHandler<E>, W: AsyncWrite + Unpin>(
        &mut self,
        handler: &H,
        first: Incoming<E::Msg>,
        buf: &mut BytesMut,
        wr: &mut W,
        batch: usize,
    ) -> Option<Ended> {
        let mut ev = first;
        let mut n = 0;
        // Counted here and added to the server's counters once per call, not per message.
        let started = self.now;
        let (mut received, mut answered, mut failed) = (0u64, 0u64, 0u64);
        let end = loop {
            // What the handler logs carries the message it handles (nothing while debug
            // spans are off).
            let span = match &ev {
                Incoming::Hello { msg, .. }
                | Incoming::Message { msg, .. }
                | Incoming::Close { msg } => {
                    let ex = self.session.exchange();
                    tracing::debug_span!("message", message = ex.member_name(ex.member(msg)))
                }
                _ => tracing::Span::none(),
            };
            let version = self.session.version();
            received += 1;
            match tracing::Instrument::instrument(self.handle(handler, ev), span).await {
                Handled::Unanswered => {}
                Handled::Answered => answered += 1,
                Handled::Failed => {
                    answered += 1;
                    failed += 1;
                }
            }
            if let Some(v) = self.session.version().filter(|v| Some(*v) != version) {
                // Negotiated or switched: the connection's span says so from now on.
                tracing::Span::current().record("version", v);
            }
            if self.close {
                // Closed by its handler: nothing received after it is handled.
                let _ = self.flush(wr).await;
                break Some(Ended::ClosedHere);
            }
            n += 1;
            if n >= batch {
                if let Err(e) = self.flush(wr).await {
                    break Some(Ended::Io(e.to_string()));
                }
                n = 0;
                self.now = Instant::now();
            }
            ev = match self.session.receive(buf, self.now) {
                Ok(Some(ev)) => ev,
                Ok(None) => break None,
                Err(v) => {
                    self.metrics.error();
                    let _ = self.flush(wr).await;
                    break Some(Ended::Violation(v));
                }
            };
        };
        self.metrics.requests(received);
        if answered > 0 {
            self.metrics.responses(started.elapsed(), answered, failed);
        }
        end
    }

    /// Hands one received message to the handler and sends its answer.
    async fn handle<H: MessageHandler<E>>(
        &mut self,
        handler: &H,
        event: Incoming<E::Msg>,
    ) -> Handled {
        let conn = self.conn;
        let (msg, token) = match event {
            Incoming::Hello { msg, token } => {
                if let Some(v) = self.session.version() {
                    conn.inner.version.store(v, Ordering::Relaxed);
                }
                (msg, token)
            }
            Incoming::Message { msg, token } => (msg, token),
            Incoming::Close { msg } => {
                self.run(std::pin::pin!(handler.message(conn, msg, None)))
                    .await;
                return Handled::Unanswered;
            }
            // The end of a push's exchange (or an item of it); nobody waits for it on a
            // server.
            Incoming::Answer { .. } | Incoming::Item { .. } => return Handled::Unanswered,
            Incoming::Stray { msg } => {
                let ex = self.session.exchange();
                tracing::debug!(
                    message = ex.member_name(ex.member(&msg)),
                    "an answer to nothing outstanding; dropped"
                );
                return Handled::Unanswered;
            }
        };
        let due = token.expect().member();
        if let (Some(_), Some(end)) = (token.expect().item(), due) {
            let answer = self.session.exchange().default_answer(&msg, end);
            let handled = match self
                .run(std::pin::pin!(handler.series(conn, msg, answer)))
                .await
            {
                Some((items, end)) => {
                    for item in items {
                        if let Err(e) = self.session.answer_item(&token, item, self.now) {
                            tracing::warn!(error = %e, "series item not sent");
                        }
                    }
                    match self.session.answer(token, end, self.now) {
                        Ok(_) => Handled::Answered,
                        Err(e) => {
                            tracing::warn!(error = %e, "series end not sent");
                            Handled::Failed
                        }
                    }
                }
                None => {
                    self.session.decline(token);
                    Handled::Unanswered
                }
            };
            self.send_deferred();
            return handled;
        }
        let answer = due.map(|m| self.session.exchange().default_answer(&msg, m));
        let handled = match self
            .run(std::pin::pin!(handler.message(conn, msg, answer)))
            .await
        {
            Some(a) if due.is_some() => {
                let ex = self.session.exchange();
                tracing::debug!(answer = ex.member_name(ex.member(&a)), "answered");
                let failure = ex.failure(&a);
                let outcome = if failure.is_some() {
                    Handled::Failed
                } else {
                    Handled::Answered
                };
                // The token again for a second try, kept only for an answer that may need one.
                let retry = failure.as_ref().map(|_| token.clone());
                match (self.session.answer(token, a, self.now), retry) {
                    // A failure the version in effect cannot carry whole: first without its
                    // message (MQTT 3.1.1's CONNACK has a code and no reason string), then,
                    // when even the code cannot go (3.1.1's PUBACK has none), the plain
                    // answer, as such a protocol's acknowledgement must.
                    (Err(SendError::Encode(e)), Some(token)) => {
                        tracing::debug!(error = %e, "a failure this version cannot say whole");
                        let Some(member) = due else {
                            return Handled::Failed;
                        };
                        let ex = self.session.exchange().clone();
                        let plain = ex.blank(member, token.correlation());
                        let code_only = failure.map(|s| Status {
                            code: s.code,
                            message: None,
                        });
                        let mut bare = plain.clone();
                        let sent = code_only
                            .filter(|s| ex.set_failure(&mut bare, s))
                            .map(|_| self.session.answer(token.clone(), bare, self.now));
                        if !matches!(sent, Some(Ok(_)))
                            && let Err(e) = self.session.answer(token, plain, self.now)
                        {
                            tracing::warn!(error = %e, "answer not sent");
                        }
                        Handled::Failed
                    }
                    (Err(e), _) => {
                        tracing::warn!(error = %e, "answer not sent");
                        Handled::Failed
                    }
                    (Ok(_), _) => outcome,
                }
            }
            Some(a) => {
                let ex = self.session.exchange();
                tracing::warn!(
                    message = ex.member_name(ex.member(&a)),
                    "an answer to a message that is answered by nothing; not sent"
                );
                Handled::Unanswered
            }
            None => {
                self.session.decline(token);
                Handled::Unanswered
            }
        };
        self.send_deferred();
        handled
    }
}

async fn serve<E, H, R, W>(
    inner: &ServerInner<E, H>,
    mut rd: R,
    mut wr: W,
    peer: String,
    transport: TransportKind,
    first: BytesMut,
) -> Ended
where
    E: Exchange,
    H: MessageHandler<E>,
    R: AsyncRead + Send + Unpin + 'static,
    W: AsyncWrite + Send + Unpin + 'static,
{
    let (tx, rx) = mpsc::channel(inner.config.queue.max(1));
    let conn = Connection {
        inner: Arc::new(ConnInner {
            id: super::next_connection_id(),
            peer: peer.into(),
            transport,
            version: AtomicU32::new(0),
            switch: AtomicU32::new(0),
            tx,
        }),
    };
    let opened = Instant::now();
    let session = MessageSession::new(inner.exchange.clone(), Role::Server, opened);
    if let Some(v) = session.version() {
        conn.inner.version.store(v, Ordering::Relaxed);
        tracing::Span::current().record("version", v);
    }
    let mut st = Served {
        conn: &conn,
        session,
        rx,
        deferred: std::collections::VecDeque::new(),
        close: false,
        queue: inner.config.queue.max(1),
        now: opened,
        metrics: inner.metrics.of(transport),
    };
    // Reads sized to what arrives (a pipeline in one read), no buffer held while idle.
    let mut inbound = super::Inbound::new(first);
    let end = 'conn: loop {
        // Every whole message read so far.
        st.now = Instant::now();
        match st.session.receive(&mut inbound.buf, st.now) {
            // Boxed: the handlers' futures (and the messages they hold) live only while
            // what was read is handled, not in every idle connection's task; one allocation
            // for all the messages of a read (a pipeline), not one per message.
            Ok(Some(ev)) => {
                let handled = st.handle_all(
                    &inner.handler,
                    ev,
                    &mut inbound.buf,
                    &mut wr,
                    inner.config.batch,
                );
                if let Some(end) = Box::pin(handled).await {
                    break 'conn end;
                }
            }
            Ok(None) => {}
            Err(v) => {
                st.metrics.error();
                let _ = st.flush(&mut wr).await;
                break 'conn Ended::Violation(v);
            }
        }
        if st.session.has_output() {
            // The other connections with input are read first, and the answers leave
            // together, as an event loop writes after it has read every ready socket: a peer
            // serving many connections is woken once per round, not once per connection.
            tokio::task::yield_now().await;
        }
        if let Err(e) = st.flush(&mut wr).await {
            break Ended::Io(e.to_string());
        }
        if st.session.is_closed() {
            break Ended::Closed;
        }
        if st.close {
            break Ended::ClosedHere;
        }
        let waiting_hello = st.session.version().is_none()
            && inner.exchange.hello().is_some()
            && st.session.deadline().is_none();
        let deadline = if waiting_hello {
            Some(opened + inner.config.hello_timeout)
        } else {
            st.session.deadline()
        };
        inbound.fair_turn().await;
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            biased;
            _ = inner.shutdown.cancelled() => {
                st.session.farewell(Failure::Shutdown);
                break Ended::Shutdown;
            }
            r = std::future::poll_fn(|cx| inbound.poll_read(&mut rd, cx)) => match r {
                Ok(0) => break Ended::PeerGone,
                Ok(n) => st.metrics.bytes_in(n),
                Err(e) => break Ended::Io(e.to_string()),
            },
            cmd = st.rx.recv() => {
                // This and whatever else is queued, then one write.
                st.now = Instant::now();
                let mut cmd = cmd;
                let batch = inner.config.batch.max(1);
                for n in 1..=batch {
                    match cmd {
                        Some(Command::Push(m)) => {
                            if let Err(e) = st.session.send(*m, st.now) {
                                tracing::debug!(error = %e, "push not sent");
                            }
                        }
                        Some(Command::Close) => {
                            let _ = st.flush(&mut wr).await;
                            break 'conn Ended::ClosedHere;
                        }
                        // Unreachable while `conn` holds a sender.
                        None => break,
                    }
                    // The next is taken only when there is room for it in this batch.
                    if n == batch {
                        break;
                    }
                    cmd = match st.rx.try_recv() {
                        Ok(c) => Some(c),
                        Err(_) => break,
                    };
                }
            }
            _ = sleep => {
                if waiting_hello {
                    st.session.farewell(Failure::Violation);
                    break Ended::Violation(Violation::NoHello(inner.config.hello_timeout));
                }
                if let Err(v) = st.session.tick(Instant::now()) {
                    break Ended::Violation(v);
                }
            }
        }
    };
    // A farewell the session queued (a violation's, a shutdown's) goes before the close.
    let _ = st.flush(&mut wr).await;
    let _ = wr.shutdown().await;
    st.rx.close();
    drop(st);
    Box::pin(inner.handler.closed(&conn, &end)).await;
    end
}

impl<E: Exchange, H: MessageHandler<E>> ProtocolServer for MessageServer<E, H> {
    fn id(&self) -> &'static str {
        self.inner.exchange.id()
    }

    fn metrics(&self) -> Option<MetricsSnapshot> {
        Some(MessageServer::metrics(self))
    }

    fn metrics_by_transport(&self) -> Vec<(TransportKind, MetricsSnapshot)> {
        MessageServer::metrics_by_transport(self)
    }

    fn detect(&self, first: &[u8]) -> Option<Detection> {
        self.inner.exchange.detector().map(|d| d.detect(first))
    }

    fn serve_tcp(&self, stream: tokio::net::TcpStream, peer: String, first: BytesMut) {
        self.serve_tcp_stream(stream, peer, first);
    }

    fn serve_io(&self, io: Box<dyn Io>, peer: String, transport: TransportKind, first: BytesMut) {
        self.spawn(io, peer, transport, first);
    }

    fn framing(&self) -> Framing {
        Framing::of_exchange(&self.inner.exchange)
    }

    fn call(
        &self,
        _request: BytesMut,
        _peer: &str,
        _transport: TransportKind,
        _negotiated: Option<Negotiated>,
    ) -> BoxFuture<Result<BytesMut, CallError>> {
        Box::pin(async {
            Err(CallError::Body(
                "this protocol's messages are exchanged on a connection, not one request per stream",
            ))
        })
    }

    fn accept_hello(&self, _hello: BytesMut) -> Result<BytesMut, CallError> {
        Err(CallError::NoHandshake)
    }

    fn shutdown(&self) -> BoxFuture<()> {
        let this = self.clone();
        Box::pin(async move { MessageServer::shutdown(&this).await })
    }
}

/// Why a [`MessageClient`] call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClientError {
    /// Connecting or the connection failed.
    #[error("connection: {0}")]
    Io(String),
    /// The message could not be sent.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The connection ended before the answer came.
    #[error("the connection ended: {0:?}")]
    Ended(Ended),
    /// No answer within the configured time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// The answer that ended the exchange reports a failure through its status field.
    #[error("{answer} reports {status}")]
    Failed {
        /// The answer's message name.
        answer: &'static str,
        /// Its status.
        status: Status,
    },
    /// The hello's answer refused every version offered (the last one tried is named).
    #[error("the server refused the hello (last offered version {0})")]
    Refused(u32),
    /// The exchange ended with another message than the one expected (named here).
    #[error("the exchange ended with {0}")]
    Unexpected(&'static str),
    /// The message is answered by a series: send it with
    /// [`MessageClient::request_series`] (named here).
    #[error("{0} is answered by a series: use request_series")]
    Series(&'static str),
    /// A series answer had more items than [`MessageConfig::max_series`] (this many).
    #[error("a series of more than {0} items")]
    SeriesTooLong(usize),
}

/// A request's answer: a series' items (empty for other answers) and the message that ends
/// its exchange.
type Reply<M> = (Vec<M>, Option<M>);

/// Where a request's answer goes.
type Waiter<M> = oneshot::Sender<Result<Reply<M>, ClientError>>;

/// A request waiting for its answer: where it goes, and a series' items so far.
type Waiting<M> = HashMap<Ticket, (Waiter<M>, Vec<M>)>;

enum ClientCmd<M> {
    Send(M, Waiter<M>),
    /// Sent with nothing waiting for an answer in line.
    SendUnawaited(M, oneshot::Sender<Result<(), ClientError>>),
    Version(u32),
    Close(oneshot::Sender<()>),
}

/// A client connection of a protocol with an `exchange` block: it sends the hello, then
/// requests whose answers (the ends of their chains) it waits for, and keeps what the server
/// pushes for [`MessageClient::next_push`].
pub struct MessageClient<E: Exchange> {
    exchange: E,
    tx: mpsc::Sender<ClientCmd<E::Msg>>,
    pushes: tokio::sync::Mutex<mpsc::Receiver<E::Msg>>,
    /// The version in effect, 0 for none.
    version: AtomicU32,
    timeout: Duration,
}

impl<E: Exchange> std::fmt::Debug for MessageClient<E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessageClient")
            .field("protocol", &self.exchange.id())
            .field("version", &self.version())
            .finish()
    }
}

impl<E: Exchange> MessageClient<E> {
    /// Connects over TCP to a server of a protocol without a hello: the connection speaks
    /// the lowest version the protocol declares until [`Self::switch_version`].
    pub async fn open(
        exchange: E,
        addr: impl tokio::net::ToSocketAddrs,
        config: MessageConfig,
    ) -> Result<Self, ClientError> {
        Ok(Self::open_over(exchange, tcp(addr).await?, config))
    }

    /// [`Self::open`] over an open byte stream (TLS, WebSocket, ...).
    pub fn open_over<S: AsyncRead + AsyncWrite + Send + 'static>(
        exchange: E,
        io: S,
        config: MessageConfig,
    ) -> Self {
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        let (push_tx, push_rx) = mpsc::channel(config.queue.max(1));
        let timeout = config.request_timeout;
        let version = AtomicU32::new(exchange.versions().map_or(0, |v| v.0));
        tokio::spawn(client_task(exchange.clone(), io, rx, push_tx, config));
        MessageClient {
            exchange,
            tx,
            pushes: tokio::sync::Mutex::new(push_rx),
            version,
            timeout,
        }
    }

    /// Switches the connection to version `v` for what it sends and reads from now on: for
    /// protocols whose version a request's content switches (RESP's `HELLO 3`, once
    /// answered).
    pub async fn switch_version(&self, v: u32) -> Result<(), ClientError> {
        self.tx
            .send(ClientCmd::Version(v))
            .await
            .map_err(|_| ClientError::Ended(Ended::PeerGone))?;
        self.version.store(v, Ordering::Relaxed);
        Ok(())
    }

    /// Sends `msg` without waiting for an answer, and without one being due in line: for a
    /// request its protocol answers out of band, by its content (RESP3 answers `SUBSCRIBE`
    /// with pushes only, which come through [`Self::next_push`]).
    pub async fn send_unawaited(&self, msg: E::Msg) -> Result<(), ClientError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(ClientCmd::SendUnawaited(msg, tx))
            .await
            .map_err(|_| ClientError::Ended(Ended::PeerGone))?;
        rx.await.map_err(|_| ClientError::Ended(Ended::PeerGone))?
    }

    /// Sends every message of `msgs` before waiting for any answer (a pipeline: one write
    /// for all of them), then waits for each one's, in order: what [`Self::request`] gives
    /// for each.
    pub async fn request_pipelined(
        &self,
        msgs: impl IntoIterator<Item = E::Msg>,
    ) -> Vec<Result<Option<E::Msg>, ClientError>> {
        let mut waits = Vec::new();
        for msg in msgs {
            let ex = &self.exchange;
            if ex
                .expects(&msg, self.version.load(Ordering::Relaxed))
                .item()
                .is_some()
            {
                waits.push(Err(ClientError::Series(ex.member_name(ex.member(&msg)))));
                continue;
            }
            let (tx, rx) = oneshot::channel();
            match self.tx.send(ClientCmd::Send(msg, tx)).await {
                Ok(()) => waits.push(Ok(rx)),
                Err(_) => waits.push(Err(ClientError::Ended(Ended::PeerGone))),
            }
        }
        let deadline = tokio::time::Instant::now() + self.timeout;
        let mut out = Vec::with_capacity(waits.len());
        for w in waits {
            out.push(match w {
                Err(e) => Err(e),
                Ok(rx) => match tokio::time::timeout_at(deadline, rx).await {
                    Ok(Ok(r)) => r.map(|(_, end)| end),
                    Ok(Err(_)) => Err(ClientError::Ended(Ended::PeerGone)),
                    Err(_) => Err(ClientError::Timeout(self.timeout)),
                },
            });
        }
        out
    }

    /// Connects over TCP, sends `hello` and waits for its answer (returned with the client).
    pub async fn connect(
        exchange: E,
        addr: impl tokio::net::ToSocketAddrs,
        hello: E::Msg,
        config: MessageConfig,
    ) -> Result<(Self, Option<E::Msg>), ClientError> {
        Self::over(exchange, tcp(addr).await?, hello, config).await
    }

    /// Connects over TCP offering each version of `versions` in turn (the hello's `@version`
    /// set to it) until the hello's answer accepts one (`accept if`): explicit (one
    /// version), highest first, or a fallback such as MQTT 5 then 3.1.1. A connection the
    /// server closes, or an answer that refuses, moves on to the next version.
    pub async fn connect_versions(
        exchange: E,
        addr: impl tokio::net::ToSocketAddrs + Clone,
        mut hello: E::Msg,
        versions: &[u32],
        config: MessageConfig,
    ) -> Result<(Self, Option<E::Msg>), ClientError> {
        let mut last = ClientError::Refused(0);
        for &v in versions {
            exchange.set_hello_version(&mut hello, v);
            let connected = Self::connect(
                exchange.clone(),
                addr.clone(),
                hello.clone(),
                config.clone(),
            );
            match connected.await {
                Ok((c, Some(a))) if exchange.accepted(&a) => return Ok((c, Some(a))),
                Ok((c, None)) => return Ok((c, None)),
                Ok((c, Some(_))) => {
                    c.close().await;
                    last = ClientError::Refused(v);
                }
                Err(e @ ClientError::Io(_)) if last == ClientError::Refused(0) => return Err(e),
                Err(_) => last = ClientError::Refused(v),
            }
        }
        Err(last)
    }

    /// The versions a [`Negotiation`](super::Negotiation) offers, in the order to try them:
    /// every attempt's range, highest first (a range left open is all that `exchange`'s
    /// protocol speaks).
    pub fn versions_of(exchange: &E, negotiation: &super::Negotiation) -> Vec<u32> {
        let all = exchange.versions().unwrap_or((0, 0));
        let range = |r: Option<(u32, u32)>| {
            let (lo, hi) = r.unwrap_or(all);
            (lo.max(all.0)..=hi.min(all.1)).rev()
        };
        let mut out: Vec<u32> = Vec::new();
        let attempts: Vec<Option<(u32, u32)>> = match negotiation {
            super::Negotiation::Explicit(a) => vec![a.versions],
            super::Negotiation::Automatic { .. } => vec![None],
            super::Negotiation::Fallback(list) => list.iter().map(|a| a.versions).collect(),
        };
        for r in attempts {
            for v in range(r) {
                if !out.contains(&v) {
                    out.push(v);
                }
            }
        }
        out
    }

    /// Runs the client over an open byte stream (TLS, WebSocket, ...): sends `hello` and
    /// waits for its answer.
    pub async fn over<S: AsyncRead + AsyncWrite + Send + 'static>(
        exchange: E,
        io: S,
        hello: E::Msg,
        config: MessageConfig,
    ) -> Result<(Self, Option<E::Msg>), ClientError> {
        let (hello_timeout, request_timeout) = (config.hello_timeout, config.request_timeout);
        let version = exchange.hello_version(&hello).unwrap_or(0);
        let mut client = Self::open_over(exchange, io, config);
        client.version.store(version, Ordering::Relaxed);
        client.timeout = hello_timeout;
        let answer = client.request(hello).await?;
        client.timeout = request_timeout;
        Ok((client, answer))
    }

    /// The protocol's rules.
    pub fn exchange(&self) -> &E {
        &self.exchange
    }

    /// The version in effect: the one the hello set, the lowest the protocol declares when
    /// it has no hello, or the last [`Self::switch_version`].
    pub fn version(&self) -> Option<u32> {
        match self.version.load(Ordering::Relaxed) {
            0 => None,
            v => Some(v),
        }
    }

    /// Sends `msg` and, when it expects an answer, waits for the message that ends its
    /// exchange (a chain `A -> B`, `C -> D` ends with `D`); `None` when nothing answers it.
    /// Correlation values are picked for it.
    pub async fn request(&self, msg: E::Msg) -> Result<Option<E::Msg>, ClientError> {
        let ex = &self.exchange;
        if ex
            .expects(&msg, self.version.load(Ordering::Relaxed))
            .item()
            .is_some()
        {
            return Err(ClientError::Series(ex.member_name(ex.member(&msg))));
        }
        self.call(msg).await.map(|(_, end)| end)
    }

    /// Sends `msg`, which its rule answers with a series (`Item* then End`), and waits for
    /// the items and the end. At most [`MessageConfig::max_series`] items are kept.
    pub async fn request_series(
        &self,
        msg: E::Msg,
    ) -> Result<(Vec<E::Msg>, Option<E::Msg>), ClientError> {
        self.call(msg).await
    }

    async fn call(&self, msg: E::Msg) -> Result<Reply<E::Msg>, ClientError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(ClientCmd::Send(msg, tx))
            .await
            .map_err(|_| ClientError::Ended(Ended::PeerGone))?;
        match tokio::time::timeout(self.timeout, rx).await {
            Ok(Ok(r)) => r,
            Ok(Err(_)) => Err(ClientError::Ended(Ended::PeerGone)),
            Err(_) => Err(ClientError::Timeout(self.timeout)),
        }
    }

    /// The next message the server sent unasked, or an answer nobody waits for (`Msg on
    /// failure`) (`None` once the connection is gone). Messages wait here, in order, until
    /// taken; while the queue is full the connection reads nothing more.
    pub async fn next_push(&self) -> Option<E::Msg> {
        self.pushes.lock().await.recv().await
    }

    /// Closes the connection (after sending what is queued).
    pub async fn close(&self) {
        let (tx, rx) = oneshot::channel();
        if self.tx.send(ClientCmd::Close(tx)).await.is_ok() {
            let _ = rx.await;
        }
    }
}

/// A TCP connection to `addr`, without Nagle's delay.
async fn tcp(addr: impl tokio::net::ToSocketAddrs) -> Result<tokio::net::TcpStream, ClientError> {
    let stream = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| ClientError::Io(e.to_string()))?;
    let _ = stream.set_nodelay(true);
    Ok(stream)
}

async fn client_task<E: Exchange, S: AsyncRead + AsyncWrite + Send + 'static>(
    exchange: E,
    io: S,
    mut rx: mpsc::Receiver<ClientCmd<E::Msg>>,
    pushes: mpsc::Sender<E::Msg>,
    config: MessageConfig,
) {
    let (mut rd, mut wr) = tokio::io::split(io);
    let mut session = MessageSession::new(exchange.clone(), Role::Client, Instant::now());
    let mut waiting: Waiting<E::Msg> = HashMap::new();
    let mut inbound = super::Inbound::new(BytesMut::new());
    let mut closing: Option<oneshot::Sender<()>> = None;
    let end = 'conn: loop {
        loop {
            match session.receive(&mut inbound.buf, Instant::now()) {
                Ok(Some(Incoming::Answer { ticket, msg })) => {
                    if let Some((w, items)) = waiting.remove(&ticket) {
                        let _ = w.send(match exchange.failure(&msg) {
                            Some(status) => Err(ClientError::Failed {
                                answer: exchange.member_name(exchange.member(&msg)),
                                status,
                            }),
                            None => Ok((items, Some(msg))),
                        });
                    }
                }
                Ok(Some(Incoming::Item { ticket, msg })) => {
                    if let Some((_, items)) = waiting.get_mut(&ticket) {
                        if items.len() < config.max_series {
                            items.push(msg);
                        } else if let Some((w, _)) = waiting.remove(&ticket) {
                            // The rest of the series, and its end, find no waiter.
                            let _ = w.send(Err(ClientError::SeriesTooLong(config.max_series)));
                        }
                    }
                }
                Ok(Some(Incoming::Message { msg, token })) => {
                    let member = exchange.member(&msg);
                    let answer = token
                        .expect()
                        .member()
                        .map(|m| exchange.default_answer(&msg, m));
                    // A chain of ours continues: its waiter moves to the answer's ticket.
                    let carried = token.ticket();
                    match answer {
                        Some(a) => match session.answer(token, a, Instant::now()) {
                            Ok(Some(t)) => {
                                if let Some(c) = carried.filter(|c| *c != t)
                                    && let Some(w) = waiting.remove(&c)
                                {
                                    waiting.insert(t, w);
                                }
                            }
                            Ok(None) => {}
                            Err(e) => tracing::warn!(error = %e, "answer not sent"),
                        },
                        None => session.decline(token),
                    }
                    if carried.is_none()
                        && exchange.pushable(member)
                        && pushes.send(msg).await.is_err()
                    {
                        // Nobody takes pushes any more: the client is gone.
                        break 'conn Ended::ClosedHere;
                    }
                }
                Ok(Some(Incoming::Close { .. })) => break 'conn Ended::Closed,
                Ok(Some(Incoming::Hello { .. })) => {}
                Ok(Some(Incoming::Stray { msg })) if exchange.unawaited(exchange.member(&msg)) => {
                    // An answer sent on an outcome (`Msg on failure`): nobody waits for it.
                    if pushes.send(msg).await.is_err() {
                        break 'conn Ended::ClosedHere;
                    }
                }
                Ok(Some(Incoming::Stray { msg })) => {
                    tracing::debug!(
                        message = exchange.member_name(exchange.member(&msg)),
                        "an answer to nothing outstanding; dropped"
                    );
                }
                Ok(None) => break,
                Err(v) => break 'conn Ended::Violation(v),
            }
        }
        if let Err(e) = flush(&mut wr, &mut session).await {
            break Ended::Io(e.to_string());
        }
        if let Some(done) = closing.take() {
            let _ = done.send(());
            break Ended::ClosedHere;
        }
        if session.is_closed() {
            break Ended::Closed;
        }
        let deadline = session.deadline();
        inbound.fair_turn().await;
        let sleep = async {
            match deadline {
                Some(d) => tokio::time::sleep_until(d.into()).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            r = std::future::poll_fn(|cx| inbound.poll_read(&mut rd, cx)) => match r {
                Ok(0) => break Ended::PeerGone,
                Ok(_) => {}
                Err(e) => break Ended::Io(e.to_string()),
            },
            cmd = rx.recv() => {
                let mut cmd = cmd;
                let batch = config.batch.max(1);
                for n in 1..=batch {
                    match cmd {
                        Some(ClientCmd::Send(m, w)) => match session.send(m, Instant::now()) {
                            Ok(Some(t)) => {
                                waiting.insert(t, (w, Vec::new()));
                            }
                            Ok(None) => {
                                let _ = w.send(Ok((Vec::new(), None)));
                            }
                            Err(e) => {
                                let _ = w.send(Err(ClientError::Send(e)));
                            }
                        },
                        Some(ClientCmd::SendUnawaited(m, w)) => {
                            let _ = w.send(
                                session
                                    .send_unawaited(m, Instant::now())
                                    .map_err(ClientError::Send),
                            );
                        }
                        Some(ClientCmd::Version(v)) => session.set_version(v),
                        Some(ClientCmd::Close(done)) => {
                            closing = Some(done);
                            break;
                        }
                        None => break 'conn Ended::ClosedHere,
                    }
                    // The next is taken only when there is room for it in this batch.
                    if n == batch {
                        break;
                    }
                    cmd = match rx.try_recv() {
                        Ok(c) => Some(c),
                        Err(_) => break,
                    };
                }
            }
            _ = sleep => {
                if let Err(v) = session.tick(Instant::now()) {
                    break Ended::Violation(v);
                }
            }
        }
    };
    let _ = wr.shutdown().await;
    if let Some(done) = closing {
        let _ = done.send(());
    }
    for (_, (w, _)) in waiting.drain() {
        let _ = w.send(Err(ClientError::Ended(end.clone())));
    }
}
