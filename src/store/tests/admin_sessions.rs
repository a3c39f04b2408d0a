//! Sessions of the operators' dashboard (issue 15): stored by digest, sliding idle expiry,
//! bounded per token, ended with their token. Both backends, as the rest of the suite.

use super::*;
use switchboard_actors::ports::AdminSessionStore;
use switchboard_actors::records::NewAdminSession;

const IDLE: Duration = Duration::from_secs(3600);

fn session(n: u8, token_id: i64, company: Option<CompanyId>, at: DateTime<Utc>) -> NewAdminSession {
    NewAdminSession {
        session_sha256: token_digest(&format!("session-{n}")),
        token_id,
        company_id: company,
        csrf: format!("{n:064}"),
        created_at: at,
        expires_at: at + TimeDelta::hours(1),
    }
}

async fn live(store: &AnyStore, n: u8, now: DateTime<Utc>) -> bool {
    store
        .admin_session(&token_digest(&format!("session-{n}")), now, IDLE)
        .await
        .unwrap()
        .is_some()
}

async fn an_admin_session_expires_after_its_idle_time_and_each_use_moves_it_on(db: TestDb) {
    let fx = fixture(&db).await;
    let (token_id, _) =
        make_token(&fx.store, Some(fx.company), TokenKind::Write, "desk", None).await;
    fx.store
        .create_admin_session(&session(1, token_id, Some(fx.company), t0()), 5)
        .await
        .unwrap();
    let found = fx
        .store
        .admin_session(
            &token_digest("session-1"),
            t0() + TimeDelta::minutes(50),
            IDLE,
        )
        .await
        .unwrap()
        .expect("live within its idle time");
    assert_eq!(found.grant.company_id, Some(fx.company));
    assert_eq!(found.grant.token_id, Some(token_id));
    assert_eq!(found.grant.scope, TokenScope::Write);
    assert_eq!(found.csrf, format!("{:064}", 1));
    assert_eq!(found.expires_at, t0() + TimeDelta::minutes(110));
    assert!(
        live(&fx.store, 1, t0() + TimeDelta::minutes(100)).await,
        "the use at 50 min moved the expiry on"
    );
    assert!(
        !live(&fx.store, 1, t0() + TimeDelta::minutes(161)).await,
        "idle for more than an hour"
    );
    assert!(
        !live(&fx.store, 9, t0()).await,
        "an unknown id has no session"
    );
}

async fn a_revoked_or_expired_token_ends_its_admin_sessions(db: TestDb) {
    let fx = fixture(&db).await;
    let (revoked, _) = make_token(&fx.store, Some(fx.company), TokenKind::Read, "a", None).await;
    let ends = t0() + TimeDelta::minutes(10);
    let (expiring, _) = make_token(
        &fx.store,
        Some(fx.company),
        TokenKind::Read,
        "b",
        Some(ends),
    )
    .await;
    for (n, token) in [(1, revoked), (2, expiring)] {
        fx.store
            .create_admin_session(&session(n, token, Some(fx.company), t0()), 5)
            .await
            .unwrap();
        assert!(live(&fx.store, n, t0()).await);
    }
    execute(
        &fx.store,
        "UPDATE api_tokens SET revoked_at = '2026-03-02T09:01:00Z' WHERE id = $1",
        revoked,
    )
    .await;
    assert!(
        !live(&fx.store, 1, t0() + TimeDelta::minutes(2)).await,
        "revoked"
    );
    assert!(live(&fx.store, 2, t0() + TimeDelta::minutes(2)).await);
    assert!(!live(&fx.store, 2, ends).await, "its token expired");
}

async fn a_token_keeps_at_most_its_cap_of_sessions_and_sign_in_purges_expired_ones(db: TestDb) {
    let fx = fixture(&db).await;
    let (token_id, _) = make_token(&fx.store, None, TokenKind::Admin, "ops", None).await;
    let (other, _) = make_token(&fx.store, Some(fx.company), TokenKind::Read, "x", None).await;
    fx.store
        .create_admin_session(&session(9, other, Some(fx.company), t0()), 2)
        .await
        .unwrap();
    for n in 1..=3u8 {
        let at = t0() + TimeDelta::minutes(i64::from(n));
        fx.store
            .create_admin_session(&session(n, token_id, None, at), 2)
            .await
            .unwrap();
    }
    let now = t0() + TimeDelta::minutes(4);
    assert!(
        !live(&fx.store, 1, now).await,
        "the oldest session was dropped"
    );
    assert!(live(&fx.store, 2, now).await && live(&fx.store, 3, now).await);
    assert!(
        live(&fx.store, 9, now).await,
        "another token's session is untouched"
    );
    let later = t0() + TimeDelta::hours(3);
    fx.store
        .create_admin_session(&session(4, token_id, None, later), 2)
        .await
        .unwrap();
    assert_eq!(
        count(&fx.store, "SELECT COUNT(*) FROM admin_sessions").await,
        1,
        "every expired session was purged by the sign-in"
    );
}

async fn signing_out_deletes_the_admin_session(db: TestDb) {
    let fx = fixture(&db).await;
    let (token_id, _) = make_token(&fx.store, Some(fx.company), TokenKind::Read, "a", None).await;
    fx.store
        .create_admin_session(&session(1, token_id, Some(fx.company), t0()), 5)
        .await
        .unwrap();
    fx.store
        .delete_admin_session(&token_digest("session-1"))
        .await
        .unwrap();
    assert!(!live(&fx.store, 1, t0()).await);
    fx.store
        .delete_admin_session(&token_digest("session-1"))
        .await
        .expect("deleting a gone session is no error");
}

on_both_backends! {
    an_admin_session_expires_after_its_idle_time_and_each_use_moves_it_on,
    a_revoked_or_expired_token_ends_its_admin_sessions,
    a_token_keeps_at_most_its_cap_of_sessions_and_sign_in_purges_expired_ones,
    signing_out_deletes_the_admin_session,
}
