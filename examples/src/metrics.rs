//! A `/metrics` endpoint for Prometheus: the OpenMetrics page of a
//! [`polywire::rt::prometheus::Exporter`] over HTTP/1.1, one short answer per connection.

use polywire::rt::prometheus::Exporter;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// Serves `GET /metrics` on `listener` until the task is dropped; anything else gets a 404.
pub async fn serve(listener: TcpListener, exporter: Exporter) {
    loop {
        let Ok((mut stream, _)) = listener.accept().await else {
            continue;
        };
        let exporter = exporter.clone();
        tokio::spawn(async move {
            // The request line and headers, at most 8 KiB of them.
            let mut head = Vec::new();
            let mut buf = [0u8; 1024];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 8192 {
                match stream.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => head.extend_from_slice(&buf[..n]),
                }
            }
            let (status, kind, body) = if head.starts_with(b"GET /metrics ") {
                (
                    "200 OK",
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                    exporter.text(),
                )
            } else {
                ("404 Not Found", "text/plain", "GET /metrics\n".to_string())
            };
            let answer = format!(
                "HTTP/1.1 {status}\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes()).await;
            let _ = stream.shutdown().await;
        });
    }
}
