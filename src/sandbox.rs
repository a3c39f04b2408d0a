//! Sandbox mode: the demo tenant "Demo Salon Berlin" seeded into the database, matching the
//! Cal.com simulator's catalog, so `switchboard serve` works end to end with no set-up.

use crate::sim::calcom::catalog::{DEMO_EVENT_TYPES, SANDBOX_CALCOM_API_KEY};
use crate::store::{AnyStore, NewCompany, NewService, token_digest};
use chrono::NaiveTime;
use secrecy::SecretString;
use switchboard_actors::domain::ids::{BranchId, CompanyId, EventTypeId};
use switchboard_actors::domain::phone::PhoneNumber;
use switchboard_actors::domain::tenant::Locale;
use switchboard_actors::ports::StoreError;

/// The demo company's name.
pub const DEMO_COMPANY: &str = "Demo Salon Berlin";
/// The demo branch.
pub const DEMO_BRANCH: &str = "Mitte";
/// The demo phone number (E.164), owned by the Mitte branch.
pub const DEMO_PHONE: &str = "+493083793369";
/// The demo company's Retell API key: signatures of sandbox calls are made with it.
pub const DEMO_RETELL_API_KEY: &str = "key_sandbox_0123456789abcdef";

/// Aliases callers use for the demo services, by simulator event type id.
fn aliases(event_type_id: i64) -> Vec<String> {
    let list: &[&str] = match event_type_id {
        1001 => &[
            "Herrenschnitt",
            "Männerhaarschnitt",
            "Haarschnitt Herren",
            "men's haircut",
            "haircut for men",
            "mens haircut",
        ],
        1002 => &[
            "Damenschnitt",
            "Frauenhaarschnitt",
            "Haarschnitt Damen",
            "women's haircut",
            "haircut for women",
            "ladies haircut",
        ],
        1003 => &[
            "Farbe",
            "Haare färben",
            "Coloration",
            "colouring",
            "coloring",
            "hair colour",
            "hair color",
            "dye",
        ],
        _ => &[],
    };
    list.iter().map(|s| (*s).to_owned()).collect()
}

/// What was seeded.
#[derive(Debug, Clone, Copy)]
pub struct DemoTenant {
    /// Id of the company [`DEMO_COMPANY`].
    pub company_id: CompanyId,
    /// Id of its branch [`DEMO_BRANCH`], which owns [`DEMO_PHONE`].
    pub branch_id: BranchId,
}

/// Label of the sandbox admin token in `api_tokens`.
pub const SANDBOX_ADMIN_LABEL: &str = "sandbox admin";

/// Seeds (idempotently) the demo tenant and makes `admin_token` the one sandbox admin token
/// (an earlier sandbox admin token stops working). The demo credentials are sealed with
/// `store`'s keyring like any tenant's ([`crate::secrets`]); seeding re-seals them, so a
/// sandbox whose generated key was lost still serves the demo tenant.
pub async fn seed(store: &AnyStore, admin_token: &str) -> Result<DemoTenant, StoreError> {
    let company_id = store
        .upsert_company(&NewCompany {
            name: DEMO_COMPANY.to_owned(),
            locale: Locale::De,
            time_zone: chrono_tz::Europe::Berlin,
            retell_api_key: SecretString::from(DEMO_RETELL_API_KEY),
            calcom_api_key: SecretString::from(SANDBOX_CALCOM_API_KEY),
        })
        .await?;
    let hm = |h| NaiveTime::from_hms_opt(h, 0, 0).expect("valid time");
    // The branch window spans the longest opening hours of the week (Mon–Fri 09–18).
    let branch_id = store
        .upsert_branch(company_id, DEMO_BRANCH, hm(9), hm(18))
        .await?;
    let phone = PhoneNumber::parse_default(DEMO_PHONE).expect("demo number is valid");
    store.upsert_phone_number(&phone, branch_id).await?;
    for (id, title, _slug, minutes) in DEMO_EVENT_TYPES {
        store
            .upsert_service(&NewService {
                company_id,
                name: (*title).to_owned(),
                aliases: aliases(*id),
                duration_min: *minutes,
                event_type_id: EventTypeId(*id),
                team_id: None,
            })
            .await?;
    }
    store
        .replace_admin_token(&token_digest(admin_token), SANDBOX_ADMIN_LABEL)
        .await?;
    Ok(DemoTenant {
        company_id,
        branch_id,
    })
}
