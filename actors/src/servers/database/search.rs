//! `database.search`: calls, customers and appointments by name, phone number or id.

use super::DatabaseDeps;
use crate::domain::ids::CompanyId;
use crate::domain::phone::PhoneNumber;
use crate::jsonrpc::RpcError;
use crate::records::TokenGrant;
use crate::registry::{Kind, Method, Reply, Scope};
use crate::reports::{SearchHits, SearchTerms};
use crate::server::optional_company;
use crate::servers::store_error;
use schemars::JsonSchema;
use serde::Deserialize;
use std::sync::Arc;

/// `database.search`.
pub struct Search;

/// Most hits per kind.
pub const MAX_HITS: u32 = 50;

/// Params of `database.search`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SearchParams {
    /// Company; defaults to the token's company. Admin tokens may omit it for all companies.
    pub company_id: Option<CompanyId>,
    /// What to look for, 1–100 characters: part of a name, a phone number (any common
    /// form; numbers without a country code are read as German), a call id or a booking uid.
    #[schemars(length(min = 1, max = 100))]
    pub q: String,
    /// Hits per kind, 1–50; default 20.
    #[schemars(range(min = 1, max = MAX_HITS))]
    pub limit: Option<u32>,
}

impl Method for Search {
    const NAME: &'static str = "database.search";
    const SUMMARY: &'static str = "Finds calls, customers and appointments: `q` (1–100 \
        characters) as part of a name (case-insensitive; `%` and `_` match themselves), as a \
        phone number (any common form, read as German without a country code; compared as \
        E.164), or exactly as a call id or booking uid. Hits come grouped by kind (`calls`, \
        `customers`, `appointments`), newest first, at most `limit` (1–50, default 20) each; \
        each hit has its id, name, phone, time (UTC) and status.";
    const SCOPE: Scope = Scope::Read;
    const KIND: Kind = Kind::Read;
    type Deps = DatabaseDeps;
    type Params = SearchParams;
    type Output = SearchHits;

    async fn apply(
        p: SearchParams,
        grant: TokenGrant,
        deps: Arc<DatabaseDeps>,
    ) -> Result<Reply<SearchHits>, RpcError> {
        let company = optional_company(&grant, p.company_id)?;
        let text = p.q.trim().to_owned();
        if text.is_empty() {
            return Err(RpcError::invalid_params("q must not be blank"));
        }
        // Only text that looks like a number is read as one: a name never becomes digits.
        let phone = text
            .chars()
            .all(|c| c.is_ascii_digit() || " +-()/".contains(c))
            .then(|| PhoneNumber::parse_default(&text).ok())
            .flatten()
            .map(|n| n.as_str().to_owned());
        let terms = SearchTerms { text, phone };
        let hits = deps
            .reports
            .search(company, &terms, p.limit.unwrap_or(20))
            .await
            .map_err(|e| store_error(&e))?;
        Reply::fresh(hits)
    }
}
