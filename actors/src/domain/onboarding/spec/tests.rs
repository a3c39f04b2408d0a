use super::*;

fn valid() -> RawTenant {
    RawTenant {
        slug: "praxis-weber".into(),
        name: "Praxis Dr. Weber".into(),
        locale: "de".into(),
        time_zone: "Europe/Berlin".into(),
        retell: RawRetell {
            api_key: Some("key_abc".into()),
            agent_id: Some("agent_1".into()),
        },
        calcom: RawCalcom {
            api_key: Some("cal_live_abc".into()),
            base_url: Some("https://api.cal.com/".into()),
            team_id: Some(42),
            webhook_secret: None,
        },
        policy: RawPolicy::default(),
        branches: vec![RawBranch {
            slug: "altona".into(),
            name: "Altona".into(),
            phone_numbers: vec!["+494012345678".into()],
            opening_hours: Some(
                [("mon".to_owned(), "08:00-12:00,14:00-18:00".to_owned())]
                    .into_iter()
                    .collect(),
            ),
        }],
        services: vec![RawService {
            name: "Erstberatung".into(),
            aliases: vec!["Beratung".into(), "beratung".into()],
            duration_min: 45,
            event_type_id: Some(2001),
            branches: Some(vec!["altona".into()]),
            ..RawService::default()
        }],
        sms: Some(RawSms {
            account_sid: "AC0123456789abcdef0123456789ABCDEF".into(),
            auth_token: Some("twilio_token_abc".into()),
            from: "+4915735998877".into(),
            base_url: None,
        }),
    }
}

fn errors(raw: &RawTenant) -> Vec<String> {
    TenantSpec::from_raw(raw, &literal_secret)
        .unwrap_err()
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn a_complete_tenant_reads_with_defaults_and_inherited_team() {
    let spec = TenantSpec::from_raw(&valid(), &literal_secret).unwrap();
    assert_eq!(spec.slug.as_str(), "praxis-weber");
    assert_eq!(spec.calcom.base_url.as_deref(), Some("https://api.cal.com"));
    assert_eq!(spec.policy, BookingPolicy::default());
    assert_eq!(spec.services[0].team_id, Some(42));
    assert_eq!(spec.services[0].aliases, vec!["Beratung".to_owned()]);
    assert_eq!(spec.branches[0].phone_numbers[0].as_str(), "+494012345678");
}

#[test]
fn every_refusal_names_its_key_path() {
    let mut raw = valid();
    raw.time_zone = "Europe/Berln".into();
    raw.locale = "fr".into();
    raw.branches[0].phone_numbers.push("040 1234567".into());
    raw.services[0].event_type_id = None;
    raw.services[0].branches = Some(vec!["nowhere".into()]);
    raw.calcom.api_key = Some("sk_live_x".into());
    let e = errors(&raw);
    let joined = e.join("\n");
    for needle in [
        "locale: \"fr\" is not a supported locale",
        "time_zone: unknown time zone \"Europe/Berln\"",
        "branches[0].phone_numbers[1]: \"040 1234567\" is not in E.164 form",
        "services[0].name: service \"Erstberatung\" is not mapped",
        "services[0].branches[0]: no branch with slug \"nowhere\"",
        "calcom.api_key: is not a Cal.com API key",
    ] {
        assert!(joined.contains(needle), "missing {needle:?} in\n{joined}");
    }
    assert!(
        !joined.contains("sk_live_x"),
        "a secret is never quoted: {joined}"
    );
}

#[test]
fn a_number_listed_twice_in_one_tenant_is_refused() {
    let mut raw = valid();
    raw.branches.push(RawBranch {
        slug: "mitte".into(),
        name: "Mitte".into(),
        phone_numbers: vec!["+49 40 12345678".into()],
        opening_hours: None,
    });
    let e = errors(&raw);
    assert!(
        e[0].starts_with("branches[1].phone_numbers[0]: +494012345678 is already listed at branches[0].phone_numbers[0]"),
        "{e:?}"
    );
}

#[test]
fn json_rpc_secrets_never_read_env_or_files() {
    let mut raw = valid();
    raw.retell.api_key = Some("file:/etc/shadow".into());
    let e = errors(&raw);
    assert!(e[0].starts_with("retell.api_key: env: and file:"), "{e:?}");
}

#[test]
fn an_empty_branch_list_of_a_service_is_refused_not_read_as_every_branch() {
    let mut raw = valid();
    raw.services[0].branches = Some(Vec::new());
    let e = errors(&raw);
    assert!(
        e[0].starts_with("services[0].branches: lists no branch"),
        "{e:?}"
    );
}

#[test]
fn an_sms_section_reads_into_account_token_and_sender() {
    let spec = TenantSpec::from_raw(&valid(), &literal_secret).unwrap();
    let sms = spec.sms.expect("sms settings");
    assert_eq!(sms.account_sid, "AC0123456789abcdef0123456789ABCDEF");
    assert_eq!(sms.from.as_str(), "+4915735998877");
    assert_eq!(
        sms.auth_token.map(|t| t.expose_secret().to_owned()),
        Some("twilio_token_abc".to_owned())
    );
    let mut none = valid();
    none.sms = None;
    assert!(
        TenantSpec::from_raw(&none, &literal_secret)
            .unwrap()
            .sms
            .is_none()
    );
}

#[test]
fn an_sms_section_with_a_bad_sid_or_sender_is_refused_by_key_path() {
    let mut raw = valid();
    let sms = raw.sms.as_mut().unwrap();
    sms.account_sid = "SK0123456789abcdef0123456789abcdef".into();
    sms.from = "015735998877".into();
    sms.base_url = Some("ftp://twilio.example".into());
    let joined = errors(&raw).join("\n");
    for needle in [
        "sms.account_sid: \"SK0123456789abcdef0123456789abcdef\" is not a Twilio Account SID",
        "sms.from: \"015735998877\" is not in E.164 form",
        "sms.base_url: must be an http or https URL",
    ] {
        assert!(joined.contains(needle), "missing {needle:?} in\n{joined}");
    }
    let mut short = valid();
    short.sms.as_mut().unwrap().account_sid = "AC0123".into();
    assert!(errors(&short)[0].starts_with("sms.account_sid:"));
    let mut bad_number = valid();
    bad_number.sms.as_mut().unwrap().from = "+4912".into();
    assert!(errors(&bad_number)[0].starts_with("sms.from:"));
}

#[test]
fn an_sms_token_is_a_secret_never_quoted_and_read_like_the_others() {
    let mut raw = valid();
    raw.sms.as_mut().unwrap().auth_token = Some("env:TWILIO_TOKEN".into());
    let e = errors(&raw);
    assert!(e[0].starts_with("sms.auth_token: env: and file:"), "{e:?}");
    let mut empty = valid();
    empty.sms.as_mut().unwrap().auth_token = Some("  ".into());
    assert_eq!(errors(&empty), vec!["sms.auth_token: is empty".to_owned()]);
    let resolved = TenantSpec::from_raw(&raw, &|w| match w {
        "env:TWILIO_TOKEN" => Ok(SecretString::from("from_env")),
        other => literal_secret(other),
    })
    .unwrap();
    assert_eq!(
        resolved.sms.unwrap().auth_token.unwrap().expose_secret(),
        "from_env"
    );
}

#[test]
fn to_raw_keeps_the_sms_section_without_its_token() {
    let spec = TenantSpec::from_raw(&valid(), &literal_secret).unwrap();
    let raw = spec.to_raw();
    let sms = raw.sms.expect("sms section");
    assert_eq!(sms.auth_token, None);
    assert_eq!(sms.account_sid, "AC0123456789abcdef0123456789ABCDEF");
    assert_eq!(sms.from, "+4915735998877");
}
