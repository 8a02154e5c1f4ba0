//! The metrics port: `/metrics` for Prometheus and the live shard page
//! at `/`, over HTTP/1.1 (hyper), on `metrics-port` at the `bind`
//! address.
//!
//! Owns the listener, the routes and the limits on what a client of this
//! port may cost: a few connections at once, a short time to send its
//! request, small headers, no body read. What the series are is
//! `collect`'s; the page is a static file that reads `/metrics` itself.
//! It must never run on a serving thread: it runs on the runtime that
//! accepts clients; a scrape reads the numbers on a blocking thread
//! (`gather`: shard locks, briefly, at normal priority) and writes the
//! text on a thread of its own at idle priority (`render_thread`), so a
//! scrape never holds up a request or an accept. Connections are closed
//! after each response (no keep-alive) and live at most
//! `CONNECTION_LIFETIME`, so a client that stops reading frees its slot.

mod collect;
mod command_series;
mod engine_series;
mod gather;
mod render_thread;

use crate::shared::Shared;
use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{CACHE_CONTROL, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::io;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use render_thread::RenderThread;

/// Connections served at once; more wait to be accepted.
const MAX_CONNECTIONS: usize = 16;
/// How long a client has to send its request's head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);
/// The largest request head read (hyper's smallest allowed buffer).
const MAX_HEAD: usize = 8192;
/// The longest a connection is served, its response included: a client
/// that stops reading a scrape (megabytes with many shards) must not hold
/// one of the `MAX_CONNECTIONS` for ever.
const CONNECTION_LIFETIME: Duration = Duration::from_secs(30);

/// The live page: self-contained (no request leaves the port).
const PAGE: &str = include_str!("page.html");

/// The content type of the OpenMetrics text format prometheus-client
/// writes.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Binds the metrics port, if `metrics-port` asks for one.
pub(crate) async fn bind(bind: &str, port: u16) -> io::Result<Option<TcpListener>> {
    if port == 0 {
        return Ok(None);
    }
    let ip: std::net::IpAddr = bind.parse().map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bind address '{bind}' is not an IP address"),
        )
    })?;
    TcpListener::bind((ip, port)).await.map(Some)
}

/// Serves the metrics port until shutdown.
pub(crate) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let renderer = match RenderThread::start() {
        Ok(r) => Arc::new(r),
        Err(e) => {
            tracing::error!("metrics port: cannot start the render thread: {e}");
            return;
        }
    };
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    let token = shared.shutdown.clone();
    loop {
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else {
            return;
        };
        let accepted = tokio::select! {
            () = token.cancelled() => return,
            r = listener.accept() => r,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!("metrics port: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            }
        };
        let (renderer, shared) = (Arc::clone(&renderer), Arc::clone(&shared));
        let token = token.clone();
        tokio::spawn(async move {
            let service =
                service_fn(move |req| respond(Arc::clone(&shared), Arc::clone(&renderer), req));
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(HEAD_TIMEOUT)
                .max_buf_size(MAX_HEAD)
                .keep_alive(false);
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            tokio::select! {
                _ = conn.as_mut() => {}
                () = tokio::time::sleep(CONNECTION_LIFETIME) => {}
                () = token.cancelled() => conn.as_mut().graceful_shutdown(),
            }
            drop(permit);
        });
    }
}

async fn respond(
    shared: Arc<Shared>,
    renderer: Arc<RenderThread>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let reply = |status: StatusCode, kind: &str, body: Bytes| {
        let mut response = Response::new(Full::new(body));
        *response.status_mut() = status;
        if let Ok(kind) = kind.parse() {
            response.headers_mut().insert(CONTENT_TYPE, kind);
        }
        if let Ok(never) = "no-store".parse() {
            response.headers_mut().insert(CACHE_CONTROL, never);
        }
        response
    };
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return Ok(reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain",
            Bytes::from_static(b"only GET\n"),
        ));
    }
    Ok(match req.uri().path() {
        "/metrics" => {
            // Reading takes the shards' locks in turn: off the runtime
            // that accepts clients, at normal priority; the writing is the
            // render thread's, at idle priority.
            let gathered = tokio::task::spawn_blocking(move || gather::gather(&shared)).await;
            let text = match gathered {
                Ok(numbers) => renderer.render(numbers).await,
                Err(_) => None,
            };
            match text {
                Some(text) => reply(StatusCode::OK, OPENMETRICS, Bytes::from(text)),
                _ => reply(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "text/plain",
                    Bytes::from_static(b"could not render the metrics\n"),
                ),
            }
        }
        "/" => reply(
            StatusCode::OK,
            "text/html; charset=utf-8",
            Bytes::from_static(PAGE.as_bytes()),
        ),
        _ => reply(
            StatusCode::NOT_FOUND,
            "text/plain",
            Bytes::from_static(b"not found: try /metrics or /\n"),
        ),
    })
}
