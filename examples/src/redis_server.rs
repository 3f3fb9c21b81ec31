//! An in-memory Redis-compatible server on the server generated from `resp.wire`.
//!
//! The protocol's `exchange` block does the protocol's part: commands decoded from RESP
//! arrays or inline lines, one value answering each command in the order the commands came
//! (a pipeline is answered as it is read), values pushed to subscribers, and RESP's protocol
//! error before closing a connection whose bytes are not RESP. What is left here is what a
//! server decides: the commands themselves ([`crate::redis_db`]), `HELLO 3` switching the
//! connection's version, `QUIT` closing it.

use crate::redis_db::{Client, Db, Reply, Subscriber, command_words, error};
use polywire::rt::{Connection, Ended, MultiServer, MultiServerConfig};
use polywire_protocols::resp::{Command, Message, RespHandler, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type Conn = Connection<Message>;

/// A connection that receives what is published to its channels.
#[derive(Debug, Clone)]
pub struct Sink(Conn);

impl Subscriber for Sink {
    fn deliver(&self, v: Value) -> bool {
        self.0.push(Message::Value(v)).is_ok()
    }
}

/// A connection's state: its [`Client`], and the buffer its commands' words are read into
/// (one allocation for the connection, not one per command).
struct Session {
    client: Client<Sink>,
    words: Vec<bytes::Bytes>,
}

/// The server: cheap to clone, one keyspace for every connection.
#[derive(Clone, Default)]
pub struct Redis {
    db: Arc<Db<Sink>>,
    /// Each open connection's state, by connection id (looked up for every command: a fast
    /// hasher, the ids being ours).
    clients: Arc<Mutex<HashMap<u64, Session, foldhash::fast::RandomState>>>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis").finish_non_exhaustive()
    }
}

impl Redis {
    /// Runs one command for the connection `conn`.
    fn execute(&self, conn: &Conn, msg: Command) -> Reply {
        let mut clients = self.clients.lock().unwrap_or_else(|e| e.into_inner());
        let Session { client, words } = clients.entry(conn.id()).or_insert_with(|| Session {
            client: Client::new(conn.id(), Sink(conn.clone())),
            words: Vec::new(),
        });
        if let Err(e) = command_words(msg, words) {
            // An array holding something other than bulk strings, unbalanced quotes.
            return Reply {
                close: true,
                ..Reply::one(error(&format!("ERR {e}")))
            };
        }
        let before = client.protocol();
        let reply = self.db.execute(client, words);
        // The words go now, not when the next command comes (a large SET's value would
        // otherwise stay in memory while the connection is idle).
        words.clear();
        if client.protocol() != before {
            // `HELLO 3`: its answer and everything after it in RESP3.
            conn.switch_version(client.protocol());
        }
        reply
    }
}

impl RespHandler for Redis {
    async fn command(&self, conn: &Conn, msg: Command, answer: Value) -> Value {
        let reply = self.execute(conn, msg);
        // The first value answers; more (one per channel of a SUBSCRIBE) follow it, ahead of
        // the answer to the next command.
        for v in reply.more {
            if let Err(e) = conn.push(Message::Value(v)) {
                tracing::debug!(error = %e, "reply not queued");
            }
        }
        if reply.close {
            conn.close();
        }
        // An array of no words (`*0`, `*-1`) is answered with the default value, where Redis
        // sends nothing: the typed handler answers every `Command` (empty lines are `Empty`,
        // which the exchange leaves unanswered, and never reach it).
        reply.value.unwrap_or(answer)
    }

    async fn closed(&self, conn: &Conn, _end: &Ended) {
        let gone = self
            .clients
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&conn.id());
        if let Some(mut s) = gone {
            self.db.disconnect(&mut s.client);
        }
    }
}

/// Serves Redis on `addr` (`127.0.0.1:0` for any free port) beside the MQTT broker and the
/// native and RocketMQ echo servers, all on one port; returns the server, its address and
/// the Redis handler.
pub async fn serve(addr: &str) -> std::io::Result<(MultiServer, std::net::SocketAddr, Redis)> {
    let redis = Redis::default();
    let multi = MultiServer::new(MultiServerConfig::default());
    let server = polywire_protocols::resp::server(redis.clone(), Default::default());
    let mqtt =
        polywire_protocols::mqtt::server(crate::mqtt_broker::Broker::default(), Default::default());
    let native = crate::echo::native(Default::default());
    let rocketmq = crate::echo::rocketmq(Default::default());
    for r in [
        multi.add(server),
        multi.add(mqtt),
        multi.add(native),
        multi.add(rocketmq),
    ] {
        r.map_err(|e| std::io::Error::other(e.to_string()))?;
    }
    let local = multi.bind(addr).await?;
    Ok((multi, local, redis))
}
