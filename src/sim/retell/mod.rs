//! # Retell API simulator
//!
//! An in-memory copy of the parts of Retell's REST API that switchboard uses, faithful to
//! `shared/reference/retell.md` §4 (cited below as §N): the current routes, Bearer API keys
//! (§4.1), Retell's error body and statuses (§4.2: a missing asset is 422), its objects
//! (`AgentResponse`, `LlmResponse`, `PhoneNumberResponse`, the call object of §1.3) with every
//! field the official SDK's models require, and its paging (`{items, has_more,
//! pagination_key}` with an opaque key).
//!
//! | route | file |
//! |---|---|
//! | `POST /v2/list-agents`, `GET /get-agent/{id}?version=`, `GET /list-agent-versions/{id}`, `PATCH /update-agent/{id}`, `POST /publish-agent-version/{id}`, `POST /create-agent-version/{id}` | `routes/agents.rs` (with the version rule) |
//! | `GET /get-retell-llm/{id}`, `PATCH /update-retell-llm/{id}` (tool checks) | `routes/llms.rs` |
//! | `GET /v2/list-phone-numbers`, `GET /get-phone-number/{n}`, `PATCH /update-phone-number/{n}` (weights) | `routes/numbers.rs` |
//! | `POST /v3/list-calls` (filters), `GET /v2/get-call/{id}` | `routes/calls.rs` |
//!
//! Each account is an API key; [`RetellSim::demo`] holds one per sandbox example tenant (see
//! `seed`). Simulator-only endpoints, without auth or faults: `/__sim/faults` (shared fault
//! injection, [`crate::sim::faults`]: latency, 500/503/429-with-`Retry-After`, hangs,
//! outages, commit-then-fail on changes) and `POST /__sim/calls` (calls our sandbox made,
//! see `admin`).
//!
//! Runs standalone (`switchboard sim retell --port N`) and in-process in sandbox mode; both
//! go through [`RetellSim::serve`]. Tests mount [`RetellSim::configure`] on an `App`.
//!
//! ## Layout
//! - `store`: accounts by key and their objects; the caps; the pager of every list.
//! - `seed`: the demo accounts of the example tenants.
//! - `routes/`: one file per resource, and the mounting with Retell's 404.
//! - `errors`: Retell's error body per status.
//! - `faults`: the fault layer, rendering [`crate::sim::faults`] decisions as Retell fails.
//! - `admin`: `POST /__sim/calls`.

mod admin;
mod errors;
mod faults;
mod routes;
mod seed;
mod store;

#[cfg(test)]
mod tests;

pub use admin::CALLS_PATH;
pub use errors::RETRY_AFTER_S;
pub use routes::MAX_BODY_BYTES;
pub use seed::{HISTORY_CALLS, HISTORY_DAYS};
pub use store::{MAX_CALLS, MAX_TOOLS, MAX_VERSIONS};

use actix_web::{App, HttpServer, web};
use std::sync::Arc;
use switchboard_actors::ports::{Clock, SystemClock};

use crate::sim::faults::{FaultConfig, Faults};

/// State shared by all workers of one simulator.
struct Shared {
    /// "Now" of timestamps (changes and the seeded history); injectable for tests.
    clock: Arc<dyn Clock>,
    accounts: store::Accounts,
    faults: Faults,
}

/// A Retell API simulator. Cheap to clone: clones share accounts, calls and faults.
#[derive(Clone)]
pub struct RetellSim {
    shared: Arc<Shared>,
}

impl RetellSim {
    /// One account per example tenant (see the module docs), seeded as of the system clock's
    /// now, no faults.
    ///
    /// # Errors
    /// An example tenant file that does not parse (a bug of this build).
    pub fn demo() -> Result<Self, toml::de::Error> {
        Self::demo_on(Arc::new(SystemClock))
    }

    /// The demo accounts on `clock`: the seeded history ends at its "now", and changes are
    /// stamped with it (tests pin it).
    ///
    /// # Errors
    /// As [`RetellSim::demo`].
    pub fn demo_on(clock: Arc<dyn Clock>) -> Result<Self, toml::de::Error> {
        let accounts = seed::demo_accounts(clock.now())?;
        Ok(Self {
            shared: Arc::new(Shared {
                clock,
                accounts: store::Accounts::new(accounts),
                faults: Faults::default(),
            }),
        })
    }

    /// The same simulator with `faults` in force from now on, as `POST /__sim/faults` would
    /// set them. The faults are shared with clones of `self`.
    pub fn with_faults(self, faults: FaultConfig) -> Self {
        self.shared.faults.set(faults);
        self
    }

    /// The faults of this simulator, for changing them in process.
    pub fn faults(&self) -> &Faults {
        &self.shared.faults
    }

    /// Mounts `/__sim/faults`, `/__sim/calls` and the Retell routes (with the 404 of every
    /// other path) on `cfg`; the app that mounts it should mount nothing else.
    pub fn configure(&self, cfg: &mut web::ServiceConfig) {
        let data = web::Data::from(Arc::clone(&self.shared));
        cfg.service(self.shared.faults.resource())
            .service(admin::resource(data.clone()));
        routes::mount(cfg, data);
    }

    /// Serves the simulator on `listener` with two workers and returns the server without
    /// running it: `.await` it standalone, or `actix_rt::spawn` it inside a running System
    /// (sandbox mode).
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
