use super::*;
use crate::domain::ids::CompanyId;
use crate::domain::onboarding::spec::{RawBranch, RawService, RawTenant, literal_secret};
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
