//! `GET`, `POST` and `DELETE /__sim/faults`: the run-time control of a simulator's faults.
//! No auth and no vendor headers: these belong to the simulator, not to the API it imitates.

use actix_web::{HttpResponse, Resource, web};
use serde_json::json;

use super::{FaultConfig, Faults};

/// Path of the fault endpoints on every simulator.
pub const FAULTS_PATH: &str = "/__sim/faults";

impl Faults {
    /// The [`FAULTS_PATH`] resource over these faults; mount it ahead of the simulator's own
    /// routes (and outside its fault layer).
    ///
    /// - `GET` → 200 with the [`FaultState`](super::FaultState) as JSON:
    ///   `{"config":{<every FaultConfig field>},"outage":null|{"ends_at":"<RFC 3339>","remaining_s":N}}`.
    /// - `POST` with a [`FaultConfig`] object → replaces the faults, 200 with the new state.
    ///   A body that is not such an object (unknown field, rate outside `0..=1`, status not
    ///   500/503/429, wrong type) → 400 `{"error":"<what is wrong>"}` and nothing changes.
    /// - `DELETE` → removes every fault, 200 with the (empty) state.
    pub fn resource(&self) -> Resource {
        web::resource(FAULTS_PATH)
            .app_data(web::Data::new(self.clone()))
            .route(web::get().to(get))
            .route(web::post().to(post))
            .route(web::delete().to(delete))
    }
}

async fn get(faults: web::Data<Faults>) -> HttpResponse {
    HttpResponse::Ok().json(faults.get())
}

async fn post(faults: web::Data<Faults>, body: web::Bytes) -> HttpResponse {
    match serde_json::from_slice::<FaultConfig>(&body) {
        Ok(config) => HttpResponse::Ok().json(faults.set(config)),
        Err(e) => {
            HttpResponse::BadRequest().json(json!({ "error": format!("invalid faults: {e}") }))
        }
    }
}

async fn delete(faults: web::Data<Faults>) -> HttpResponse {
    faults.clear();
    HttpResponse::Ok().json(faults.get())
}
