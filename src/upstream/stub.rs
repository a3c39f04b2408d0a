//! A throwaway actix-web stub of an upstream API on `127.0.0.1:0` for the reqwest adapters'
//! tests (Cal.com, Retell). It records every request and answers with canned bodies, so the
//! assertions run in the test, not in a server thread where a panic would only look like a
//! dropped connection. Also: a server that breaks off its answer, and a recorder of histogram
//! samples.

use actix_web::{App, HttpRequest, HttpResponse, HttpServer, web};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(&'static str, &'static str)>,
    pub(crate) body: String,
    /// Wait before answering (`actix_rt` sleep), for timeouts.
    pub(crate) delay: Duration,
}

/// `status` with a JSON `body`, no extra headers, at once.
pub(crate) fn reply(status: u16, body: impl Into<String>) -> Reply {
    Reply {
        status,
        headers: Vec::new(),
        body: body.into(),
        delay: Duration::ZERO,
    }
}

/// One request as the stub saw it.
#[derive(Clone, Debug)]
pub(crate) struct Seen {
    pub(crate) method: String,
    /// Raw (still percent-encoded) path.
    pub(crate) path: String,
    pub(crate) query: HashMap<String, String>,
    /// Lower-case names.
    pub(crate) headers: HashMap<String, String>,
    pub(crate) body: Vec<u8>,
}

impl Seen {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }

    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

/// What answers a request no route matches: the API's own "no such route" answer.
pub(crate) type NotFound = fn(&HttpRequest) -> HttpResponse;

struct StubState {
    routes: Vec<(&'static str, &'static str, Reply)>,
    not_found: NotFound,
    seen: Mutex<Vec<Seen>>,
}

/// A running stub; it lives as long as the test's actix system.
pub(crate) struct Stub {
    addr: std::net::SocketAddr,
    state: Arc<StubState>,
}

impl Stub {
    /// Serves `routes` (method, raw path, reply); anything else is answered by `not_found`.
    pub(crate) fn start(
        routes: Vec<(&'static str, &'static str, Reply)>,
        not_found: NotFound,
    ) -> Self {
        let state = Arc::new(StubState {
            routes,
            not_found,
            seen: Mutex::new(Vec::new()),
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .default_service(web::to(answer))
        })
        .workers(1)
        .disable_signals()
        .bind(("127.0.0.1", 0))
        .expect("bind stub");
        let addr = server.addrs()[0];
        actix_rt::spawn(server.run());
        Self { addr, state }
    }

    /// `http://127.0.0.1:PORT`.
    pub(crate) fn base(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every request so far, in arrival order.
    pub(crate) fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    /// The one request so far (fails the test when there were more or none).
    pub(crate) fn only_request(&self) -> Seen {
        let seen = self.seen();
        assert_eq!(seen.len(), 1, "requests: {seen:?}");
        seen.into_iter().next().unwrap()
    }
}

async fn answer(req: HttpRequest, body: web::Bytes, state: web::Data<StubState>) -> HttpResponse {
    let query = web::Query::<HashMap<String, String>>::from_query(req.query_string())
        .map(web::Query::into_inner)
        .unwrap_or_default();
    state.seen.lock().unwrap().push(Seen {
        method: req.method().to_string(),
        path: req.path().to_owned(),
        query,
        headers: req
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
            .collect(),
        body: body.to_vec(),
    });
    let found = state
        .routes
        .iter()
        .find(|(m, p, _)| *m == req.method().as_str() && *p == req.path())
        .map(|(_, _, r)| r.clone());
    let Some(r) = found else {
        return (state.not_found)(&req);
    };
    if !r.delay.is_zero() {
        actix_rt::time::sleep(r.delay).await;
    }
    let mut response =
        HttpResponse::build(actix_web::http::StatusCode::from_u16(r.status).unwrap());
    for header in r.headers {
        response.insert_header(header);
    }
    response.content_type("application/json").body(r.body)
}

/// Serves one connection: reads a whole request, answers `head` (status line and headers)
/// and `partial` body bytes, then closes the socket before the body is complete.
pub(crate) async fn break_after_head(head: &'static str, partial: &'static str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    actix_rt::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        // Read the request to its end first: closing with unread input would send a reset
        // that could discard the answer before the client reads it.
        let mut request = Vec::new();
        let mut buf = [0; 4096];
        loop {
            let n = socket.read(&mut buf).await.unwrap();
            request.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&request).to_ascii_lowercase();
            if let Some(end) = text.find("\r\n\r\n") {
                let length = text
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                if request.len() >= end + 4 + length {
                    break;
                }
            }
            assert!(n > 0, "client closed before sending its request");
        }
        socket
            .write_all(format!("{head}\r\n\r\n{partial}").as_bytes())
            .await
            .unwrap();
        socket.shutdown().await.unwrap();
    });
    format!("http://{addr}")
}

/// Histogram records as `name{label=value,…}`, one entry per recorded value.
pub(crate) type Records = Arc<Mutex<Vec<String>>>;

/// A recorder that keeps only histogram records; install it per thread
/// (`metrics::set_default_local_recorder`: actix tests run on one thread).
#[derive(Default)]
pub(crate) struct Histograms(pub(crate) Records);

struct Sink {
    key: String,
    records: Records,
}

impl metrics::HistogramFn for Sink {
    fn record(&self, _seconds: f64) {
        self.records.lock().unwrap().push(self.key.clone());
    }
}

impl metrics::Recorder for Histograms {
    fn describe_counter(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_gauge(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn describe_histogram(
        &self,
        _: metrics::KeyName,
        _: Option<metrics::Unit>,
        _: metrics::SharedString,
    ) {
    }
    fn register_counter(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Counter {
        metrics::Counter::noop()
    }
    fn register_gauge(&self, _: &metrics::Key, _: &metrics::Metadata<'_>) -> metrics::Gauge {
        metrics::Gauge::noop()
    }
    fn register_histogram(
        &self,
        key: &metrics::Key,
        _: &metrics::Metadata<'_>,
    ) -> metrics::Histogram {
        let labels: Vec<String> = key
            .labels()
            .map(|l| format!("{}={}", l.key(), l.value()))
            .collect();
        metrics::Histogram::from_arc(Arc::new(Sink {
            key: format!("{}{{{}}}", key.name(), labels.join(",")),
            records: self.0.clone(),
        }))
    }
}
