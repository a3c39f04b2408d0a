//! The per-request view of the simulator: its shared state, the request URL that error
//! bodies report, and one "now" for the whole request.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest, web};
use chrono::{DateTime, Utc};
use std::future::{Ready, ready};

use super::Shared;
use super::accounts::Accounts;
use super::errors::{CalcomError, Rejection};
use super::store::Store;
use super::webhooks::Webhooks;

/// Extracted by every handler. Never fails once [`super::CalcomSim::configure`] has mounted
/// the state.
pub(super) struct Ctx {
    shared: web::Data<Shared>,
    url: String,
    now: DateTime<Utc>,
}

impl Ctx {
    /// Reads the context of `req`.
    pub(super) fn of(req: &HttpRequest) -> Result<Self, actix_web::Error> {
        let shared = req
            .app_data::<web::Data<Shared>>()
            .cloned()
            .ok_or_else(|| {
                actix_web::error::ErrorInternalServerError("calcom simulator state not mounted")
            })?;
        let now = shared.clock.now();
        // Nest reports Express's `req.url`: path plus query string.
        let url = req
            .uri()
            .path_and_query()
            .map_or_else(|| req.path().to_owned(), |pq| pq.as_str().to_owned());
        Ok(Self { shared, url, now })
    }

    /// The bookings of every host.
    pub(super) fn store(&self) -> &Store {
        &self.shared.store
    }

    /// The webhook subscriptions and their delivery.
    pub(super) fn webhooks(&self) -> &Webhooks {
        &self.shared.webhooks
    }

    /// The accounts, by API key, username or event type.
    pub(super) fn accounts(&self) -> &Accounts {
        &self.shared.accounts
    }

    /// The simulator's current time, fixed for the request.
    pub(super) fn now(&self) -> DateTime<Utc> {
        self.now
    }

    /// The request URL as error bodies report it (`path`, and `Cannot GET <url>`).
    pub(super) fn url(&self) -> &str {
        &self.url
    }

    /// Binds `error` to this request so actix renders it.
    pub(super) fn reject(&self, error: CalcomError) -> Rejection {
        Rejection::new(error, self.url.clone(), self.now)
    }
}

impl FromRequest for Ctx {
    type Error = actix_web::Error;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Self::of(req))
    }
}
