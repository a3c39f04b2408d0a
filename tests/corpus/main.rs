//! The caller-phrasing corpus (issue 17): every `tests/corpus/<category>.toml` is a list of
//! things callers say, each with what it must be understood as, relative to a fixed "today"
//! ([`TODAY`], a Wednesday) in Europe/Berlin. One test reads them all, prints a score per
//! category and every miss, and fails when a category scores below [`BAR`] or the corpus is
//! smaller than [`MIN_CASES`].
//!
//! A case (TOML, `[[case]]`):
//! - `say`: the words as the agent's LLM passes them on;
//! - `lang`: `"de"` or `"en"` (what the caller spoke);
//! - `expect`: the value, in the category's form (see its module), or
//! - `clarify = true`: the phrase is truly ambiguous and the expected outcome is a
//!   clarifying question, not a guess (`note` says why);
//! - `today` (optional): another "today" for this case (`YYYY-MM-DD`), e.g. to say
//!   "nächsten Freitag" on a Thursday;
//! - `note` (optional): why the expectation is what it is.
//!
//! Each category's module turns a case into [`Outcome`]s with the parser under test.

mod dates;
mod phones;
mod services;
mod times;
mod windows;

use chrono::NaiveDate;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The corpus's "today": Wednesday, 2 December 2026 (Europe/Berlin).
pub const TODAY: NaiveDate = NaiveDate::from_ymd_opt(2026, 12, 2).unwrap();

/// Share of a category's cases that must be understood as expected.
const BAR: f64 = 0.98;

/// Cases the corpus holds at least (issue 17: at least 300 phrasings).
const MIN_CASES: usize = 300;

/// The language a case was spoken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    De,
    En,
}

/// One phrasing and its expected reading.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub say: String,
    pub lang: Lang,
    #[serde(default)]
    pub expect: Option<String>,
    #[serde(default)]
    pub clarify: bool,
    #[serde(default)]
    pub today: Option<NaiveDate>,
    #[serde(default)]
    pub note: Option<String>,
}

impl Case {
    /// The case's "today".
    pub fn today(&self) -> NaiveDate {
        self.today.unwrap_or(TODAY)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpusFile {
    #[serde(rename = "case")]
    cases: Vec<Case>,
}

/// What a parser made of a case: `Ok` when it is what the corpus expects, else why not.
pub type Outcome = Result<(), String>;

fn check(category: &str, case: &Case) -> Outcome {
    match category {
        "dates" => dates::check(case),
        "times" => times::check(case),
        "phones" => phones::check(case),
        "services" => services::check(case),
        "windows" => windows::check(case),
        other => panic!("tests/corpus/{other}.toml: no such category"),
    }
}

#[test]
fn corpus_is_understood_per_category() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("tests/corpus")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .collect();
    files.sort();
    let mut scores: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    let mut misses = Vec::new();
    for path in &files {
        let category = path.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(path).expect("readable");
        let file: CorpusFile =
            toml::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        for case in &file.cases {
            assert!(
                case.expect.is_some() != case.clarify,
                "{category}: {:?} needs exactly one of `expect` and `clarify`",
                case.say
            );
            let score = scores.entry(category.clone()).or_default();
            score.1 += 1;
            match check(&category, case) {
                Ok(()) => score.0 += 1,
                Err(why) => misses.push(format!(
                    "{category}: {:?} ({:?}): {why}",
                    case.say, case.lang
                )),
            }
        }
    }
    let total: usize = scores.values().map(|s| s.1).sum();
    println!("\ncorpus ({total} phrasings, today {TODAY}):");
    for (category, (passed, all)) in &scores {
        println!(
            "  {category:<10} {passed:>4} / {all:<4} {:>6.1} %",
            100.0 * *passed as f64 / *all as f64
        );
    }
    for miss in &misses {
        println!("  miss: {miss}");
    }
    assert!(
        total >= MIN_CASES,
        "the corpus has {total} phrasings, fewer than {MIN_CASES}"
    );
    for (category, (passed, all)) in &scores {
        assert!(
            *passed as f64 >= BAR * *all as f64,
            "{category}: {passed} of {all} understood, below {:.0} %",
            BAR * 100.0
        );
    }
}
