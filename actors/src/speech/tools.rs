//! What the tenant's Retell agent is told about each custom function when it is deployed
//! (`retell.config.deployCustomFunctions`): the tool description its LLM reads, and the line
//! the agent says while a slow function runs (`execution_message_description`,
//! reference/retell.md §3.3). English descriptions are the registry's own
//! ([`CustomFunction::DESCRIPTION`](crate::functions::registry::CustomFunction::DESCRIPTION)),
//! so the tool the LLM reads and the function's definition cannot drift apart.

use super::Catalog;
use crate::functions::registry;

/// One custom function of the registry, by its tool name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// `collect_appointment_data`.
    CollectAppointmentData,
    /// `check_availability`.
    CheckAvailability,
    /// `find_next_slot`.
    FindNextSlot,
    /// `calculate_duration`.
    CalculateDuration,
    /// `find_appointments`.
    FindAppointments,
    /// `change_appointment`.
    ChangeAppointment,
    /// `cancel_appointment`.
    CancelAppointment,
}

impl Tool {
    /// Every tool, in registry order.
    pub const ALL: [Tool; 7] = [
        Tool::CollectAppointmentData,
        Tool::CheckAvailability,
        Tool::FindNextSlot,
        Tool::CalculateDuration,
        Tool::FindAppointments,
        Tool::ChangeAppointment,
        Tool::CancelAppointment,
    ];

    /// The registry name (Retell tool name).
    pub fn name(self) -> &'static str {
        match self {
            Tool::CollectAppointmentData => "collect_appointment_data",
            Tool::CheckAvailability => "check_availability",
            Tool::FindNextSlot => "find_next_slot",
            Tool::CalculateDuration => "calculate_duration",
            Tool::FindAppointments => "find_appointments",
            Tool::ChangeAppointment => "change_appointment",
            Tool::CancelAppointment => "cancel_appointment",
        }
    }

    /// The tool of registry name `name`; `None` for a name we have no sentences for.
    pub fn named(name: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|t| t.name() == name)
    }
}

/// A sentence about one tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ToolSay {
    /// What the function does and when to call it, for the agent's LLM.
    Describe(Tool),
    /// Said (verbatim, `execution_message_type: "static_text"`) while the function runs.
    Wait(Tool),
}

impl Catalog for ToolSay {
    fn de(&self) -> String {
        match self {
            ToolSay::Describe(tool) => describe_de(*tool).to_owned(),
            ToolSay::Wait(tool) => wait_de(*tool).to_owned(),
        }
    }

    fn en(&self) -> String {
        match self {
            ToolSay::Describe(tool) => registry::find(tool.name())
                .map(|f| f.description)
                .unwrap_or_default()
                .to_owned(),
            ToolSay::Wait(tool) => wait_en(*tool).to_owned(),
        }
    }
}

fn describe_de(tool: Tool) -> &'static str {
    match tool {
        Tool::CollectAppointmentData => {
            "Speichert die Termindaten, die der Anrufer bisher genannt hat: Datum, Uhrzeit, Name, \
             Telefonnummer und Dienstleistung, optional E-Mail, Wunschmitarbeiter und Notizen, \
             und ob der Anrufer die Buchung bestätigt hat. Rufe sie auf, sobald der Anrufer eine \
             Angabe macht oder korrigiert, und sende nur, was bekannt ist; frühere Angaben \
             bleiben erhalten. Die Antwort sagt, was noch fehlt, ob die Zeit frei ist (sonst mit \
             Alternativen) und in `message`, was als Nächstes zu sagen ist."
        }
        Tool::CheckAvailability => {
            "Prüft, ob eine Uhrzeit an einem Tag für eine Dienstleistung frei ist, oder welche \
             Zeiten an dem Tag frei sind. Fehlende Argumente werden aus den in diesem Anruf schon \
             gesammelten Angaben genommen. Die Antwort nennt die freien Zeiten und die nächsten \
             Alternativen und sagt das Ergebnis in `message`."
        }
        Tool::FindNextSlot => {
            "Sucht die nächste freie Zeit für eine Dienstleistung ab einem Tag (Standard heute, \
             bis zu 14 Tage im Voraus), am ersten Tag nicht vor einer Wunschzeit. Fehlende \
             Argumente werden aus den in diesem Anruf schon gesammelten Angaben genommen. Die \
             Antwort enthält Datum und Uhrzeit und sagt sie in `message`."
        }
        Tool::CalculateDuration => {
            "Sagt, wie lange eine oder mehrere Dienstleistungen zusammen dauern und, mit einer \
             Startzeit, wann der Anrufer fertig ist. Die Antwort enthält die Minuten und die \
             Endzeit und sagt sie in `message`."
        }
        Tool::FindAppointments => {
            "Findet die kommenden Termine des Anrufers über die Nummer, von der er anruft. Ist \
             seine Nummer unterdrückt, frage zuerst nach der Telefonnummer der Buchung und dem \
             Datum des Termins und sende beides. Die Antwort listet jeden Termin (Index, Datum, \
             Uhrzeit, Dienstleistung, ob er noch geändert werden kann) und sagt sie in `message`."
        }
        Tool::ChangeAppointment => {
            "Verschiebt einen Termin des Anrufers auf einen neuen Tag und eine neue Uhrzeit. Rufe \
             sie zuerst ohne `bestaetigt` auf: die Antwort sagt, was passieren würde (oder warum \
             nicht: zu kurzfristig, Zeit belegt mit Alternativen). Lies sie dem Anrufer vor und \
             rufe sie mit `bestaetigt: true` erneut auf, sobald er zustimmt. Sage dem Anrufer \
             `message`."
        }
        Tool::CancelAppointment => {
            "Sagt einen Termin des Anrufers ab. Rufe sie zuerst ohne `bestaetigt` auf: die Antwort \
             sagt, welcher Termin abgesagt würde (oder warum nicht: zu kurzfristig). Lies sie dem \
             Anrufer vor und rufe sie mit `bestaetigt: true` erneut auf, sobald er zustimmt. Sage \
             dem Anrufer `message`."
        }
    }
}

fn wait_de(tool: Tool) -> &'static str {
    match tool {
        Tool::CheckAvailability | Tool::FindNextSlot => {
            "Einen Moment bitte, ich schaue im Kalender nach."
        }
        Tool::CollectAppointmentData => "Einen Moment bitte, ich notiere das.",
        Tool::CalculateDuration => "Einen Moment bitte, ich rechne kurz nach.",
        Tool::FindAppointments => "Einen Moment bitte, ich suche Ihre Termine heraus.",
        Tool::ChangeAppointment => "Einen Moment bitte, ich kümmere mich um die Verschiebung.",
        Tool::CancelAppointment => "Einen Moment bitte, ich kümmere mich um die Absage.",
    }
}

fn wait_en(tool: Tool) -> &'static str {
    match tool {
        Tool::CheckAvailability | Tool::FindNextSlot => "One moment, I'm checking the calendar.",
        Tool::CollectAppointmentData => "One moment, I'm noting that down.",
        Tool::CalculateDuration => "One moment, let me work that out.",
        Tool::FindAppointments => "One moment, I'm looking up your appointments.",
        Tool::ChangeAppointment => "One moment, I'm moving your appointment.",
        Tool::CancelAppointment => "One moment, I'm taking care of the cancellation.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::tenant::Locale;

    #[test]
    fn every_registered_function_has_its_sentences() {
        let names: Vec<&str> = Tool::ALL.iter().map(|t| t.name()).collect();
        assert_eq!(
            names,
            registry::NAMES,
            "one Tool per registry entry, same order"
        );
        for tool in Tool::ALL {
            assert_eq!(Tool::named(tool.name()), Some(tool));
            for say in [ToolSay::Describe(tool), ToolSay::Wait(tool)] {
                assert!(!say.de().is_empty() && !say.en().is_empty(), "{say:?}");
            }
        }
        assert_eq!(Tool::named("order_pizza"), None);
    }

    #[test]
    fn tool_sentences_are_pinned() {
        let check = Tool::CheckAvailability;
        assert_eq!(
            ToolSay::Wait(check).say(Locale::De),
            "Einen Moment bitte, ich schaue im Kalender nach."
        );
        assert_eq!(
            ToolSay::Wait(check).say(Locale::En),
            "One moment, I'm checking the calendar."
        );
        assert!(
            ToolSay::Describe(check)
                .say(Locale::De)
                .starts_with("Prüft, ob eine Uhrzeit an einem Tag")
        );
        assert_eq!(
            ToolSay::Describe(check).say(Locale::En),
            registry::find("check_availability").unwrap().description
        );
        assert_eq!(
            ToolSay::Wait(Tool::CancelAppointment).say(Locale::De),
            "Einen Moment bitte, ich kümmere mich um die Absage."
        );
    }
}
