//! What a caller asked for, as collected by `collect_appointment_data` during a call.

use super::ids::EventTypeId;
use super::phone::PhoneNumber;
use crate::domain::booking::SlotReservation;
use chrono::{DateTime, NaiveDate, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The service a caller chose, resolved against the company's services.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ServiceChoice {
    /// Our `services.id` of the matched service.
    pub service_id: i64,
    /// The service's configured name (not what the caller said); spoken back and stored on the
    /// appointment.
    pub name: String,
    /// Minutes.
    pub duration_min: u32,
    /// The Cal.com event type that books this service.
    pub event_type_id: EventTypeId,
}

/// Normalised appointment data of one call. Fields are filled piecemeal across several
/// `collect_appointment_data` calls; a later value replaces an earlier one. Date and time are
/// local to the company's time zone.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CollectedAppointment {
    /// Appointment day, local to the company (`YYYY-MM-DD` in JSON); `None` until the caller said
    /// one.
    pub date: Option<NaiveDate>,
    /// Start time, local to the company (`HH:MM:SS` in JSON); `None` until the caller said one.
    pub time: Option<NaiveTime>,
    /// The caller's name, inner spaces collapsed, at most 100 characters.
    pub name: Option<String>,
    /// The caller's number, E.164; numbers said without a country code are read as German.
    pub phone: Option<PhoneNumber>,
    /// Email address, if the caller gave one; lightly checked (one `@`, a dot in the domain).
    pub email: Option<String>,
    /// The matched service with its length and Cal.com event type; `None` until exactly one service
    /// matches.
    pub service: Option<ServiceChoice>,
    /// The staff member the caller asked for (`mitarbeiter_wunsch`), free text. Not sent to
    /// Cal.com.
    pub staff: Option<String>,
    /// Anything else the caller wants noted (`notizen`), free text. Copied into the booking job,
    /// but not sent to Cal.com.
    pub notes: Option<String>,
    /// The caller confirmed the booking (`bestaetigt` / `confirmed` arg).
    pub confirmed: bool,
    /// The Cal.com reservation holding the slot for this call, if one was made; kept with the
    /// collected data so any instance (or this one after a restart) renews, books against or
    /// releases it. Absent in data stored before holds existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold: Option<SlotHold>,
}

/// A slot reservation held for a live call (reference/calcom.md §2 "Slot holds"): nobody else
/// can reserve or book the slot until `until`, unless it is renewed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct SlotHold {
    /// Cal.com's `reservationUid`: renewed, released or booked against (`reservedSlotUid`).
    pub uid: String,
    /// Event type of the held slot.
    pub event_type_id: EventTypeId,
    /// Slot start, UTC.
    pub start: DateTime<Utc>,
    /// When the hold lapses unless renewed, UTC (`reservationUntil`).
    pub until: DateTime<Utc>,
}

impl From<SlotReservation> for SlotHold {
    fn from(r: SlotReservation) -> Self {
        Self {
            uid: r.uid,
            event_type_id: r.event_type_id,
            start: r.slot_start,
            until: r.until,
        }
    }
}

impl SlotHold {
    /// Whether this hold is of the slot of `event_type` starting at `start` (UTC).
    pub fn covers(&self, event_type: EventTypeId, start: DateTime<Utc>) -> bool {
        self.event_type_id == event_type && self.start == start
    }

    /// Whether the hold has not lapsed at `now`.
    pub fn is_live(&self, now: DateTime<Utc>) -> bool {
        now < self.until
    }
}

/// The UTC instant of a local date and time in `tz`: in the autumn DST overlap the earlier
/// instant (the one a caller means); `None` for a time in the spring gap, which does not exist
/// and cannot be booked.
pub fn local_start(date: NaiveDate, time: NaiveTime, tz: Tz) -> Option<DateTime<Utc>> {
    tz.from_local_datetime(&date.and_time(time))
        .earliest()
        .map(|t| t.with_timezone(&Utc))
}

/// A caller's choice of slot as said: (local date, local time, `services.id`).
pub type SlotChoice = (Option<NaiveDate>, Option<NaiveTime>, Option<i64>);

/// The slot a caller asked for, once service, date and time are known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WantedSlot {
    /// Event type of the chosen service.
    pub event_type_id: EventTypeId,
    /// Start, UTC.
    pub start: DateTime<Utc>,
    /// The service's length, minutes.
    pub duration_min: u32,
}

/// A required field of an appointment, named as the agent's tool arguments are
/// (German names, DESIGN §6).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum RequiredField {
    /// The appointment day (`datum`, alias `date`).
    Datum,
    /// The start time (`uhrzeit`, alias `time`).
    Uhrzeit,
    /// The caller's name (`name`).
    Name,
    /// The caller's phone number (`telefonnummer`, alias `phone`).
    Telefonnummer,
    /// The service wanted (`dienstleistung`, alias `service`).
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

    /// The slot asked for (service, date and time, the local time read in `tz`); `None` while
    /// one of them is missing or the local time does not exist.
    pub fn wanted_slot(&self, tz: Tz) -> Option<WantedSlot> {
        let service = self.service.as_ref()?;
        Some(WantedSlot {
            event_type_id: service.event_type_id,
            start: local_start(self.date?, self.time?, tz)?,
            duration_min: service.duration_min,
        })
    }

    /// The hold, if it is of the slot asked for (read in `tz`); a hold of an earlier choice
    /// is `None` here (it is to be released).
    pub fn hold_of_wanted_slot(&self, tz: Tz) -> Option<&SlotHold> {
        let wanted = self.wanted_slot(tz)?;
        self.hold
            .as_ref()
            .filter(|h| h.covers(wanted.event_type_id, wanted.start))
    }

    /// Overlays the fields set in `newer` on `self` (`newer.confirmed` and `newer.hold` are not
    /// read: a hold is set only by the call context's
    /// [`KeepHold`](crate::call::context::KeepHold)).
    ///
    /// A confirmation covers one slot: an explicit yes or no in this call (`confirmation`)
    /// replaces the flag; without one, a change of date, time or service withdraws an earlier
    /// yes, so a moved appointment is never booked without a new confirmation.
    pub fn merge(&mut self, newer: CollectedAppointment, confirmation: Option<bool>) {
        let slot_before = self.slot();
        macro_rules! take {
            ($($f:ident),*) => { $( if newer.$f.is_some() { self.$f = newer.$f; } )* };
        }
        take!(date, time, name, phone, email, service, staff, notes);
        self.confirmed = match confirmation {
            Some(yes) => yes,
            None => self.confirmed && self.slot() == slot_before,
        };
    }

    /// The caller's choice of slot, which a hold is decided for.
    pub fn slot(&self) -> SlotChoice {
        (
            self.date,
            self.time,
            self.service.as_ref().map(|s| s.service_id),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn slot_at(hour: u32) -> CollectedAppointment {
        CollectedAppointment {
            date: NaiveDate::from_ymd_opt(2030, 7, 16),
            time: NaiveTime::from_hms_opt(hour, 0, 0),
            service: Some(ServiceChoice {
                service_id: 1,
                name: "Herrenhaarschnitt".into(),
                duration_min: 30,
                event_type_id: EventTypeId(1001),
            }),
            ..CollectedAppointment::default()
        }
    }

    #[test]
    fn corrected_date_replaces_the_old_and_withdraws_its_confirmation() {
        let mut c = slot_at(14);
        c.merge(CollectedAppointment::default(), Some(true));
        let wednesday = NaiveDate::from_ymd_opt(2030, 7, 17);
        c.merge(
            CollectedAppointment {
                date: wednesday,
                ..CollectedAppointment::default()
            },
            None,
        );
        assert_eq!(c.date, wednesday);
        assert!(!c.confirmed, "the yes was given for the old day");
    }

    #[test]
    fn confirmation_can_be_withdrawn() {
        let mut c = slot_at(14);
        c.merge(CollectedAppointment::default(), Some(true));
        assert!(c.confirmed);
        c.merge(CollectedAppointment::default(), Some(false));
        assert!(!c.confirmed);
    }

    #[test]
    fn moving_the_slot_withdraws_an_earlier_confirmation() {
        let mut c = slot_at(14);
        c.merge(CollectedAppointment::default(), Some(true));
        c.merge(slot_at(15), None);
        assert!(!c.confirmed, "a new time needs a new yes");
        c.merge(slot_at(15), Some(true));
        assert!(
            c.confirmed,
            "a new time with a yes in the same call is confirmed"
        );
    }

    #[test]
    fn correcting_the_name_or_repeating_the_slot_keeps_the_confirmation() {
        let mut c = slot_at(14);
        c.merge(CollectedAppointment::default(), Some(true));
        c.merge(
            CollectedAppointment {
                name: Some("Max".into()),
                ..slot_at(14)
            },
            None,
        );
        assert!(c.confirmed);
        assert_eq!(c.name.as_deref(), Some("Max"));
    }
}
