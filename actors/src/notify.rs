//! Confirmations by text message: whether a caller gets one, and its text.

use crate::domain::ids::{CallId, CompanyId};
use crate::domain::phone::is_mobile;
use crate::domain::tenant::CompanyProfile;
use crate::outbox::{KIND_SMS, QUEUE_NOTIFICATIONS};
use crate::ports::SmsMessage;
use crate::records::{NewJob, SmsJobPayload};
use crate::speech::Catalog;
use crate::speech::sms::SmsText;
use chrono::{DateTime, Utc};

/// The confirmation `text` for the caller at `phone` (E.164), or `None` when none is sent:
/// the company has no SMS settings, or `phone` is not a mobile number
/// ([`is_mobile`]: landlines cannot take a text). The agent promises a confirmation only when
/// this is `Some`. The body is in the company's locale.
pub fn confirmation(profile: &CompanyProfile, phone: &str, text: &SmsText) -> Option<SmsMessage> {
    profile.sms.as_ref()?;
    if !is_mobile(phone) {
        return None;
    }
    Some(SmsMessage {
        to: phone.trim().to_owned(),
        body: text.say(profile.locale),
    })
}

/// The `sms` job sending `message` for `company`, to run at `now`: queue `notifications`,
/// idempotency key `sms:<kind>:<booking_uid>` (`kind`: `booked`, `moved`, `cancelled`), so a
/// change of a booking is confirmed once however often the work that made it is retried.
pub fn sms_job(
    company: CompanyId,
    call_id: Option<CallId>,
    kind: &str,
    booking_uid: &str,
    message: SmsMessage,
    max_attempts: u32,
    now: DateTime<Utc>,
) -> NewJob {
    let payload = SmsJobPayload {
        company_id: company,
        message,
    };
    NewJob {
        queue: QUEUE_NOTIFICATIONS.to_owned(),
        kind: KIND_SMS.to_owned(),
        company_id: company,
        call_id,
        idempotency_key: format!("sms:{kind}:{booking_uid}"),
        // Two strings: serialising them cannot fail.
        payload: serde_json::to_value(&payload).unwrap_or_default(),
        max_attempts,
        run_at: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::CompanyId;
    use crate::domain::onboarding::BookingPolicy;
    use crate::domain::tenant::{Locale, SmsSettings};
    use secrecy::SecretString;

    fn profile(sms: bool, locale: Locale) -> CompanyProfile {
        CompanyProfile {
            id: CompanyId(1),
            slug: "demo".into(),
            name: "Demo Salon Berlin".into(),
            locale,
            time_zone: chrono_tz::Europe::Berlin,
            retell_api_key: SecretString::from("key"),
            retell_agent_id: None,
            calcom_api_key: SecretString::from("cal_x"),
            calcom_base_url: None,
            policy: BookingPolicy::default(),
            disabled: false,
            calcom_webhook_secret: SecretString::from(""),
            sms: sms.then(|| SmsSettings {
                account_sid: format!("AC{}", "0".repeat(32)),
                auth_token: SecretString::from("token"),
                from: "+15005550006".into(),
                base_url: None,
            }),
        }
    }

    fn booked() -> SmsText {
        SmsText::Booked {
            company: "Demo Salon Berlin".into(),
            service: "Herrenhaarschnitt".into(),
            start: chrono::NaiveDate::from_ymd_opt(2026, 11, 24)
                .unwrap()
                .and_hms_opt(14, 0, 0)
                .unwrap(),
        }
    }

    #[test]
    fn a_mobile_caller_of_a_tenant_with_sms_gets_the_text_in_its_language() {
        let message = confirmation(&profile(true, Locale::En), "+491711234567", &booked()).unwrap();
        assert_eq!(message.to, "+491711234567");
        assert_eq!(message.body, booked().en());
        let german = confirmation(&profile(true, Locale::De), "+491711234567", &booked());
        assert_eq!(german.unwrap().body, booked().de());
    }

    #[test]
    fn no_confirmation_to_a_landline_or_without_tenant_settings() {
        assert_eq!(
            confirmation(&profile(true, Locale::De), "+493083793369", &booked()),
            None
        );
        assert_eq!(
            confirmation(&profile(false, Locale::De), "+491711234567", &booked()),
            None
        );
    }
}
