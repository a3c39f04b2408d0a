//! The bare baseline: an actix-web server whose only handler reads the request body and
//! answers with a constant JSON-RPC result — the very bytes the gateway answered for
//! `calcom.getEventTypes` — on as many workers as `switchboard serve` uses (one per core).
//! It runs as its own process (this bench binary re-executed with `--baseline-server`), so it
//! competes for the CPU exactly as the service does.

use actix_web::{App, HttpResponse, HttpServer, web};
use std::path::Path;

/// Serves `POST /api/mcp/gateway` on 127.0.0.1:`port` with the bytes of `body_file` until
/// killed.
pub fn serve(port: u16, body_file: &Path) -> std::io::Result<()> {
    let body = web::Bytes::from(std::fs::read(body_file)?);
    actix_web::rt::System::new().block_on(async move {
        HttpServer::new(move || {
            let body = body.clone();
            App::new().route(
                "/api/mcp/gateway",
                web::post().to(move |_request: web::Bytes| {
                    let body = body.clone();
                    async move {
                        HttpResponse::Ok()
                            .content_type("application/json")
                            .body(body)
                    }
                }),
            )
        })
        .bind(("127.0.0.1", port))?
        .run()
        .await
    })
}
