//! `queue.getWorkers`: the outbox workers alive across all instances.

use super::QueueDeps;
use crate::jsonrpc::RpcError;
use crate::outbox::WORKER_ALIVE_FOR;
use crate::records::{TokenGrant, WorkerView};
use crate::registry::{Kind, Method, Reply, Scope};
use crate::servers::store_error;
use chrono::{DateTime, TimeDelta, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// `queue.getWorkers`.
pub struct GetWorkers;

/// Params of `queue.getWorkers`: none.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WorkersParams {}

/// `result.data` of `queue.getWorkers`.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Workers {
    /// When the list was read (UTC).
    pub as_of: DateTime<Utc>,
    /// A worker counts as alive while its last heartbeat is younger than this many seconds
    /// (workers write one every 10 s).
    pub alive_for_s: u64,
    /// The live workers, most recent heartbeat first.
    pub workers: Vec<WorkerView>,
}

impl Method for GetWorkers {
    const NAME: &'static str = "queue.getWorkers";
    const SUMMARY: &'static str = "Lists the outbox workers (one per running switchboard \
        instance) whose heartbeat is younger than 30 s: worker id, host, process id, start time \
        and last heartbeat (UTC). An empty list means no instance is processing bookings.";
    const SCOPE: Scope = Scope::Admin;
    const KIND: Kind = Kind::Read;
    type Deps = QueueDeps;
    type Params = WorkersParams;
    type Output = Workers;

    async fn apply(
        _: WorkersParams,
        _: TokenGrant,
        deps: Arc<QueueDeps>,
    ) -> Result<Reply<Workers>, RpcError> {
        let as_of = deps.clock.now();
        let alive_for = TimeDelta::from_std(WORKER_ALIVE_FOR).unwrap_or(TimeDelta::MAX);
        let workers = deps
            .store
            .workers(as_of - alive_for)
            .await
            .map_err(|e| store_error(&e))?;
        Reply::fresh(Workers {
            as_of,
            alive_for_s: WORKER_ALIVE_FOR.as_secs(),
            workers,
        })
    }
}
