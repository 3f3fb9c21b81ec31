//! An in-memory Redis-compatible server on the server generated from `resp.wire`.
//!
//! The protocol's `exchange` block does the protocol's part: commands decoded from RESP
//! arrays or inline lines, one value answering each command in the order the commands came
//! (a pipeline is answered as it is read), values pushed to subscribers, and RESP's protocol
//! error before closing a connection whose bytes are not RESP. What is left here is what a
//! server decides: the commands themselves ([`crate::redis_db`]), `HELLO 3` switching the
//! connection's version, `QUIT` closing it.

use crate::redis_db::{Db, Subscriber};
use polywire::rt::{Connection, Ended, MultiServer, MultiServerConfig};
use polywire_protocols::resp::{Command, Message, RespExchange, RespHandler, Value};
use std::sync::Arc;

type Conn = Connection<RespExchange>;

/// A connection that receives what is published to its channels.
#[derive(Debug, Clone)]
pub struct Sink(Conn);

impl Subscriber for Sink {
    fn deliver(&self, v: Value) -> bool {
        self.0.push(Message::Value(v)).is_ok()
    }
}

/// The server: cheap to clone, one keyspace for every connection.
#[derive(Clone, Default)]
pub struct Redis {
    /// The keyspace, and each open connection's state by connection id.
    db: Arc<Db<Sink>>,
}

impl std::fmt::Debug for Redis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redis").finish_non_exhaustive()
    }
}

impl RespHandler for Redis {
    async fn command(&self, conn: &Conn, msg: Command, answer: Value) -> Value {
        let reply = self.db.execute_for(conn.id(), || Sink(conn.clone()), msg);
        if let Some(v) = reply.protocol {
            // `HELLO 3`: its answer and everything after it in RESP3.
            conn.switch_version(v);
        }
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
        self.db.disconnect_id(conn.id());
    }
}

/// Serves Redis on `addr` (`127.0.0.1:0` for any free port) beside the MQTT broker and the
/// native and RocketMQ echo servers, all on one port; returns the server, its address and
/// the Redis handler.
pub async fn serve(addr: &str) -> std::io::Result<(MultiServer, std::net::SocketAddr, Redis)> {
    let redis = Redis::default();
    // What no detector claims is Redis's: inline commands (`PING`, typed into telnet or nc)
    // begin with any letter, and an interactive client may send nothing for a while.
    let multi = MultiServer::new(MultiServerConfig {
        fallback: Some(polywire_protocols::resp::protocol_info::ID.to_string()),
        ..MultiServerConfig::default()
    });
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
