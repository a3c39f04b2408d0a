//! The simulator through our own Twilio client, over HTTP on an ephemeral port.

use super::*;
use crate::notify::TwilioClient;
use crate::sim::faults::{ErrorStatus, Rate};
use std::time::Duration;
use switchboard_actors::domain::booking::UpstreamError;
use switchboard_actors::domain::tenant::SmsSettings;
use switchboard_actors::ports::SmsMessage;

const SID: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "sim-token";

fn settings(token: &str, from: &str) -> SmsSettings {
    SmsSettings {
        account_sid: SID.into(),
        auth_token: SecretString::from(token.to_owned()),
        from: from.into(),
        base_url: None,
    }
}

fn message(to: &str, body: &str) -> SmsMessage {
    SmsMessage {
        to: to.into(),
        body: body.into(),
    }
}

/// A running simulator with the test account, and a client for it.
fn start(max_messages: usize) -> (SmsSim, TwilioClient) {
    let sim = SmsSim::new(max_messages);
    sim.add_account(SID, SecretString::from(TOKEN)).unwrap();
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    actix_rt::spawn(sim.serve(listener).unwrap());
    (
        sim,
        TwilioClient::new(&url, Duration::from_secs(5)).unwrap(),
    )
}

fn answer(e: &UpstreamError) -> (u16, String, String) {
    let a = e.answer().expect("an answer");
    (
        a.status,
        a.code.clone().unwrap_or_default(),
        a.message.clone(),
    )
}

#[actix_web::test]
async fn a_sent_message_is_accepted_queued_and_kept() {
    let (sim, client) = start(10);
    let sent = client
        .send(
            &settings(TOKEN, "+15005550006"),
            &message("+491711234567", "Ihr Termin ist gebucht."),
        )
        .await
        .unwrap();
    assert!(
        sent.sid.starts_with("SM") && sent.sid.len() == 34,
        "{sent:?}"
    );
    assert_eq!(sent.status, "queued");
    let kept = sim.messages();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].sid, sent.sid);
    assert_eq!(kept[0].to, "+491711234567");
    assert_eq!(kept[0].from, "+15005550006");
    assert_eq!(kept[0].body, "Ihr Termin ist gebucht.");
    assert_eq!(kept[0].num_segments, "1");
}

#[actix_web::test]
async fn sim_sms_rejects_a_bad_auth_token_with_twilios_error() {
    let (sim, client) = start(10);
    let error = client
        .send(
            &settings("wrong", "+15005550006"),
            &message("+491711234567", "x"),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(error, UpstreamError::Unauthorized { .. }),
        "{error}"
    );
    assert_eq!(answer(&error), (401, "20003".into(), "Authenticate".into()));
    assert!(!error.is_transient());
    assert!(sim.messages().is_empty(), "nothing was sent");
}

#[actix_web::test]
async fn an_invalid_number_or_body_is_refused_permanently_in_twilios_words() {
    let (sim, client) = start(10);
    let ok = settings(TOKEN, "+15005550006");
    let bad_to = client.send(&ok, &message("+4912", "x")).await.unwrap_err();
    assert!(matches!(bad_to, UpstreamError::Rejected { .. }), "{bad_to}");
    assert_eq!(
        answer(&bad_to),
        (
            400,
            "21211".into(),
            "The 'To' number +4912 is not a valid phone number.".into()
        )
    );
    let bad_from = client
        .send(&settings(TOKEN, "Salon"), &message("+491711234567", "x"))
        .await
        .unwrap_err();
    assert_eq!(answer(&bad_from).1, "21212");
    let long = client
        .send(&ok, &message("+491711234567", &"a".repeat(1601)))
        .await
        .unwrap_err();
    assert_eq!(answer(&long).1, "21617");
    let empty = client
        .send(&ok, &message("+491711234567", ""))
        .await
        .unwrap_err();
    assert_eq!(answer(&empty).1, "21602");
    for e in [&bad_to, &bad_from, &long, &empty] {
        assert!(!e.is_transient(), "{e}");
    }
    assert!(sim.messages().is_empty());
}

#[actix_web::test]
async fn injected_outages_and_throttling_are_transient() {
    let (sim, client) = start(10);
    let ok = settings(TOKEN, "+15005550006");
    for (status, code) in [
        (ErrorStatus::ServiceUnavailable, "20503"),
        (ErrorStatus::TooManyRequests, "20429"),
    ] {
        sim.faults().set(FaultConfig {
            error_rate: Some(Rate::new(1.0).unwrap()),
            error_status: Some(status),
            ..FaultConfig::default()
        });
        let error = client
            .send(&ok, &message("+491711234567", "x"))
            .await
            .unwrap_err();
        assert!(error.is_transient(), "{error}");
        assert_eq!(answer(&error).1, code);
    }
    sim.faults().clear();
    client
        .send(&ok, &message("+491711234567", "x"))
        .await
        .unwrap();
    assert_eq!(sim.messages().len(), 1);
}

#[actix_web::test]
async fn each_account_keeps_only_its_latest_messages() {
    let (sim, client) = start(3);
    let ok = settings(TOKEN, "+15005550006");
    for i in 0..5 {
        client
            .send(&ok, &message("+491711234567", &format!("message {i}")))
            .await
            .unwrap();
    }
    let bodies: Vec<String> = sim.messages().into_iter().map(|m| m.body).collect();
    assert_eq!(bodies, ["message 2", "message 3", "message 4"]);
}

#[test]
fn malformed_accounts_are_refused() {
    let sim = SmsSim::new(1);
    assert!(matches!(
        sim.add_account("AC123", SecretString::from("t")),
        Err(AccountError::Invalid(_))
    ));
    assert!(matches!(
        sim.add_account(SID, SecretString::from("")),
        Err(AccountError::Invalid(_))
    ));
}
