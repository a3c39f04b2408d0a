//! The message every server actor ("MCP server") handles: one JSON-RPC call routed by the
//! [`Router`](crate::router::Router), run through the server's
//! [`MethodTable`](crate::registry::MethodTable) ([`method_server!`](crate::method_server)).
//! Also the tenancy rules every method applies to `company_id`.

use crate::domain::ids::CompanyId;
use crate::jsonrpc::{AppError, ErrorCode, RpcError};
use crate::records::TokenGrant;
use actix::Message;
use serde_json::Value;

/// One call of `<server>.<method>` with its raw params and the caller's grant.
#[derive(Debug, Message)]
#[rtype(result = "Result<MethodOutput, RpcError>")]
pub struct ServerCall {
    /// Full method name, `<server>.<method>`.
    pub method: String,
    /// Raw `params` (an object, or an array that the
    /// [`MethodTable`](crate::registry::MethodTable) refuses); `None` when absent.
    pub params: Option<Value>,
    /// Who calls: a company token's company, or an admin.
    pub grant: TokenGrant,
    /// The call's `rpc` span (the router's, see [`crate::router`]); the method runs inside
    /// it, so a job it enqueues links to it.
    pub span: tracing::Span,
}

/// What a method returns: `data` of the success envelope and whether it came from a cache.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodOutput {
    /// Becomes `result.data` of the success envelope (DESIGN §5), serialised once.
    pub data: crate::jsonrpc::SharedJson,
    /// Served from the cache; becomes `result.metadata.cached`.
    pub cached: bool,
}

/// Implements `Handler<ServerCall>` for a server actor that has the fields
/// `methods: MethodTable<D>` and `deps: Arc<D>` and is [`Guarded`](crate::supervision::Guarded)
/// (see [`guarded_actor!`](crate::guarded_actor)): each call runs through the table under the
/// panic guard, so a panic answers -32603 `<actor> server failed: …` and restarts the actor.
#[macro_export]
macro_rules! method_server {
    ($actor:ty) => {
        impl ::actix::Handler<$crate::server::ServerCall> for $actor {
            type Result = ::actix::ResponseFuture<
                Result<$crate::server::MethodOutput, $crate::jsonrpc::RpcError>,
            >;

            fn handle(
                &mut self,
                msg: $crate::server::ServerCall,
                ctx: &mut Self::Context,
            ) -> Self::Result {
                $crate::supervision::guard(
                    self,
                    ctx,
                    |this, _| {
                        let span = msg.span.clone();
                        ::tracing::Instrument::instrument(this.methods.call(msg, &this.deps), span)
                    },
                    |m| {
                        Err($crate::jsonrpc::RpcError::internal(format!(
                            "{} server failed: {m}",
                            <$actor as $crate::supervision::Guarded>::NAME
                        )))
                    },
                )
            }
        }
    };
}

/// The company a call acts on: a company token acts on its own company (naming another is
/// -32002); an admin token must name one (-32602 otherwise).
pub fn require_company(
    grant: &TokenGrant,
    requested: Option<CompanyId>,
) -> Result<CompanyId, RpcError> {
    match (grant.company_id, requested) {
        (Some(own), Some(asked)) if own != asked => Err(forbidden(asked)),
        (Some(own), _) => Ok(own),
        (None, Some(asked)) => Ok(asked),
        (None, None) => Err(RpcError::invalid_params(
            "company_id is required with an admin token",
        )),
    }
}

/// Like [`require_company`], but an admin token without `company_id` means all companies.
pub fn optional_company(
    grant: &TokenGrant,
    requested: Option<CompanyId>,
) -> Result<Option<CompanyId>, RpcError> {
    match grant.company_id {
        None => Ok(requested),
        Some(_) => require_company(grant, requested).map(Some),
    }
}

/// -32002 for data of another tenant.
pub fn forbidden(company: CompanyId) -> RpcError {
    AppError::new(
        ErrorCode::Forbidden,
        format!("this token may not access company {company}"),
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(company: Option<i64>) -> TokenGrant {
        match company {
            Some(id) => TokenGrant::company(CompanyId(id), crate::records::TokenScope::Admin, "t"),
            None => TokenGrant::admin("t"),
        }
    }

    #[test]
    fn company_token_cannot_name_another_company() {
        assert_eq!(
            require_company(&grant(Some(1)), Some(CompanyId(2)))
                .unwrap_err()
                .code,
            -32002
        );
        assert_eq!(
            require_company(&grant(Some(1)), None).unwrap(),
            CompanyId(1)
        );
    }

    #[test]
    fn admin_token_must_name_a_company() {
        assert_eq!(
            require_company(&grant(None), None).unwrap_err().code,
            -32602
        );
        assert_eq!(optional_company(&grant(None), None).unwrap(), None);
    }
}
