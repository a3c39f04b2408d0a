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
    const SCOPE: Scope = Scope::Platform;
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
        // A constant of seconds: always representable, and far from chrono's limits.
        let alive_for = TimeDelta::seconds(WORKER_ALIVE_FOR.as_secs() as i64);
        let workers = deps
            .store
            .workers(as_of.checked_sub_signed(alive_for).unwrap_or(as_of))
            .await
            .map_err(|e| store_error(&e))?;
        Reply::fresh(Workers {
            as_of,
            alive_for_s: WORKER_ALIVE_FOR.as_secs(),
            workers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::HEARTBEAT_INTERVAL;

    #[test]
    fn description_states_the_heartbeat_and_alive_window() {
        let alive = format!("{} s", WORKER_ALIVE_FOR.as_secs());
        let every = format!("every {} s", HEARTBEAT_INTERVAL.as_secs());
        assert!(
            GetWorkers::SUMMARY.contains(&alive),
            "{}",
            GetWorkers::SUMMARY
        );
        let doc = serde_json::to_string(&schemars::schema_for!(Workers)).unwrap();
        assert!(doc.contains(&every), "{doc}");
    }
}
