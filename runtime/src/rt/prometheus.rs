//! The counters of servers and clients for Prometheus, read at each scrape: an
//! [`Exporter`] is a `prometheus_client` collector over a `MultiServer`, `RemotingServer`s,
//! `MessageServer`s and `RemotingClient`s, labelled by protocol, role and, for servers, the
//! transport connections came in on (`tcp`, `tls`, `ws`, …; a server's series appear with
//! its first connection on that transport); `Exporter::text` is the OpenMetrics page a
//! `/metrics` endpoint serves (`examples/metrics.rs`).
//!
//! | metric | type |
//! | --- | --- |
//! | `polywire_requests_total`, `polywire_responses_total`, `polywire_errors_total`, `polywire_late_responses_total` | counter |
//! | `polywire_bytes_in_total`, `polywire_bytes_out_total` | counter |
//! | `polywire_connections` | gauge |
//! | `polywire_latency_seconds` (power-of-two buckets from 2 µs) | histogram |

use super::{
    MessageHandler, MessageServer, MetricsSnapshot, MultiServer, RemotingClient, RemotingServer,
    TransportKind,
};
use crate::Protocol;
use crate::exchange::Exchange;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::registry::Registry;
use std::sync::Arc;

/// What a source reports: `(protocol id, role, transport, counters)`.
type Reading = (String, &'static str, Option<TransportKind>, MetricsSnapshot);
type Source = Arc<dyn Fn() -> Vec<Reading> + Send + Sync>;
/// A counter: its name, help text and where it is in a snapshot.
type Counter = (&'static str, &'static str, fn(&MetricsSnapshot) -> u64);

/// A collector of polywire's counters (see the module's documentation).
#[derive(Clone, Default)]
pub struct Exporter {
    sources: Vec<Source>,
}

impl std::fmt::Debug for Exporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Exporter")
            .field("sources", &self.sources.len())
            .finish()
    }
}

impl Exporter {
    /// An exporter of nothing yet.
    pub fn new() -> Exporter {
        Exporter::default()
    }

    /// Adds every server registered on `multi` (read at each scrape: servers added or
    /// replaced later are included), role `server`.
    pub fn multi_server(mut self, multi: &MultiServer) -> Exporter {
        let multi = multi.clone();
        self.sources.push(Arc::new(move || {
            multi
                .metrics_by_transport()
                .into_iter()
                .map(|(id, t, m)| (id.to_string(), "server", Some(t), m))
                .collect()
        }));
        self
    }

    /// Adds a server, role `server`.
    pub fn server<P: Protocol>(mut self, server: &RemotingServer<P>) -> Exporter {
        let server = server.clone();
        self.sources.push(Arc::new(move || {
            let id = server.protocol().id();
            server
                .metrics_by_transport()
                .into_iter()
                .map(|(t, m)| (id.to_string(), "server", Some(t), m))
                .collect()
        }));
        self
    }

    /// Adds a server of an `exchange` protocol (MQTT, RESP, …), role `server`.
    pub fn message_server<E: Exchange, H: MessageHandler<E>>(
        mut self,
        server: &MessageServer<E, H>,
    ) -> Exporter {
        let server = server.clone();
        let id = server.exchange().id();
        self.sources.push(Arc::new(move || {
            server
                .metrics_by_transport()
                .into_iter()
                .map(|(t, m)| (id.to_string(), "server", Some(t), m))
                .collect()
        }));
        self
    }

    /// Adds a client, role `client`.
    pub fn client<P: Protocol>(mut self, client: &RemotingClient<P>) -> Exporter {
        let client = client.clone();
        self.sources.push(Arc::new(move || {
            vec![(
                client.protocol().id().to_string(),
                "client",
                None,
                client.metrics(),
            )]
        }));
        self
    }

    /// The OpenMetrics text of every counter now.
    pub fn text(&self) -> String {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(self.clone()));
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &registry);
        out
    }
}

impl Collector for Exporter {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let readings: Vec<Reading> = self.sources.iter().flat_map(|s| s()).collect();
        let labels = |(p, role, transport, _): &Reading| {
            let mut l = vec![("protocol", p.clone()), ("role", role.to_string())];
            if let Some(t) = transport {
                l.push(("transport", t.to_string()));
            }
            l
        };
        let counters: [Counter; 6] = [
            (
                "polywire_requests",
                "Requests received (server) or sent (client), oneway included.",
                |m| m.requests,
            ),
            (
                "polywire_responses",
                "Requests answered (server) or responses received (client).",
                |m| m.responses,
            ),
            (
                "polywire_errors",
                "Requests answered with an error status, failed or timed out.",
                |m| m.errors,
            ),
            (
                "polywire_late_responses",
                "Responses that came after their request timed out.",
                |m| m.late_responses,
            ),
            ("polywire_bytes_in", "Bytes read from sockets.", |m| {
                m.bytes_in
            }),
            ("polywire_bytes_out", "Bytes written to sockets.", |m| {
                m.bytes_out
            }),
        ];
        for (name, help, get) in counters {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for r in &readings {
                ConstCounter::new(get(&r.3)).encode(family.encode_family(&labels(r))?)?;
            }
        }
        let mut family = encoder.encode_descriptor(
            "polywire_connections",
            "Connections open now.",
            None,
            MetricType::Gauge,
        )?;
        for r in &readings {
            ConstGauge::new(r.3.connections as i64).encode(family.encode_family(&labels(r))?)?;
        }
        let mut family = encoder.encode_descriptor(
            "polywire_latency_seconds",
            "Time from a request read to its response written (server) or from a call to its response (client).",
            None,
            MetricType::Histogram,
        )?;
        for r in &readings {
            let m = &r.3;
            // Every bucket on every scrape (Prometheus keeps a histogram's bounds fixed),
            // then +Inf.
            let buckets: Vec<(f64, u64)> = (0..super::metrics::BUCKETS)
                .map(|i| {
                    let bound = std::time::Duration::from_micros(2u64 << i);
                    let n = m
                        .latency
                        .iter()
                        .find(|(b, _)| *b == bound)
                        .map_or(0, |(_, n)| *n);
                    (bound.as_secs_f64(), n)
                })
                .chain(std::iter::once((f64::MAX, 0)))
                .collect();
            let count = m.latency.iter().map(|(_, n)| n).sum();
            family
                .encode_family(&labels(r))?
                .encode_histogram::<prometheus_client::encoding::NoLabelSet>(
                    m.latency_sum.as_secs_f64(),
                    count,
                    &buckets,
                    None,
                )?;
        }
        Ok(())
    }
}
