//! An in-memory MQTT 3.1.1 / 5.0 broker on the server generated from `mqtt.wire`.
//!
//! The protocol's `exchange` block does the protocol's bookkeeping: CONNECT first and once,
//! which packet answers which (PUBACK for QoS 1; PUBREC, PUBREL, PUBCOMP for QoS 2, in both
//! directions), packet identifiers for what the broker sends, PINGRESP, the keepalive
//! timeout, DISCONNECT closing the connection. What is left here is what a broker decides:
//! sessions, subscriptions with `+` and `#`, retained messages, wills.

use polywire::exchange::Status;
use polywire::rt::ws::WsSettings;
use polywire::rt::{Connection, Ended, MultiServer, MultiServerConfig};
use polywire_protocols::mqtt::{
    ConnAck, Connect, Disconnect, MqttExchange, MqttHandler, Packet, Properties, Publish, QoS,
    ReasonCode, SubAck, Subscribe, UnsubAck, Unsubscribe,
};
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Conn = Connection<MqttExchange>;

/// A client's subscription.
#[derive(Debug, Clone)]
struct Sub {
    filter: String,
    qos: QoS,
    no_local: bool,
    retain_as_published: bool,
}

/// A client's session: its subscriptions, and while it is offline the QoS 1 and 2 messages
/// they match (up to [`OFFLINE_QUEUE`]). It ends with the connection, or outlives it for its
/// expiry (3.1.1: forever unless clean session; 5.0: the session expiry interval, 0 by
/// default).
#[derive(Debug, Default)]
struct Session {
    conn: Option<Conn>,
    subs: Vec<Sub>,
    /// How long the session outlives its connection (`None`: forever).
    expiry: Option<Duration>,
    /// When an offline session ends.
    expires_at: Option<Instant>,
    /// Messages kept for the client while it is offline.
    queued: VecDeque<(Publish, QoS)>,
}

/// Messages kept at most for an offline client; older ones are dropped first.
const OFFLINE_QUEUE: usize = 1000;

#[derive(Debug, Default)]
struct State {
    sessions: HashMap<String, Session>,
    /// The client id of each open connection, and its will (boxed: most have none, and a
    /// PUBLISH is large).
    conns: HashMap<u64, (String, Option<Box<Publish>>)>,
    retained: HashMap<String, Publish>,
    next_id: u64,
}

/// The broker: cheap to clone, one state for every connection.
#[derive(Debug, Clone, Default)]
pub struct Broker {
    state: Arc<Mutex<State>>,
}

/// Whether topic `topic` matches filter `filter` (MQTT 5.0 §4.7): `+` is one level, `#`
/// (last) any number of levels including none; wildcards at the first level do not match
/// topics starting with `$`.
pub fn matches(filter: &str, topic: &str) -> bool {
    if topic.starts_with('$') && (filter.starts_with('+') || filter.starts_with('#')) {
        return false;
    }
    let mut f = filter.split('/');
    let mut t = topic.split('/');
    loop {
        match (f.next(), t.next()) {
            (Some("#"), _) => return true,
            (Some("+"), Some(_)) => {}
            (Some(a), Some(b)) if a == b => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// Whether a filter is well formed (§4.7.1): `#` only last and alone in its level, `+`
/// alone in its level, not empty.
pub fn valid_filter(filter: &str) -> bool {
    if filter.is_empty() {
        return false;
    }
    let levels: Vec<&str> = filter.split('/').collect();
    levels.iter().enumerate().all(|(i, l)| {
        (!l.contains('#') || (*l == "#" && i == levels.len() - 1))
            && (!l.contains('+') || *l == "+")
    })
}

impl Broker {
    /// Hands `msg` to every subscriber whose filter matches (and keeps it if retained). A
    /// subscriber whose queue is full slows the publisher down; nothing is dropped.
    async fn route(&self, from: Option<u64>, msg: &Publish) {
        let targets = self.targets(from, msg);
        for (conn, qos, retain) in targets {
            deliver(&conn, msg, qos, retain).await;
        }
    }

    /// The connections `msg` goes to, at which QoS, with which RETAIN flag.
    fn targets(&self, from: Option<u64>, msg: &Publish) -> Vec<(Conn, QoS, bool)> {
        let mut out = Vec::new();
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let topic = msg.topic.as_str().to_string();
        if msg.retain {
            if msg.payload.is_empty() {
                st.retained.remove(&topic);
            } else {
                st.retained.insert(topic.clone(), msg.clone());
            }
        }
        let sender = from.and_then(|id| st.conns.get(&id).map(|(c, _)| c.clone()));
        for (client, s) in st.sessions.iter_mut() {
            // The highest QoS of the client's matching subscriptions (§3.3.4).
            let mut best: Option<&Sub> = None;
            for sub in s.subs.iter().filter(|x| matches(&x.filter, &topic)) {
                if sub.no_local && sender.as_deref() == Some(client.as_str()) {
                    continue;
                }
                if best.is_none_or(|b| sub.qos.to_repr() > b.qos.to_repr()) {
                    best = Some(sub);
                }
            }
            if let Some(sub) = best {
                let qos = if msg.qos.to_repr() < sub.qos.to_repr() {
                    msg.qos
                } else {
                    sub.qos
                };
                let retain = sub.retain_as_published && msg.retain;
                match &s.conn {
                    Some(conn) => out.push((conn.clone(), qos, retain)),
                    // Offline: QoS 1 and 2 wait for the client (§4.1).
                    None if qos != QoS::AtMostOnce => {
                        if s.queued.len() == OFFLINE_QUEUE {
                            s.queued.pop_front();
                        }
                        s.queued.push_back((msg.clone(), qos));
                    }
                    None => {}
                }
            }
        }
        out
    }

    fn session_of(&self, conn: &Conn) -> Option<String> {
        let st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        st.conns.get(&conn.id()).map(|(c, _)| c.clone())
    }
}

/// Sends `msg` to `conn` at `qos` (the connection picks its packet identifier).
async fn deliver(conn: &Conn, msg: &Publish, qos: QoS, retain: bool) {
    let v5 = conn.version() >= Some(5);
    let properties = if v5 {
        msg.properties.clone().map(|mut p| {
            // What belongs to one hop is not forwarded (§3.3.2.3.4, §3.3.2.3.8).
            p.topic_alias = None;
            p.subscription_identifier.clear();
            p
        })
    } else {
        None
    };
    let out = Publish {
        dup: false,
        qos,
        retain,
        topic: msg.topic.clone(),
        packet_id: None,
        properties,
        payload: msg.payload.clone(),
    };
    if let Err(e) = conn.push_wait(Packet::Publish(out)).await {
        // The subscriber is gone; its session ends with its connection.
        tracing::debug!(peer = conn.peer(), error = %e, "message to a closed connection");
    }
}

/// The will of a CONNECT, as the PUBLISH it becomes.
fn will_of(c: &Connect) -> Option<Box<Publish>> {
    let w = c.will.as_ref()?;
    Some(Box::new(Publish {
        dup: false,
        qos: c.will_qos,
        retain: c.will_retain,
        topic: w.topic.clone(),
        packet_id: None,
        properties: w.properties.clone(),
        payload: w.payload.clone(),
    }))
}

impl MqttHandler for Broker {
    async fn connect(
        &self,
        conn: &Conn,
        msg: Connect,
        mut answer: ConnAck,
    ) -> Result<ConnAck, Status> {
        let v5 = msg.protocol_level >= 5;
        if msg.protocol_name.as_str() != "MQTT" || !(4..=5).contains(&msg.protocol_level) {
            // 3.1.1: 1 = unacceptable protocol version; 5.0: 0x84.
            answer.code = if v5 { 0x84 } else { 1 };
            conn.close();
            return Ok(answer);
        }
        let mut client = msg.client_id.as_str().to_string();
        if client.is_empty() {
            if !msg.clean_start && !v5 {
                answer.code = 2; // identifier rejected (3.1.1 §3.1.3.1)
                conn.close();
                return Ok(answer);
            }
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            st.next_id += 1;
            client = format!("polywire-{}-{}", conn.id(), st.next_id);
            if v5 {
                answer.properties = Some(Box::new(Properties {
                    assigned_client_identifier: Some(client.as_str().into()),
                    ..Default::default()
                }));
            }
        }
        // 5.0: the session expiry interval (0 when absent: the session ends with the
        // connection; 0xFFFFFFFF: never). 3.1.1: a clean session ends with it, another never.
        let expiry = if v5 {
            match msg
                .properties
                .as_ref()
                .and_then(|p| p.session_expiry_interval)
            {
                Some(u32::MAX) => None,
                Some(secs) => Some(Duration::from_secs(u64::from(secs))),
                None => Some(Duration::ZERO),
            }
        } else if msg.clean_start {
            Some(Duration::ZERO)
        } else {
            None
        };
        let backlog = {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let now = Instant::now();
            st.sessions
                .retain(|_, s| s.conn.is_some() || s.expires_at.is_none_or(|t| t > now));
            // A second connection with the same id takes the session over (§3.1.4).
            let old = st.sessions.remove(&client);
            if let Some(Session { conn: Some(c), .. }) = &old {
                st.conns.remove(&c.id());
                c.close();
            }
            let keep = old.filter(|_| !msg.clean_start);
            answer.session_present = keep.is_some();
            let mut session = keep.unwrap_or_default();
            session.conn = Some(conn.clone());
            session.expiry = expiry;
            session.expires_at = None;
            let backlog = std::mem::take(&mut session.queued);
            st.sessions.insert(client.clone(), session);
            st.conns.insert(conn.id(), (client, will_of(&msg)));
            backlog
        };
        // What waited for the client goes after the CONNACK this returns.
        for (m, qos) in backlog {
            deliver(conn, &m, qos, false).await;
        }
        Ok(answer)
    }

    async fn publish(
        &self,
        conn: &Conn,
        msg: Publish,
        answer: Option<Packet>,
    ) -> Result<Option<Packet>, Status> {
        // QoS 2 is delivered when the PUBLISH arrives; a resent one (DUP) whose identifier
        // is still being released is the same message.
        self.route(Some(conn.id()), &msg).await;
        Ok(answer)
    }

    async fn subscribe(&self, conn: &Conn, msg: Subscribe, mut answer: SubAck) -> SubAck {
        let Some(client) = self.session_of(conn) else {
            return answer;
        };
        let mut retained = Vec::new();
        {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let State {
                sessions,
                retained: kept,
                ..
            } = &mut *st;
            let Some(s) = sessions.get_mut(&client) else {
                return answer;
            };
            for sub in &msg.subscriptions {
                let filter = sub.filter.as_str().to_string();
                if !valid_filter(&filter) {
                    // 3.1.1: 0x80 failure; 5.0: 0x8F topic filter invalid.
                    answer.codes.push(if conn.version() >= Some(5) {
                        ReasonCode::TopicFilterInvalid
                    } else {
                        ReasonCode::UnspecifiedError
                    });
                    continue;
                }
                let existed = s.subs.iter().any(|x| x.filter == filter);
                s.subs.retain(|x| x.filter != filter);
                s.subs.push(Sub {
                    filter: filter.clone(),
                    qos: sub.max_qos,
                    no_local: sub.no_local,
                    retain_as_published: sub.retain_as_published,
                });
                answer
                    .codes
                    .push(ReasonCode::from_repr(sub.max_qos.to_repr()));
                // Retained messages: 0 send, 1 send if the subscription is new, 2 do not.
                if sub.retain_handling == 0 || (sub.retain_handling == 1 && !existed) {
                    for (topic, m) in kept.iter() {
                        if matches(&filter, topic) {
                            retained.push((m.clone(), sub.max_qos));
                        }
                    }
                }
            }
        }
        // Taken by the connection now, sent after the SUBACK this returns.
        for (m, max) in retained {
            let qos = if m.qos.to_repr() < max.to_repr() {
                m.qos
            } else {
                max
            };
            deliver(conn, &m, qos, true).await;
        }
        answer
    }

    async fn unsubscribe(&self, conn: &Conn, msg: Unsubscribe, mut answer: UnsubAck) -> UnsubAck {
        let client = self.session_of(conn).unwrap_or_default();
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let s = st.sessions.get_mut(&client);
        let mut codes = Vec::new();
        if let Some(s) = s {
            for f in &msg.filters {
                let before = s.subs.len();
                s.subs.retain(|x| x.filter != f.as_str());
                codes.push(if s.subs.len() < before {
                    ReasonCode::Success
                } else {
                    ReasonCode::NoSubscriptionExisted
                });
            }
        }
        // 3.1.1's UNSUBACK has no codes.
        if conn.version() >= Some(5) {
            answer.codes = codes;
        }
        answer
    }

    async fn disconnect(&self, conn: &Conn, msg: Disconnect) {
        // A normal DISCONNECT drops the will, unless 5.0's reason asks for it (§3.14.4).
        let keep_will = msg.reason == Some(ReasonCode::DisconnectWithWillMessage);
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let client = match st.conns.get_mut(&conn.id()) {
            Some((client, will)) => {
                if !keep_will {
                    *will = None;
                }
                client.clone()
            }
            None => return,
        };
        // 5.0's DISCONNECT may change the session expiry interval (§3.14.2.2.2).
        if let Some(secs) = msg
            .properties
            .as_ref()
            .and_then(|p| p.session_expiry_interval)
            && let Some(s) = st.sessions.get_mut(&client)
        {
            s.expiry = (secs != u32::MAX).then(|| Duration::from_secs(u64::from(secs)));
        }
    }

    async fn closed(&self, conn: &Conn, end: &Ended) {
        let will = {
            let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
            let Some((client, will)) = st.conns.remove(&conn.id()) else {
                return;
            };
            if let Some(s) = st.sessions.get_mut(&client)
                && s.conn.as_ref().is_some_and(|c| c.id() == conn.id())
            {
                match s.expiry {
                    Some(Duration::ZERO) => {
                        st.sessions.remove(&client);
                    }
                    expiry => {
                        s.conn = None;
                        s.expires_at = expiry.map(|e| Instant::now() + e);
                    }
                }
            }
            will
        };
        tracing::debug!(peer = conn.peer(), ?end, "MQTT connection closed");
        if let Some(w) = will {
            self.route(None, &w).await;
        }
    }
}

/// A [`MultiServer`] with the broker on it, beside the native and RocketMQ echo servers: on
/// `addr` (TCP, each protocol detected by its first bytes) and WebSocket upgrades on `/mqtt`.
pub async fn serve(addr: &str) -> std::io::Result<(MultiServer, std::net::SocketAddr, Broker)> {
    let broker = Broker::default();
    let config = MultiServerConfig {
        websocket: Some(WsSettings {
            path: "/mqtt".into(),
            subprotocols: vec!["mqtt".into()],
            ..Default::default()
        }),
        ..Default::default()
    };
    let multi = MultiServer::new(config);
    let server = polywire_protocols::mqtt::server(broker.clone(), Default::default());
    // Beside it, on the same port: the native and RocketMQ echo servers.
    let native = crate::echo::native(Default::default());
    let rocketmq = crate::echo::rocketmq(Default::default());
    for r in [multi.add(server), multi.add(native), multi.add(rocketmq)] {
        r.map_err(|e| std::io::Error::other(e.to_string()))?;
    }
    let local = multi.bind(addr).await?;
    Ok((multi, local, broker))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_match_as_the_standard_says() {
        assert!(matches("a/+/c", "a/b/c"));
        assert!(!matches("a/+/c", "a/b/d"));
        assert!(matches("a/#", "a"));
        assert!(matches("a/#", "a/b/c"));
        assert!(matches("#", "a/b"));
        assert!(!matches("#", "$SYS/x"));
        assert!(!matches("+/x", "$SYS/x"));
        assert!(matches("+", "a"));
        assert!(!matches("+", "a/b"));
        assert!(matches("a/b", "a/b"));
        assert!(!matches("a/b", "a/b/c"));
        assert!(valid_filter("a/+/#"));
        assert!(!valid_filter("a/#/b"));
        assert!(!valid_filter("a+/b"));
        assert!(!valid_filter(""));
    }
}
