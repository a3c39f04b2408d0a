//! `cancel` jobs: a cancellation that could not be confirmed during the call (or asked by staff),
//! done through the company's tenant session; an already cancelled booking counts as done.

use super::{Failure, JobDeps};
use crate::records::Job;

/// One attempt of a `cancel` job.
pub(super) async fn attempt(deps: &JobDeps, job: &Job) -> Result<(), Failure> {
    let _ = deps;
    Err(Failure::Permanent(format!(
        "job {}: cancel jobs are not implemented yet",
        job.id
    )))
}
