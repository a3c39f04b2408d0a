//! `/v2/webhooks[/{id}]` (calcom.md §6; calcom/cal.com
//! `apps/api/v2/src/modules/webhooks/controllers/webhooks.controller.ts`): the key owner's
//! subscriptions. Declared with every API version, and auth is required.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde_json::{Map, Value, json};

use super::{json_object, reply};
use crate::sim::calcom::auth::Caller;
use crate::sim::calcom::context::Ctx;
use crate::sim::calcom::errors::{CalcomError, Rejection};
use crate::sim::calcom::validate::{Violation, pipe_result, unknown_keys};
use crate::sim::calcom::webhooks::{
    MAX_WEBHOOKS_PER_ACCOUNT, Subscription, TRIGGERS, TooManyWebhooks,
};

/// Properties of `CreateWebhookInputDto` (calcom/cal.com
/// `apps/api/v2/src/modules/webhooks/inputs/webhook.input.ts`), plus the `version` §6 shows.
const CREATE_KEYS: &[&str] = &[
    "payloadTemplate",
    "active",
    "subscriberUrl",
    "triggers",
    "secret",
    "version",
];

/// Longest `subscriberUrl`, `secret` or `payloadTemplate` kept, in bytes: a bound on what one
/// subscription holds.
const MAX_TEXT: usize = 4096;

/// `POST /v2/webhooks` → 201 with the subscription.
pub(super) async fn create(
    ctx: Ctx,
    caller: Caller,
    body: web::Bytes,
) -> Result<HttpResponse, Rejection> {
    let run = || -> Result<Value, CalcomError> {
        let owner = caller.require_owner()?;
        let mut subscription = parse(&json_object(&body)?)?;
        subscription.user_id = owner.host.id;
        ctx.webhooks()
            .add(subscription.clone())
            .map_err(|TooManyWebhooks| {
                CalcomError::BadRequest(format!(
                    "A user can have at most {MAX_WEBHOOKS_PER_ACCOUNT} webhooks"
                ))
            })?;
        Ok(output(&subscription))
    };
    run()
        .map(|data| reply(StatusCode::CREATED, data))
        .map_err(|e| ctx.reject(e))
}

/// `GET /v2/webhooks` → the key owner's subscriptions.
pub(super) async fn list(ctx: Ctx, caller: Caller) -> Result<HttpResponse, Rejection> {
    let run = || -> Result<Value, CalcomError> {
        let owner = caller.require_owner()?;
        let own = ctx.webhooks().of(owner.host.id);
        Ok(Value::Array(own.iter().map(output).collect()))
    };
    run()
        .map(|data| reply(StatusCode::OK, data))
        .map_err(|e| ctx.reject(e))
}

/// `GET /v2/webhooks/{id}` → 200, or 404 for another user's or an unknown id.
pub(super) async fn get(
    ctx: Ctx,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, Rejection> {
    let run = || -> Result<Value, CalcomError> {
        let owner = caller.require_owner()?;
        ctx.webhooks()
            .of(owner.host.id)
            .iter()
            .find(|s| s.id == *id)
            .map(output)
            .ok_or_else(|| unknown(&id))
    };
    run()
        .map(|data| reply(StatusCode::OK, data))
        .map_err(|e| ctx.reject(e))
}

/// `DELETE /v2/webhooks/{id}` → 200 with the removed subscription.
pub(super) async fn delete(
    ctx: Ctx,
    caller: Caller,
    id: web::Path<String>,
) -> Result<HttpResponse, Rejection> {
    let run = || -> Result<Value, CalcomError> {
        let owner = caller.require_owner()?;
        ctx.webhooks()
            .remove(owner.host.id, &id)
            .map(|s| output(&s))
            .ok_or_else(|| unknown(&id))
    };
    run()
        .map(|data| reply(StatusCode::OK, data))
        .map_err(|e| ctx.reject(e))
}

fn unknown(id: &str) -> CalcomError {
    CalcomError::NotFound(format!("Webhook with id {id} not found"))
}

/// `UserWebhookOutputDto`: `WebhookOutputDto` (which exposes `secret`) plus `userId`.
fn output(s: &Subscription) -> Value {
    json!({
        "id": s.id,
        "userId": s.user_id,
        "subscriberUrl": s.subscriber_url,
        "triggers": s.triggers,
        "active": s.active,
        "payloadTemplate": s.payload_template,
        "secret": s.secret,
    })
}

/// The create pipe: every property checked, unknown ones refused; the subscription without
/// its user.
fn parse(body: &Map<String, Value>) -> Result<Subscription, CalcomError> {
    let mut violations = Vec::new();
    unknown_keys(body, CREATE_KEYS, &mut violations);
    let text = |key: &str, required: bool, violations: &mut Vec<Violation>| match body.get(key) {
        Some(Value::String(s)) if s.len() <= MAX_TEXT => Some(s.clone()),
        Some(Value::String(_)) => {
            violations.push(Violation::new(
                key,
                "maxLength",
                format!("{key} must be shorter than or equal to {MAX_TEXT} characters"),
            ));
            None
        }
        None | Some(Value::Null) if !required => None,
        _ => {
            violations.push(Violation::new(
                key,
                "isString",
                format!("{key} must be a string"),
            ));
            None
        }
    };
    let subscriber_url = text("subscriberUrl", true, &mut violations);
    if subscriber_url
        .as_deref()
        .is_some_and(|u| !url::Url::parse(u).is_ok_and(|u| matches!(u.scheme(), "http" | "https")))
    {
        violations.push(Violation::new(
            "subscriberUrl",
            "isUrl",
            "subscriberUrl must be a URL address",
        ));
    }
    let secret = text("secret", false, &mut violations);
    let payload_template = text("payloadTemplate", false, &mut violations);
    let active = body.get("active").and_then(Value::as_bool);
    if active.is_none() {
        violations.push(Violation::new(
            "active",
            "isBoolean",
            "active must be a boolean value",
        ));
    }
    let triggers: Option<Vec<String>> = match body.get("triggers") {
        Some(Value::Array(items)) if items.len() <= TRIGGERS.len() => items
            .iter()
            .map(|t| {
                t.as_str()
                    .filter(|t| TRIGGERS.contains(t))
                    .map(str::to_owned)
            })
            .collect(),
        _ => None,
    };
    if triggers.is_none() {
        violations.push(Violation::new(
            "triggers",
            "isEnum",
            format!(
                "each value in triggers must be one of the following values: {}",
                TRIGGERS.join(", ")
            ),
        ));
    }
    pipe_result(&violations)?;
    match (subscriber_url, active, triggers) {
        (Some(subscriber_url), Some(active), Some(triggers)) => Ok(Subscription {
            id: uuid::Uuid::new_v4().to_string(),
            user_id: 0,
            subscriber_url,
            triggers,
            active,
            secret,
            payload_template,
        }),
        _ => Err(CalcomError::BadRequest("Body is required".into())),
    }
}
