//! Finding the service a caller means ("Herrenschnitt", "haircut for men") among the
//! services a company offers, by name or alias, or by a near spelling of one (what speech
//! recognition makes of it).

use super::tenant::Service;
use std::collections::BTreeSet;
use std::iter;

/// Words that carry no meaning for choosing a service; dropped before comparing word sets so
/// "haircut for men" and "men's haircut" are the same words.
const FILLER_WORDS: &[&str] = &[
    "a", "an", "and", "for", "of", "please", "the", "with", "my", "i", "need", "want", "like",
    "bitte", "das", "dem", "den", "der", "die", "ein", "eine", "einen", "einmal", "fuer", "mit",
    "und", "zum", "zur", "mein", "meine", "meinen", "meinem", "ich", "moechte", "brauche", "gern",
    "gerne",
];

/// A name or alias shorter than this (folded) is not looked for inside longer input, so a
/// two-letter alias cannot swallow every sentence.
const MIN_CONTAINED_LEN: usize = 3;

/// Longest input [`match_service`] reads, in characters; longer input is refused before any
/// work ([`ServiceMatchError::TooLong`]), which bounds the edit-distance rule's cost.
pub const MAX_SERVICE_CHARS: usize = 200;

/// Words shorter than this (letters, fillers dropped) are not matched by edit distance: one
/// typo in a four-letter word is another word.
const MIN_FUZZY_LEN: usize = 5;

/// Why no single service was chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ServiceMatchError {
    /// Nothing the company offers is near what was said.
    #[error("no service matches")]
    NoMatch,
    /// Several services match equally well ("Haarschnitt" with Herren-, Damen- and
    /// Kinderhaarschnitt): the caller is asked which one; `candidates` are their names, in the
    /// order configured.
    #[error("several services match: {}", candidates.join(", "))]
    Ambiguous {
        /// Names of the services that match equally well.
        candidates: Vec<String>,
    },
    /// Longer than [`MAX_SERVICE_CHARS`] characters.
    #[error("longer than {MAX_SERVICE_CHARS} characters")]
    TooLong,
}

/// Returns the one service whose name or an alias matches `input`.
///
/// Comparison is case-insensitive with umlauts folded (ä→ae, ö→oe, ü→ue, ß→ss) and
/// punctuation and spacing ignored. Looser rules are tried only when stricter ones found
/// nothing, and a tie at the first rule that finds anything is
/// [`ServiceMatchError::Ambiguous`], never a guess:
/// 1. the same letters ("Herren-Schnitt" = "herrenschnitt");
/// 2. the same words in any order, ignoring fillers and possessive "'s"
///    ("haircut for men" = "men's haircut");
/// 3. the input contains a name ("einen Herrenschnitt bitte");
/// 4. every word of the input occurs in a name ("Haarschnitt für Herren" →
///    "Herrenhaarschnitt");
/// 5. what speech recognition misheard: the meaningful words, joined, within a few edits
///    of a name (Damerau–Levenshtein from `strsim`, at most one edit per five letters of the
///    name: "Damenhaarschnit", "Strenchen", "Farben"); the closest service wins, two at the
///    same distance are ambiguous;
/// 6. a word of five letters or more occurs in a name ("Haarschnitt für Herren und Damen"
///    → ask which of the three haircuts).
///
/// # Errors
/// [`ServiceMatchError`]: too long (checked first), nothing matches, or a tie.
pub fn match_service<'a>(
    input: &str,
    services: &'a [Service],
) -> Result<&'a Service, ServiceMatchError> {
    if input.chars().count() > MAX_SERVICE_CHARS {
        return Err(ServiceMatchError::TooLong);
    }
    let said = Phrase::new(input);
    if said.letters.is_empty() {
        return Err(ServiceMatchError::NoMatch);
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
        let hits: Vec<&Service> = candidates
            .iter()
            .filter(|(_, names)| names.iter().any(|name| rule(&said, name)))
            .map(|(service, _)| *service)
            .collect();
        if !hits.is_empty() {
            return one_of(hits);
        }
    }
    closest(&said, &candidates).or_else(|e| match e {
        ServiceMatchError::NoMatch => any_word(&said, &candidates),
        e => Err(e),
    })
}

/// Rule 6 of [`match_service`]: the services a long word of the input occurs in
/// ("Haarschnitt für Herren und Damen" names three haircuts: ask).
fn any_word<'a>(
    said: &Phrase,
    candidates: &[(&'a Service, Vec<Phrase>)],
) -> Result<&'a Service, ServiceMatchError> {
    let hits = candidates
        .iter()
        .filter(|(_, names)| {
            said.words.iter().any(|w| {
                w.len() >= MIN_FUZZY_LEN && names.iter().any(|n| n.letters.contains(w.as_str()))
            })
        })
        .map(|(service, _)| *service)
        .collect();
    one_of(hits)
}

/// Rule 5 of [`match_service`]: the services at the smallest edit distance, if near enough.
fn closest<'a>(
    said: &Phrase,
    candidates: &[(&'a Service, Vec<Phrase>)],
) -> Result<&'a Service, ServiceMatchError> {
    if said.core.chars().count() < MIN_FUZZY_LEN {
        return Err(ServiceMatchError::NoMatch);
    }
    let mut best: Option<usize> = None;
    let mut hits: Vec<&Service> = Vec::new();
    for (service, names) in candidates {
        let near = names
            .iter()
            .filter(|n| n.letters.chars().count() >= MIN_FUZZY_LEN)
            .map(|n| (strsim::damerau_levenshtein(&said.core, &n.letters), n))
            .filter(|(d, n)| *d <= n.letters.chars().count() / 5)
            .map(|(d, _)| d)
            .min();
        match (near, best) {
            (Some(d), Some(b)) if d == b => hits.push(service),
            (Some(d), Some(b)) if d > b => {}
            (Some(d), _) => {
                best = Some(d);
                hits = vec![service];
            }
            (None, _) => {}
        }
    }
    one_of(hits)
}

/// The one service of `hits`, else why not.
fn one_of(hits: Vec<&Service>) -> Result<&Service, ServiceMatchError> {
    match hits.as_slice() {
        [] => Err(ServiceMatchError::NoMatch),
        [one] => Ok(one),
        many => Err(ServiceMatchError::Ambiguous {
            candidates: many.iter().map(|s| s.name.clone()).collect(),
        }),
    }
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
    /// The meaningful words' letters, in the order said ("einen Damenhaar schnit bitte" →
    /// "damenhaarschnit"): what edit distance compares.
    core: String,
}

impl Phrase {
    fn new(s: &str) -> Self {
        let folded = fold_umlauts(s);
        let letters = folded.chars().filter(|c| c.is_alphanumeric()).collect();
        let meaningful: Vec<String> = folded
            .split(|c: char| !c.is_alphanumeric() && c != '\'')
            .map(|w| w.strip_suffix("'s").unwrap_or(w).replace('\'', ""))
            .filter(|w| !w.is_empty() && !FILLER_WORDS.contains(&w.as_str()))
            .collect();
        let core = meaningful.concat();
        let words = meaningful.into_iter().collect();
        Self {
            letters,
            words,
            core,
        }
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
        match_service(input, services).ok().map(|s| s.id)
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

    #[test]
    fn misheard_names_match_the_closest_service() {
        let s = salon();
        assert_eq!(matched("Damenhaarschnit", &s), Some(2));
        assert_eq!(matched("Farben", &s), Some(3));
        assert_eq!(matched("Herenhaarschnitt", &s), Some(1));
    }

    #[test]
    fn a_tie_names_the_candidates() {
        let s = salon();
        assert_eq!(
            match_service("Haarschnitt", &s).err(),
            Some(ServiceMatchError::Ambiguous {
                candidates: vec!["Herrenhaarschnitt".into(), "Damenhaarschnitt".into()]
            })
        );
    }

    #[test]
    fn input_longer_than_the_bound_is_refused() {
        let s = salon();
        let long = "Herrenschnitt ".repeat(MAX_SERVICE_CHARS / 14 + 1);
        assert_eq!(
            match_service(&long, &s).err(),
            Some(ServiceMatchError::TooLong)
        );
        assert_eq!(matched(&long[..MAX_SERVICE_CHARS], &s), Some(1));
    }
}
