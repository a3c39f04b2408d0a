//! Credentials at rest (issue 10, finding 7: the Retell and Cal.com keys were stored in
//! plaintext): what the store writes to `companies` is sealed, bound to its company and
//! column, readable under a previous key until rotated, and never quoted in an error.

use super::{TestDb, company, connect, fixture, on_postgres, row};
use crate::secrets::{Keyring, SecretKey, test_keyring};
use crate::store::sql::Sql;
use crate::store::{AnyStore, ResealReport};
use secrecy::ExposeSecret;
use switchboard_actors::domain::ids::CompanyId;
use switchboard_actors::ports::{StoreError, TenancyStore};

const RAW: &str = "SELECT retell_api_key, calcom_api_key FROM companies WHERE id = $1";

/// The two credential columns of `company` as stored.
async fn raw(store: &AnyStore, company: CompanyId) -> (String, String) {
    row(store, RAW, company.0).await
}

/// Writes the credential columns of `company` behind the store's back.
async fn plant(store: &AnyStore, company: CompanyId, retell: &str, calcom: &str) {
    store
        .db
        .execute(
            Sql::new("UPDATE companies SET retell_api_key = $1, calcom_api_key = $2 WHERE id = $3")
                .bind(retell)
                .bind(calcom)
                .bind(company.0),
        )
        .await
        .unwrap();
}

fn new_keyring(previous: Vec<SecretKey>) -> (Keyring, SecretKey) {
    let key = SecretKey::from_base64(&SecretKey::generate_base64(), "test").unwrap();
    (Keyring::new(key.clone(), previous), key)
}

/// The error of reading `company`, asserting it is a corrupt-row error that names the
/// company and `column` and quotes no credential.
async fn unreadable(store: &AnyStore, company: CompanyId, column: &str) -> String {
    let error = store.company(company).await.unwrap_err();
    let text = error.to_string();
    assert!(matches!(error, StoreError::Corrupt { .. }), "{text}");
    assert!(
        text.contains(&format!("companies.{column} of company {company}")),
        "{text}"
    );
    assert!(
        !text.contains("_secret") && !text.contains("enc:v1"),
        "{text}"
    );
    text
}

async fn stored_credentials_are_not_plaintext(db: TestDb) {
    let fx = fixture(&db).await;
    let (retell, calcom) = raw(&fx.store, fx.company).await;
    let kid = test_keyring().current_id().unwrap().to_string();
    for value in [&retell, &calcom] {
        assert!(value.starts_with(&format!("enc:v1:{kid}:")), "{value}");
        assert!(!value.contains("_secret"), "{value}");
    }
    let profile = fx.store.company(fx.company).await.unwrap().unwrap();
    assert_eq!(profile.retell_api_key.expose_secret(), "key_retell_secret");
    assert_eq!(profile.calcom_api_key.expose_secret(), "cal_live_secret");
    // Storing the same credentials again seals them anew (a fresh nonce each time).
    fx.store
        .upsert_company(&company("Salon Sonne"))
        .await
        .unwrap();
    assert_ne!(raw(&fx.store, fx.company).await.0, retell);
}

async fn ciphertext_moved_to_other_company_fails(db: TestDb) {
    let fx = fixture(&db).await;
    let other = fx.other_company().await;
    let (retell, calcom) = raw(&fx.store, fx.company).await;
    let (other_retell, other_calcom) = raw(&fx.store, other).await;
    // Another company's sealed value, in the right column.
    plant(&fx.store, other, &other_retell, &calcom).await;
    unreadable(&fx.store, other, "calcom_api_key").await;
    // The company's own value, in the other column.
    plant(&fx.store, other, &other_calcom, &other_calcom).await;
    unreadable(&fx.store, other, "retell_api_key").await;
    // Tenant lookups by number fail the same way, for that company only.
    plant(&fx.store, fx.company, &other_retell, &calcom).await;
    let number = switchboard_actors::domain::phone::PhoneNumber::parse_default(super::NUMBER);
    let error = fx
        .store
        .tenant_by_phone(&number.unwrap())
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains(&format!(
            "companies.retell_api_key of company {}",
            fx.company
        )),
        "{error}"
    );
    plant(&fx.store, fx.company, &retell, &calcom).await;
    assert!(fx.store.company(fx.company).await.unwrap().is_some());
}

async fn rotate_reencrypts_under_new_key_and_old_key_still_reads_before(db: TestDb) {
    let (old_ring, old) = new_keyring(Vec::new());
    let before = connect(&db.url, 2).await.with_keyring(old_ring.clone());
    let company_id = before
        .upsert_company(&company("Salon Sonne"))
        .await
        .unwrap();
    let (new_ring, _) = new_keyring(vec![old]);
    let after = AnyStore::connect(&db.url, 2)
        .await
        .unwrap()
        .with_keyring(new_ring.clone());
    // The new key is current; the old one still opens what it sealed.
    let profile = after.company(company_id).await.unwrap().unwrap();
    assert_eq!(profile.calcom_api_key.expose_secret(), "cal_live_secret");
    let planned = after.reseal_credentials(false).await.unwrap();
    assert_eq!(
        (planned.companies, planned.previous, planned.written),
        (1, 2, 0),
        "{planned}"
    );
    assert!(
        raw(&after, company_id)
            .await
            .0
            .contains(old_ring.current_id().unwrap().as_str())
    );

    let done = after.reseal_credentials(true).await.unwrap();
    assert_eq!((done.previous, done.written), (2, 1), "{done}");
    let kid = new_ring.current_id().unwrap().to_string();
    let (retell, calcom) = raw(&after, company_id).await;
    assert!(retell.starts_with(&format!("enc:v1:{kid}:")), "{retell}");
    assert!(calcom.starts_with(&format!("enc:v1:{kid}:")), "{calcom}");
    let again = after.reseal_credentials(true).await.unwrap();
    assert_eq!(
        again,
        ResealReport {
            companies: 1,
            current: 2,
            applied: true,
            ..ResealReport::default()
        },
        "a second rotation changes nothing"
    );
    // Now the new key alone reads, and the old one alone no longer does.
    let only_new = Keyring::new(
        SecretKey::from_base64(&SecretKey::generate_base64(), "x").unwrap(),
        Vec::new(),
    );
    assert!(matches!(
        after.with_keyring(only_new).company(company_id).await,
        Err(StoreError::Corrupt { .. })
    ));
    let text = unreadable(&before, company_id, "retell_api_key").await;
    assert!(text.contains(&format!("sealed with key {kid}")), "{text}");
}

async fn legacy_plaintext_is_refused_at_read_and_encrypted_by_rotate(db: TestDb) {
    let fx = fixture(&db).await;
    plant(
        &fx.store,
        fx.company,
        "key_legacy_plain",
        "cal_legacy_plain",
    )
    .await;
    let text = unreadable(&fx.store, fx.company, "retell_api_key").await;
    assert!(text.contains("switchboard secrets rotate"), "{text}");
    assert!(!text.contains("legacy_plain"), "{text}");
    let done = fx.store.reseal_credentials(true).await.unwrap();
    assert_eq!((done.plaintext, done.written), (2, 1), "{done}");
    assert!(!done.to_string().contains("legacy_plain"), "{done}");
    let profile = fx.store.company(fx.company).await.unwrap().unwrap();
    assert_eq!(profile.retell_api_key.expose_secret(), "key_legacy_plain");
    assert!(raw(&fx.store, fx.company).await.1.starts_with("enc:v1:"));
}

async fn store_without_key_neither_writes_nor_reads_credentials(db: TestDb) {
    let fx = fixture(&db).await;
    let keyless = AnyStore::connect(&db.url, 1).await.unwrap();
    let error = keyless
        .upsert_company(&company("Praxis Mond"))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("SWITCHBOARD__SECRETS__KEY"), "{error}");
    assert!(!error.contains("secret\""), "{error}");
    let text = unreadable(&keyless, fx.company, "retell_api_key").await;
    assert!(text.contains("no secrets key configured"), "{text}");
    let census = keyless.reseal_credentials(true).await.unwrap();
    assert_eq!((census.companies, census.written), (1, 0), "{census}");
    assert_eq!(census.unreadable.len(), 2, "{census:?}");
}

on_both_backends! {
    stored_credentials_are_not_plaintext,
    ciphertext_moved_to_other_company_fails,
    rotate_reencrypts_under_new_key_and_old_key_still_reads_before,
    legacy_plaintext_is_refused_at_read_and_encrypted_by_rotate,
    store_without_key_neither_writes_nor_reads_credentials,
}
