use super::*;
use crate::domain::ids::CompanyId;
use crate::domain::onboarding::spec::{RawBranch, RawService, RawSms, RawTenant, literal_secret};
use crate::domain::onboarding::state::CredentialStatus;
use chrono::Utc;

fn raw() -> RawTenant {
    RawTenant {
        slug: "praxis-weber".into(),
        name: "Praxis Dr. Weber".into(),
        locale: "de".into(),
        time_zone: "Europe/Berlin".into(),
        branches: vec![RawBranch {
            slug: "altona".into(),
            name: "Altona".into(),
            phone_numbers: vec!["+494012345678".into()],
            opening_hours: None,
        }],
        services: vec![RawService {
            name: "Erstberatung".into(),
            duration_min: 45,
            event_type_id: Some(2001),
            ..RawService::default()
        }],
        ..RawTenant::default()
    }
}

fn spec(raw: &RawTenant) -> TenantSpec {
    TenantSpec::from_raw(raw, &literal_secret).unwrap()
}

fn stored(spec: &TenantSpec) -> TenantState {
    TenantState {
        id: CompanyId(1),
        spec: spec.clone(),
        credentials: CredentialStatus::default(),
        disabled_at: None,
        created_at: Utc::now(),
    }
}

#[test]
fn the_same_spec_again_plans_no_changes() {
    let s = spec(&raw());
    let p = plan(Some(&stored(&s)), &s);
    assert!(p.is_empty(), "{p}");
    assert_eq!(p.to_string(), "tenant praxis-weber: no changes\n");
    let again = spec(&s.to_raw());
    assert!(
        plan(Some(&stored(&s)), &again).is_empty(),
        "to_raw reads back equal"
    );
}

#[test]
fn a_changed_spec_plans_exactly_its_changes() {
    let before = spec(&raw());
    let mut changed = raw();
    changed.branches[0].phone_numbers = vec!["+494087654321".into()];
    changed.services[0].duration_min = 60;
    changed.retell.api_key = Some("key_new".into());
    let p = plan(Some(&stored(&before)), &spec(&changed));
    let lines = p.texts();
    assert_eq!(
        lines,
        vec![
            format!(
                "+ retell.api_key: set ({})",
                fingerprint(&SecretString::from("key_new"))
            ),
            "+ branch altona: phone number +494087654321".to_owned(),
            "- branch altona: phone number +494012345678".to_owned(),
            "~ service \"Erstberatung\": 45 min → 60 min".to_owned(),
        ]
    );
    assert!(!p.to_string().contains("key_new"));
}

#[test]
fn a_new_tenant_plans_everything_as_added() {
    let p = plan(None, &spec(&raw()));
    assert!(p.create);
    assert!(p.lines.iter().all(|l| l.op == Op::Add), "{p}");
    assert!(p.to_string().starts_with("tenant praxis-weber: create\n"));
}

fn with_sms(token: Option<&str>) -> RawTenant {
    RawTenant {
        sms: Some(RawSms {
            account_sid: format!("AC{}", "0".repeat(32)),
            auth_token: token.map(str::to_owned),
            from: "+4915735998877".into(),
            base_url: None,
        }),
        ..raw()
    }
}

#[test]
fn sms_plan_lines_show_the_token_only_as_a_fingerprint() {
    let before = spec(&raw());
    let p = plan(
        Some(&stored(&before)),
        &spec(&with_sms(Some("twilio_secret_1"))),
    );
    let text = p.to_string();
    assert!(!text.contains("twilio_secret_1"), "{text}");
    assert_eq!(
        p.texts(),
        vec![
            format!("+ sms.account_sid: \"AC{}\"", "0".repeat(32)),
            "+ sms.from: \"+4915735998877\"".to_owned(),
            format!(
                "+ sms.auth_token: set ({})",
                fingerprint(&SecretString::from("twilio_secret_1"))
            ),
        ]
    );
}

#[test]
fn removing_the_sms_section_removes_its_token() {
    let with = spec(&with_sms(None));
    let mut current = stored(&with);
    current.credentials.sms_auth_token = Some("sha256:0123456789ab".into());
    let p = plan(Some(&current), &spec(&raw()));
    assert_eq!(
        p.texts(),
        vec![
            format!("- sms.account_sid (was \"AC{}\")", "0".repeat(32)),
            "- sms.from (was \"+4915735998877\")".to_owned(),
            "- sms.auth_token (was sha256:0123456789ab)".to_owned(),
        ]
    );
    assert!(
        plan(Some(&current), &with).is_empty(),
        "a left-out token stays"
    );
}
