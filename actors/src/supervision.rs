//! Supervision: actix's `Supervisor` restarts an actor that *stops*, but a panic in a handler
//! would kill it silently (reference/rust-stack.md §1.2). Every handler therefore runs behind a
//! panic guard: the caller gets an error (JSON-RPC -32603), the panic is counted in
//! `actor_restarts_total{actor}`, and the actor stops itself so its `Supervisor` restarts it —
//! its mailbox, and with it the queued messages, survives. A [`RestartBudget`] turns a restart
//! loop of a *self-driven* actor (one whose work starts on its own timer, like the outbox
//! worker) into a clean process exit. Panics of actors driven by requests are restarted and
//! counted but never spend that budget: otherwise any client able to trigger a panic could stop
//! the whole service with a dozen requests.

use crate::metric_names as m;
use actix::prelude::*;
use futures_util::FutureExt;
use std::any::Any;
use std::collections::VecDeque;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// What a caller learns of a panic: the panic text may hold request data or internals, so it
/// goes to the log only (with the actor's name) and never into an error a client reads.
pub const PANIC_REPLY: &str = "internal error (see the service log)";

/// Process exit code after the restart budget is exhausted (EX_SOFTWARE).
pub const EXIT_RESTART_BUDGET: i32 = 70;

type OnExhausted = Arc<dyn Fn(&'static str) + Send + Sync>;

/// At most `max_restarts` restarts (of all actors together) within `window`; one more calls
/// the exhaustion hook, which by default logs and stops the actix System with
/// [`EXIT_RESTART_BUDGET`].
#[derive(Clone)]
pub struct RestartBudget {
    restarts: Arc<Mutex<VecDeque<Instant>>>,
    max_restarts: usize,
    window: Duration,
    on_exhausted: OnExhausted,
}

impl std::fmt::Debug for RestartBudget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RestartBudget")
            .field("max_restarts", &self.max_restarts)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl RestartBudget {
    /// A budget of `max_restarts` per `window` that stops the System when exhausted.
    pub fn new(max_restarts: u32, window: Duration) -> Self {
        Self {
            restarts: Arc::default(),
            max_restarts: max_restarts as usize,
            window,
            on_exhausted: Arc::new(|actor| {
                tracing::error!(
                    actor,
                    exit_code = EXIT_RESTART_BUDGET,
                    "restart budget exhausted: actors keep failing; shutting down instead of restarting in a loop"
                );
                System::current().stop_with_code(EXIT_RESTART_BUDGET);
            }),
        }
    }

    /// Replaces what happens when the budget is exhausted (the shell stops the HTTP server
    /// first; tests record the call).
    pub fn on_exhausted(mut self, hook: impl Fn(&'static str) + Send + Sync + 'static) -> Self {
        self.on_exhausted = Arc::new(hook);
        self
    }

    /// Records one restart of the self-driven `actor`; returns `false` (after calling the hook)
    /// when it exceeds the budget.
    pub fn record(&self, actor: &'static str) -> bool {
        Self::count(actor);
        let now = Instant::now();
        let exceeded = {
            let mut restarts = self.restarts.lock().unwrap_or_else(|p| p.into_inner());
            restarts.push_back(now);
            while restarts
                .front()
                .is_some_and(|t| now.duration_since(*t) > self.window)
            {
                restarts.pop_front();
            }
            restarts.len() > self.max_restarts
        };
        if exceeded {
            (self.on_exhausted)(actor);
        }
        !exceeded
    }

    /// Records one restart of `actor` caused by a request: counted in
    /// `actor_restarts_total{actor}`, not against the budget.
    fn record_request_panic(&self, actor: &'static str) {
        Self::count(actor);
    }

    fn count(actor: &'static str) {
        metrics::counter!(m::ACTOR_RESTARTS_TOTAL, "actor" => actor).increment(1);
    }

    fn record_for<A: Guarded>(&self) {
        if A::SELF_DRIVEN {
            self.record(A::NAME);
        } else {
            self.record_request_panic(A::NAME);
        }
    }
}

/// The text of a panic payload.
pub fn panic_message(payload: &(dyn Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic with a non-text payload".to_owned())
}

/// Message: stop, so the actor's `Supervisor` restarts it (after `Supervised::restarting`).
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct Restart;

/// An actor whose handlers are guarded. Implement [`Handler<Restart>`] as `ctx.stop()`.
pub trait Guarded: Actor<Context = Context<Self>> + Handler<Restart> {
    /// Label in `actor_restarts_total{actor}` and logs.
    const NAME: &'static str;
    /// `true` for an actor whose work starts on its own (timers, polling): its panics spend the
    /// [`RestartBudget`]. `false` for one that only answers requests: its panics restart it
    /// without spending the budget.
    const SELF_DRIVEN: bool;
    /// The shared restart budget.
    fn budget(&self) -> &RestartBudget;
}

fn record_panic<A: Guarded>(budget: &RestartBudget, payload: &(dyn Any + Send)) -> String {
    let message = panic_message(payload);
    tracing::error!(actor = A::NAME, panic = %message, "handler panicked; restarting the actor");
    budget.record_for::<A>();
    PANIC_REPLY.to_owned()
}

/// Guards a handler whose work is a detached future (`ResponseFuture`): the sync part runs in
/// `make`, the future after it. A panic in either answers `on_panic(message)` and restarts the
/// actor.
pub fn guard<A, T, Fut>(
    act: &mut A,
    ctx: &mut Context<A>,
    make: impl FnOnce(&mut A, &mut Context<A>) -> Fut,
    on_panic: impl FnOnce(String) -> T + 'static,
) -> ResponseFuture<T>
where
    A: Guarded,
    Fut: Future<Output = T> + 'static,
    T: 'static,
{
    let budget = act.budget().clone();
    let fut = match std::panic::catch_unwind(AssertUnwindSafe(|| make(act, ctx))) {
        Ok(fut) => fut,
        Err(payload) => {
            let message = record_panic::<A>(&budget, payload.as_ref());
            ctx.stop();
            return Box::pin(async move { on_panic(message) });
        }
    };
    let addr = ctx.address();
    Box::pin(async move {
        match AssertUnwindSafe(fut).catch_unwind().await {
            Ok(value) => value,
            Err(payload) => {
                let message = record_panic::<A>(&budget, payload.as_ref());
                addr.do_send(Restart);
                on_panic(message)
            }
        }
    })
}

/// Guards a future that runs inside the actor's context (`AtomicResponse`,
/// `ResponseActFuture`, `ctx.spawn`): resolves to `Err(panic text)` on a panic, which must
/// not unwind through the context. Hand the error to [`restart_after_panic`] in `map`; the
/// text is for the log only.
pub fn catch<Fut: Future + 'static>(
    fut: Fut,
) -> impl Future<Output = Result<Fut::Output, String>> + 'static {
    AssertUnwindSafe(fut)
        .catch_unwind()
        .map(|r| r.map_err(|payload| panic_message(payload.as_ref())))
}

/// After [`catch`] reported a panic: logs its text with the actor's name, counts it and
/// stops the actor so it is restarted. Returns [`PANIC_REPLY`], the only text of the panic
/// a caller's error may carry.
pub fn restart_after_panic<A: Guarded>(act: &A, ctx: &mut Context<A>, panic: &str) -> &'static str {
    tracing::error!(
        actor = A::NAME,
        panic,
        "handler panicked; restarting the actor"
    );
    act.budget().record_for::<A>();
    ctx.stop();
    PANIC_REPLY
}

/// Fault injection for tests: a message that makes an actor panic inside its guarded handler.
/// Only in builds with the `fault-injection` feature.
#[cfg(feature = "fault-injection")]
#[derive(Debug, Message)]
#[rtype(result = "Result<(), String>")]
pub struct Panic;

/// Implements `Handler<Restart>` (stop, so the `Supervisor` restarts the actor), [`Guarded`]
/// (name and `self.budget`) and, with `fault-injection`, a `Handler<Panic>` that panics inside
/// the guard. The actor must also implement `actix::Supervised`. Append `, self_driven` for an
/// actor whose panics spend the [`RestartBudget`] ([`Guarded::SELF_DRIVEN`]).
#[macro_export]
macro_rules! guarded_actor {
    ($actor:ty, $name:literal) => {
        $crate::guarded_actor!(@impl $actor, $name, false);
    };
    ($actor:ty, $name:literal, self_driven) => {
        $crate::guarded_actor!(@impl $actor, $name, true);
    };
    (@impl $actor:ty, $name:literal, $self_driven:literal) => {
        impl ::actix::Handler<$crate::supervision::Restart> for $actor {
            type Result = ();

            fn handle(&mut self, _: $crate::supervision::Restart, ctx: &mut Self::Context) {
                ::actix::ActorContext::stop(ctx);
            }
        }

        impl $crate::supervision::Guarded for $actor {
            const NAME: &'static str = $name;
            const SELF_DRIVEN: bool = $self_driven;

            fn budget(&self) -> &$crate::supervision::RestartBudget {
                &self.budget
            }
        }

        #[cfg(feature = "fault-injection")]
        impl ::actix::Handler<$crate::supervision::Panic> for $actor {
            type Result = ::actix::ResponseFuture<Result<(), String>>;

            fn handle(
                &mut self,
                _: $crate::supervision::Panic,
                ctx: &mut Self::Context,
            ) -> Self::Result {
                $crate::supervision::guard(
                    self,
                    ctx,
                    |_, _| -> ::std::future::Ready<Result<(), String>> {
                        panic!("injected fault in {}", $name)
                    },
                    Err,
                )
            }
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test(start_paused = true)]
    async fn budget_allows_ten_restarts_per_minute_then_calls_the_hook() {
        let exhausted = Arc::new(AtomicUsize::new(0));
        let seen = Arc::clone(&exhausted);
        let budget = RestartBudget::new(10, Duration::from_secs(60)).on_exhausted(move |_| {
            seen.fetch_add(1, Ordering::SeqCst);
        });
        for _ in 0..10 {
            assert!(budget.record("a"));
        }
        assert!(!budget.record("a"));
        assert_eq!(exhausted.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn restarts_older_than_the_window_do_not_count() {
        let budget = RestartBudget::new(2, Duration::from_secs(60))
            .on_exhausted(|_| panic!("must not exhaust"));
        assert!(budget.record("a"));
        assert!(budget.record("a"));
        tokio::time::advance(Duration::from_secs(61)).await;
        assert!(budget.record("a"));
        assert!(budget.record("a"));
    }

    #[test]
    fn panic_message_reads_str_and_string_payloads() {
        let p = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
        assert_eq!(panic_message(p.as_ref()), "boom 1");
        let p = std::panic::catch_unwind(|| panic!("static")).unwrap_err();
        assert_eq!(panic_message(p.as_ref()), "static");
    }
}
