//! What a server tells `tracing`: info-level lifecycle events (listening, shutting down,
//! shut down), a `connection` span with the peer, transport, protocol and negotiated
//! version, and within it a span per request (code, correlation id) or per message (its
//! name) holding the debug event of its answer. Recorded by a subscriber of the test's own,
//! on a current-thread runtime so that every task logs to it.

use polywire::rt::{
    ClientConfig, Connection, MessageConfig, ProcessError, RemotingClient, RemotingServer,
    RequestContext, ServerConfig,
};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing_subscriber::layer::{Context, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// A span as recorded: its name, its fields (as text) and its parent's index.
#[derive(Debug, Clone)]
struct Span {
    name: &'static str,
    fields: BTreeMap<String, String>,
    parent: Option<usize>,
}

/// An event as recorded: level, message, fields and the spans it was in (innermost first).
#[derive(Debug, Clone)]
struct Event {
    level: tracing::Level,
    message: String,
    fields: BTreeMap<String, String>,
    spans: Vec<usize>,
}

#[derive(Default)]
struct Log {
    spans: Vec<Span>,
    events: Vec<Event>,
}

/// Index of a span in `Log::spans`, kept in the registry's extensions.
struct Index(usize);

/// Fields as text (`Debug` of each value; strings without quotes).
struct Fields<'a>(&'a mut BTreeMap<String, String>);

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.to_string());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().to_string(), format!("{value:?}"));
    }
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Log>>);

impl<S: tracing::Subscriber + for<'a> LookupSpan<'a>> tracing_subscriber::Layer<S> for Recorder {
    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        attrs.record(&mut Fields(&mut fields));
        let span = ctx.span(id).expect("a new span is registered");
        let parent = span
            .parent()
            .and_then(|p| p.extensions().get::<Index>().map(|i| i.0));
        let mut log = self.0.lock().unwrap();
        log.spans.push(Span {
            name: attrs.metadata().name(),
            fields,
            parent,
        });
        span.extensions_mut().insert(Index(log.spans.len() - 1));
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let span = ctx.span(id).expect("a recorded span is registered");
        let Some(i) = span.extensions().get::<Index>().map(|i| i.0) else {
            return;
        };
        values.record(&mut Fields(&mut self.0.lock().unwrap().spans[i].fields));
    }

    fn on_event(&self, event: &tracing::Event<'_>, ctx: Context<'_, S>) {
        let mut fields = BTreeMap::new();
        event.record(&mut Fields(&mut fields));
        let spans = ctx
            .event_scope(event)
            .map(|scope| {
                scope
                    .filter_map(|s| s.extensions().get::<Index>().map(|i| i.0))
                    .collect()
            })
            .unwrap_or_default();
        self.0.lock().unwrap().events.push(Event {
            level: *event.metadata().level(),
            message: fields.remove("message").unwrap_or_default(),
            fields,
            spans,
        });
    }
}

/// Runs `test` on a current-thread runtime with a recorder as the default subscriber (at
/// debug level, so that per-request spans and events are on); returns what it recorded.
fn recorded<F: std::future::Future<Output = ()>>(test: impl FnOnce() -> F) -> Log {
    let recorder = Recorder::default();
    let subscriber = tracing_subscriber::registry()
        .with(recorder.clone())
        .with(tracing::level_filters::LevelFilter::DEBUG);
    {
        let _default = tracing::subscriber::set_default(subscriber);
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
            .block_on(test());
    }
    std::mem::take(&mut *recorder.0.lock().unwrap())
}

impl Log {
    fn events(&self, message: &str) -> Vec<&Event> {
        self.events
            .iter()
            .filter(|e| e.message == message)
            .collect()
    }
    fn spans(&self, name: &str) -> Vec<(usize, &Span)> {
        self.spans
            .iter()
            .enumerate()
            .filter(|(_, s)| s.name == name)
            .collect()
    }
}

mod native {
    use super::*;
    use polywire::Protocol as _;
    use polywire_protocols::native::*;

    /// Echo waits once before it answers (so it finishes after the pass that read it);
    /// ping fails at once.
    struct Echo;

    impl Basic for Echo {
        async fn echo(
            &self,
            _: RequestContext,
            r: EchoRequest,
        ) -> Result<EchoResponse, ProcessError> {
            tokio::task::yield_now().await;
            Ok(EchoResponse { body: r.body })
        }
        async fn ping(
            &self,
            _: RequestContext,
            _: PingRequest,
        ) -> Result<PingResponse, ProcessError> {
            Err("not today".into())
        }
        async fn log(&self, _: RequestContext, _: LogRequest) -> Result<(), ProcessError> {
            Ok(())
        }
    }

    #[test]
    fn a_server_s_lifecycle_connections_and_requests_are_spans_and_events() {
        let mut port = 0;
        let log = recorded(|| async {
            let server = RemotingServer::new(NativeProtocol, ServerConfig::default());
            serve_basic(&server, Arc::new(Echo));
            let addr = server.bind("127.0.0.1:0").await.expect("binds");
            port = addr.port();
            let client = BasicClient::new(
                RemotingClient::new(NativeProtocol, ClientConfig::default()),
                addr.to_string(),
            );
            let reply = client.echo(EchoRequest { body: "hi".into() }).await;
            assert_eq!(&reply.expect("answered").body[..], b"hi");
            assert!(client.ping(PingRequest {}).await.is_err());
            server.shutdown().await;
        });

        // Lifecycle at info level.
        let listening = log.events("listening");
        assert_eq!(listening.len(), 1, "{:?}", log.events);
        assert_eq!(listening[0].level, tracing::Level::INFO);
        assert_eq!(listening[0].fields["protocol"], NativeProtocol.id());
        assert_eq!(listening[0].fields["addr"], format!("127.0.0.1:{port}"));
        for m in ["shutting down", "shut down"] {
            let e = log.events(m);
            assert_eq!(e.len(), 1, "{m}: {:?}", log.events);
            assert_eq!(e[0].level, tracing::Level::INFO);
        }

        // One connection span, with the version the handshake agreed on.
        let conns = log.spans("connection");
        assert_eq!(conns.len(), 1, "{:?}", log.spans);
        let (conn, span) = conns[0];
        assert_eq!(span.fields["protocol"], NativeProtocol.id());
        assert_eq!(span.fields["transport"], "tcp");
        assert!(span.fields["peer"].starts_with("127.0.0.1:"), "{span:?}");
        assert_eq!(span.fields["version"], "3");

        // A span per request inside it, each holding its answer. Echo answered after its
        // pass: its answer has a span of its own, with the same fields.
        let requests = log.spans("request");
        assert_eq!(requests.len(), 3, "{:?}", log.spans);
        assert_eq!(requests[0].1.fields, requests[1].1.fields);
        let requests = &requests[1..];
        // `request Echo = 1`, `request Ping = 2` in native.wire.
        for ((i, request), code) in requests.iter().zip(["1", "2"]) {
            assert_eq!(request.parent, Some(conn));
            assert_eq!(request.fields["code"], code);
            let answered: Vec<_> = log
                .events("answered")
                .into_iter()
                .filter(|e| e.spans.first() == Some(i))
                .collect();
            assert_eq!(answered.len(), 1, "{:?}", log.events);
            assert_eq!(answered[0].level, tracing::Level::DEBUG);
            assert_eq!(answered[0].spans, [*i, conn]);
        }
        let errors: Vec<_> = log
            .events("answered")
            .iter()
            .map(|e| e.fields["error"].clone())
            .collect();
        assert_eq!(errors, ["false", "true"], "echo answered, ping failed");
        // The processor's failure is logged inside its request's span.
        let failed = log.events("processor failed");
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].spans, [requests[1].0, conn]);
    }

    #[test]
    fn a_multi_server_s_protocols_and_connections_are_told() {
        let log = recorded(|| async {
            let multi = polywire::rt::MultiServer::new(Default::default());
            let native = RemotingServer::new(NativeProtocol, ServerConfig::default());
            serve_basic_now(&native, Arc::new(BasicEcho));
            multi.add(native).expect("added");
            let addr = multi.bind("127.0.0.1:0").await.expect("binds");
            let client = BasicClient::new(
                RemotingClient::new(NativeProtocol, ClientConfig::default()),
                addr.to_string(),
            );
            client
                .echo(EchoRequest { body: "x".into() })
                .await
                .expect("answered");
            multi.shutdown().await;
        });
        for m in [
            "protocol added",
            "listening (shared)",
            "shutting down",
            "shut down",
        ] {
            let e = log.events(m);
            assert!(!e.is_empty(), "no {m:?} in {:?}", log.events);
            assert!(e.iter().all(|e| e.level == tracing::Level::INFO), "{e:?}");
        }
        assert_eq!(
            log.events("protocol added")[0].fields["protocol"],
            NativeProtocol.id()
        );
        let (conn, span) = log.spans("connection")[0];
        assert_eq!(span.fields["transport"], "tcp");
        let opened = log.events("connection opened");
        assert_eq!(opened.len(), 1, "{:?}", log.events);
        assert_eq!(
            (opened[0].level, &opened[0].spans[..]),
            (tracing::Level::DEBUG, &[conn][..])
        );
    }
}

mod resp {
    use super::*;
    use polywire_protocols::resp::*;

    /// Answers every command with its default answer, switching the connection to RESP3.
    struct Three;

    impl RespHandler for Three {
        async fn command(
            &self,
            conn: &Connection<RespExchange>,
            _: Command,
            answer: Value,
        ) -> Value {
            conn.switch_version(3);
            answer
        }
    }

    #[test]
    fn an_exchange_server_s_messages_are_spans_in_their_connection_s() {
        let log = recorded(|| async {
            let server = server(Three, MessageConfig::default());
            let addr = server.bind("127.0.0.1:0").await.expect("binds");
            let client = Client::connect(addr, MessageConfig::default())
                .await
                .expect("connects");
            let ping = Command::Inline(Inline {
                line: "PING".into(),
            });
            client.command(ping).await.expect("answered");
            server.shutdown().await;
        });
        assert_eq!(log.events("listening").len(), 1, "{:?}", log.events);
        assert_eq!(log.events("listening")[0].fields["protocol"], "resp");
        let conns = log.spans("connection");
        assert_eq!(conns.len(), 1, "{:?}", log.spans);
        let (conn, span) = conns[0];
        assert_eq!(span.fields["protocol"], "resp");
        // Recorded when the connection opened at 2, then again when the handler switched.
        assert_eq!(span.fields["version"], "3");
        let messages = log.spans("message");
        assert_eq!(messages.len(), 1, "{:?}", log.spans);
        let (message, span) = messages[0];
        assert_eq!(span.parent, Some(conn));
        assert_eq!(span.fields["message"], "Command");
        let answered = log.events("answered");
        assert_eq!(answered.len(), 1, "{:?}", log.events);
        assert_eq!(answered[0].spans, [message, conn]);
    }
}
