//! Reading tool args leniently: LLMs send strings, numbers or booleans, under German names or
//! English aliases.

use serde_json::{Map, Value};

/// One argument of a custom function: the German name the tool schema gives the agent's LLM,
/// and the aliases (mostly English) that LLMs send instead and that are read the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Arg {
    /// German name, as in the tool schema, e.g. `datum`.
    pub name: &'static str,
    /// Other names read as this argument, in lookup order, e.g. `date`.
    pub aliases: &'static [&'static str],
}

impl Arg {
    /// The name, then the aliases: the order in which [`Arg::text`] looks.
    pub fn names(&self) -> impl Iterator<Item = &'static str> {
        std::iter::once(self.name).chain(self.aliases.iter().copied())
    }

    /// The first present, non-empty value under the name or an alias, as trimmed text;
    /// numbers and booleans in JSON notation. Any other value counts as not given.
    pub fn text(&self, args: &Map<String, Value>) -> Option<String> {
        self.names().find_map(|n| match args.get(n)? {
            Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        })
    }
}

/// The date argument; `ab_datum`/`from_date` read as the first day of a search.
pub const DATE: Arg = Arg {
    name: "datum",
    aliases: &["date", "ab_datum", "from_date"],
};
/// The time argument.
pub const TIME: Arg = Arg {
    name: "uhrzeit",
    aliases: &["time"],
};
/// One service, by name.
pub const SERVICE: Arg = Arg {
    name: "dienstleistung",
    aliases: &["service"],
};
/// Several services: a list, or one comma- or semicolon-separated string.
pub const SERVICES: Arg = Arg {
    name: "dienstleistungen",
    aliases: &["services"],
};
