//! `retell.syncPhoneNumbers`: the Retell account's phone numbers compared with the company's
//! branch numbers, and whether each shared number routes to the company's agent. Read-only:
//! binding numbers is the deploy's job (`retell.config.deployCustomFunctions`).

use super::{CompanyParams, MAX_SCAN_PAGES, RetellDeps, SCAN_PAGE, agent_of, retell_error};
use crate::breaker::RetellHandle;
use crate::jsonrpc::{ErrorCode, RpcError};
use crate::ports::BranchNumber;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::retell::api::{AgentBinding, PageRequest, RetellPhoneNumber};
use crate::server::require_company;
use crate::servers::store_error;
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::Arc;

/// `retell.syncPhoneNumbers`.
pub struct SyncPhoneNumbers;

/// A number both in Retell and among the company's branches.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SharedNumber {
    /// The number and its branch.
    #[serde(flatten)]
    pub number: BranchNumber,
    /// Whether Retell routes its inbound calls to the company's agent.
    pub bound_to_agent: bool,
    /// The agents Retell routes its inbound calls to.
    pub inbound_agents: Vec<AgentBinding>,
}

/// `result.data` of `retell.syncPhoneNumbers`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct NumberSync {
    /// The company's agent (`retell.agent_id`).
    pub agent_id: String,
    /// Numbers in both, ordered by number.
    pub in_both: Vec<SharedNumber>,
    /// Numbers of the Retell account that are none of the company's branch numbers (E.164).
    pub only_in_retell: Vec<String>,
    /// Branch numbers the Retell account does not have.
    pub only_ours: Vec<BranchNumber>,
    /// Numbers in both that do not route to the company's agent (E.164): run the deploy.
    pub not_bound: Vec<String>,
    /// Pages of numbers read from Retell.
    pub pages: u32,
    /// The page cap (20 pages of 100) stopped the read: `only_ours` may name numbers Retell
    /// has.
    pub truncated: bool,
}

/// The account's numbers, at most [`MAX_SCAN_PAGES`] pages; and whether more were left.
pub(super) async fn retell_numbers(
    retell: &RetellHandle,
) -> Result<(Vec<RetellPhoneNumber>, u32, bool), RpcError> {
    let mut numbers = Vec::new();
    let mut request = PageRequest::first(SCAN_PAGE);
    for pages in 1..=MAX_SCAN_PAGES {
        let page = retell
            .list_phone_numbers(request.clone())
            .await
            .map_err(|e| retell_error(&e, ErrorCode::PhoneNumberNotConfigured))?;
        numbers.extend(page.items);
        match page.next {
            Some(next) => request.pagination_key = Some(next),
            None => return Ok((numbers, pages, false)),
        }
    }
    Ok((numbers, MAX_SCAN_PAGES, true))
}

/// Whether `number` routes inbound calls to `agent`.
pub(super) fn bound_to(number: &RetellPhoneNumber, agent: &str) -> bool {
    number.inbound_agents.iter().any(|b| b.agent_id == agent)
}

impl Method for SyncPhoneNumbers {
    const NAME: &'static str = "retell.syncPhoneNumbers";
    const SUMMARY: &'static str = "Compares the phone numbers of the company's Retell account \
        with its branch numbers: numbers in both (with whether each routes to the company's \
        agent), numbers only in Retell, branch numbers Retell does not have, and shared \
        numbers not bound to the agent. Changes nothing; binding is done by the deploy \
        (`retell.config.deployCustomFunctions`). Reads at most 20 pages of 100 numbers.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = RetellDeps;
    type Params = CompanyParams;
    type Output = NumberSync;

    async fn apply(
        p: CompanyParams,
        grant: TokenGrant,
        deps: Arc<RetellDeps>,
    ) -> Result<Reply<NumberSync>, RpcError> {
        let company = require_company(&grant, p.company_id)?;
        let tenant = deps.tenant(company).await?;
        let agent = agent_of(&tenant)?;
        let (numbers, pages, truncated) = retell_numbers(&tenant.retell).await?;
        let mut ours: BTreeMap<String, BranchNumber> = deps
            .records
            .branch_numbers(company)
            .await
            .map_err(|e| store_error(&e))?
            .into_iter()
            .map(|n| (n.phone_number.clone(), n))
            .collect();
        let mut in_both = Vec::new();
        let mut only_in_retell = Vec::new();
        for number in numbers {
            match ours.remove(&number.phone_number) {
                Some(branch) => in_both.push(SharedNumber {
                    bound_to_agent: bound_to(&number, &agent),
                    number: branch,
                    inbound_agents: number.inbound_agents,
                }),
                None => only_in_retell.push(number.phone_number),
            }
        }
        in_both.sort_by(|a, b| a.number.phone_number.cmp(&b.number.phone_number));
        only_in_retell.sort();
        let not_bound = in_both
            .iter()
            .filter(|n| !n.bound_to_agent)
            .map(|n| n.number.phone_number.clone())
            .collect();
        Reply::fresh(NumberSync {
            agent_id: agent,
            in_both,
            only_in_retell,
            only_ours: ours.into_values().collect(),
            not_bound,
            pages,
            truncated,
        })
    }
}
