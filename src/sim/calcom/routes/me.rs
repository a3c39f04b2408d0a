//! `GET /v2/me` (any `cal-api-version`, as `MeController` is declared with
//! `API_VERSIONS_VALUES`; calcom/cal.com `apps/api/v2/src/ee/me/me.controller.ts`): the key
//! owner as `MeOutput` (`apps/api/v2/src/ee/me/outputs/me.output.ts`). Auth is required.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use serde_json::json;

use super::reply;
use crate::sim::calcom::auth::Caller;
use crate::sim::calcom::context::Ctx;
use crate::sim::calcom::errors::Rejection;

/// The caller's user; 401 without a key.
pub(super) async fn get(ctx: Ctx, caller: Caller) -> Result<HttpResponse, Rejection> {
    let account = caller.require_owner().map_err(|e| ctx.reject(e))?;
    let host = &account.host;
    Ok(reply(
        StatusCode::OK,
        json!({
            "id": host.id,
            "username": host.username,
            "email": host.email,
            "name": host.name,
            "avatarUrl": null,
            "bio": null,
            "timeFormat": 24,
            "defaultScheduleId": null,
            "weekStart": "Monday",
            "timeZone": host.time_zone.name(),
            "organizationId": null,
        }),
    ))
}
