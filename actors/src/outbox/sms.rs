//! `sms` jobs: a text message to a caller, sent with the tenant's SMS settings.

use super::{Failure, JobDeps};
use crate::records::Job;

/// One attempt of a `sms` job.
pub(super) async fn attempt(deps: &JobDeps, job: &Job) -> Result<(), Failure> {
    let _ = deps;
    Err(Failure::Permanent(format!(
        "job {}: sms jobs are not implemented yet",
        job.id
    )))
}
