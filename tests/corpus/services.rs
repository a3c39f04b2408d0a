//! The `services` category (tests/corpus/services.toml): which service [`match_service`]
//! chooses from [`CATALOGUE`] for what the caller said, as every function that takes a
//! service does.
//!
//! `expect` is the service's name, or `"none"` when nothing offered may be chosen (the agent
//! names what is offered); `clarify = true` means several services match equally well and
//! the caller must be asked which ([`ServiceMatchError::Ambiguous`]).

use super::{Case, Outcome};
use switchboard_actors::domain::ids::{CompanyId, EventTypeId};
use switchboard_actors::domain::service_match::{ServiceMatchError, match_service};
use switchboard_actors::domain::tenant::Service;

/// What `expect` says when no service may be chosen.
const NONE: &str = "none";

/// The catalogue: the demo salon's services (examples/tenants) with the aliases a salon would
/// configure, plus the usual other salon services and two of a clinic's. Misspellings are
/// not aliases: matching them is the matcher's job.
const CATALOGUE: &[(&str, &[&str])] = &[
    (
        "Herrenhaarschnitt",
        &[
            "Herrenschnitt",
            "Männerhaarschnitt",
            "Männerschnitt",
            "Haare schneiden Männer",
            "men's haircut",
            "gents cut",
        ],
    ),
    (
        "Damenhaarschnitt",
        &[
            "Damenschnitt",
            "Frauenhaarschnitt",
            "Haare schneiden Frauen",
            "women's haircut",
            "ladies cut",
        ],
    ),
    (
        "Kinderhaarschnitt",
        &[
            "Kinderschnitt",
            "Haare schneiden Kinder",
            "children's haircut",
            "kids haircut",
        ],
    ),
    (
        "Färben",
        &[
            "Farbe",
            "Haare färben",
            "Färbung",
            "Tönung",
            "Coloration",
            "colouring",
            "coloring",
            "hair colour",
            "hair color",
            "dye",
        ],
    ),
    ("Strähnchen", &["Highlights", "Foliensträhnen", "Balayage"]),
    (
        "Bartrasur",
        &[
            "Rasur",
            "Bart rasieren",
            "Bart trimmen",
            "Bartpflege",
            "beard trim",
            "shave",
        ],
    ),
    ("Dauerwelle", &["Locken", "perm"]),
    (
        "Beratung",
        &["Typberatung", "Beratungsgespräch", "consultation"],
    ),
    (
        "Waschen, Schneiden, Föhnen",
        &["wash cut and blow dry", "wash and cut"],
    ),
    (
        "Massage",
        &["Rückenmassage", "Nackenmassage", "back massage"],
    ),
    (
        "Maniküre",
        &["Nägel machen", "Nagelpflege", "manicure", "nails"],
    ),
];

fn catalogue() -> Vec<Service> {
    CATALOGUE
        .iter()
        .zip(1..)
        .map(|((name, aliases), id)| Service {
            id,
            company_id: CompanyId(1),
            name: (*name).to_owned(),
            aliases: aliases.iter().map(|a| (*a).to_owned()).collect(),
            duration_min: 30,
            event_type_id: EventTypeId(100 + id),
            team_id: None,
            branch_ids: Vec::new(),
        })
        .collect()
}

/// Checks one case of `services.toml`.
pub fn check(case: &Case) -> Outcome {
    let services = catalogue();
    let got = match_service(&case.say, &services);
    match (got, case.expect.as_deref()) {
        (Err(ServiceMatchError::Ambiguous { .. }), None) => Ok(()),
        (Err(ServiceMatchError::NoMatch), Some(NONE)) => Ok(()),
        (Ok(s), Some(want)) if s.name == want => Ok(()),
        (Ok(s), want) => Err(format!(
            "chose {:?}, expected {}",
            s.name,
            want.unwrap_or("a question")
        )),
        (Err(e), want) => Err(format!("{e}, expected {}", want.unwrap_or("a question"))),
    }
}
