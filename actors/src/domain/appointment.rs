//! What a caller asked for, as collected by `collect_appointment_data` during a call.

use super::ids::EventTypeId;
use super::phone::PhoneNumber;
use chrono::{NaiveDate, NaiveTime};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The service a caller chose, resolved against the company's services.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServiceChoice {
    pub service_id: i64,
    pub name: String,
    /// Minutes.
    pub duration_min: u32,
    pub event_type_id: EventTypeId,
}

/// Normalised appointment data of one call. Fields are filled piecemeal across several
/// `collect_appointment_data` calls; a later value replaces an earlier one. Date and time are
/// local to the company's time zone.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CollectedAppointment {
    pub date: Option<NaiveDate>,
    pub time: Option<NaiveTime>,
    pub name: Option<String>,
    pub phone: Option<PhoneNumber>,
    pub email: Option<String>,
    pub service: Option<ServiceChoice>,
    pub staff: Option<String>,
    pub notes: Option<String>,
    /// The caller confirmed the booking (`bestaetigt` / `confirmed` arg).
    pub confirmed: bool,
}

/// A required field of an appointment, named as the agent's tool arguments are
/// (German names, DESIGN §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RequiredField {
    Datum,
    Uhrzeit,
    Name,
    Telefonnummer,
    Dienstleistung,
}

impl RequiredField {
    /// The argument name the agent uses.
    pub fn arg_name(self) -> &'static str {
        match self {
            Self::Datum => "datum",
            Self::Uhrzeit => "uhrzeit",
            Self::Name => "name",
            Self::Telefonnummer => "telefonnummer",
            Self::Dienstleistung => "dienstleistung",
        }
    }
}

impl CollectedAppointment {
    /// Required fields still missing, in the order the agent should ask for them.
    pub fn missing_fields(&self) -> Vec<RequiredField> {
        let mut missing = Vec::new();
        if self.service.is_none() {
            missing.push(RequiredField::Dienstleistung);
        }
        if self.date.is_none() {
            missing.push(RequiredField::Datum);
        }
        if self.time.is_none() {
            missing.push(RequiredField::Uhrzeit);
        }
        if self.name.is_none() {
            missing.push(RequiredField::Name);
        }
        if self.phone.is_none() {
            missing.push(RequiredField::Telefonnummer);
        }
        missing
    }

    /// Everything needed to book is present.
    pub fn is_complete(&self) -> bool {
        self.missing_fields().is_empty()
    }

    /// Overlays the fields set in `newer` on `self`; `confirmed` only ever turns on.
    pub fn merge(&mut self, newer: CollectedAppointment) {
        macro_rules! take {
            ($($f:ident),*) => { $( if newer.$f.is_some() { self.$f = newer.$f; } )* };
        }
        take!(date, time, name, phone, email, service, staff, notes);
        self.confirmed |= newer.confirmed;
    }
}
