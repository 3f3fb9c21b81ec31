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
//! A pipeline keeps its requests itself: a ring indexed by correlation id, and one timer
//! for the earliest deadline. It takes ids from the connection in blocks, and the
//! connection's reader hands it every response whose id lies in one of its blocks (a
//! response to a request that timed out, or to a dropped pipeline, is counted as late).
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
use super::client::ClientConnection;
use crate::codec::{Codec, FrameKind};
use crate::protocol::{Protocol, RemotingFrame};
use bytes::BytesMut;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::Duration;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::{Instant, Sleep};

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
    /// Responses whose ids lie in the pipeline's blocks, as (id, frame).
    ready: Vec<(u64, F)>,
    waker: Option<Waker>,
    /// The connection closed: no more responses will come.
    closed: bool,
}

impl<F> PipeShared<F> {
    fn new(closed: bool) -> Self {
        PipeShared {
            state: Mutex::new(PipeState {
                ready: Vec::new(),
                waker: None,
                closed,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PipeState<F>> {
        // Every critical section leaves the state whole, so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn close(&self) {
        let waker = {
            let mut g = self.lock();
            g.closed = true;
            g.waker.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

/// A block of correlation ids (as frames carry them) that belongs to one pipeline.
#[derive(Debug, Clone, Copy)]
pub(super) struct Route {
    start: u64,
    end: u64,
    pipe: u32,
    /// The block's serial within its pipeline.
    serial: u64,
}

impl Route {
    fn contains(&self, id: u64) -> bool {
        self.start <= id && id < self.end
    }
}

/// The pipelines open on one connection, by index. The id blocks each owns are kept with
/// the connection's pending calls ([`PendingTable::routes`](super::client::PendingTable)),
/// under the lock a reader takes for them anyway: a response whose id lies in a
/// pipeline's block goes to that pipeline, which keeps its own requests.
pub(super) struct PipeRegistry<F> {
    inner: Mutex<Registry<F>>,
    /// Changes (under the pending table's lock) whenever a block is added or removed: a
    /// reader's cached [`Route`] stays valid while this does not change.
    epoch: AtomicU64,
}

struct Registry<F> {
    slots: Vec<Option<Arc<PipeShared<F>>>>,
    closed: bool,
}

impl<F> Default for PipeRegistry<F> {
    fn default() -> Self {
        PipeRegistry {
            inner: Mutex::new(Registry {
                slots: Vec::new(),
                closed: false,
            }),
            epoch: AtomicU64::new(0),
        }
    }
}

/// A reader's last route, valid while the registry's epoch is `epoch`.
#[derive(Default)]
pub(super) struct RouteCache {
    epoch: u64,
    last: Option<Route>,
}

impl RouteCache {
    /// The pipeline of `id` when it lies in the cached block and no block changed since.
    #[inline]
    pub(super) fn hit<F>(&self, id: u64, pipes: &PipeRegistry<F>) -> Option<u32> {
        match self.last {
            Some(r) if r.contains(id) && pipes.epoch.load(Ordering::Acquire) == self.epoch => {
                Some(r.pipe)
            }
            _ => None,
        }
    }

    /// The pipeline whose block holds `id`, looked up in `routes` (the pending table's, read
    /// under its lock, so no block changes meanwhile), and cached.
    pub(super) fn lookup<F>(
        &mut self,
        id: u64,
        pipes: &PipeRegistry<F>,
        routes: &[Route],
    ) -> Option<u32> {
        self.epoch = pipes.epoch.load(Ordering::Acquire);
        let found = routes.iter().find(|r| r.contains(id)).copied();
        if found.is_some() {
            self.last = found;
        }
        found.map(|r| r.pipe)
    }
}

impl<F> PipeRegistry<F> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Registry<F>> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a new pipeline; returns its index and its hand-over point (already closed
    /// when the connection is).
    fn add(&self) -> (u32, Arc<PipeShared<F>>) {
        let mut g = self.lock();
        let pipe = Arc::new(PipeShared::new(g.closed));
        let i = match g.slots.iter().position(Option::is_none) {
            Some(i) => {
                g.slots[i] = Some(pipe.clone());
                i
            }
            None => {
                g.slots.push(Some(pipe.clone()));
                g.slots.len() - 1
            }
        };
        // More pipelines than u32 indices cannot be open: each holds at least one permit.
        (u32::try_from(i).unwrap_or(u32::MAX), pipe)
    }

    /// Frees slot `i` (its pipeline's blocks are gone already).
    fn remove(&self, i: u32) {
        if let Some(slot) = self.lock().slots.get_mut(i as usize) {
            *slot = None;
        }
    }

    /// Marks every pipeline (and every later one) closed and wakes them.
    pub(super) fn close_all(&self) {
        let pipes: Vec<_> = {
            let mut g = self.lock();
            g.closed = true;
            g.slots.iter().flatten().cloned().collect()
        };
        for p in pipes {
            p.close();
        }
    }

    fn get(&self, i: u32) -> Option<Arc<PipeShared<F>>> {
        self.lock().slots.get(i as usize).cloned().flatten()
    }
}

/// Responses staged by a connection's reader and handed to their pipelines in one piece:
/// one lock and at most one wake per pipeline per read.
pub(super) struct Deliveries<'a, F> {
    registry: &'a PipeRegistry<F>,
    /// Counts what no pipeline takes any more as late.
    metrics: &'a super::Metrics,
    pipe: Option<(u32, Option<Arc<PipeShared<F>>>)>,
    items: Vec<(u64, F)>,
}

impl<'a, F> Deliveries<'a, F> {
    /// Deliveries staged into `items` (empty; its capacity is reused from read to read).
    pub(super) fn with_buffer(
        registry: &'a PipeRegistry<F>,
        metrics: &'a super::Metrics,
        items: Vec<(u64, F)>,
    ) -> Self {
        Deliveries {
            registry,
            metrics,
            pipe: None,
            items,
        }
    }

    /// The staging buffer back (empty once flushed), for the next read.
    pub(super) fn into_buffer(mut self) -> Vec<(u64, F)> {
        self.flush();
        std::mem::take(&mut self.items)
    }

    /// Stages the response `frame` with id `id` for the pipeline with index `pipe`.
    #[inline]
    pub(super) fn add(&mut self, pipe: u32, id: u64, frame: F) {
        match &self.pipe {
            Some((cur, _)) if *cur == pipe => {}
            _ => {
                self.flush();
                self.pipe = Some((pipe, self.registry.get(pipe)));
            }
        }
        self.items.push((id, frame));
    }

    /// Hands everything staged to its pipeline and wakes it.
    pub(super) fn flush(&mut self) {
        let Some((_, pipe)) = self.pipe.take() else {
            return;
        };
        let Some(pipe) = pipe else {
            // The pipeline is gone: nobody takes these.
            self.metrics.late_n(self.items.len() as u64);
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

/// One request in flight, in the pipeline's ring (indexed by id).
#[derive(Clone, Copy)]
struct Slot {
    id: u64,
    /// The serial of the block the id was taken from.
    block: u64,
    code: i64,
    deadline: Instant,
    live: bool,
}

/// An id block of this pipeline and how many of its requests are in flight.
struct Block {
    serial: u64,
    /// One past its last id (new ids come from the last block up to here).
    end: u64,
    live: usize,
}

/// Correlation ids taken from the connection at a time by a pipeline.
const BLOCK: u64 = 4096;

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
    /// Requests in `out`.
    staged: usize,
    /// Bytes of the last batch: a new batch reserves that much, so encoding a batch does
    /// not grow (and copy) the buffer part-way.
    last_batch: usize,
    /// The deadline of the requests in `out` (one clock read per batch).
    batch_deadline: Instant,
    /// The requests in flight, at `id & mask` (twice the window, so a free slot is near).
    ring: Vec<Slot>,
    mask: u64,
    /// The id blocks that still have requests in flight, oldest first; the last one is
    /// where new ids come from.
    blocks: std::collections::VecDeque<Block>,
    /// The next id of the last block.
    next: u64,
    /// The serial of the last block.
    serial: u64,
    /// Fires at (or before) the earliest deadline in flight; armed at `armed`.
    timer: Pin<Box<Sleep>>,
    armed: Option<Instant>,
    /// Responses taken from the reader, to be matched with the ring.
    arrived: Vec<(u64, P::Frame)>,
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
        let (index, shared) = self.pipes.add();
        let now = Instant::now();
        let ring = (2 * window).next_power_of_two();
        Ok(Pipeline {
            conn: self.clone(),
            shared,
            index,
            codec: self.codec.clone(),
            window,
            outstanding: 0,
            timeout,
            out: BytesMut::with_capacity(16 * 1024),
            staged: 0,
            last_batch: 0,
            batch_deadline: now,
            ring: vec![
                Slot {
                    id: 0,
                    block: 0,
                    code: 0,
                    deadline: now,
                    live: false,
                };
                ring
            ],
            mask: ring as u64 - 1,
            blocks: std::collections::VecDeque::new(),
            next: 0,
            serial: 0,
            timer: Box::pin(tokio::time::sleep_until(now + timeout)),
            armed: None,
            arrived: Vec::new(),
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
    /// [`flush`](Self::flush) or [`recv`](Self::recv) (or 64 KiB have accumulated). Fails
    /// with [`RemotingError::TooManyInFlight`] when the window is full: take responses
    /// first.
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
        let id = self.next_id(&mut req);
        if self.out.is_empty() {
            self.batch_deadline = Instant::now() + self.timeout;
            self.out.reserve(self.last_batch);
        }
        let mark = self.out.len();
        if let Err(e) = self.codec.encode(&req, &mut self.out) {
            self.out.truncate(mark);
            return Err(e.into());
        }
        let block = match self.blocks.back_mut() {
            Some(b) => {
                b.live += 1;
                b.serial
            }
            None => 0,
        };
        self.ring[(id & self.mask) as usize] = Slot {
            id,
            block,
            code: req.code(),
            deadline: self.batch_deadline,
            live: true,
        };
        self.next = id + 1;
        self.armed.get_or_insert(self.batch_deadline);
        self.staged += 1;
        self.outstanding += 1;
        if self.out.len() >= FLUSH_AT {
            self.flush();
        }
        Ok(id)
    }

    /// Sets on `req` the next correlation id whose ring slot is free, as the frame carries
    /// it, taking a new block of ids from the connection when the last one is used up.
    fn next_id(&mut self, req: &mut P::Frame) -> u64 {
        loop {
            let end = self.blocks.back().map_or(0, |b| b.end);
            while self.next < end {
                if !self.ring[(self.next & self.mask) as usize].live {
                    req.set_correlation_id(self.next);
                    return self.next;
                }
                self.next += 1;
            }
            // A block of ids as the frame carries them (narrow id fields truncate). A block
            // that wraps around the field's width is skipped: that happens once per cycle of
            // ids, so after a second one in a row the field is narrower than a block, and
            // blocks get smaller (a single id never wraps).
            let mut n = BLOCK;
            let mut wrapped = false;
            let (start, end) = loop {
                let first = self.conn.next_id.fetch_add(n, Ordering::Relaxed);
                req.set_correlation_id(first);
                let a = req.correlation_id();
                req.set_correlation_id(first.wrapping_add(n - 1));
                let b = req.correlation_id();
                if b >= a && b - a == n - 1 && b < u64::MAX {
                    break (a, b + 1);
                }
                if wrapped {
                    n = (n / 2).max(1);
                }
                wrapped = true;
            };
            self.serial += 1;
            self.conn.lock_pending().routes.push(Route {
                start,
                end,
                pipe: self.index,
                serial: self.serial,
            });
            self.conn.pipes.epoch.fetch_add(1, Ordering::Release);
            self.blocks.push_back(Block {
                serial: self.serial,
                end,
                live: 0,
            });
            self.next = start;
            self.retire_blocks();
        }
    }

    /// Frees the slot of a finished request and retires id blocks with nothing in flight.
    fn finish(&mut self, id: u64) {
        let slot = &mut self.ring[(id & self.mask) as usize];
        slot.live = false;
        // By serial: with a narrow id field, blocks of one pipeline can hold the same ids.
        let serial = slot.block;
        // Most requests come from the newest block: look there first.
        let block = match self.blocks.back_mut() {
            Some(b) if b.serial == serial => Some(b),
            _ => self.blocks.iter_mut().find(|b| b.serial == serial),
        };
        if let Some(b) = block {
            b.live -= 1;
        }
        if self.blocks.front().is_some_and(|b| b.live == 0) {
            self.retire_blocks();
        }
    }

    /// Unregisters the blocks before the last one that have nothing in flight: responses
    /// with their ids are late from now on.
    fn retire_blocks(&mut self) {
        while self.blocks.len() > 1 && self.blocks.front().is_some_and(|b| b.live == 0) {
            if let Some(b) = self.blocks.pop_front() {
                let (pipe, serial) = (self.index, b.serial);
                self.conn
                    .lock_pending()
                    .routes
                    .retain(|r| !(r.pipe == pipe && r.serial == serial));
                self.conn.pipes.epoch.fetch_add(1, Ordering::Release);
            }
        }
    }

    /// Hands the queued requests to the connection's writer.
    pub fn flush(&mut self) {
        if self.staged == 0 {
            return;
        }
        let conn = &*self.conn;
        conn.metrics.requests(self.staged as u64);
        self.last_batch = self.out.len().min(FLUSH_AT + FLUSH_AT / 4);
        self.staged = 0;
        if conn.q.push_buf(&mut self.out).is_err() {
            // The connection is closing: its close marks this pipeline closed, and `recv`
            // then fails what is in flight.
            self.out.clear();
        }
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

    /// Matches the responses taken from the reader with the requests in flight; the
    /// others (answers to requests that timed out) are late.
    fn resolve(&mut self) {
        let mut arrived = std::mem::take(&mut self.arrived);
        for (id, frame) in arrived.drain(..) {
            let slot = self.ring[(id & self.mask) as usize];
            if slot.live && slot.id == id {
                self.finish(id);
                self.taken.push((id, slot.code, slot.deadline, Ok(frame)));
            } else {
                self.conn.metrics.late();
            }
        }
        self.arrived = arrived;
    }

    /// Fails every request in flight whose deadline is not after `now` (all of them when
    /// `closed`), and sets the timer to the earliest deadline left.
    fn expire(&mut self, now: Instant, closed: bool) {
        let mut earliest: Option<Instant> = None;
        for i in 0..self.ring.len() {
            let s = self.ring[i];
            if !s.live {
                continue;
            }
            if closed || s.deadline <= now {
                self.finish(s.id);
                let why = if closed {
                    Failure::Closed
                } else {
                    Failure::Timeout
                };
                self.taken.push((s.id, s.code, s.deadline, Err(why)));
            } else if earliest.is_none_or(|e| s.deadline < e) {
                earliest = Some(s.deadline);
            }
        }
        self.armed = earliest;
    }

    /// Flushes, then waits until at least one outstanding request has an outcome, and
    /// returns every outcome available now as `(correlation id, result)`, handed out one by
    /// one without being copied into a collection first. Empty only when nothing is
    /// outstanding. Outcomes the caller does not take are dropped with the batch (their
    /// metrics and hooks still run).
    pub async fn recv(&mut self) -> Batch<'_, P> {
        self.flush();
        if self.outstanding > 0 {
            std::future::poll_fn(|cx| {
                loop {
                    let closed = {
                        let mut g = self.shared.lock();
                        if !g.ready.is_empty() {
                            std::mem::swap(&mut g.ready, &mut self.arrived);
                            None
                        } else if g.closed {
                            Some(true)
                        } else {
                            match &g.waker {
                                Some(w) if w.will_wake(cx.waker()) => {}
                                _ => g.waker = Some(cx.waker().clone()),
                            }
                            Some(false)
                        }
                    };
                    match closed {
                        None => {
                            self.resolve();
                            if !self.taken.is_empty() {
                                return Poll::Ready(());
                            }
                            // Only late responses: look again.
                        }
                        Some(true) => {
                            self.expire(Instant::now(), true);
                            return Poll::Ready(());
                        }
                        Some(false) => break,
                    }
                }
                // Nothing arrived: the timer fires at the earliest deadline in flight.
                let Some(at) = self.armed else {
                    return Poll::Pending;
                };
                if self.timer.deadline() != at {
                    self.timer.as_mut().reset(at);
                }
                if self.timer.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                self.expire(Instant::now(), false);
                if self.taken.is_empty() {
                    // It fired early (those requests were answered); wait for the next.
                    if let Some(at) = self.armed {
                        self.timer.as_mut().reset(at);
                        if self.timer.as_mut().poll(cx).is_ready() {
                            cx.waker().wake_by_ref();
                        }
                    }
                    return Poll::Pending;
                }
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
        // Its blocks go with it: responses to what is still in flight are late, and so are
        // those handed over but not taken.
        let pipe = self.index;
        let untaken = self.shared.lock().ready.len();
        self.conn.metrics.late_n(untaken as u64);
        self.conn.lock_pending().routes.retain(|r| r.pipe != pipe);
        self.conn.pipes.epoch.fetch_add(1, Ordering::Release);
        self.conn.pipes.remove(pipe);
    }
}
