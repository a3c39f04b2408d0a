//! The operators' dashboard at `/admin` (issue 15) against the real app: sign-in and sessions,
//! cookie attributes, CSRF, security headers, every page for an admin and a company token,
//! tenant isolation (another company's call, dead letters and tenant are 404 or absent), the
//! Retry form, the language switch. A browser is played by a client that keeps the session
//! cookie by hand (so its attributes can be read) and follows no redirects.

use crate::helpers::{ADMIN_TOKEN, TestApp, ended, spawn_app, spawn_app_with};
use crate::isolation::{A_TOKEN, B_TOKEN, tenants};
use crate::queue::dead_letter;
use crate::tokens::create_token;
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use switchboard_actors::records::TokenKind;

/// Every signed-in page of the contract and an id each must carry.
const PAGES: [(&str, &str); 6] = [
    ("/admin/", "id=\"calls\""),
    ("/admin/appointments", "id=\"appointments\""),
    ("/admin/dead-letters", "id=\"dead-letters\""),
    ("/admin/health", "id=\"breakers\""),
    ("/admin/tenants", "id=\"tenants\""),
    ("/admin/stats", "id=\"stats-table\""),
];

/// A response as the tests read it.
struct Page {
    status: u16,
    headers: HeaderMap,
    body: String,
}

impl Page {
    fn location(&self) -> &str {
        self.headers
            .get(LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The value of the hidden `csrf` field of the page's forms.
    fn csrf(&self) -> String {
        let start = self
            .body
            .find("name=\"csrf\" value=\"")
            .unwrap_or_else(|| panic!("no csrf field in {}", self.body))
            + "name=\"csrf\" value=\"".len();
        self.body[start..start + 64].to_owned()
    }
}

/// A browser of one operator: the app's address and the session cookie, if signed in.
struct Browser {
    url: String,
    client: reqwest::Client,
    session: Option<String>,
}

impl Browser {
    fn new(app: &TestApp) -> Self {
        Self {
            url: app.url.clone(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            session: None,
        }
    }

    async fn read(res: reqwest::Response) -> Page {
        Page {
            status: res.status().as_u16(),
            headers: res.headers().clone(),
            body: res.text().await.unwrap(),
        }
    }

    fn cookies(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.session {
            Some(id) => req.header("cookie", format!("sb_admin={id}")),
            None => req,
        }
    }

    async fn get(&self, path: &str) -> Page {
        let req = self.client.get(format!("{}{path}", self.url));
        Self::read(self.cookies(req).send().await.unwrap()).await
    }

    /// A same-origin form POST, as a browser sends it from our own page.
    async fn post(&self, path: &str, form: &[(&str, &str)]) -> Page {
        let req = self
            .client
            .post(format!("{}{path}", self.url))
            .header("origin", &self.url)
            .header("sec-fetch-site", "same-origin")
            .form(form);
        Self::read(self.cookies(req).send().await.unwrap()).await
    }

    /// Signs in with `token`; returns the answer and keeps the session cookie.
    async fn sign_in(&mut self, token: &str) -> Page {
        let page = self.post("/admin/login", &[("token", token)]).await;
        self.session = set_cookie(&page.headers, "sb_admin")
            .and_then(|c| c.split(';').next().map(str::to_owned))
            .and_then(|c| c.split_once('=').map(|(_, v)| v.to_owned()));
        page
    }
}

/// The `Set-Cookie` of cookie `name`, whole.
fn set_cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(&format!("{name}=")))
        .map(str::to_owned)
}

async fn signed_in(app: &TestApp, token: &str) -> Browser {
    let mut browser = Browser::new(app);
    let page = browser.sign_in(token).await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert!(browser.session.is_some());
    browser
}

/// Dead letters as the admin token lists them.
async fn failed_jobs(app: &TestApp) -> Vec<Value> {
    app.rpc("queue.getFailedJobs", json!({})).await["result"]["data"]["jobs"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

#[actix_rt::test]
async fn a_good_token_signs_in_with_a_strict_http_only_secure_cookie_and_lands_on_today() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let form = browser.get("/admin/login").await;
    assert_eq!(form.status, 200);
    for id in [
        "id=\"login-form\"",
        "id=\"token\"",
        "for=\"token\"",
        "id=\"sign-in\"",
    ] {
        assert!(form.body.contains(id), "{id} missing: {}", form.body);
    }
    let page = browser.sign_in(ADMIN_TOKEN).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/admin/");
    let cookie = set_cookie(&page.headers, "sb_admin").expect("a session cookie");
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/admin"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    assert!(
        !cookie.contains(ADMIN_TOKEN),
        "the cookie carries a session id, never the token"
    );
    let today = browser.get("/admin/").await;
    assert_eq!(today.status, 200);
    assert!(
        today.body.contains("id=\"whoami\">admin<"),
        "{}",
        today.body
    );
}

#[actix_rt::test]
async fn a_bad_token_gets_the_form_again_with_401_and_an_error_that_does_not_echo_it() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let guess = "not-a-token-<script>alert(1)</script>";
    let page = browser.sign_in(guess).await;
    assert_eq!(page.status, 401);
    assert!(page.body.contains("class=\"error\""), "{}", page.body);
    assert!(page.body.contains("id=\"login-form\""));
    assert!(
        !page.body.contains("not-a-token"),
        "the token is never echoed"
    );
    assert!(set_cookie(&page.headers, "sb_admin").is_none());
    assert_eq!(browser.get("/admin/").await.status, 303);
}

#[actix_rt::test]
async fn a_revoked_token_cannot_sign_in_and_revoking_ends_its_open_sessions() {
    let app = spawn_app().await;
    let (token, token_id) = create_token(&app.store, None, TokenKind::Admin, "desk", None).await;
    let browser = signed_in(&app, &token).await;
    assert_eq!(browser.get("/admin/").await.status, 200);
    let revoked = app
        .rpc("auth.revokeToken", json!({"token_id": token_id}))
        .await;
    assert_eq!(revoked["result"]["success"], true, "{revoked}");
    let page = browser.get("/admin/").await;
    assert_eq!(page.status, 303, "the session ended with its token");
    assert_eq!(page.location(), "/admin/login");
    assert_eq!(Browser::new(&app).sign_in(&token).await.status, 401);
}

#[actix_rt::test]
async fn signed_out_every_page_redirects_to_the_sign_in_form() {
    let app = spawn_app().await;
    let mut browser = Browser::new(&app);
    let mut paths: Vec<&str> = PAGES.iter().map(|(p, _)| *p).collect();
    paths.extend([
        "/admin/calls/call_x",
        "/admin/tenants/demo",
        "/admin/calls-table",
    ]);
    for path in paths {
        let page = browser.get(path).await;
        if path == "/admin/calls-table" {
            assert_eq!(page.status, 401, "htmx gets 401, which it leaves unswapped");
            continue;
        }
        assert_eq!(page.status, 303, "{path}");
        assert_eq!(page.location(), "/admin/login", "{path}");
    }
    browser.session = Some("f".repeat(64));
    assert_eq!(
        browser.get("/admin/").await.status,
        303,
        "an unknown session id"
    );
    browser.session = Some("../../etc".into());
    assert_eq!(
        browser.get("/admin/").await.status,
        303,
        "a malformed session id"
    );
}

#[actix_rt::test]
async fn every_page_renders_for_an_admin_and_a_company_token_with_its_contract_ids_and_headers() {
    let tenants = tenants().await;
    let app = &tenants.app;
    for token in [ADMIN_TOKEN, A_TOKEN] {
        let browser = signed_in(app, token).await;
        let mut paths: Vec<(String, &str)> =
            PAGES.iter().map(|(p, id)| ((*p).to_owned(), *id)).collect();
        paths.push((
            format!("/admin/calls/{}", tenants.a_booked),
            "id=\"booking\"",
        ));
        paths.push((
            "/admin/tenants/demo-salon-berlin".into(),
            "id=\"config-check\"",
        ));
        for (path, id) in &paths {
            let page = browser.get(path).await;
            assert_eq!(page.status, 200, "{token} {path}: {}", page.body);
            assert!(page.body.contains(id), "{path} lacks {id}: {}", page.body);
            for needle in [
                "<html lang=\"de\"",
                "id=\"nav\"",
                "href=\"/admin/stats\"",
                "id=\"lang-en\"",
                "id=\"sign-out-form\"",
                "id=\"sign-out\"",
                "id=\"whoami\"",
            ] {
                assert!(page.body.contains(needle), "{path} lacks {needle}");
            }
            assert!(!page.body.contains("<script>"), "{path}: no inline script");
            assert!(!page.body.contains("style="), "{path}: no inline style");
            let csp = page.headers["content-security-policy"].to_str().unwrap();
            assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
            assert_eq!(page.headers["x-content-type-options"], "nosniff");
            assert_eq!(page.headers["referrer-policy"], "same-origin");
            assert_eq!(page.headers["cache-control"], "no-store");
        }
    }
}

#[actix_rt::test]
async fn static_assets_sign_in_and_error_pages_carry_the_csp_too() {
    let app = spawn_app().await;
    let browser = Browser::new(&app);
    for path in [
        "/admin",
        "/admin/static/htmx.min.js",
        "/admin/static/admin.css",
        "/admin/login",
        "/admin/no-such-page",
    ] {
        let page = browser.get(path).await;
        let csp = page.headers["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("default-src 'none'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}");
    }
    assert_eq!(browser.get("/admin").await.location(), "/admin/");
    let htmx = browser.get("/admin/static/htmx.min.js").await;
    assert_eq!(htmx.status, 200);
    assert!(
        htmx.body.starts_with("/*! htmx 2."),
        "the license header is kept"
    );
}

#[actix_rt::test]
async fn today_lists_the_days_calls_with_their_booking_state_and_the_call_page_shows_what_was_said()
{
    let app = spawn_app().await;
    app.collect_complete("call_dash", "10 Uhr", true).await;
    let mut call = ended("call_dash");
    call["transcript"] = json!("Agent: Guten Tag!\nUser: Einen Termin <bitte>.\n");
    assert_eq!(app.webhook("call_ended", call).await, 204);
    let view = app.wait_for_booking("call_dash").await;
    assert_eq!(view["booking_job"]["status"], "done", "{view}");
    let browser = signed_in(&app, ADMIN_TOKEN).await;
    let today = browser.get("/admin/").await;
    assert!(
        today.body.contains("data-call-id=\"call_dash\""),
        "{}",
        today.body
    );
    assert!(
        today
            .body
            .contains("data-label=\"Buchung\" data-state=\"booked\">gebucht<")
    );
    assert!(today.body.contains("href=\"/admin/calls/call_dash\""));
    assert!(
        today
            .body
            .contains("class=\"company\" data-label=\"Firma\">demo-salon-berlin<")
    );
    let page = browser.get("/admin/calls/call_dash").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"booking\" data-state=\"booked\""));
    assert!(page.body.contains("id=\"calcom-link\""), "{}", page.body);
    assert!(
        page.body.contains("Einen Termin &lt;bitte&gt;."),
        "the transcript, escaped: {}",
        page.body
    );
    assert!(page.body.contains("id=\"collected\""));
    assert!(page.body.contains("Max Mustermann"));
    let fragment = browser.get("/admin/calls-table").await;
    assert_eq!(fragment.status, 200);
    assert!(fragment.body.starts_with("<div id=\"calls-live\""));
    assert!(fragment.body.contains("data-call-id=\"call_dash\""));
}

#[actix_rt::test]
async fn a_company_token_never_sees_another_companys_call_dead_letters_or_tenant() {
    let tenants = tenants().await;
    let app = &tenants.app;
    let a_jobs = failed_jobs(app).await;
    assert!(!a_jobs.is_empty(), "A has a dead letter");
    let b = signed_in(app, B_TOKEN).await;
    for path in [
        format!("/admin/calls/{}", tenants.a_booked),
        format!("/admin/calls/{}", tenants.a_live),
        "/admin/calls/call_does_not_exist".to_owned(),
        "/admin/calls/..%2F..%2Fetc".to_owned(),
        "/admin/tenants/demo-salon-berlin".to_owned(),
        "/admin/tenants/no-such-tenant".to_owned(),
        "/admin/?company=demo-salon-berlin".to_owned(),
        "/admin/dead-letters?company=demo-salon-berlin".to_owned(),
    ] {
        let page = b.get(&path).await;
        assert_eq!(page.status, 404, "{path}: {}", page.body);
        assert!(!page.body.contains(tenants.a_booked), "{path}");
    }
    for (path, _) in PAGES {
        let page = b.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        for job in &a_jobs {
            assert!(
                !page
                    .body
                    .contains(&format!("data-job-id=\"{}\"", job["id"])),
                "{path} shows A's dead letter"
            );
        }
        for secret in [
            tenants.a_booked,
            tenants.a_live,
            tenants.a_booking_uid.as_str(),
        ] {
            assert!(!page.body.contains(secret), "{path} shows {secret}");
        }
        assert!(
            !page.body.contains("data-slug=\"demo-salon-berlin\""),
            "{path} lists tenant A"
        );
    }
    let job = a_jobs[0]["id"].to_string();
    let csrf = b.get("/admin/").await.csrf();
    let refused = b
        .post(
            &format!("/admin/dead-letters/{job}/retry"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status, 404, "A's dead letter is not B's to retry");
    assert_eq!(failed_jobs(app).await, a_jobs, "nothing was retried");
}

#[actix_rt::test]
async fn a_post_without_or_with_a_wrong_csrf_token_or_from_another_site_is_403_and_retries_nothing()
{
    let app = spawn_app().await;
    let job = dead_letter(&app, "call_csrf", 10).await;
    let id = job["id"].to_string();
    let browser = signed_in(&app, ADMIN_TOKEN).await;
    let path = format!("/admin/dead-letters/{id}/retry");
    let good = browser.get("/admin/dead-letters").await.csrf();
    assert_eq!(browser.post(&path, &[]).await.status, 403, "no token");
    assert_eq!(
        browser
            .post(&path, &[("csrf", &"0".repeat(64))])
            .await
            .status,
        403,
        "a wrong token"
    );
    let cross_site = browser
        .client
        .post(format!("{}{path}", browser.url))
        .header(
            "cookie",
            format!("sb_admin={}", browser.session.as_ref().unwrap()),
        )
        .header("origin", "https://evil.example")
        .form(&[("csrf", good.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(
        cross_site.status().as_u16(),
        403,
        "another site, even with the token"
    );
    for target in [path.as_str(), "/admin/logout"] {
        let bodyless = browser
            .client
            .post(format!("{}{target}", browser.url))
            .header(
                "cookie",
                format!("sb_admin={}", browser.session.as_ref().unwrap()),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(
            bodyless.status().as_u16(),
            403,
            "{target}: a POST without a body (no form at all) lacks the token"
        );
    }
    let logout = browser.post("/admin/logout", &[("csrf", "nope")]).await;
    assert_eq!(logout.status, 403);
    assert_eq!(browser.get("/admin/").await.status, 200, "still signed in");
    let listed = failed_jobs(&app).await;
    assert!(
        listed.iter().any(|j| j["id"] == job["id"]),
        "the dead letter is still there: {listed:?}"
    );
}

#[actix_rt::test]
async fn retrying_a_dead_letter_through_the_form_requeues_it_and_it_gets_booked() {
    let app = spawn_app().await;
    let job = dead_letter(&app, "call_retry", 10).await;
    let id = job["id"].to_string();
    // The slot frees up (the other booking is cancelled), so the retried job can book it.
    let taken = app
        .calcom_bookings()
        .await
        .into_iter()
        .find(|b| b["attendees"][0]["name"] == "Erika" && b["status"] != "cancelled")
        .expect("the booking that took the slot");
    let cancelled = app
        .rpc(
            "calcom.cancelBooking",
            json!({"company_id": 1, "booking_uid": taken["uid"]}),
        )
        .await;
    assert_eq!(cancelled["result"]["success"], true, "{cancelled}");
    let browser = signed_in(&app, ADMIN_TOKEN).await;
    let list = browser.get("/admin/dead-letters").await;
    assert!(
        list.body.contains(&format!("data-job-id=\"{id}\"")),
        "{}",
        list.body
    );
    assert!(list.body.contains("class=\"retry\""));
    let page = browser
        .post(
            &format!("/admin/dead-letters/{id}/retry"),
            &[("csrf", &list.csrf())],
        )
        .await;
    assert_eq!(page.status, 303, "{}", page.body);
    assert_eq!(page.location(), format!("/admin/dead-letters?retried={id}"));
    let back = browser.get(page.location()).await;
    assert!(back.body.contains("class=\"notice\""), "{}", back.body);
    let view = app.wait_for_booking("call_retry").await;
    assert_eq!(view["booking_job"]["status"], "done", "{view}");
    let call = browser.get("/admin/calls/call_retry").await;
    assert!(
        call.body.contains("id=\"booking\" data-state=\"booked\""),
        "{}",
        call.body
    );
}

#[actix_rt::test]
async fn signing_out_deletes_the_session_so_the_old_cookie_is_signed_out() {
    let app = spawn_app().await;
    let browser = signed_in(&app, ADMIN_TOKEN).await;
    let csrf = browser.get("/admin/").await.csrf();
    let page = browser.post("/admin/logout", &[("csrf", &csrf)]).await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location(), "/admin/login");
    let cleared = set_cookie(&page.headers, "sb_admin").unwrap();
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    let again = browser.get("/admin/").await;
    assert_eq!(again.status, 303, "the old cookie opens nothing");
}

#[actix_rt::test]
async fn the_language_switch_sets_html_lang_and_is_remembered_in_a_cookie() {
    let app = spawn_app().await;
    let mut browser = signed_in(&app, ADMIN_TOKEN).await;
    let german = browser.get("/admin/health").await;
    assert!(german.body.contains("<html lang=\"de\""));
    assert!(german.body.contains("Schutzschalter"));
    let english = browser.get("/admin/health?lang=en").await;
    assert!(english.body.contains("<html lang=\"en\""));
    assert!(english.body.contains("Circuit breakers"));
    let remembered = set_cookie(&english.headers, "sb_lang").expect("sb_lang cookie");
    assert!(remembered.starts_with("sb_lang=en;") && remembered.contains("Path=/admin"));
    let session = browser.session.take().unwrap();
    let later = browser
        .client
        .get(format!("{}/admin/", browser.url))
        .header("cookie", format!("sb_admin={session}; sb_lang=en"))
        .send()
        .await
        .unwrap();
    assert!(later.text().await.unwrap().contains("<html lang=\"en\""));
    let login = browser.get("/admin/login?lang=en").await;
    assert!(login.body.contains("<html lang=\"en\"") && login.body.contains("Sign in"));
}

#[actix_rt::test]
async fn failed_sign_ins_are_limited_per_client_address() {
    let app = spawn_app_with(&[("SWITCHBOARD__ADMIN__MAX_FAILED_SIGN_INS_PER_MINUTE", "2")]).await;
    let mut browser = Browser::new(&app);
    assert_eq!(browser.sign_in("wrong-1").await.status, 401);
    assert_eq!(browser.sign_in("wrong-2").await.status, 401);
    let limited = browser.sign_in(ADMIN_TOKEN).await;
    assert_eq!(
        limited.status, 429,
        "even a good token waits: {}",
        limited.body
    );
    assert!(browser.session.is_none());
}

#[actix_rt::test]
async fn a_cross_site_sign_in_is_refused() {
    let app = spawn_app().await;
    let res = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(format!("{}/admin/login", app.url))
        .header("origin", "https://evil.example")
        .form(&[("token", ADMIN_TOKEN)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 403);
    assert!(res.headers().get(SET_COOKIE).is_none());
}

#[actix_rt::test]
async fn a_read_only_token_sees_no_retry_button_and_its_retry_is_refused() {
    let app = spawn_app().await;
    let job = dead_letter(&app, "call_read", 10).await;
    let company = switchboard_actors::domain::ids::CompanyId(1);
    let (token, _) = create_token(&app.store, Some(company), TokenKind::Read, "viewer", None).await;
    let browser = signed_in(&app, &token).await;
    let list = browser.get("/admin/dead-letters").await;
    assert!(
        list.body
            .contains(&format!("data-job-id=\"{}\"", job["id"]))
    );
    assert!(!list.body.contains("class=\"retry\""));
    let refused = browser
        .post(
            &format!("/admin/dead-letters/{}/retry", job["id"]),
            &[("csrf", &list.csrf())],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert!(failed_jobs(&app).await.iter().any(|j| j["id"] == job["id"]));
}

#[actix_rt::test]
async fn the_dashboard_is_absent_when_disabled() {
    let app = spawn_app_with(&[("SWITCHBOARD__ADMIN__ENABLED", "false")]).await;
    assert_eq!(Browser::new(&app).get("/admin/login").await.status, 404);
}

#[actix_rt::test]
async fn the_statistics_page_charts_todays_calls_and_bookings_with_the_same_numbers_in_a_table() {
    let tenants = tenants().await;
    let app = &tenants.app;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Berlin)
        .date_naive()
        .format("%Y-%m-%d")
        .to_string();
    let a = signed_in(app, A_TOKEN).await;
    let page = a.get("/admin/stats").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("stats-unavailable"), "{}", page.body);
    assert!(
        page.body.contains("<svg id=\"calls-chart\""),
        "{}",
        page.body
    );
    assert!(page.body.contains("class=\"bar-booked\""));
    let row_start = page
        .body
        .find(&format!("data-day=\"{today}\""))
        .unwrap_or_else(|| panic!("today's row: {}", page.body));
    let row = &page.body[row_start..];
    let row = &row[..row.find("</tr>").unwrap()];
    assert!(
        row.contains("<td>1</td><td>1</td>"),
        "A's call that started today, booked (the live one never started): {row}"
    );
    let b = signed_in(app, B_TOKEN).await;
    assert_eq!(
        b.get("/admin/stats?company=demo-salon-berlin").await.status,
        404,
        "another company's statistics"
    );
    let own = b.get("/admin/stats").await;
    assert!(own.body.contains(&format!("data-day=\"{today}\"")));
    assert!(!own.body.contains("<td>1</td><td>1</td>"), "B has no calls");
}
