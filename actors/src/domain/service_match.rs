//! Finding the service a caller means ("Herrenschnitt", "haircut for men") among the
//! services a company offers, by name or alias.

use super::tenant::Service;
use std::collections::BTreeSet;
use std::iter;

/// Words that carry no meaning for choosing a service; dropped before comparing word sets so
/// "haircut for men" and "men's haircut" are the same words.
const FILLER_WORDS: &[&str] = &[
    "a", "an", "and", "for", "of", "please", "the", "with", "bitte", "das", "dem", "den", "der",
    "die", "ein", "eine", "einen", "fuer", "mit", "und", "zum", "zur",
];

/// A name or alias shorter than this (folded) is not looked for inside longer input, so a
/// two-letter alias cannot swallow every sentence.
const MIN_CONTAINED_LEN: usize = 3;

/// Returns the one service whose name or an alias matches `input`, or `None` when none or
/// more than one does.
///
/// Comparison is case-insensitive with umlauts folded (ä→ae, ö→oe, ü→ue, ß→ss) and
/// punctuation and spacing ignored. Looser rules are tried only when stricter ones found
/// nothing, and a tie at the first rule that finds anything is `None`, never a guess:
/// 1. the same letters ("Herren-Schnitt" = "herrenschnitt");
/// 2. the same words in any order, ignoring fillers and possessive "'s"
///    ("haircut for men" = "men's haircut");
/// 3. the input contains a name ("einen Herrenschnitt bitte");
/// 4. every word of the input occurs in a name ("Haarschnitt für Herren" →
///    "Herrenhaarschnitt").
pub fn match_service<'a>(input: &str, services: &'a [Service]) -> Option<&'a Service> {
    let said = Phrase::new(input);
    if said.letters.is_empty() {
        return None;
    }
    let candidates: Vec<(&Service, Vec<Phrase>)> = services
        .iter()
        .map(|s| {
            let names = iter::once(&s.name).chain(&s.aliases);
            (s, names.map(|n| Phrase::new(n)).collect())
        })
        .collect();
    let rules: [fn(&Phrase, &Phrase) -> bool; 4] = [
        |said, name| said.letters == name.letters,
        |said, name| !said.words.is_empty() && said.words == name.words,
        |said, name| {
            name.letters.len() >= MIN_CONTAINED_LEN && said.letters.contains(&name.letters)
        },
        |said, name| !said.words.is_empty() && said.words.iter().all(|w| name.letters.contains(w)),
    ];
    for rule in rules {
        let mut hits = candidates
            .iter()
            .filter(|(_, names)| names.iter().any(|name| rule(&said, name)))
            .map(|(service, _)| *service);
        if let Some(first) = hits.next() {
            return hits.next().is_none().then_some(first);
        }
    }
    None
}

/// Lower-cases `s` and spells umlauts and ß out (ä→ae, ö→oe, ü→ue, ß→ss), so "Färben",
/// "faerben" and "FÄRBEN" compare equal; the typographic apostrophe becomes `'`. Shared with
/// the date and time reader, which meets the same spellings ("übermorgen", "uebermorgen").
pub(crate) fn fold_umlauts(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        match c {
            'ä' => out.push_str("ae"),
            'ö' => out.push_str("oe"),
            'ü' => out.push_str("ue"),
            'ß' => out.push_str("ss"),
            '’' => out.push('\''),
            c => out.push(c),
        }
    }
    out
}

/// A service name or what the caller said, folded two ways for comparing.
struct Phrase {
    /// Letters and digits only ("mens haircut" → "menshaircut").
    letters: String,
    /// Meaningful words, possessive "'s" removed ("men's haircut" → {"haircut", "men"}).
    words: BTreeSet<String>,
}

impl Phrase {
    fn new(s: &str) -> Self {
        let folded = fold_umlauts(s);
        let letters = folded.chars().filter(|c| c.is_alphanumeric()).collect();
        let words = folded
            .split(|c: char| !c.is_alphanumeric() && c != '\'')
            .map(|w| w.strip_suffix("'s").unwrap_or(w).replace('\'', ""))
            .filter(|w| !w.is_empty() && !FILLER_WORDS.contains(&w.as_str()))
            .collect();
        Self { letters, words }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::ids::{CompanyId, EventTypeId};

    fn service(id: i64, name: &str, aliases: &[&str]) -> Service {
        Service {
            id,
            company_id: CompanyId(1),
            name: name.to_owned(),
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
            duration_min: 30,
            event_type_id: EventTypeId(100 + id),
            team_id: None,
            branch_ids: Vec::new(),
        }
    }

    fn salon() -> Vec<Service> {
        vec![
            service(1, "Herrenhaarschnitt", &["Herrenschnitt", "men's haircut"]),
            service(2, "Damenhaarschnitt", &["Damenschnitt", "women's haircut"]),
            service(3, "Färben", &["Coloration", "hair colouring"]),
        ]
    }

    fn matched(input: &str, services: &[Service]) -> Option<i64> {
        match_service(input, services).map(|s| s.id)
    }

    #[test]
    fn service_matches_alias_and_umlaut_folding() {
        let s = salon();
        assert_eq!(matched("Herrenschnitt", &s), Some(1));
        assert_eq!(matched("faerben", &s), Some(3));
        assert_eq!(matched("FÄRBEN", &s), Some(3));
        assert_eq!(matched("Men's Haircut", &s), Some(1));
    }

    #[test]
    fn exact_match_ignores_case_punctuation_and_spacing() {
        let s = salon();
        assert_eq!(matched("  herren-haar schnitt. ", &s), Some(1));
        assert_eq!(matched("mens haircut", &s), Some(1));
    }

    #[test]
    fn word_order_and_fillers_do_not_matter() {
        let s = salon();
        assert_eq!(matched("haircut for men", &s), Some(1));
        assert_eq!(matched("haircut for women", &s), Some(2));
    }

    #[test]
    fn containment_either_way_when_unique() {
        let s = salon();
        assert_eq!(matched("einen Damenschnitt, bitte", &s), Some(2));
        assert_eq!(matched("Haarschnitt für Herren", &s), Some(1));
        assert_eq!(matched("colouring", &s), Some(3));
    }

    #[test]
    fn ambiguous_or_unknown_input_matches_nothing() {
        let s = salon();
        assert_eq!(matched("Haarschnitt", &s), None);
        assert_eq!(matched("haircut", &s), None);
        assert_eq!(matched("Dauerwelle", &s), None);
        assert_eq!(matched("", &s), None);
        assert_eq!(matched("!!", &s), None);
        assert_eq!(matched("Herrenschnitt", &[]), None);
    }

    #[test]
    fn two_services_with_the_same_alias_are_ambiguous() {
        let s = vec![
            service(1, "Schnitt kurz", &["Schnitt"]),
            service(2, "Schnitt lang", &["Schnitt"]),
        ];
        assert_eq!(matched("Schnitt", &s), None);
        assert_eq!(matched("schnitt lang", &s), Some(2));
    }
}
