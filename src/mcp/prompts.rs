//! MCP prompts: task recipes an assistant offers its user ("daily booking report", "triage
//! failed bookings"), each naming the tools and resources to use.
//!
//! STUB: the resources helper fills this in.

use rmcp::model::{GetPromptResult, JsonObject, Prompt};
use switchboard_actors::records::TokenGrant;

/// Why a prompt could not be rendered (`prompts/get` answers -32602).
#[derive(Debug, thiserror::Error)]
pub enum PromptError {
    /// No prompt of this name.
    #[error("Unknown prompt: {0}")]
    Unknown(String),
    /// A required argument is missing or malformed.
    #[error("invalid argument {name}: {reason}")]
    Argument {
        /// The argument.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
}

/// Every prompt.
pub fn list() -> Vec<Prompt> {
    Vec::new()
}

/// The prompt `name` rendered with `args` for `grant`.
///
/// # Errors
/// [`PromptError`] for an unknown name or a bad argument.
pub fn get(
    name: &str,
    _args: &JsonObject,
    _grant: &TokenGrant,
) -> Result<GetPromptResult, PromptError> {
    Err(PromptError::Unknown(name.chars().take(80).collect()))
}
