//! The dashboard's two languages: German first, English second (the callers' and practices'
//! languages, DESIGN intro). One [`Texts`] table per language, so a missing string is a compile
//! error, not a blank on a page; dates and times are formatted here too.
//!
//! The language of a request: `?lang=de|en`, then the `sb_lang` cookie (set by the language
//! links), then the first of `de`/`en` in `Accept-Language`, then the company's locale.

use actix_web::HttpRequest;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;

/// Name of the cookie that remembers the language chosen with `?lang=`.
pub const LANG_COOKIE: &str = "sb_lang";

/// A language of the dashboard.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    /// German: 24-hour times, `dd.mm.yyyy`.
    De,
    /// English: 24-hour times, `yyyy-mm-dd` (unambiguous for every English reader).
    En,
}

impl Lang {
    /// `de` or `en`, as in `<html lang>`, `?lang=` and the cookie.
    pub fn code(self) -> &'static str {
        match self {
            Self::De => "de",
            Self::En => "en",
        }
    }

    /// `de`/`en` (case-insensitive, a region such as `de-AT` allowed); anything else is `None`.
    pub fn parse(text: &str) -> Option<Self> {
        let primary = text.trim().split(['-', '_']).next()?;
        if primary.eq_ignore_ascii_case("de") {
            Some(Self::De)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Self::En)
        } else {
            None
        }
    }

    /// The language of `req` (see the module docs); `fallback` is the company's locale, or
    /// German before sign-in.
    pub fn of(req: &HttpRequest, fallback: Lang) -> Self {
        query_lang(req)
            .or_else(|| {
                super::session::cookie(req, LANG_COOKIE).and_then(|value| Self::parse(&value))
            })
            .or_else(|| {
                let header = req.headers().get("accept-language")?.to_str().ok()?;
                header
                    .split(',')
                    .filter_map(|part| part.split(';').next())
                    .find_map(Self::parse)
            })
            .unwrap_or(fallback)
    }

    /// The strings of this language.
    pub fn texts(self) -> &'static Texts {
        match self {
            Self::De => &DE,
            Self::En => &EN,
        }
    }

    /// `at` in `zone`, as this language writes a date and time (24 h).
    pub fn date_time(self, at: DateTime<Utc>, zone: Tz) -> String {
        let local = at.with_timezone(&zone);
        match self {
            Self::De => local.format("%d.%m.%Y %H:%M").to_string(),
            Self::En => local.format("%Y-%m-%d %H:%M").to_string(),
        }
    }

    /// `at` in `zone`, time of day only (24 h).
    pub fn time(self, at: DateTime<Utc>, zone: Tz) -> String {
        at.with_timezone(&zone).format("%H:%M").to_string()
    }

    /// A calendar day as this language writes it.
    pub fn date(self, day: chrono::NaiveDate) -> String {
        match self {
            Self::De => day.format("%d.%m.%Y").to_string(),
            Self::En => day.format("%Y-%m-%d").to_string(),
        }
    }
}

/// `?lang=` of the request, when it names a language.
pub fn query_lang(req: &HttpRequest) -> Option<Lang> {
    super::query_param(req, "lang").and_then(|v| Lang::parse(&v))
}

/// Every string the dashboard shows, in one language.
pub struct Texts {
    pub title: &'static str,
    pub sign_in: &'static str,
    pub sign_in_intro: &'static str,
    pub token_label: &'static str,
    pub bad_token: &'static str,
    pub too_many_attempts: &'static str,
    pub sign_out: &'static str,
    pub signed_in_as: &'static str,
    pub nav_today: &'static str,
    pub nav_appointments: &'static str,
    pub nav_dead_letters: &'static str,
    pub nav_health: &'static str,
    pub nav_tenants: &'static str,
    pub nav_stats: &'static str,
    pub language: &'static str,
    pub today_heading: &'static str,
    pub all_companies: &'static str,
    pub company: &'static str,
    pub filter: &'static str,
    pub started: &'static str,
    pub caller: &'static str,
    pub status: &'static str,
    pub booking: &'static str,
    pub no_calls: &'static str,
    pub status_live: &'static str,
    pub status_ended: &'static str,
    pub retried_prefix: &'static str,
    pub kind: &'static str,
    pub created: &'static str,
    pub up: &'static str,
    pub down: &'static str,
    pub database: &'static str,
    pub cache: &'static str,
    pub live_refresh: &'static str,
    pub day_in_zones: &'static str,
    pub more_calls: &'static str,
    pub call_heading: &'static str,
    pub transcript: &'static str,
    pub no_transcript: &'static str,
    pub collected: &'static str,
    pub nothing_collected: &'static str,
    pub summary: &'static str,
    pub open_in_calcom: &'static str,
    pub last_error: &'static str,
    pub field_date: &'static str,
    pub field_time: &'static str,
    pub field_name: &'static str,
    pub field_phone: &'static str,
    pub field_email: &'static str,
    pub field_service: &'static str,
    pub field_staff: &'static str,
    pub field_notes: &'static str,
    pub field_confirmed: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub appointments_heading: &'static str,
    pub start: &'static str,
    pub attendee: &'static str,
    pub no_appointments: &'static str,
    pub dead_letters_heading: &'static str,
    pub job: &'static str,
    pub attempts: &'static str,
    pub retry: &'static str,
    pub retried: &'static str,
    pub no_dead_letters: &'static str,
    pub health_heading: &'static str,
    pub breakers: &'static str,
    pub service: &'static str,
    pub state: &'static str,
    pub no_breakers: &'static str,
    pub upstreams: &'static str,
    pub base_url: &'static str,
    pub tenants_heading: &'static str,
    pub name: &'static str,
    pub time_zone: &'static str,
    pub config_check: &'static str,
    pub check_calcom: &'static str,
    pub check_retell: &'static str,
    pub check_numbers: &'static str,
    pub check_services: &'static str,
    pub ok: &'static str,
    pub not_ok: &'static str,
    pub stats_heading: &'static str,
    pub stats_unavailable: &'static str,
    pub day: &'static str,
    pub calls: &'static str,
    pub booked_count: &'static str,
    pub chart_label: &'static str,
    pub not_found: &'static str,
    pub forbidden: &'static str,
    pub unavailable: &'static str,
    pub back: &'static str,
    /// The booking states, by [`BookingState`](super::pages::BookingState).
    pub state_booked: &'static str,
    pub state_pending: &'static str,
    pub state_failed: &'static str,
    pub state_unconfirmed: &'static str,
    pub state_incomplete: &'static str,
    pub state_none: &'static str,
}

static DE: Texts = Texts {
    title: "switchboard – Betrieb",
    sign_in: "Anmelden",
    sign_in_intro: "Melden Sie sich mit einem Zugangstoken Ihrer Firma oder dem Admin-Token an.",
    token_label: "Zugangstoken",
    bad_token: "Dieses Token ist unbekannt, abgelaufen oder widerrufen.",
    too_many_attempts: "Zu viele Fehlversuche. Bitte warten Sie eine Minute.",
    sign_out: "Abmelden",
    signed_in_as: "Angemeldet als",
    nav_today: "Heute",
    nav_appointments: "Termine",
    nav_dead_letters: "Fehlgeschlagene Aufträge",
    nav_health: "Zustand",
    nav_tenants: "Mandanten",
    nav_stats: "Statistik",
    language: "Sprache",
    today_heading: "Anrufe heute",
    all_companies: "Alle Firmen",
    company: "Firma",
    filter: "Anzeigen",
    started: "Beginn",
    caller: "Anrufer",
    status: "Status",
    booking: "Buchung",
    no_calls: "Heute noch keine Anrufe.",
    status_live: "läuft",
    status_ended: "beendet",
    retried_prefix: "Auftrag",
    kind: "Art",
    created: "Angelegt",
    up: "erreichbar",
    down: "gestört",
    database: "Datenbank",
    cache: "Zwischenspeicher",
    live_refresh: "Die Liste aktualisiert sich alle 5 Sekunden.",
    day_in_zones: "Der Tag gilt in der Zeitzone der jeweiligen Firma.",
    more_calls: "Weitere Anrufe sind nicht aufgeführt.",
    call_heading: "Anruf",
    transcript: "Gesprächsverlauf",
    no_transcript: "Kein Gesprächsverlauf gespeichert.",
    collected: "Erfasste Termindaten",
    nothing_collected: "Keine Termindaten erfasst.",
    summary: "Zusammenfassung",
    open_in_calcom: "Buchung in Cal.com öffnen",
    last_error: "Letzter Fehler",
    field_date: "Datum",
    field_time: "Uhrzeit",
    field_name: "Name",
    field_phone: "Telefon",
    field_email: "E-Mail",
    field_service: "Leistung",
    field_staff: "Mitarbeiterwunsch",
    field_notes: "Notizen",
    field_confirmed: "Bestätigt",
    yes: "ja",
    no: "nein",
    appointments_heading: "Kommende Termine",
    start: "Beginn",
    attendee: "Kunde",
    no_appointments: "Keine kommenden Termine.",
    dead_letters_heading: "Fehlgeschlagene Aufträge",
    job: "Auftrag",
    attempts: "Versuche",
    retry: "Erneut versuchen",
    retried: "Der Auftrag wurde erneut eingeplant.",
    no_dead_letters: "Keine fehlgeschlagenen Aufträge.",
    health_heading: "Zustand",
    breakers: "Schutzschalter",
    service: "Dienst",
    state: "Zustand",
    no_breakers: "Noch keine Schutzschalter aktiv.",
    upstreams: "Anbindungen",
    base_url: "Adresse",
    tenants_heading: "Mandanten",
    name: "Name",
    time_zone: "Zeitzone",
    config_check: "Konfigurationsprüfung",
    check_calcom: "Cal.com-Verbindung",
    check_retell: "Retell-Verbindung",
    check_numbers: "Rufnummern",
    check_services: "Leistungen → Cal.com-Ereignistypen",
    ok: "in Ordnung",
    not_ok: "fehlerhaft",
    stats_heading: "Statistik",
    stats_unavailable: "Die Statistik ist noch nicht verfügbar.",
    day: "Tag",
    calls: "Anrufe",
    booked_count: "Gebucht",
    chart_label: "Anrufe und Buchungen pro Tag",
    not_found: "Nicht gefunden.",
    forbidden: "Diese Aktion ist nicht erlaubt.",
    unavailable: "Vorübergehend nicht verfügbar. Bitte später erneut versuchen.",
    back: "Zurück",
    state_booked: "gebucht",
    state_pending: "in Arbeit",
    state_failed: "fehlgeschlagen",
    state_unconfirmed: "unbestätigt",
    state_incomplete: "unvollständig",
    state_none: "keine",
};

static EN: Texts = Texts {
    title: "switchboard – operations",
    sign_in: "Sign in",
    sign_in_intro: "Sign in with an access token of your company or the admin token.",
    token_label: "Access token",
    bad_token: "This token is unknown, expired or revoked.",
    too_many_attempts: "Too many failed attempts. Please wait a minute.",
    sign_out: "Sign out",
    signed_in_as: "Signed in as",
    nav_today: "Today",
    nav_appointments: "Appointments",
    nav_dead_letters: "Dead letters",
    nav_health: "Health",
    nav_tenants: "Tenants",
    nav_stats: "Statistics",
    language: "Language",
    today_heading: "Today's calls",
    all_companies: "All companies",
    company: "Company",
    filter: "Show",
    started: "Started",
    caller: "Caller",
    status: "Status",
    booking: "Booking",
    no_calls: "No calls yet today.",
    status_live: "live",
    status_ended: "ended",
    retried_prefix: "Job",
    kind: "Kind",
    created: "Created",
    up: "up",
    down: "down",
    database: "Database",
    cache: "Cache",
    live_refresh: "The list refreshes every 5 seconds.",
    day_in_zones: "Today is each company's own day, in its time zone.",
    more_calls: "More calls are not listed.",
    call_heading: "Call",
    transcript: "Transcript",
    no_transcript: "No transcript stored.",
    collected: "Collected appointment data",
    nothing_collected: "No appointment data collected.",
    summary: "Summary",
    open_in_calcom: "Open the booking in Cal.com",
    last_error: "Last error",
    field_date: "Date",
    field_time: "Time",
    field_name: "Name",
    field_phone: "Phone",
    field_email: "Email",
    field_service: "Service",
    field_staff: "Staff wish",
    field_notes: "Notes",
    field_confirmed: "Confirmed",
    yes: "yes",
    no: "no",
    appointments_heading: "Upcoming appointments",
    start: "Start",
    attendee: "Customer",
    no_appointments: "No upcoming appointments.",
    dead_letters_heading: "Dead letters",
    job: "Job",
    attempts: "Attempts",
    retry: "Retry",
    retried: "The job was queued again.",
    no_dead_letters: "No dead letters.",
    health_heading: "Health",
    breakers: "Circuit breakers",
    service: "Service",
    state: "State",
    no_breakers: "No circuit breakers active yet.",
    upstreams: "Upstreams",
    base_url: "Address",
    tenants_heading: "Tenants",
    name: "Name",
    time_zone: "Time zone",
    config_check: "Configuration check",
    check_calcom: "Cal.com connection",
    check_retell: "Retell connection",
    check_numbers: "Phone numbers",
    check_services: "Services → Cal.com event types",
    ok: "ok",
    not_ok: "failing",
    stats_heading: "Statistics",
    stats_unavailable: "Statistics are not available yet.",
    day: "Day",
    calls: "Calls",
    booked_count: "Booked",
    chart_label: "Calls and bookings per day",
    not_found: "Not found.",
    forbidden: "This action is not allowed.",
    unavailable: "Temporarily unavailable. Please try again later.",
    back: "Back",
    state_booked: "booked",
    state_pending: "pending",
    state_failed: "failed",
    state_unconfirmed: "unconfirmed",
    state_incomplete: "incomplete",
    state_none: "none",
};

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    #[test]
    fn the_query_wins_over_the_cookie_and_the_header() {
        let req = TestRequest::get()
            .uri("/admin/?lang=en")
            .insert_header(("cookie", "sb_lang=de"))
            .insert_header(("accept-language", "de-DE,de;q=0.9"))
            .to_http_request();
        assert_eq!(Lang::of(&req, Lang::De), Lang::En);
    }

    #[test]
    fn the_cookie_wins_over_the_header_and_the_header_over_the_company_locale() {
        let req = TestRequest::get()
            .insert_header(("cookie", "a=b; sb_lang=en"))
            .insert_header(("accept-language", "de"))
            .to_http_request();
        assert_eq!(Lang::of(&req, Lang::De), Lang::En);
        let req = TestRequest::get()
            .insert_header(("accept-language", "fr-FR, en;q=0.5"))
            .to_http_request();
        assert_eq!(Lang::of(&req, Lang::De), Lang::En);
        let req = TestRequest::get()
            .insert_header(("accept-language", "fr"))
            .to_http_request();
        assert_eq!(Lang::of(&req, Lang::De), Lang::De);
    }

    #[test]
    fn german_dates_are_day_month_year_with_24_hour_times() {
        let at = DateTime::parse_from_rfc3339("2026-03-29T13:05:00Z")
            .unwrap()
            .with_timezone(&Utc);
        // Berlin is on summer time (UTC+2) from 29 March 2026, 01:00 UTC.
        assert_eq!(
            Lang::De.date_time(at, chrono_tz::Europe::Berlin),
            "29.03.2026 15:05"
        );
        assert_eq!(
            Lang::En.date_time(at, chrono_tz::Europe::Berlin),
            "2026-03-29 15:05"
        );
    }
}
