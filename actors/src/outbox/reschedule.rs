//! `reschedule` jobs: a move that could not be confirmed during the call (or asked by staff),
//! done through the company's tenant session; a booking already moved to the new start counts
//! as done.

use super::{Failure, JobDeps};
use crate::records::Job;

/// One attempt of a `reschedule` job.
pub(super) async fn attempt(deps: &JobDeps, job: &Job) -> Result<(), Failure> {
    let _ = deps;
    Err(Failure::Permanent(format!(
        "job {}: reschedule jobs are not implemented yet",
        job.id
    )))
}
