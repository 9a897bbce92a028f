//! Reading TOML with errors that name the file, the line, the key and what is wrong.
//!
//! [`TomlSource`] parses a document once, keeping the position of every key. Serde errors are
//! mapped to the innermost key that contains them; checks made after deserialising (a team that
//! names an unknown tier, a calendar period that ends before it starts) name a [`KeyPath`] and get
//! the line of that key. Every configuration file the desk reads (desk configuration, calendars,
//! SLA policies) goes through here, so their errors look alike.

use std::fmt;
use std::ops::Range;

use serde::de::DeserializeOwned;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

/// A configuration file is invalid.
///
/// Displays as `desk.toml:12:1: team[2].tier: unknown tier "fourth_line"`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {}{message}", key_prefix(.key))]
pub struct ConfigError {
    /// The file, as the caller named it.
    pub file: String,
    /// 1-based line of the offending key or value.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// Dotted path of the offending key, e.g. `team[2].tier`; empty for a syntax error.
    pub key: String,
    /// What is wrong.
    pub message: String,
}

fn key_prefix(key: &str) -> String {
    if key.is_empty() { String::new() } else { format!("{key}: ") }
}

/// One step in a [`KeyPath`].
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

/// The path to a key in a TOML document, e.g. `team[2].tier`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(Vec<Segment>);

impl KeyPath {
    /// The document itself.
    pub fn root() -> Self {
        KeyPath(Vec::new())
    }

    /// This path, then `key`.
    pub fn key(&self, key: impl Into<String>) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Key(key.into()));
        next
    }

    /// This path, then array element `index` (0-based; shown 0-based, as in TOML tools).
    pub fn index(&self, index: usize) -> Self {
        let mut next = self.clone();
        next.0.push(Segment::Index(index));
        next
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if n == 0 => f.write_str(key)?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// A parsed TOML document that remembers where each key is.
pub struct TomlSource<'a> {
    file: &'a str,
    text: &'a str,
    document: Spanned<DeTable<'a>>,
}

impl fmt::Debug for TomlSource<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TomlSource").field("file", &self.file).finish_non_exhaustive()
    }
}

impl<'a> TomlSource<'a> {
    /// Parses `text`, read from `file` (the name is only used in errors).
    pub fn parse(file: &'a str, text: &'a str) -> Result<Self, ConfigError> {
        match DeTable::parse(text) {
            Ok(document) => Ok(TomlSource { file, text, document }),
            Err(error) => {
                let offset = error.span().map_or(0, |span| span.start);
                let (line, column) = line_and_column(text, offset);
                Err(ConfigError {
                    file: file.to_owned(),
                    line,
                    column,
                    key: String::new(),
                    message: first_line(error.message()),
                })
            }
        }
    }

    /// Deserialises the whole document; a mismatch names the innermost key it concerns.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, ConfigError> {
        toml::from_str(self.text).map_err(|error| {
            let span = error.span().unwrap_or(0..0);
            let path = self.path_at(&span);
            self.error_at(span.start, &path, first_line(error.message()))
        })
    }

    /// An error about the key at `path` (or the nearest enclosing key that exists).
    pub fn error(&self, path: &KeyPath, message: impl fmt::Display) -> ConfigError {
        let offset = self.offset_of(path);
        self.error_at(offset, path, message.to_string())
    }

    /// The file name given to [`TomlSource::parse`].
    pub fn file(&self) -> &str {
        self.file
    }

    fn error_at(&self, offset: usize, path: &KeyPath, message: String) -> ConfigError {
        let (line, column) = line_and_column(self.text, offset);
        ConfigError { file: self.file.to_owned(), line, column, key: path.to_string(), message }
    }

    /// The innermost key whose key or value contains `span`.
    ///
    /// A table's span covers only its header, so every entry is searched and the deepest match wins.
    fn path_at(&self, span: &Range<usize>) -> KeyPath {
        fn search(
            value: &DeValue<'_>,
            span: &Range<usize>,
            path: &mut Vec<Segment>,
            best: &mut Vec<Segment>,
        ) {
            match value {
                DeValue::Table(table) => {
                    for (key, value) in table.iter() {
                        path.push(Segment::Key(key.get_ref().to_string()));
                        if (contains(&key.span(), span) || contains(&value.span(), span))
                            && path.len() > best.len()
                        {
                            best.clone_from(path);
                        }
                        search(value.get_ref(), span, path, best);
                        path.pop();
                    }
                }
                DeValue::Array(items) => {
                    for (index, item) in items.iter().enumerate() {
                        path.push(Segment::Index(index));
                        if contains(&item.span(), span) && path.len() > best.len() {
                            best.clone_from(path);
                        }
                        search(item.get_ref(), span, path, best);
                        path.pop();
                    }
                }
                _ => {}
            }
        }
        let mut best = Vec::new();
        let root = DeValue::Table(self.document.get_ref().clone());
        search(&root, span, &mut Vec::new(), &mut best);
        KeyPath(best)
    }

    /// Where the key at `path` starts, or the nearest existing ancestor.
    fn offset_of(&self, path: &KeyPath) -> usize {
        let mut offset = 0;
        let mut current: Option<&Spanned<DeValue<'a>>> = None;
        let mut table = Some(self.document.get_ref());
        for segment in &path.0 {
            match segment {
                Segment::Key(wanted) => {
                    let Some(entries) = table else { break };
                    let Some((key, value)) =
                        entries.iter().find(|(key, _)| key.get_ref().as_ref() == wanted.as_str())
                    else {
                        break;
                    };
                    offset = key.span().start;
                    current = Some(value);
                }
                Segment::Index(index) => {
                    let Some(DeValue::Array(items)) = current.map(Spanned::get_ref) else { break };
                    let Some(item) = items.get(*index) else { break };
                    offset = item.span().start;
                    current = Some(item);
                }
            }
            table = match current.map(Spanned::get_ref) {
                Some(DeValue::Table(inner)) => Some(inner),
                _ => None,
            };
        }
        offset
    }
}

fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end.max(outer.start + 1)
}

fn first_line(message: &str) -> String {
    message.lines().next().unwrap_or_default().trim().to_owned()
}

/// 1-based line and column (in characters) of byte `offset` in `text`.
pub fn line_and_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |n| n + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Doc {
        name: String,
        #[serde(default)]
        team: Vec<Team>,
        #[serde(default)]
        limits: Option<Limits>,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Team {
        id: String,
        size: u32,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Limits {
        max: u32,
    }

    fn check(text: &str) -> ConfigError {
        let source = TomlSource::parse("test.toml", text).unwrap();
        source.deserialize::<Doc>().unwrap_err()
    }

    #[test]
    fn syntax_errors_name_file_and_line() {
        let err = TomlSource::parse("desk.toml", "name = \"x\"\n\nbroken = = 1\n").unwrap_err();
        assert_eq!((err.file.as_str(), err.line), ("desk.toml", 3));
        assert!(err.key.is_empty());
        assert!(err.to_string().starts_with("desk.toml:3:"), "{err}");
    }

    #[test]
    fn type_errors_name_the_key_inside_an_array_of_tables() {
        let text = "name = \"x\"\n\n[[team]]\nid = \"a\"\nsize = 1\n\n[[team]]\nid = \"b\"\nsize = \"big\"\n";
        let err = check(text);
        assert_eq!(err.line, 9, "{err}");
        assert_eq!(err.key, "team[1].size", "{err}");
    }

    #[test]
    fn unknown_keys_are_named() {
        let text = "name = \"x\"\n[limits]\nmax = 3\nmaks = 4\n";
        let err = check(text);
        assert_eq!((err.line, err.key.as_str()), (4, "limits.maks"), "{err}");
        assert!(err.message.contains("unknown field"), "{err}");
    }

    #[test]
    fn missing_keys_name_the_enclosing_table() {
        let text = "name = \"x\"\n[[team]]\nid = \"a\"\n";
        let err = check(text);
        assert_eq!(err.key, "team[0]", "{err}");
        assert!(err.message.contains("size"), "{err}");
    }

    #[test]
    fn checks_after_deserialising_locate_their_key() {
        let text = "name = \"x\"\n[[team]]\nid = \"a\"\nsize = 1\n[[team]]\nid = \"b\"\nsize = 0\n";
        let source = TomlSource::parse("t.toml", text).unwrap();
        let err =
            source.error(&KeyPath::root().key("team").index(1).key("size"), "must be positive");
        assert_eq!(err.to_string(), "t.toml:7:1: team[1].size: must be positive");
        let missing = source.error(&KeyPath::root().key("nowhere").key("deep"), "absent");
        assert_eq!(missing.line, 1);
    }

    #[test]
    fn columns_count_characters() {
        assert_eq!(line_and_column("ab\ncdé f", 8), (2, 5));
        assert_eq!(line_and_column("", 10), (1, 1));
    }
}
