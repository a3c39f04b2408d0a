//! # Twilio Messages API simulator
//!
//! Serves the part of Twilio's REST API switchboard uses to confirm appointments by text
//! (twilio-oai `spec/json/twilio_api_v2010.json`): `POST`/`GET
//! /2010-04-01/Accounts/{AccountSid}/Messages.json` and `GET
//! …/Messages/{MessageSid}.json`, with HTTP basic auth (`AccountSid:AuthToken`), Twilio's
//! validation errors (21211 bad `To`, 21212 bad `From`, 21602 no `Body`, 21617 body over 1600
//! characters, 20003 authentication) in Twilio's error body, and the message resource with its
//! RFC 2822 dates. Nothing is delivered: each account keeps its last messages (bounded), for
//! the list endpoints and for tests.
//!
//! Runs standalone (`switchboard sim sms --port N`) and in-process in sandbox mode (with the
//! sandbox tenants' accounts). Simulator-only endpoints, without auth:
//! - `POST /__sim/accounts` `{"account_sid": "AC…", "auth_token": "…"}` → 201; adds an
//!   account or replaces its token. 400 `{"error"}` when malformed, 409 when full.
//! - `GET /__sim/messages` → 200 `[message resource]`, every account's, oldest first.
//! - `/__sim/faults`: latency, error rates (500/503/429 with Twilio's bodies), hangs and
//!   outages for `POST …/Messages.json` (see [`crate::sim::faults`]).
//!
//! ## Layout
//! - `store`: accounts and their messages.
//! - `routes`: the three Twilio routes.

mod routes;
mod store;

pub use store::{AccountError, MAX_ACCOUNTS};

use actix_web::{App, HttpResponse, HttpServer, web};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use switchboard_actors::ports::{Clock, SystemClock};

use crate::notify::wire::MessageResource;
use crate::sim::faults::{FaultConfig, Faults};

/// Messages each account keeps unless configured otherwise.
pub const DEFAULT_MAX_MESSAGES: usize = 1000;

/// State shared by all workers of one simulator.
struct Shared {
    clock: Arc<dyn Clock>,
    accounts: store::Accounts,
    faults: Faults,
    /// Leads every message sid, so sids sort in creation order.
    next_seq: AtomicU64,
}

/// A Twilio Messages API simulator. Cheap to clone: clones share accounts and messages.
#[derive(Clone)]
pub struct SmsSim {
    shared: Arc<Shared>,
}

/// Body of `POST /__sim/accounts`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountInput {
    account_sid: String,
    auth_token: SecretString,
}

impl SmsSim {
    /// No accounts, no faults, the system clock; each account keeps its last `max_messages`.
    pub fn new(max_messages: usize) -> Self {
        Self {
            shared: Arc::new(Shared {
                clock: Arc::new(SystemClock),
                accounts: store::Accounts::new(max_messages),
                faults: Faults::default(),
                next_seq: AtomicU64::new(1),
            }),
        }
    }

    /// The same simulator with `faults` in force from now on (shared with clones).
    pub fn with_faults(self, faults: FaultConfig) -> Self {
        self.shared.faults.set(faults);
        self
    }

    /// The faults of this simulator, for changing them in process.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Adds account `sid` with `auth_token`, or replaces its token.
    ///
    /// # Errors
    /// A malformed sid or empty token; a new account beyond [`MAX_ACCOUNTS`].
    pub fn add_account(&self, sid: &str, auth_token: SecretString) -> Result<(), AccountError> {
        self.shared.accounts.upsert(sid, auth_token)
    }

    /// Every account's messages, oldest first.
    pub fn messages(&self) -> Vec<MessageResource> {
        self.shared.accounts.all_messages()
    }

    /// Mounts `/__sim/faults`, `/__sim/accounts`, `/__sim/messages` and the Twilio routes.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        let data = web::Data::from(Arc::clone(&self.shared));
        cfg.service(self.shared.faults.resource())
            .service(
                web::resource("/__sim/accounts")
                    .app_data(data.clone())
                    .route(web::post().to(add_account)),
            )
            .service(
                web::resource("/__sim/messages")
                    .app_data(data.clone())
                    .route(web::get().to(all_messages)),
            );
        routes::mount(cfg, data);
    }

    /// Serves the simulator on `listener` with two workers; `.await` it standalone or
    /// `actix_rt::spawn` it inside a running System (sandbox mode).
    ///
    /// # Errors
    /// When the listener cannot be handed to the server.
    pub fn serve(
        &self,
        listener: std::net::TcpListener,
    ) -> std::io::Result<actix_web::dev::Server> {
        let sim = self.clone();
        Ok(
            HttpServer::new(move || App::new().configure(|cfg| sim.configure(cfg)))
                .workers(2)
                .listen(listener)?
                .run(),
        )
    }
}

async fn add_account(shared: web::Data<Shared>, body: web::Bytes) -> HttpResponse {
    let input = match serde_json::from_slice::<AccountInput>(&body) {
        Ok(input) => input,
        Err(e) => {
            return HttpResponse::BadRequest()
                .json(json!({ "error": format!("invalid account: {e}") }));
        }
    };
    match shared.accounts.upsert(&input.account_sid, input.auth_token) {
        Ok(()) => HttpResponse::Created().json(json!({ "account_sid": input.account_sid })),
        Err(e @ AccountError::Invalid(_)) => {
            HttpResponse::BadRequest().json(json!({ "error": e.to_string() }))
        }
        Err(e @ AccountError::Full) => {
            HttpResponse::Conflict().json(json!({ "error": e.to_string() }))
        }
    }
}

async fn all_messages(shared: web::Data<Shared>) -> HttpResponse {
    HttpResponse::Ok().json(shared.accounts.all_messages())
}

#[cfg(test)]
mod tests;
