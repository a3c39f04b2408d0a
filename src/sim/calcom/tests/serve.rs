//! [`CalcomSim::serve`] inside an existing actix System, as sandbox mode runs it.

use super::*;
use futures_util::future::join_all;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// One HTTP/1.1 exchange over a fresh connection; the whole response as text.
async fn exchange(addr: SocketAddr, head: &str, body: &str) -> String {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let request = format!(
        "{head}\r\nHost: {addr}\r\nAuthorization: Bearer {SANDBOX_CALCOM_API_KEY}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    response
}

#[actix_web::test]
async fn serve_answers_on_a_std_listener_inside_a_running_system() {
    let (sim, _) = sim();
    let (addr, handle) = start(&sim);
    let response = exchange(
        addr,
        "GET /v2/event-types HTTP/1.1\r\ncal-api-version: 2024-06-14",
        "",
    )
    .await;
    handle.stop(true).await;

    assert!(response.starts_with("HTTP/1.1 200 OK"), "{response}");
    assert!(
        response.to_ascii_lowercase().contains("x-request-id: "),
        "{response}"
    );
    assert!(response.contains("\"slug\":\"faerben\""), "{response}");
}

#[actix_web::test]
async fn parallel_creates_over_two_workers_book_once() {
    let (sim, _) = sim();
    let (addr, handle) = start(&sim);
    let body = booking_body("2050-09-05T07:00:00Z").to_string();
    let head = "POST /v2/bookings HTTP/1.1\r\ncal-api-version: 2024-08-13";
    let responses = join_all((0..8).map(|_| exchange(addr, head, &body))).await;
    handle.stop(true).await;

    let count = |status: &str| responses.iter().filter(|r| r.starts_with(status)).count();
    assert_eq!(count("HTTP/1.1 201"), 1, "{responses:#?}");
    assert_eq!(count("HTTP/1.1 400"), 7, "{responses:#?}");
}
