//! Per-protocol counters and a latency histogram, lock-free, readable at any time.

use super::TransportKind;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Latency buckets: bucket `i` holds `[2^i, 2^(i+1))` microseconds.
pub(crate) const BUCKETS: usize = 40;

/// Counters of one protocol on one server or client.
#[derive(Debug)]
pub struct Metrics {
    requests: AtomicU64,
    responses: AtomicU64,
    errors: AtomicU64,
    bytes_in: AtomicU64,
    bytes_out: AtomicU64,
    connections: AtomicU64,
    late_responses: AtomicU64,
    /// Microseconds of every recorded latency, added up.
    latency_sum_us: AtomicU64,
    // bucket i counts latencies in [2^i, 2^(i+1)) microseconds (bucket 0 also < 1 us).
    latency: [AtomicU64; BUCKETS],
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            requests: AtomicU64::new(0),
            responses: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            bytes_in: AtomicU64::new(0),
            bytes_out: AtomicU64::new(0),
            connections: AtomicU64::new(0),
            late_responses: AtomicU64::new(0),
            latency_sum_us: AtomicU64::new(0),
            latency: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

/// A point-in-time copy of [`Metrics`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MetricsSnapshot {
    /// Requests received (server) or sent (client), oneway included.
    pub requests: u64,
    /// Requests answered or, for oneways, processed (server); responses received (client).
    pub responses: u64,
    /// Requests answered with an error status, failed, or timed out.
    pub errors: u64,
    /// Bytes read from sockets.
    pub bytes_in: u64,
    /// Bytes written to sockets.
    pub bytes_out: u64,
    /// Connections currently open.
    pub connections: u64,
    /// Responses that arrived after their request had timed out (dropped).
    pub late_responses: u64,
    /// Latency histogram: `(upper bound, count)` per power-of-two bucket, non-empty only.
    pub latency: Vec<(Duration, u64)>,
    /// Every recorded latency added up (microsecond precision).
    pub latency_sum: Duration,
}

impl MetricsSnapshot {
    /// Adds `other`'s counts to these (totals over servers or protocols).
    pub fn merge(&mut self, other: &MetricsSnapshot) {
        self.requests += other.requests;
        self.responses += other.responses;
        self.errors += other.errors;
        self.bytes_in += other.bytes_in;
        self.bytes_out += other.bytes_out;
        self.connections += other.connections;
        self.late_responses += other.late_responses;
        self.latency_sum += other.latency_sum;
        for (bound, n) in &other.latency {
            match self.latency.iter_mut().find(|(b, _)| b == bound) {
                Some((_, c)) => *c += n,
                None => self.latency.push((*bound, *n)),
            }
        }
        self.latency.sort_unstable();
    }

    /// The latency below which `q` (0..=1) of the requests fell, to bucket precision (the
    /// bucket's upper bound).
    pub fn latency_quantile(&self, q: f64) -> Option<Duration> {
        let total: u64 = self.latency.iter().map(|(_, c)| c).sum();
        if total == 0 {
            return None;
        }
        let target = ((total as f64) * q).ceil().max(1.0) as u64;
        let mut seen = 0;
        for (bound, c) in &self.latency {
            seen += c;
            if seen >= target {
                return Some(*bound);
            }
        }
        self.latency.last().map(|(b, _)| *b)
    }
}

impl Metrics {
    pub(crate) fn request(&self) {
        self.requests(1);
    }
    pub(crate) fn requests(&self, n: u64) {
        self.requests.fetch_add(n, Relaxed);
    }
    pub(crate) fn response(&self, latency: Duration, error: bool) {
        self.responses(latency, 1, u64::from(error));
    }
    /// Records `n` responses that all took `latency`, `errors` of them errors.
    pub(crate) fn responses(&self, latency: Duration, n: u64, errors: u64) {
        self.responses.fetch_add(n, Relaxed);
        if errors > 0 {
            self.errors.fetch_add(errors, Relaxed);
        }
        let us = latency.as_micros().max(1) as u64;
        let b = (63 - us.leading_zeros() as usize).min(BUCKETS - 1);
        self.latency[b].fetch_add(n, Relaxed);
        self.latency_sum_us.fetch_add(us.saturating_mul(n), Relaxed);
    }
    pub(crate) fn error(&self) {
        self.errors.fetch_add(1, Relaxed);
    }
    pub(crate) fn bytes_in(&self, n: usize) {
        self.bytes_in.fetch_add(n as u64, Relaxed);
    }
    pub(crate) fn bytes_out(&self, n: usize) {
        self.bytes_out.fetch_add(n as u64, Relaxed);
    }
    pub(crate) fn conn_opened(&self) {
        self.connections.fetch_add(1, Relaxed);
    }
    pub(crate) fn conn_closed(&self) {
        self.connections.fetch_sub(1, Relaxed);
    }
    pub(crate) fn late(&self) {
        self.late_n(1);
    }

    pub(crate) fn late_n(&self, n: u64) {
        self.late_responses.fetch_add(n, Relaxed);
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> MetricsSnapshot {
        MetricsSnapshot {
            requests: self.requests.load(Relaxed),
            responses: self.responses.load(Relaxed),
            errors: self.errors.load(Relaxed),
            bytes_in: self.bytes_in.load(Relaxed),
            bytes_out: self.bytes_out.load(Relaxed),
            connections: self.connections.load(Relaxed),
            late_responses: self.late_responses.load(Relaxed),
            latency: self
                .latency
                .iter()
                .enumerate()
                .filter_map(|(i, c)| {
                    let c = c.load(Relaxed);
                    (c > 0).then(|| (Duration::from_micros(2u64 << i), c))
                })
                .collect(),
            latency_sum: Duration::from_micros(self.latency_sum_us.load(Relaxed)),
        }
    }
}

/// A server's counters, one [`Metrics`] per transport its connections came in on: a
/// connection counts into its own transport's alone, and the server's figures are their
/// sum.
#[derive(Debug, Default)]
pub(crate) struct TransportMetrics {
    by: [Arc<Metrics>; TransportKind::ALL.len()],
}

impl TransportMetrics {
    /// The counters of connections on `transport`.
    pub(crate) fn of(&self, transport: TransportKind) -> &Arc<Metrics> {
        &self.by[transport.index()]
    }

    /// Every transport's counters added up.
    pub(crate) fn total(&self) -> MetricsSnapshot {
        let mut total = MetricsSnapshot::default();
        for m in &self.by {
            total.merge(&m.snapshot());
        }
        total
    }

    /// The counters of each transport that has seen a connection.
    pub(crate) fn by_transport(&self) -> Vec<(TransportKind, MetricsSnapshot)> {
        TransportKind::ALL
            .iter()
            .map(|&t| (t, self.of(t).snapshot()))
            .filter(|(_, s)| s.connections > 0 || s.requests > 0 || s.bytes_in > 0)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_follow_the_buckets() {
        let m = Metrics::default();
        for _ in 0..98 {
            m.response(Duration::from_micros(50), false);
        }
        m.response(Duration::from_millis(3), true);
        m.response(Duration::from_millis(3), false);
        let s = m.snapshot();
        assert_eq!((s.responses, s.errors), (100, 1));
        // 50 us falls in [32, 64) -> bound 64 us; 3 ms in [2048, 4096) us.
        assert_eq!(s.latency_quantile(0.5), Some(Duration::from_micros(64)));
        assert_eq!(s.latency_quantile(0.99), Some(Duration::from_micros(4096)));
        assert_eq!(s.latency_sum, Duration::from_micros(98 * 50 + 2 * 3000));
        let mut total = s.clone();
        total.merge(&s);
        assert_eq!((total.responses, total.errors), (200, 2));
        assert_eq!(total.latency_quantile(0.5), Some(Duration::from_micros(64)));
        assert_eq!(total.latency_sum, 2 * s.latency_sum);
    }

    #[test]
    fn each_transport_counts_its_own_and_the_total_adds_them_up() {
        let m = TransportMetrics::default();
        m.of(TransportKind::Tcp).requests(3);
        m.of(TransportKind::Tcp).bytes_in(30);
        m.of(TransportKind::Wss).requests(2);
        m.of(TransportKind::Wss).conn_opened();
        let by = m.by_transport();
        let kinds: Vec<_> = by.iter().map(|(t, _)| *t).collect();
        assert_eq!(kinds, [TransportKind::Tcp, TransportKind::Wss]);
        assert_eq!((by[0].1.requests, by[0].1.bytes_in), (3, 30));
        assert_eq!((by[1].1.requests, by[1].1.connections), (2, 1));
        let total = m.total();
        assert_eq!(
            (total.requests, total.bytes_in, total.connections),
            (5, 30, 1)
        );
    }
}
