//! What a running server tells `tracing`: info-level lifecycle events (protocol added,
//! listening, shutting down, shut down) and a span per connection naming its peer,
//! transport and protocol, seen by a recording subscriber.

use bytes::Bytes;
use polywire::rt::{ClientConfig, MultiServer, MultiServerConfig, RemotingClient, ServerConfig};
use polywire_protocols::native::{BasicClient, EchoRequest, NativeProtocol};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

/// Records every event as `LEVEL message fields [span fields]`.
#[derive(Default)]
struct Recorder {
    next: AtomicU64,
    spans: Mutex<HashMap<u64, String>>,
    events: Arc<Mutex<Vec<String>>>,
}

thread_local! {
    static CURRENT: std::cell::RefCell<Vec<u64>> = const { std::cell::RefCell::new(Vec::new()) };
}

struct Text(String);

impl Visit for Text {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let _ = write!(self.0, " {}={value:?}", field.name());
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, m: &Metadata<'_>) -> bool {
        m.target().starts_with("polywire") && *m.level() <= Level::DEBUG
    }
    fn new_span(&self, attrs: &Attributes<'_>) -> Id {
        let id = self.next.fetch_add(1, Ordering::Relaxed) + 1;
        let mut t = Text(attrs.metadata().name().to_string());
        attrs.record(&mut t);
        self.spans.lock().unwrap().insert(id, t.0);
        Id::from_u64(id)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, e: &Event<'_>) {
        let mut t = Text(e.metadata().level().to_string());
        e.record(&mut t);
        let spans = self.spans.lock().unwrap();
        CURRENT.with(|c| {
            for id in c.borrow().iter() {
                let _ = write!(t.0, " [{}]", spans.get(id).cloned().unwrap_or_default());
            }
        });
        self.events.lock().unwrap().push(t.0);
    }
    fn enter(&self, id: &Id) {
        CURRENT.with(|c| c.borrow_mut().push(id.into_u64()));
    }
    fn exit(&self, id: &Id) {
        CURRENT.with(|c| {
            let mut c = c.borrow_mut();
            if let Some(i) = c.iter().rposition(|x| *x == id.into_u64()) {
                c.remove(i);
            }
        });
    }
}

#[test]
fn lifecycle_events_at_info_and_a_span_per_connection() {
    let recorder = Recorder::default();
    let seen = recorder.events.clone();
    tracing::subscriber::set_global_default(recorder).expect("the only subscriber");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    rt.block_on(async {
        let multi = MultiServer::new(MultiServerConfig::default());
        multi
            .add(polywire_examples::echo::native(ServerConfig::default()))
            .expect("added");
        let addr = multi.bind("127.0.0.1:0").await.expect("bound");
        let c = RemotingClient::new(NativeProtocol, ClientConfig::default());
        BasicClient::new(c.clone(), addr.to_string())
            .echo(EchoRequest {
                body: Bytes::from_static(b"x"),
            })
            .await
            .expect("an echo");
        multi.shutdown().await;
    });
    let events = seen.lock().unwrap().clone();
    let has = |level: &str, words: &[&str]| {
        events
            .iter()
            .any(|e| e.starts_with(level) && words.iter().all(|w| e.contains(w)))
    };
    assert!(
        has("INFO", &["protocol added", "polywire-native"]),
        "{events:#?}"
    );
    assert!(
        has("INFO", &["listening (shared)", "127.0.0.1:"]),
        "{events:#?}"
    );
    assert!(has("INFO", &["shutting down"]), "{events:#?}");
    assert!(
        has("INFO", &["shut down", "polywire-native"]),
        "{events:#?}"
    );
    assert!(
        has(
            "DEBUG",
            &[
                "connection opened",
                "[connection peer=",
                "transport=tcp",
                "protocol=\"polywire-native\""
            ]
        ),
        "{events:#?}"
    );
}
