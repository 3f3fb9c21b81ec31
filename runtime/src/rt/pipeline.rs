//! [`Pipeline`]: many requests in flight on one connection without a future, a timer or a
//! channel per request.
//!
//! `invoke` is the convenient API: one future per call, woken when its response arrives.
//! A pipeline is the fast one, for a caller that keeps a window of requests outstanding
//! (a producer, a replicator, a load generator): [`send`](Pipeline::send) encodes into a
//! local buffer (no lock), the buffer goes to the connection's writer in one piece when the
//! caller waits, and the connection's reader hands every response of a read over in one
//! batch, waking the pipeline once. Timeouts, hooks, metrics and the connection's in-flight
//! bound apply as for `invoke`.
//!
//! ```no_run
//! # async fn demo<P: polywire::protocol::Protocol>(client: polywire::rt::RemotingClient<P>, make: impl Fn() -> P::Frame) -> Result<(), polywire::rt::RemotingError> {
//! use std::time::Duration;
//! let mut pipe = client.pipeline("127.0.0.1:9876", 64, Duration::from_secs(3)).await?;
//! let mut done = Vec::new();
//! for _ in 0..1000 {
//!     while !pipe.has_room() {
//!         for (id, outcome) in pipe.recv().await {
//!             let response = outcome?;
//!         }
//!     }
//!     pipe.send(make())?;
//! }
//! while pipe.outstanding() > 0 {
//!     pipe.recv_batch(&mut done).await; // or collected into a Vec
//! }
//! # Ok(()) }
//! ```

use super::RemotingError;
use super::client::{ClientConnection, Pending, Waiter};
use crate::codec::{Codec, FrameKind};
use crate::protocol::{Protocol, RemotingFrame};
use bytes::BytesMut;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

/// Why a pipelined request got no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Failure {
    /// Its deadline passed.
    Timeout,
    /// The connection closed first.
    Closed,
}

/// (correlation id, request code, deadline, outcome)
type Item<F> = (u64, i64, Instant, Result<F, Failure>);

/// The hand-over point between a connection's reader and one pipeline.
pub(super) struct PipeShared<F> {
    state: Mutex<PipeState<F>>,
}

struct PipeState<F> {
    ready: Vec<Item<F>>,
    waker: Option<Waker>,
}

impl<F> PipeShared<F> {
    fn new() -> Self {
        PipeShared {
            state: Mutex::new(PipeState {
                ready: Vec::new(),
                waker: None,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PipeState<F>> {
        // Every critical section leaves the state whole, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// The pipelines open on one connection, by index: a pending request names its pipeline
/// by index, so entering and leaving the pending table costs no reference count.
pub(super) struct PipeRegistry<F> {
    slots: Mutex<Vec<Option<Arc<PipeShared<F>>>>>,
}

impl<F> Default for PipeRegistry<F> {
    fn default() -> Self {
        PipeRegistry {
            slots: Mutex::new(Vec::new()),
        }
    }
}

impl<F> PipeRegistry<F> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Option<Arc<PipeShared<F>>>>> {
        self.slots.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers `pipe` in a free slot; returns its index.
    fn add(&self, pipe: Arc<PipeShared<F>>) -> u32 {
        let mut g = self.lock();
        let i = match g.iter().position(Option::is_none) {
            Some(i) => {
                g[i] = Some(pipe);
                i
            }
            None => {
                g.push(Some(pipe));
                g.len() - 1
            }
        };
        // More pipelines than u32 indices cannot be open: each holds at least one permit.
        u32::try_from(i).unwrap_or(u32::MAX)
    }

    /// Frees slot `i` (its pipeline is gone and no pending entry names it any more).
    fn remove(&self, i: u32) {
        if let Some(slot) = self.lock().get_mut(i as usize) {
            *slot = None;
        }
    }

    fn get(&self, i: u32) -> Option<Arc<PipeShared<F>>> {
        self.lock().get(i as usize).cloned().flatten()
    }
}

/// Outcomes staged by a reader (or sweeper) and handed to their pipelines in one piece:
/// one lock and at most one wake per pipeline per read.
pub(super) struct Deliveries<'a, F> {
    registry: &'a PipeRegistry<F>,
    pipe: Option<(u32, Option<Arc<PipeShared<F>>>)>,
    items: Vec<Item<F>>,
}

impl<'a, F> Deliveries<'a, F> {
    pub(super) fn new(registry: &'a PipeRegistry<F>) -> Self {
        Deliveries {
            registry,
            pipe: None,
            items: Vec::new(),
        }
    }

    /// Stages one outcome for the pipeline with index `pipe`.
    pub(super) fn add(
        &mut self,
        pipe: u32,
        id: u64,
        (code, deadline): (i64, Instant),
        outcome: Result<F, Failure>,
    ) {
        match &self.pipe {
            Some((cur, _)) if *cur == pipe => {}
            _ => {
                self.flush();
                self.pipe = Some((pipe, self.registry.get(pipe)));
            }
        }
        self.items.push((id, code, deadline, outcome));
    }

    /// Hands everything staged to its pipeline and wakes it.
    pub(super) fn flush(&mut self) {
        let Some((_, pipe)) = self.pipe.take() else {
            return;
        };
        let Some(pipe) = pipe else {
            // The pipeline is gone: nobody takes these.
            self.items.clear();
            return;
        };
        let waker = {
            let mut g = pipe.lock();
            if g.ready.is_empty() {
                // Swapping keeps both buffers' capacity: no allocation in the steady state.
                std::mem::swap(&mut g.ready, &mut self.items);
            } else {
                g.ready.append(&mut self.items);
            }
            g.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// A window of requests in flight on one connection, completed in batches. Made by
/// [`ClientConnection::pipeline`] or [`RemotingClient::pipeline`](super::RemotingClient::pipeline).
///
/// Responses come back in the order they arrive, each with the correlation id that
/// [`send`](Self::send) returned.
pub struct Pipeline<P: Protocol> {
    conn: Arc<ClientConnection<P>>,
    shared: Arc<PipeShared<P::Frame>>,
    /// This pipeline's index in the connection's [`PipeRegistry`].
    index: u32,
    codec: P::Codec,
    window: usize,
    outstanding: usize,
    timeout: Duration,
    /// Encoded requests not yet handed to the writer.
    out: BytesMut,
    /// Bytes of the last batch: a new batch reserves that much, so encoding a batch does
    /// not grow (and copy) the buffer part-way.
    last_batch: usize,
    /// The time of the first request in `out` (one clock read per batch).
    batch_start: Instant,
    /// (id, code) of the requests in `out`: they enter the pending table together when
    /// `out` goes to the writer (no response can arrive before that).
    staged: Vec<(u64, i64)>,
    /// Correlation ids taken from the connection and not used yet.
    ids: std::ops::Range<u64>,
    taken: Vec<Item<P::Frame>>,
    _permits: OwnedSemaphorePermit,
}

/// Requests encoded locally past this many bytes are handed to the writer at once.
const FLUSH_AT: usize = 64 * 1024;

impl<P: Protocol> ClientConnection<P> {
    /// A pipeline of up to `window` requests in flight on this connection, each failing
    /// after `timeout`. The window counts against the connection's `max_in_flight` from
    /// now until the pipeline is dropped (waiting for room, or failing at once with
    /// [`RemotingError::TooManyInFlight`] when the client is set to fail fast).
    pub async fn pipeline(
        self: &Arc<Self>,
        window: usize,
        timeout: Duration,
    ) -> Result<Pipeline<P>, RemotingError> {
        let too_many = || RemotingError::TooManyInFlight {
            addr: self.addr.clone(),
            limit: self.max_in_flight,
        };
        if window == 0 || window > self.max_in_flight {
            return Err(too_many());
        }
        let n = u32::try_from(window).map_err(|_| too_many())?;
        let permits = match self.permits.clone().try_acquire_many_owned(n) {
            Ok(p) => p,
            Err(_) if self.overload == super::Overload::FailFast => return Err(too_many()),
            Err(_) => tokio::time::timeout(timeout, self.permits.clone().acquire_many_owned(n))
                .await
                .map_err(|_| RemotingError::Timeout {
                    addr: self.addr.clone(),
                    timeout,
                })?
                .map_err(|_| self.closed_error())?,
        };
        let shared = Arc::new(PipeShared::new());
        let index = self.pipes.add(shared.clone());
        Ok(Pipeline {
            conn: self.clone(),
            shared,
            index,
            codec: self.codec.clone(),
            window,
            outstanding: 0,
            timeout,
            out: BytesMut::with_capacity(16 * 1024),
            last_batch: 0,
            batch_start: Instant::now(),
            staged: Vec::with_capacity(window.min(1024)),
            ids: 0..0,
            taken: Vec::new(),
            _permits: permits,
        })
    }
}

impl<P: Protocol> Pipeline<P> {
    /// Requests sent whose outcome has not been returned yet.
    pub fn outstanding(&self) -> usize {
        self.outstanding
    }

    /// True when [`send`](Self::send) has room in the window.
    pub fn has_room(&self) -> bool {
        self.outstanding < self.window
    }

    /// The connection this pipeline runs on.
    pub fn connection(&self) -> &Arc<ClientConnection<P>> {
        &self.conn
    }

    /// Encodes `request` and queues it; returns its correlation id. Nothing is written until
    /// [`flush`](Self::flush) or [`recv_batch`](Self::recv_batch) (or 64 KiB have
    /// accumulated). Fails with [`RemotingError::TooManyInFlight`] when the window is full:
    /// take responses first.
    pub fn send(&mut self, mut req: P::Frame) -> Result<u64, RemotingError> {
        let conn = &*self.conn;
        if self.outstanding >= self.window {
            return Err(RemotingError::TooManyInFlight {
                addr: conn.addr.clone(),
                limit: self.window,
            });
        }
        if conn.is_closed() {
            return Err(conn.closed_error());
        }
        for h in conn.hooks.iter() {
            h.before(&conn.ctx, &mut req)
                .map_err(RemotingError::Refused)?;
        }
        req.set_kind(FrameKind::Request);
        if self.ids.start == self.ids.end {
            // Ids come from the connection in blocks: one atomic per window, not per request.
            let n = self.window.min(1024) as u64;
            let first = conn.next_id.fetch_add(n, Ordering::Relaxed);
            self.ids = first..first + n;
        }
        req.set_correlation_id(self.ids.start);
        self.ids.start += 1;
        let id = req.correlation_id();
        if self.out.is_empty() {
            self.batch_start = Instant::now();
            self.out.reserve(self.last_batch);
        }
        let mark = self.out.len();
        if let Err(e) = self.codec.encode(&req, &mut self.out) {
            self.out.truncate(mark);
            return Err(e.into());
        }
        self.staged.push((id, req.code()));
        self.outstanding += 1;
        if self.out.len() >= FLUSH_AT {
            self.flush();
        }
        Ok(id)
    }

    /// Hands the queued requests to the connection's writer.
    pub fn flush(&mut self) {
        if self.staged.is_empty() {
            return;
        }
        let conn = &*self.conn;
        conn.metrics.requests(self.staged.len() as u64);
        self.last_batch = self.out.len().min(FLUSH_AT + FLUSH_AT / 4);
        let deadline = self.batch_start + self.timeout;
        {
            let mut pending = conn.lock_pending();
            for &(id, code) in &self.staged {
                pending.insert(
                    id,
                    Pending {
                        waiter: Waiter::Pipe(self.index),
                        code,
                        deadline,
                    },
                );
            }
        }
        // `close` sets the flag, then drains the table: after the inserts, either the
        // drain saw them or the flag shows now.
        if conn.is_closed() || conn.q.push_buf(&mut self.out).is_err() {
            self.out.clear();
            let mut failed = Deliveries::new(&conn.pipes);
            let mut pending = conn.lock_pending();
            for &(id, code) in &self.staged {
                if pending.remove(&id).is_some() {
                    failed.add(self.index, id, (code, deadline), Err(Failure::Closed));
                }
            }
            drop(pending);
            failed.flush();
        }
        self.staged.clear();
    }

    /// Flushes, then waits until at least one outstanding request has an outcome and
    /// appends every outcome available now to `out` as `(correlation id, result)`. Returns
    /// how many were appended: 0 only when nothing is outstanding.
    pub async fn recv_batch(
        &mut self,
        out: &mut Vec<(u64, Result<P::Frame, RemotingError>)>,
    ) -> usize {
        let batch = self.recv().await;
        let n = batch.len();
        out.extend(batch);
        n
    }

    /// Flushes, then waits until at least one outstanding request has an outcome, and
    /// returns every outcome available now as `(correlation id, result)`, handed out one by
    /// one without being copied into a collection first. Empty only when nothing is
    /// outstanding. Outcomes the caller does not take are dropped with the batch (their
    /// metrics and hooks still run).
    pub async fn recv(&mut self) -> Batch<'_, P> {
        self.flush();
        if self.outstanding > 0 {
            let shared = &self.shared;
            let taken = &mut self.taken;
            std::future::poll_fn(|cx| {
                let mut g = shared.lock();
                if g.ready.is_empty() {
                    match &g.waker {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        _ => g.waker = Some(cx.waker().clone()),
                    }
                    return Poll::Pending;
                }
                std::mem::swap(&mut g.ready, taken);
                Poll::Ready(())
            })
            .await;
            self.outstanding = self.outstanding.saturating_sub(self.taken.len());
        }
        Batch {
            now: Instant::now(),
            run: None,
            conn: &self.conn,
            timeout: self.timeout,
            items: self.taken.drain(..),
        }
    }
}

/// The outcomes one [`Pipeline::recv`] returned, in the order they arrived.
pub struct Batch<'a, P: Protocol> {
    conn: &'a ClientConnection<P>,
    timeout: Duration,
    now: Instant,
    /// Requests sent together share a deadline, hence a latency: their metrics are recorded
    /// as one run (deadline, responses, errors).
    run: Option<(Instant, u64, u64)>,
    items: std::vec::Drain<'a, Item<P::Frame>>,
}

impl<P: Protocol> Batch<'_, P> {
    fn record(&self, run: Option<(Instant, u64, u64)>) {
        if let Some((deadline, n, errors)) = run {
            let start = deadline.checked_sub(self.timeout).unwrap_or(deadline);
            self.conn
                .metrics
                .responses(self.now.saturating_duration_since(start), n, errors);
        }
    }
}

impl<P: Protocol> Iterator for Batch<'_, P> {
    type Item = (u64, Result<P::Frame, RemotingError>);

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let (id, code, deadline, outcome) = self.items.next()?;
        let conn = self.conn;
        Some((
            id,
            match outcome {
                Ok(resp) => {
                    let error = u64::from(!conn.proto.is_success(&resp));
                    match &mut self.run {
                        Some((d, n, e)) if *d == deadline => {
                            *n += 1;
                            *e += error;
                        }
                        _ => {
                            let done = self.run.replace((deadline, 1, error));
                            self.record(done);
                        }
                    }
                    for h in conn.hooks.iter() {
                        h.after(&conn.ctx, code, Some(&resp));
                    }
                    Ok(resp)
                }
                Err(Failure::Timeout) => {
                    conn.metrics.error();
                    Err(RemotingError::Timeout {
                        addr: conn.addr.clone(),
                        timeout: self.timeout,
                    })
                }
                Err(Failure::Closed) => {
                    conn.metrics.error();
                    Err(conn.closed_error())
                }
            },
        ))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.items.size_hint()
    }
}

impl<P: Protocol> ExactSizeIterator for Batch<'_, P> {}

impl<P: Protocol> Drop for Batch<'_, P> {
    fn drop(&mut self) {
        // Outcomes not taken still count (metrics, hooks), as if taken and dropped.
        for _ in self.by_ref() {}
        let run = self.run.take();
        self.record(run);
    }
}

impl<P: Protocol> Drop for Pipeline<P> {
    fn drop(&mut self) {
        // What `send` accepted goes out; its responses will be counted as late.
        self.flush();
        if self.outstanding > 0 {
            // Forget what is still in flight: late responses are counted and dropped.
            let index = self.index;
            self.conn.lock_pending().retain(|_, p| match &p.waiter {
                Waiter::Pipe(i) => *i != index,
                Waiter::Call(_) => true,
            });
        }
        // No pending entry names the index any more: it may be reused.
        self.conn.pipes.remove(self.index);
    }
}
