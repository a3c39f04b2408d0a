//! Publishes a breaker's transitions: the `mcp_circuit_breaker_state{service,company}` gauge
//! (DESIGN §10), `mcp_circuit_breaker_transitions_total{service,company,from,to}` and a log line.

use crate::domain::ids::CompanyId;
use crate::metric_names as m;
use crate::resilience::{StateKind, TransitionObserver};

fn kind_label(kind: StateKind) -> &'static str {
    match kind {
        StateKind::Closed => "closed",
        StateKind::Open => "open",
        StateKind::HalfOpen => "half_open",
    }
}

/// The value of `mcp_circuit_breaker_state` (DESIGN §10): 0 closed, 1 open, 2 half-open.
pub fn state_value(kind: StateKind) -> f64 {
    match kind {
        StateKind::Closed => 0.0,
        StateKind::Open => 1.0,
        StateKind::HalfOpen => 2.0,
    }
}

/// Publishes transitions: `mcp_circuit_breaker_state{service,company}`,
/// `mcp_circuit_breaker_transitions_total{service,company,from,to}` and a log line.
#[derive(Clone, Debug)]
pub(super) struct TransitionMetrics {
    service: &'static str,
    company: String,
}

impl TransitionMetrics {
    /// The observer of a new breaker, whose gauge starts at closed.
    pub(super) fn closed(service: &'static str, company: CompanyId) -> Self {
        let company = company.to_string();
        metrics::gauge!(m::CIRCUIT_BREAKER_STATE, "service" => service, "company" => company.clone())
            .set(state_value(StateKind::Closed));
        Self { service, company }
    }
}

impl TransitionObserver for TransitionMetrics {
    fn on_transition(&self, from: StateKind, to: StateKind) {
        let (service, company) = (self.service, self.company.clone());
        metrics::gauge!(m::CIRCUIT_BREAKER_STATE, "service" => service, "company" => company.clone())
            .set(state_value(to));
        metrics::counter!(m::CIRCUIT_BREAKER_TRANSITIONS_TOTAL, "service" => service, "company" => company.clone(),
            "from" => kind_label(from), "to" => kind_label(to))
        .increment(1);
        if to == StateKind::Open {
            tracing::warn!(service, %company, from = kind_label(from), "circuit breaker opened");
        } else {
            tracing::info!(service, %company, from = kind_label(from), to = kind_label(to), "circuit breaker transition");
        }
    }
}
