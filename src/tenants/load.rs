//! Reading a tenant file: TOML text → [`RawTenant`] → [`TenantSpec`], every refusal placed at
//! `file:line:column` and named by its key. The `toml` crate parses twice: once into its
//! span-keeping [`DeTable`] (the map from key paths to places), once into [`RawTenant`].

use super::secrets::FileSecrets;
use std::fmt;
use std::io::Read as _;
use std::ops::Range;
use std::path::{Path, PathBuf};
use switchboard_actors::domain::onboarding::{KeyPart, KeyPath, RawTenant, TenantSpec};
use toml::de::{DeTable, DeValue};

/// Largest tenant file read, bytes (1 MiB): far above any real tenant (100 branches of 100
/// numbers and 500 services fit in a tenth of it), small enough to hold in memory.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// A refusal in a tenant file, shown as `file:line:column: key: message` (line and column
/// 1-based, the column in characters), or `file: message` when it concerns the whole file.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct FileError {
    /// The file as named on the command line.
    pub file: PathBuf,
    /// Line and column of the value or key; `None` for the whole file.
    pub at: Option<(usize, usize)>,
    /// Key path, e.g. `branches[0].phone_numbers[1]`; empty when no key is concerned.
    pub key: String,
    /// Why, for operators; never a secret's value.
    pub message: String,
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, column)) = self.at {
            write!(f, ":{line}:{column}")?;
        }
        if !self.key.is_empty() {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Refusals of one or more files, one per line when shown.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct FileErrors(pub Vec<FileError>);

impl fmt::Display for FileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// A parsed tenant file: the tenant as written and where each key and value stands.
#[derive(Debug)]
pub struct TenantFile {
    /// The file as named (shown in messages).
    pub path: PathBuf,
    /// The tenant as written.
    pub raw: RawTenant,
    /// `file:` secrets are read relative to this directory.
    dir: PathBuf,
    text: String,
    /// Every key path of the document, where it is written.
    places: Vec<Place>,
}

impl TenantFile {
    /// Reads and parses the file at `path` (at most [`MAX_FILE_BYTES`]).
    ///
    /// # Errors
    /// The file cannot be read, is too large or not UTF-8, is not TOML, or does not have the
    /// shape of a tenant (unknown or missing keys, wrong types), each placed at its line.
    pub fn read(path: &Path) -> Result<Self, FileErrors> {
        let whole = |message: String| {
            FileErrors(vec![FileError {
                file: path.to_owned(),
                at: None,
                key: String::new(),
                message,
            }])
        };
        let file = std::fs::File::open(path).map_err(|e| whole(format!("cannot read: {e}")))?;
        // Read one byte past the limit rather than trust the size: the file may grow.
        let mut bytes = Vec::new();
        file.take(MAX_FILE_BYTES + 1)
            .read_to_end(&mut bytes)
            .map_err(|e| whole(format!("cannot read: {e}")))?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(whole(format!(
                "is larger than {MAX_FILE_BYTES} bytes, the most a tenant file may have"
            )));
        }
        let text = String::from_utf8(bytes).map_err(|_| whole("is not UTF-8 text".into()))?;
        let dir = path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_owned();
        Self::parse(path, &dir, text)
    }

    /// Parses `text` as the tenant file `name` whose `file:` secrets live in `dir` (embedded
    /// files, such as the sandbox's, have no file on disk).
    ///
    /// # Errors
    /// As [`TenantFile::read`], except reading.
    pub fn parse(name: &Path, dir: &Path, text: String) -> Result<Self, FileErrors> {
        let document = DeTable::parse(&text).map_err(|e| {
            let at = e.span().map(|span| line_column(&text, span.start));
            FileErrors(vec![FileError {
                file: name.to_owned(),
                at,
                key: String::new(),
                message: e.message().trim_end().to_owned(),
            }])
        })?;
        let mut places = Vec::new();
        collect(&KeyPath::default(), document.get_ref(), &mut places);
        let mut file = Self {
            path: name.to_owned(),
            raw: RawTenant::default(),
            dir: dir.to_owned(),
            text,
            places,
        };
        file.raw = toml::from_str(&file.text).map_err(|e| {
            let (at, key) = match e.span() {
                Some(span) => (Some(file.line_column(span.start)), file.key_at(span.start)),
                None => (None, String::new()),
            };
            FileErrors(vec![FileError {
                file: file.path.clone(),
                at,
                key,
                message: e.message().trim_end().to_owned(),
            }])
        })?;
        Ok(file)
    }

    /// Validates the tenant ([`TenantSpec::from_raw`]), reading `env:` and `file:` secrets.
    ///
    /// # Errors
    /// Every refused value, placed at its line.
    pub fn validate(&self) -> Result<TenantSpec, FileErrors> {
        let secrets = FileSecrets::new(&self.dir);
        let resolve = |written: &str| secrets.resolve(written);
        TenantSpec::from_raw(&self.raw, &resolve).map_err(|errors| {
            FileErrors(
                errors
                    .into_iter()
                    .map(|e| self.error_at(&e.path, e.message))
                    .collect(),
            )
        })
    }

    /// A refusal of the value at `path`, placed at its line (or the nearest enclosing key
    /// written, e.g. the table of a key left out).
    pub fn error_at(&self, path: &KeyPath, message: impl Into<String>) -> FileError {
        FileError {
            file: self.path.clone(),
            at: Some(self.line_column(self.offset_of(path))),
            key: path.to_string(),
            message: message.into(),
        }
    }

    fn offset_of(&self, path: &KeyPath) -> usize {
        let mut parts = path.0.as_slice();
        loop {
            if let Some(place) = self.places.iter().find(|p| p.path.0 == parts) {
                return place.at;
            }
            match parts.split_last() {
                Some((_, rest)) => parts = rest,
                None => return 0,
            }
        }
    }

    /// The innermost key whose key or value holds byte `offset`.
    fn key_at(&self, offset: usize) -> String {
        self.places
            .iter()
            .filter(|p| p.range.contains(&offset))
            .max_by_key(|p| p.path.0.len())
            .map(|p| p.path.to_string())
            .unwrap_or_default()
    }

    fn line_column(&self, offset: usize) -> (usize, usize) {
        line_column(&self.text, offset)
    }
}

/// 1-based line and column (in characters) of byte `offset` of `text`.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset).unwrap_or(text);
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (
        before.matches('\n').count() + 1,
        before[line_start..].chars().count() + 1,
    )
}

/// Where a key path is written.
#[derive(Debug)]
struct Place {
    path: KeyPath,
    /// Byte offset a refusal of it points at: the value where the value is one line (a
    /// refusal of its text lands on it), else the key (`[policy]`, `[[branches]]`).
    at: usize,
    /// From the key to the end of the value: refusals inside it belong to this path.
    range: Range<usize>,
}

fn collect(path: &KeyPath, table: &DeTable<'_>, places: &mut Vec<Place>) {
    for (key, value) in table {
        let here = child(path, KeyPart::Key(key.get_ref().to_string()));
        let (key_span, span) = (key.span(), value.span());
        let start = key_span.start.min(span.start);
        let at = match value.get_ref() {
            DeValue::Table(_) | DeValue::Array(_) => start,
            _ => span.start,
        };
        places.push(Place {
            path: here.clone(),
            at,
            range: start..span.end.max(key_span.end),
        });
        nested(&here, value.get_ref(), places);
    }
}

fn nested(path: &KeyPath, value: &DeValue<'_>, places: &mut Vec<Place>) {
    match value {
        DeValue::Table(table) => collect(path, table, places),
        DeValue::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let here = child(path, KeyPart::Index(i));
                places.push(Place {
                    path: here.clone(),
                    at: item.span().start,
                    range: item.span(),
                });
                nested(&here, item.get_ref(), places);
            }
        }
        _ => {}
    }
}

fn child(path: &KeyPath, part: KeyPart) -> KeyPath {
    let mut parts = path.0.clone();
    parts.push(part);
    KeyPath(parts)
}
