//! Requests answered by a series (`List -> Entry* then End`) over TCP, through the generated
//! typed server and client: matched by order (`wire/catalog.wire`, answers leave in request
//! order, a series' entries before the answers after it) and by a request id
//! (`wire/catalog_ids.wire`); a failed listing; a series longer than the client keeps; and a
//! series request sent through the one-answer `request`; and an answer sent only on failure
//! (`Add -> Refused on failure`), which nothing waits for.

use polywire::exchange::Status;
use polywire::rt::{ClientError, Connection, MessageConfig};
use std::time::Duration;

/// The names both catalogs serve.
fn names() -> Vec<String> {
    let mut v: Vec<String> = [
        "apple",
        "apricot",
        "avocado",
        "banana",
        "blueberry",
        "cherry",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    v.extend((0..1000).map(|i| format!("z{i:04}")));
    v
}

/// Names starting with `prefix`, as the servers list them.
fn matching(prefix: &str) -> Vec<String> {
    names()
        .into_iter()
        .filter(|n| n.starts_with(prefix))
        .collect()
}

/// Both protocols' tests, written once over the generated module `$m`.
macro_rules! catalog_tests {
    ($m:ident, $handler:ident, $dispatch:ident, $exchange:ident) => {
        mod $m {
            use super::*;
            use polywire_tests::$m::*;
            use polywire_tests::$m::{
                $dispatch as CatalogDispatch, $exchange as CatalogExchange,
                $handler as CatalogHandler,
            };

            /// Lists names with a prefix; `!` fails; a listing that starts with `slow` waits
            /// first, so the answers after it are ready before it is.
            struct Shelf;

            impl CatalogHandler for Shelf {
                async fn list(
                    &self,
                    _conn: &Connection<CatalogExchange>,
                    msg: List,
                    end: End,
                ) -> Result<(Vec<Entry>, End), Status> {
                    let prefix = msg.prefix.to_string();
                    if prefix == "!" {
                        return Err(Status::new(3, "no such shelf"));
                    }
                    let prefix = match prefix.strip_prefix("slow") {
                        Some(rest) => {
                            tokio::time::sleep(Duration::from_millis(30)).await;
                            rest.to_string()
                        }
                        None => prefix,
                    };
                    let entries = matching(&prefix)
                        .into_iter()
                        .map(|n| {
                            let mut e = Entry::default();
                            e.name = n.into();
                            e
                        })
                        .collect();
                    Ok((entries, end))
                }

                async fn add(
                    &self,
                    _conn: &Connection<CatalogExchange>,
                    msg: Add,
                    answer: Refused,
                ) -> Result<Refused, Status> {
                    if msg.name.is_empty() {
                        return Err(Status::new(2, "an empty name"));
                    }
                    Ok(answer)
                }

                async fn count(
                    &self,
                    _conn: &Connection<CatalogExchange>,
                    _msg: Count,
                    answer: Total,
                ) -> Total {
                    let mut answer = answer;
                    answer.n = names().len() as u32;
                    answer
                }
            }

            async fn start(
                config: MessageConfig,
            ) -> (
                polywire::rt::MessageServer<CatalogExchange, CatalogDispatch<Shelf>>,
                Client,
            ) {
                let server = server(Shelf, MessageConfig::default());
                let addr = server.bind("127.0.0.1:0").await.expect("binds");
                let mut hello = Hello::default();
                hello.client = "test".into();
                let (client, _) = Client::hello(addr, hello, config).await.expect("connects");
                (server, client)
            }

            /// A listing of the names that start with `prefix`.
            fn list_of(prefix: &str) -> List {
                let mut l = List::default();
                l.prefix = prefix.into();
                l
            }

            fn listed(entries: &[Entry]) -> Vec<String> {
                entries.iter().map(|e| e.name.to_string()).collect()
            }

            #[tokio::test]
            async fn a_listing_comes_back_whole_and_a_failed_one_as_its_status() {
                let (server, client) = start(MessageConfig::default()).await;
                let (entries, end) = client.list(list_of("a")).await.expect("listed");
                assert_eq!(listed(&entries), ["apple", "apricot", "avocado"]);
                assert_eq!(end.code, 0);
                // An empty series: the end alone.
                let (entries, _) = client.list(list_of("q")).await.expect("listed");
                assert!(entries.is_empty());
                // A thousand entries.
                let (entries, _) = client.list(list_of("z")).await.expect("listed");
                assert_eq!(listed(&entries), matching("z"));
                let failed = client.list(list_of("!")).await;
                match failed {
                    Err(ClientError::Failed { answer, status }) => {
                        assert_eq!(answer, "End");
                        assert_eq!(status, Status::new(3, "no such shelf"));
                    }
                    other => panic!("expected the failure, got {other:?}"),
                }
                // The one-answer call refuses a series request; the connection still works.
                let refused = client.request(Msg::List(list_of("a"))).await;
                assert!(
                    matches!(refused, Err(ClientError::Series("List"))),
                    "{refused:?}"
                );
                let total = client.count(Count::default()).await.expect("counted");
                assert_eq!(total.n as usize, names().len());
                // The build gave `Total` a `#[derive(Hash)]` of its own (`tests/build.rs`).
                let mut h = std::collections::hash_map::DefaultHasher::new();
                std::hash::Hash::hash(&total, &mut h);
                client.close().await;
                server.shutdown().await;
            }

            #[tokio::test]
            async fn concurrent_listings_and_counts_on_one_connection_each_get_their_own_answer() {
                let (server, client) = start(MessageConfig::default()).await;
                let client = std::sync::Arc::new(client);
                let mut tasks = Vec::new();
                for i in 0..60 {
                    let c = client.clone();
                    tasks.push(tokio::spawn(async move {
                        match i % 3 {
                            0 => {
                                let prefix = ["a", "b", "slowc", "z00"][i / 3 % 4];
                                let (entries, end) = c.list(list_of(prefix)).await.expect("listed");
                                let want = matching(prefix.trim_start_matches("slow"));
                                assert_eq!(listed(&entries), want, "prefix {prefix}");
                                assert_eq!(end.code, 0);
                            }
                            1 => {
                                let t = c.count(Count::default()).await.expect("counted");
                                assert_eq!(t.n as usize, names().len());
                            }
                            _ => {
                                let r = c.list(list_of("!")).await;
                                assert!(matches!(r, Err(ClientError::Failed { .. })), "{r:?}");
                            }
                        }
                    }));
                }
                for t in tasks {
                    t.await.expect("task");
                }
                client.close().await;
                server.shutdown().await;
            }

            #[tokio::test]
            async fn an_answer_on_failure_comes_only_when_the_request_fails() {
                let (server, client) = start(MessageConfig::default()).await;
                let add = |name: &str| {
                    let mut a = Add::default();
                    a.name = name.into();
                    a
                };
                // Nothing waits: the calls return once sent.
                client.add(add("kiwi")).await.expect("sent");
                client.add(add("")).await.expect("sent");
                client.add(add("lime")).await.expect("sent");
                // The answers after them are not held behind the ones never sent.
                let total = client.count(Count::default()).await.expect("counted");
                assert_eq!(total.n as usize, names().len());
                // The one failure comes through the pushes, and nothing else.
                let got = tokio::time::timeout(Duration::from_secs(5), client.next_push())
                    .await
                    .expect("the refusal comes");
                match got {
                    Some(Msg::Refused(r)) => {
                        assert_eq!(
                            (r.code, r.reason.to_string()),
                            (2, "an empty name".to_string())
                        );
                    }
                    other => panic!("expected the refusal, got {other:?}"),
                }
                let more =
                    tokio::time::timeout(Duration::from_millis(100), client.next_push()).await;
                assert!(more.is_err(), "nothing else is sent: {more:?}");
                client.close().await;
                server.shutdown().await;
            }

            #[tokio::test]
            async fn a_series_longer_than_the_client_keeps_fails_its_request_alone() {
                let config = MessageConfig {
                    max_series: 10,
                    ..MessageConfig::default()
                };
                let (server, client) = start(config).await;
                let long = client.list(list_of("z")).await;
                assert!(
                    matches!(long, Err(ClientError::SeriesTooLong(10))),
                    "{long:?}"
                );
                // The rest of that series is read and dropped; the next answers are right.
                let (entries, _) = client.list(list_of("b")).await.expect("listed");
                assert_eq!(listed(&entries), ["banana", "blueberry"]);
                let total = client.count(Count::default()).await.expect("counted");
                assert_eq!(total.n as usize, names().len());
                client.close().await;
                server.shutdown().await;
            }
        }
    };
}

catalog_tests!(catalog, CatalogHandler, CatalogDispatch, CatalogExchange);
catalog_tests!(
    catalog_ids,
    CatalogIdsHandler,
    CatalogIdsDispatch,
    CatalogIdsExchange
);
