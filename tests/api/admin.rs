//! Tenant administration and tokens over JSON-RPC (issue 11): `company.*`, `branch.*`,
//! `service.*` and `auth.*` against the real app and store. Tenants are created with the
//! operators' token (`company.create`); company tokens are minted with `auth.createToken`.

use crate::helpers::{ADMIN_TOKEN, TestApp, spawn_app, spawn_app_with};
use serde_json::{Value, json};
use switchboard::sandbox::DEMO_PHONE;

/// A tenant file's content as `company.create` params, with every credential set.
pub fn tenant(slug: &str, number: &str) -> Value {
    json!({
        "slug": slug,
        "name": format!("Praxis {slug}"),
        "locale": "en",
        "time_zone": "Europe/London",
        "retell": {"api_key": secret("key", slug), "agent_id": "agent_0123"},
        "calcom": {"api_key": secret("cal", slug), "team_id": 42,
            "webhook_secret": secret("whsec", slug)},
        "policy": {"change_notice_h": 12, "booking_horizon_days": 60},
        "branches": [{"slug": "soho", "name": "Soho", "phone_numbers": [number],
            "opening_hours": {"mon": "08:00-12:00,14:00-18:00", "tue": "08:00-18:00",
                "wed": "closed", "thu": "closed", "fri": "closed", "sat": "closed",
                "sun": "closed"}}],
        "services": [{"name": "First consultation", "aliases": ["consultation"],
            "duration_min": 45, "event_type_id": 2001, "branches": ["soho"]}],
    })
}

/// The credential `kind` of tenant `slug` in [`tenant`].
fn secret(kind: &str, slug: &str) -> String {
    format!("{kind}_{slug}_0123456789secret")
}

/// One JSON-RPC call with `token`; the response object.
pub async fn rpc_as(app: &TestApp, token: &str, method: &str, params: Value) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    app.gateway_raw(&body.to_string(), Some(token)).await.1
}

/// `result.data` of a call that must succeed.
async fn ok(app: &TestApp, token: &str, method: &str, params: Value) -> Value {
    let response = rpc_as(app, token, method, params).await;
    assert_eq!(response["result"]["success"], true, "{method}: {response}");
    response["result"]["data"].clone()
}

/// `error` of a call that must fail.
async fn refused(app: &TestApp, token: &str, method: &str, params: Value) -> Value {
    let response = rpc_as(app, token, method, params).await;
    assert!(
        response.get("result").is_none(),
        "{method} not refused: {response}"
    );
    response["error"].clone()
}

/// Asserts the gateway refuses `token` as no token at all (401, -32001).
async fn assert_unauthorized(app: &TestApp, token: &str) {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "company.get"});
    let (status, response) = app.gateway_raw(&body.to_string(), Some(token)).await;
    assert_eq!(
        (status, &response["error"]["code"]),
        (401, &json!(-32001)),
        "{response}"
    );
}

/// Creates tenant `slug` with `number`; its company id.
async fn create(app: &TestApp, slug: &str, number: &str) -> i64 {
    let data = ok(app, ADMIN_TOKEN, "company.create", tenant(slug, number)).await;
    data["company_id"].as_i64().unwrap()
}

/// A token of `company` with `scope`, minted by the operators; (token, id).
async fn token(app: &TestApp, company: i64, scope: &str) -> (String, i64) {
    let data = ok(
        app,
        ADMIN_TOKEN,
        "auth.createToken",
        json!({"company_id": company, "scope": scope, "name": format!("{scope} of {company}")}),
    )
    .await;
    (
        data["token"].as_str().unwrap().to_owned(),
        data["info"]["id"].as_i64().unwrap(),
    )
}

/// Params that make the administration method `method` valid apart from the company it
/// targets (left out: the token's own); `token_id` is a token to revoke. `None` for a method
/// of another server.
pub fn admin_params(method: &str, token_id: i64) -> Option<Value> {
    Some(match method {
        "company.create" => tenant("mallory", "+442071234599"),
        "company.update" => json!({"name": "Mallory"}),
        "company.disable" | "company.enable" => json!({"company_id": 0}),
        "company.setCredentials" => json!({"calcom_api_key": "cal_mallory"}),
        "branch.create" => json!({"slug": "mallory", "name": "Mallory"}),
        "branch.update" => json!({"branch": "soho", "name": "Mallory"}),
        "branch.delete" => json!({"branch": "soho"}),
        "branch.addPhoneNumber" => json!({"branch": "soho", "phone_number": "+442071234598"}),
        "branch.removePhoneNumber" => json!({"branch": "soho", "phone_number": DEMO_PHONE}),
        "service.create" => json!({"name": "Mallory", "duration_min": 5, "event_type_id": 5}),
        "service.update" => json!({"service": "First consultation", "duration_min": 5}),
        "service.delete" => json!({"service": "First consultation"}),
        "auth.createToken" => json!({"scope": "admin", "name": "mallory"}),
        "auth.revokeToken" => json!({"token_id": token_id}),
        "company.list"
        | "company.get"
        | "company.getAuditLog"
        | "branch.list"
        | "service.list"
        | "auth.listTokens" => json!({}),
        _ => return None,
    })
}

/// What tenant `company` is and has, as the operators see it: the tenant, its audit log and
/// its tokens.
async fn snapshot(app: &TestApp, company: i64) -> Value {
    let of = json!({"company_id": company});
    json!([
        ok(app, ADMIN_TOKEN, "company.get", of.clone()).await,
        ok(app, ADMIN_TOKEN, "company.getAuditLog", of.clone()).await,
        ok(app, ADMIN_TOKEN, "auth.listTokens", of).await,
    ])
}

#[actix_web::test]
async fn company_create_then_get_round_trips_without_secrets() {
    let app = spawn_app().await;
    let written = tenant("clinic-soho", "+442071234567");
    let id = create(&app, "clinic-soho", "+442071234567").await;
    let got = ok(&app, ADMIN_TOKEN, "company.get", json!({"company_id": id})).await;
    let mut expected = written.clone();
    for key in ["retell/api_key", "calcom/api_key", "calcom/webhook_secret"] {
        let (table, field) = key.split_once('/').unwrap();
        expected[table].as_object_mut().unwrap().remove(field);
    }
    // The written form drops what it does not need to say again.
    let mut tenant = got["tenant"].clone();
    strip_nulls(&mut tenant);
    assert_eq!(tenant, expected);
    assert_eq!(got["company_id"], id);
    assert!(got["disabled_at"].is_null(), "{got}");
    for (field, kind) in [
        ("retell_api_key", "key"),
        ("calcom_api_key", "cal"),
        ("calcom_webhook_secret", "whsec"),
    ] {
        let print = got["credentials"][field].as_str().unwrap();
        assert!(print.starts_with("sha256:") && print.len() == 19, "{print}");
        assert!(!got.to_string().contains(&secret(kind, "clinic-soho")));
    }
    // Written back unchanged, it changes nothing.
    let unchanged = ok(
        &app,
        ADMIN_TOKEN,
        "company.update",
        json!({"company_id": id, "name": tenant["name"]}),
    )
    .await;
    assert_eq!(unchanged["changes"], json!([]), "{unchanged}");
}

fn strip_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

#[actix_web::test]
async fn company_update_is_validated_like_the_file() {
    let app = spawn_app().await;
    let id = create(&app, "clinic", "+442071234567").await;
    let (admin, _) = token(&app, id, "admin").await;
    let before = snapshot(&app, id).await;
    let error = refused(
        &app,
        &admin,
        "company.update",
        json!({"time_zone": "Europe/Atlantis"}),
    )
    .await;
    assert_eq!(error["code"], -32602, "{error}");
    let details = &error["data"]["details"];
    assert_eq!(details[0]["path"], "time_zone", "{error}");
    assert!(
        details[0]["message"]
            .as_str()
            .unwrap()
            .contains("Europe/Atlantis"),
        "{error}"
    );
    let error = refused(
        &app,
        ADMIN_TOKEN,
        "branch.addPhoneNumber",
        json!({"company_id": id, "branch": "soho", "phone_number": "020 7123 4567"}),
    )
    .await;
    assert_eq!(
        error["data"]["details"][0]["path"], "branches[0].phone_numbers[1]",
        "{error}"
    );
    assert_eq!(snapshot(&app, id).await, before, "nothing written");
}

#[actix_web::test]
async fn every_change_is_in_the_audit_log_without_secrets() {
    let app = spawn_app().await;
    let id = create(&app, "clinic", "+442071234567").await;
    let (admin, admin_id) = token(&app, id, "admin").await;
    let new_key = "cal_live_rotated_0123456789";
    let calls = [
        ("company.update", json!({"name": "Clinic Soho"})),
        (
            "branch.create",
            json!({"slug": "kensington", "name": "Kensington"}),
        ),
        (
            "branch.removePhoneNumber",
            json!({"branch": "soho", "phone_number": "+442071234567"}),
        ),
        (
            "service.create",
            json!({"name": "Follow-up", "duration_min": 15, "event_type_id": 2002}),
        ),
        (
            "service.update",
            json!({"service": "Follow-up", "duration_min": 20}),
        ),
        ("company.setCredentials", json!({"calcom_api_key": new_key})),
    ];
    for (method, params) in &calls {
        ok(&app, &admin, method, params.clone()).await;
    }
    let minted = ok(
        &app,
        &admin,
        "auth.createToken",
        json!({"scope": "read", "name": "front desk"}),
    )
    .await;
    ok(
        &app,
        &admin,
        "auth.revokeToken",
        json!({"token_id": minted["info"]["id"]}),
    )
    .await;
    let log = ok(&app, &admin, "company.getAuditLog", json!({})).await;
    let actions: Vec<&str> = log["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    let mut expected: Vec<&str> = calls.iter().map(|(m, _)| *m).collect();
    expected.extend(["auth.createToken", "auth.revokeToken"]);
    expected.reverse();
    assert_eq!(&actions[..expected.len()], expected, "{log}");
    let newest = &log["entries"][2];
    assert_eq!(
        newest["actor"],
        format!("token:{admin_id} (admin of {id})"),
        "{log}"
    );
    let text = log.to_string();
    for leaked in [
        new_key,
        minted["token"].as_str().unwrap(),
        &secret("cal", "clinic"),
        &secret("key", "clinic"),
    ] {
        assert!(!text.contains(leaked), "secret in the audit log: {text}");
    }
    assert!(
        text.contains("sha256:"),
        "credential change shows its fingerprint: {text}"
    );
    assert!(
        text.contains("- branch soho: phone number +442071234567"),
        "{text}"
    );
}

#[actix_web::test]
async fn company_token_cannot_administer_another_company() {
    let app = spawn_app().await;
    let mine = create(&app, "clinic-a", "+442071234567").await;
    let theirs = create(&app, "clinic-b", "+442071234568").await;
    let (admin, _) = token(&app, mine, "admin").await;
    let (_, their_token) = token(&app, theirs, "read").await;
    let before = snapshot(&app, theirs).await;
    let discover = rpc_as(&app, &admin, "rpc.discover", json!({})).await;
    let scope = |name: &str| {
        discover["result"]["methods"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .map(|m| m["x-scope"].clone())
    };
    for (name, needed) in [
        ("company.get", "read"),
        ("company.update", "admin"),
        ("company.create", "platform"),
        ("branch.addPhoneNumber", "platform"),
        ("service.list", "read"),
        ("auth.createToken", "admin"),
    ] {
        assert_eq!(scope(name), Some(json!(needed)), "{name}");
    }
    let mut tried = 0;
    for method in discover["result"]["methods"].as_array().unwrap() {
        let name = method["name"].as_str().unwrap();
        let Some(mut params) = admin_params(name, their_token) else {
            continue;
        };
        tried += 1;
        if name == "company.list" {
            // Names no company: lists the token's own, checked below.
            continue;
        }
        let names_company = method["params"][0]["schema"]["properties"]
            .get("company_id")
            .is_some();
        if names_company {
            params["company_id"] = json!(theirs);
        }
        let error = refused(&app, &admin, name, params).await;
        let code = error["code"].as_i64().unwrap();
        if names_company || method["x-scope"] == "platform" {
            assert_eq!(code, -32002, "{name}: {error}");
        } else {
            assert_eq!(
                (code, &error["data"]["type"]),
                (-32602, &json!("not_found")),
                "{name}"
            );
        }
        assert!(!error.to_string().contains("clinic-b"), "{name}: {error}");
    }
    assert_eq!(tried, 21, "every administration method has a case");
    let listed = ok(&app, &admin, "company.list", json!({})).await;
    assert_eq!(listed["companies"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["companies"][0]["id"], mine);
    assert_eq!(
        snapshot(&app, theirs).await,
        before,
        "nothing of theirs written"
    );
}

#[actix_web::test]
async fn company_admin_cannot_set_the_calcom_base_url() {
    let app = spawn_app().await;
    let id = create(&app, "clinic", "+442071234567").await;
    let (admin, _) = token(&app, id, "admin").await;
    let before = snapshot(&app, id).await;
    let error = refused(
        &app,
        &admin,
        "company.update",
        json!({"calcom": {"base_url": "http://169.254.169.254/latest"}}),
    )
    .await;
    assert_eq!(error["code"], -32002, "{error}");
    assert_eq!(snapshot(&app, id).await, before);
    let done = ok(
        &app,
        ADMIN_TOKEN,
        "company.update",
        json!({"company_id": id, "calcom": {"base_url": "https://api.cal.eu"}}),
    )
    .await;
    assert_eq!(done["changes"].as_array().unwrap().len(), 1, "{done}");
}

#[actix_web::test]
async fn read_token_cannot_change_a_tenant() {
    let app = spawn_app().await;
    let id = create(&app, "clinic", "+442071234567").await;
    let (read, _) = token(&app, id, "read").await;
    let (write, _) = token(&app, id, "write").await;
    let before = snapshot(&app, id).await;
    for token in [&read, &write] {
        for method in [
            "company.update",
            "company.setCredentials",
            "branch.create",
            "branch.delete",
            "service.update",
            "auth.createToken",
        ] {
            let params = admin_params(method, 0).unwrap();
            let error = refused(&app, token, method, params).await;
            assert_eq!(error["code"], -32002, "{method}: {error}");
        }
    }
    assert_eq!(snapshot(&app, id).await, before);
    let got = ok(&app, &read, "company.get", json!({})).await;
    assert_eq!(got["company_id"], id);
    ok(&app, &read, "service.list", json!({})).await;
}

#[actix_web::test]
async fn disabled_company_tokens_stop_working() {
    let app = spawn_app_with(&[("SWITCHBOARD__CACHE__LOOKUPS_TTL_S", "0")]).await;
    let id = create(&app, "clinic", "+442071234567").await;
    let (read, _) = token(&app, id, "read").await;
    ok(&app, &read, "company.get", json!({})).await;
    let off = ok(
        &app,
        ADMIN_TOKEN,
        "company.disable",
        json!({"company_id": id}),
    )
    .await;
    assert_eq!(off["changed"], true);
    assert_unauthorized(&app, &read).await;
    let got = ok(&app, ADMIN_TOKEN, "company.get", json!({"company_id": id})).await;
    assert!(
        got["disabled_at"].is_string(),
        "kept, marked disabled: {got}"
    );
    ok(
        &app,
        ADMIN_TOKEN,
        "company.enable",
        json!({"company_id": id}),
    )
    .await;
    ok(&app, &read, "company.get", json!({})).await;
}

#[actix_web::test]
async fn set_credentials_shows_only_fingerprints() {
    let app = spawn_app().await;
    let id = create(&app, "clinic", "+442071234567").await;
    let (admin, _) = token(&app, id, "admin").await;
    let before = ok(&app, &admin, "company.get", json!({})).await["credentials"].clone();
    let key = "key_rotated_retell_0123456789";
    let set = ok(
        &app,
        &admin,
        "company.setCredentials",
        json!({"retell_api_key": key}),
    )
    .await;
    assert!(!set.to_string().contains(key), "{set}");
    let after = ok(&app, &admin, "company.get", json!({})).await["credentials"].clone();
    assert_eq!(set["credentials"], after);
    assert_ne!(after["retell_api_key"], before["retell_api_key"]);
    assert_eq!(
        after["calcom_api_key"], before["calcom_api_key"],
        "left as it was"
    );
    assert!(
        set["changes"][0]
            .as_str()
            .unwrap()
            .contains(after["retell_api_key"].as_str().unwrap()),
        "{set}"
    );
    let error = refused(
        &app,
        &admin,
        "company.setCredentials",
        json!({"calcom_api_key": "file:/etc/passwd"}),
    )
    .await;
    assert_eq!(
        error["data"]["details"][0]["path"], "calcom.api_key",
        "{error}"
    );
}

#[actix_web::test]
async fn company_admin_cannot_add_numbers_and_learns_nothing_of_their_owners() {
    let app = spawn_app().await;
    let id = create(&app, "clinic", "+442071234567").await;
    let (admin, _) = token(&app, id, "admin").await;
    let demo = ok(&app, ADMIN_TOKEN, "company.get", json!({"company_id": 1})).await;
    let demo_slug = demo["tenant"]["slug"].as_str().unwrap().to_owned();
    let demo_name = demo["tenant"]["name"].as_str().unwrap().to_owned();
    let before = snapshot(&app, id).await;
    // Another tenant's number and a free one are refused alike: no squatting, no probing.
    let mut answers = Vec::new();
    for number in [DEMO_PHONE, "+442071234999"] {
        let error = refused(
            &app,
            &admin,
            "branch.addPhoneNumber",
            json!({"branch": "soho", "phone_number": number}),
        )
        .await;
        assert_eq!(error["code"], -32002, "{error}");
        let text = error.to_string();
        assert!(
            !text.contains(&demo_slug) && !text.contains(&demo_name),
            "{text}"
        );
        answers.push(text.replace(number, "N"));
    }
    assert_eq!(
        answers[0], answers[1],
        "owned and free numbers are answered alike"
    );
    assert_eq!(snapshot(&app, id).await, before);
    // The operators are told whose it is, at the number's key path.
    let error = refused(
        &app,
        ADMIN_TOKEN,
        "branch.addPhoneNumber",
        json!({"company_id": id, "branch": "soho", "phone_number": DEMO_PHONE}),
    )
    .await;
    assert_eq!(error["code"], -32602, "{error}");
    assert_eq!(
        error["data"]["details"][0]["path"],
        "branches[0].phone_numbers[1]"
    );
    assert!(error.to_string().contains(&demo_slug), "{error}");
    assert_eq!(snapshot(&app, id).await, before);
}

#[actix_web::test]
async fn token_created_over_json_rpc_works_and_revoked_stops() {
    let app = spawn_app_with(&[("SWITCHBOARD__CACHE__LOOKUPS_TTL_S", "0")]).await;
    let id = create(&app, "clinic", "+442071234567").await;
    let (admin, _) = token(&app, id, "admin").await;
    let minted = ok(
        &app,
        &admin,
        "auth.createToken",
        json!({"scope": "read", "name": "front desk", "expires_in_days": 30}),
    )
    .await;
    let read = minted["token"].as_str().unwrap();
    assert_eq!(minted["info"]["company_id"], id);
    assert!(minted["info"]["expires_at"].is_string(), "{minted}");
    assert_eq!(
        ok(&app, read, "company.get", json!({})).await["company_id"],
        id
    );
    let listed = ok(&app, &admin, "auth.listTokens", json!({})).await;
    assert!(
        !listed.to_string().contains(read),
        "listing shows no token: {listed}"
    );
    ok(
        &app,
        &admin,
        "auth.revokeToken",
        json!({"token_id": minted["info"]["id"]}),
    )
    .await;
    assert_unauthorized(&app, read).await;
}

#[actix_web::test]
async fn company_admin_cannot_mint_a_token_above_its_scope() {
    let app = spawn_app().await;
    let id = create(&app, "clinic", "+442071234567").await;
    let (admin, _) = token(&app, id, "admin").await;
    let (write, _) = token(&app, id, "write").await;
    let before = ok(&app, ADMIN_TOKEN, "auth.listTokens", json!({})).await;
    for (token, params) in [
        (&admin, json!({"scope": "metrics", "name": "prometheus"})),
        (
            &admin,
            json!({"company_id": 1, "scope": "admin", "name": "x"}),
        ),
        (&write, json!({"scope": "write", "name": "x"})),
        (&write, json!({"scope": "admin", "name": "x"})),
    ] {
        let error = refused(&app, token, "auth.createToken", params.clone()).await;
        assert_eq!(error["code"], -32002, "{params}: {error}");
    }
    assert_eq!(
        ok(&app, ADMIN_TOKEN, "auth.listTokens", json!({})).await,
        before
    );
    let metrics = ok(
        &app,
        ADMIN_TOKEN,
        "auth.createToken",
        json!({"scope": "metrics", "name": "prometheus"}),
    )
    .await;
    assert!(metrics["info"]["company_id"].is_null(), "{metrics}");
}

#[actix_web::test]
async fn new_calcom_key_is_used_by_the_next_call() {
    let app = spawn_app().await;
    let demo = json!({"company_id": 1});
    ok(&app, ADMIN_TOKEN, "calcom.getBookings", demo.clone()).await;
    let mut params = demo.clone();
    params["calcom_api_key"] = json!("cal_unknown_to_the_simulator");
    ok(&app, ADMIN_TOKEN, "company.setCredentials", params).await;
    let error = refused(&app, ADMIN_TOKEN, "calcom.getBookings", demo.clone()).await;
    assert_eq!(
        error["code"], 2001,
        "the core still used the old key: {error}"
    );
    let mut params = demo.clone();
    params["calcom_api_key"] = json!(crate::common::CALCOM_KEY);
    ok(&app, ADMIN_TOKEN, "company.setCredentials", params).await;
    ok(&app, ADMIN_TOKEN, "calcom.getBookings", demo).await;
}
