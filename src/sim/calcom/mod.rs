//! # Cal.com API v2 simulator
//!
//! An in-memory copy of the parts of Cal.com API v2 that switchboard uses, faithful to the wire
//! format in `shared/reference/calcom.md` (cited below as §N): same paths, `cal-api-version`
//! routing, auth rules, status codes, both error body shapes and response headers. It hosts
//! several accounts ([`accounts`]; the demo account of [`catalog`] from the start, others added
//! through `POST /__sim/accounts`) and computes each host's slots from its working hours and
//! its own bookings.
//!
//! Runs standalone (`switchboard sim calcom --port N`) and in-process in sandbox mode; both go
//! through [`CalcomSim::serve`]. Tests mount [`CalcomSim::configure`] on an `App` directly.
//!
//! Faults (latency, errors, hangs, outages, commits whose answer is lost) are injected into
//! `/v2/…` requests as set at start ([`CalcomSim::with_faults`]) or at run time through
//! `/__sim/faults` (see [`crate::sim::faults`]).
//!
//! ## Layout
//! - [`accounts`]: the accounts per API key — user, event types, working hours, team.
//! - [`catalog`]: the demo account — API key, host, event types, working hours.
//! - `admin`: `/__sim/accounts`, adding and listing accounts.
//! - [`provision`]: sandbox mode's accounts for every tenant, through `/__sim/accounts`.
//! - `routes/`: one file per resource (`slots`, `event_types`, `bookings`), the parsing of
//!   booking bodies and list queries, and the mounting with version guards and the 404 page.
//! - `context`: the per-request view (shared state, request URL, current time).
//! - `auth`: the throttler and `ApiAuthStrategy` rules for `Authorization: Bearer` (§1).
//! - `headers`: `X-Request-Id` and the `X-RateLimit-*-Default` headers of every reply (§1, §5).
//! - `faults`: the fault layer, rendering [`crate::sim::faults`] decisions as Cal.com fails.
//! - `errors`: the envelope and the bare `HttpError` body (§5).
//! - `validate`: class-validator checks and Cal.com's two ways of reporting them.
//! - `slots`: the slot grid, shared by `GET /v2/slots` and booking (§2, §4.1).
//! - `store`: the bookings of every host and their atomic create / reschedule / cancel (§4).
//! - `holds`: slot reservations, kept under the store's lock (§2 "Slot holds").
//! - `webhooks`: subscriptions per account and the signed, spawned delivery of booking
//!   events (§6).
//! - `output`: `BookingOutput_2024_08_13`, `EventTypeOutput_2024_06_14`, timestamps.

pub mod accounts;
pub mod catalog;
pub mod provision;

pub mod admin;
mod auth;
mod context;
mod errors;
mod faults;
mod headers;
mod holds;
mod output;
mod routes;
mod slots;
mod store;
mod validate;
mod webhooks;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use actix_web::{App, HttpServer, web};
use switchboard_actors::ports::{Clock, SystemClock};

use crate::sim::faults::{FaultConfig, Faults};

/// State shared by all workers of one simulator.
struct Shared {
    /// Decides "now" for slots, past checks and timestamps; injectable for tests.
    clock: Arc<dyn Clock>,
    accounts: accounts::Accounts,
    store: store::Store,
    webhooks: webhooks::Webhooks,
    rate: headers::RateWindows,
    faults: Faults,
}

impl Shared {
    fn new(clock: Arc<dyn Clock>, faults: Faults) -> Self {
        Self {
            clock,
            accounts: accounts::Accounts::default(),
            store: store::Store::default(),
            webhooks: webhooks::Webhooks::default(),
            rate: headers::RateWindows::default(),
            faults,
        }
    }
}

/// A running-or-not Cal.com simulator. Cheap to clone: clones share one bookings store, so a
/// booking made through one clone (or worker) is seen by all.
#[derive(Clone)]
pub struct CalcomSim {
    shared: Arc<Shared>,
}

impl CalcomSim {
    /// The demo account of [`catalog`] alone, with no bookings and no faults, on the system
    /// clock.
    pub fn demo() -> Self {
        Self {
            shared: Arc::new(Shared::new(Arc::new(SystemClock), Faults::default())),
        }
    }

    /// The same simulator on `clock` (tests pin "now" to make slots deterministic).
    ///
    /// Meant for building: the result starts with the demo account alone and an empty
    /// bookings store, and is not shared
    /// with clones of `self`; it keeps the faults of `self`.
    pub fn with_clock(self, clock: Arc<dyn Clock>) -> Self {
        Self {
            shared: Arc::new(Shared::new(clock, self.shared.faults.clone())),
        }
    }

    /// The same simulator with `faults` in force from now on, as `POST /__sim/faults` would
    /// set them (an `outage_s` starts now). The faults are shared with clones of `self`.
    pub fn with_faults(self, faults: FaultConfig) -> Self {
        self.shared.faults.set(faults);
        self
    }

    /// The faults of this simulator, for changing them in process (the `/__sim/faults`
    /// endpoints act on the same state).
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// The accounts of this simulator, for adding them in process (`/__sim/accounts` acts on
    /// the same state).
    pub fn accounts(&self) -> &accounts::Accounts {
        &self.shared.accounts
    }

    /// Mounts `/__sim/faults`, `/__sim/accounts`, every simulated route, the unknown-route 404, the fault
    /// layer and the response headers on `cfg`.
    ///
    /// Everything but `/__sim/…` lives in one root scope, so the app that mounts it
    /// should mount nothing else: the scope's 404 answers every path it does not know.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        cfg.service(self.shared.faults.resource());
        cfg.service(admin::resource(web::Data::from(Arc::clone(&self.shared))));
        routes::mount(cfg, web::Data::from(Arc::clone(&self.shared)));
    }

    /// Serves the simulator on `listener` with two workers and returns the server without
    /// running it: `.await` it standalone, or `actix_rt::spawn` it inside an existing
    /// System (sandbox mode). Stop it through its handle; signal handling is left at actix's
    /// default for the caller to change.
    ///
    /// # Errors
    /// When the listener cannot be handed to the server (e.g. it is not listening).
    pub fn serve(
        &self,
        listener: std::net::TcpListener,
    ) -> std::io::Result<actix_web::dev::Server> {
        let sim = self.clone();
        let server = HttpServer::new(move || App::new().configure(|cfg| sim.configure(cfg)))
            .workers(2)
            .listen(listener)?
            .run();
        Ok(server)
    }
}
