//! Registers as tables: the pure half of CSV import and export.
//!
//! A record type that can be imported from a spreadsheet implements [`Tabular`]: it names its
//! columns and turns one [`Row`] of text fields into a value, or into a list of [`FieldError`]s
//! naming each bad column. The byte-level CSV codec lives outside the core (the `desk-csv`
//! adapter); it feeds rows in and collects [`RowError`]s, so one bad row never aborts a file.
//!
//! Conventions for every table: the first line is a header; column names are matched
//! case-insensitively and in any order; unknown columns are refused (a typo would otherwise lose
//! data silently); empty cells mean "not given"; lists inside a cell are separated by `;`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A problem with one cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The column, as named in [`Tabular::COLUMNS`].
    pub column: String,
    /// What is wrong.
    pub reason: String,
}

impl FieldError {
    /// An error about `column`.
    pub fn new(column: &str, reason: impl fmt::Display) -> Self {
        FieldError { column: column.to_owned(), reason: reason.to_string() }
    }
}

/// A problem with one row of a file (or with the header, row 1).
///
/// JSON shape: `{"row": 7, "column": "email", "reason": "…"}` (`column` is `null` when the
/// problem is the row as a whole).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("row {row}{}: {reason}", .column.as_ref().map(|c| format!(", column {c}")).unwrap_or_default())]
pub struct RowError {
    /// 1-based line of the file where the row starts (the header is row 1).
    pub row: u64,
    /// The column, when one cell is at fault.
    pub column: Option<String>,
    /// What is wrong.
    pub reason: String,
}

/// One data row: its cells, addressed by column name.
#[derive(Debug)]
pub struct Row<'a> {
    columns: &'a [Option<usize>],
    fields: &'a [String],
}

impl<'a> Row<'a> {
    /// The row whose cell for `T::COLUMNS[i]` is `fields[columns[i]]` (`None`: column absent).
    pub fn new(columns: &'a [Option<usize>], fields: &'a [String]) -> Self {
        Row { columns, fields }
    }

    /// The trimmed cell of `column`, or `None` if the column is absent or the cell empty.
    pub fn get(&self, column: &str, all: &[&str]) -> Option<&'a str> {
        let index = all.iter().position(|c| *c == column)?;
        let field = self.columns.get(index).copied().flatten()?;
        self.fields.get(field).map(|f| f.trim()).filter(|f| !f.is_empty())
    }
}

/// A row reader for a [`Tabular`] type, collecting field errors as it goes.
#[derive(Debug)]
pub struct Cells<'a, 'r> {
    row: &'r Row<'a>,
    columns: &'static [&'static str],
    errors: Vec<FieldError>,
}

impl<'a, 'r> Cells<'a, 'r> {
    /// Reads `row` against `columns` (a type's [`Tabular::COLUMNS`]).
    pub fn new(row: &'r Row<'a>, columns: &'static [&'static str]) -> Self {
        Cells { row, columns, errors: Vec::new() }
    }

    /// The cell of `column`, if given.
    pub fn optional(&self, column: &str) -> Option<&'a str> {
        self.row.get(column, self.columns)
    }

    /// The cell of `column`; records an error when it is empty.
    pub fn required(&mut self, column: &str) -> Option<&'a str> {
        let value = self.optional(column);
        if value.is_none() {
            self.errors.push(FieldError::new(column, "is required"));
        }
        value
    }

    /// The cell of `column` parsed as `T`, if given; records an error when it does not parse.
    pub fn parse<T: FromStr>(&mut self, column: &str) -> Option<T>
    where
        T::Err: fmt::Display,
    {
        let text = self.optional(column)?;
        match text.parse() {
            Ok(value) => Some(value),
            Err(error) => {
                self.errors.push(FieldError::new(column, format!("`{text}`: {error}")));
                None
            }
        }
    }

    /// The required cell of `column` parsed as `T`.
    pub fn parse_required<T: FromStr>(&mut self, column: &str) -> Option<T>
    where
        T::Err: fmt::Display,
    {
        if self.optional(column).is_none() {
            self.errors.push(FieldError::new(column, "is required"));
            return None;
        }
        self.parse(column)
    }

    /// The `;`-separated list in `column`, each item parsed as `T` (empty when not given).
    pub fn list<T: FromStr>(&mut self, column: &str) -> Vec<T>
    where
        T::Err: fmt::Display,
    {
        let Some(text) = self.optional(column) else { return Vec::new() };
        let mut items = Vec::new();
        for item in text.split(';').map(str::trim).filter(|item| !item.is_empty()) {
            match item.parse() {
                Ok(value) => items.push(value),
                Err(error) => {
                    self.errors.push(FieldError::new(column, format!("`{item}`: {error}")))
                }
            }
        }
        items
    }

    /// Records an error about `column` found by the caller's own checks.
    pub fn error(&mut self, column: &str, reason: impl fmt::Display) {
        self.errors.push(FieldError::new(column, reason));
    }

    /// `value` if no error was recorded, else every error.
    pub fn finish<T>(self, value: Option<T>) -> Result<T, Vec<FieldError>> {
        match value {
            Some(value) if self.errors.is_empty() => Ok(value),
            _ if self.errors.is_empty() => {
                Err(vec![FieldError::new("", "the row could not be read")])
            }
            _ => Err(self.errors),
        }
    }
}

/// A record type with a table form.
pub trait Tabular: Sized {
    /// Every column, in export order.
    const COLUMNS: &'static [&'static str];
    /// The columns a file must have to be imported.
    const REQUIRED: &'static [&'static str];

    /// Reads one row.
    fn from_row(row: &Row<'_>) -> Result<Self, Vec<FieldError>>;

    /// Writes one row, a cell per entry of [`Tabular::COLUMNS`].
    fn to_row(&self) -> Vec<String>;
}

/// Matches a file's header against `T`'s columns: the file position of each of `T::COLUMNS`.
///
/// Refuses unknown and duplicate columns and missing required ones, as an error about row 1.
pub fn match_header<T: Tabular>(header: &[String]) -> Result<Vec<Option<usize>>, RowError> {
    let mut positions = vec![None; T::COLUMNS.len()];
    for (at, name) in header.iter().enumerate() {
        let name = name.trim().trim_start_matches('\u{feff}');
        let Some(index) = T::COLUMNS.iter().position(|c| c.eq_ignore_ascii_case(name)) else {
            return Err(RowError {
                row: 1,
                column: Some(name.to_owned()),
                reason: format!("unknown column; the columns are {}", T::COLUMNS.join(", ")),
            });
        };
        if positions[index].replace(at).is_some() {
            return Err(RowError {
                row: 1,
                column: Some(name.to_owned()),
                reason: "the column appears twice".to_owned(),
            });
        }
    }
    for required in T::REQUIRED {
        let index = T::COLUMNS.iter().position(|c| c == required);
        if index.and_then(|i| positions[i]).is_none() {
            return Err(RowError {
                row: 1,
                column: Some((*required).to_owned()),
                reason: "required column is missing from the header".to_owned(),
            });
        }
    }
    Ok(positions)
}

/// Reads one data row of a file whose header was matched by [`match_header`].
///
/// `row_number` is the file line the row starts on; every problem becomes a [`RowError`] for it.
pub fn read_row<T: Tabular>(
    row_number: u64,
    columns: &[Option<usize>],
    fields: &[String],
) -> Result<T, Vec<RowError>> {
    let width = columns.iter().flatten().count();
    if fields.len() > width {
        return Err(vec![RowError {
            row: row_number,
            column: None,
            reason: format!(
                "the row has {} cells but the header has {width} columns",
                fields.len()
            ),
        }]);
    }
    T::from_row(&Row::new(columns, fields)).map_err(|errors| {
        errors
            .into_iter()
            .map(|e| RowError {
                row: row_number,
                column: (!e.column.is_empty()).then_some(e.column),
                reason: e.reason,
            })
            .collect()
    })
}

/// Formats an optional value for a cell: empty when `None`.
pub fn cell<T: fmt::Display>(value: Option<&T>) -> String {
    value.map(ToString::to_string).unwrap_or_default()
}

/// Formats a list for a cell: items joined with `;`.
pub fn list_cell<T: fmt::Display>(items: &[T]) -> String {
    items.iter().map(ToString::to_string).collect::<Vec<_>>().join(";")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq)]
    struct Pet {
        name: String,
        legs: u8,
        tags: Vec<String>,
    }

    impl Tabular for Pet {
        const COLUMNS: &'static [&'static str] = &["name", "legs", "tags"];
        const REQUIRED: &'static [&'static str] = &["name", "legs"];

        fn from_row(row: &Row<'_>) -> Result<Self, Vec<FieldError>> {
            let mut cells = Cells::new(row, Self::COLUMNS);
            let name = cells.required("name").map(str::to_owned);
            let legs = cells.parse_required("legs");
            let tags = cells.list("tags");
            let pet = name.zip(legs).map(|(name, legs)| Pet { name, legs, tags });
            cells.finish(pet)
        }

        fn to_row(&self) -> Vec<String> {
            vec![self.name.clone(), self.legs.to_string(), list_cell(&self.tags)]
        }
    }

    fn strings(cells: &[&str]) -> Vec<String> {
        cells.iter().map(|c| (*c).to_owned()).collect()
    }

    #[test]
    fn headers_match_in_any_order_and_case() {
        let columns = match_header::<Pet>(&strings(&["Legs", "NAME"])).unwrap();
        assert_eq!(columns, vec![Some(1), Some(0), None]);
        let pet: Pet = read_row(2, &columns, &strings(&["4", " Rex "])).unwrap();
        assert_eq!(pet, Pet { name: "Rex".into(), legs: 4, tags: vec![] });
    }

    #[test]
    fn bad_headers_are_row_one_errors() {
        let unknown = match_header::<Pet>(&strings(&["name", "legs", "colour"])).unwrap_err();
        assert_eq!((unknown.row, unknown.column.as_deref()), (1, Some("colour")));
        let missing = match_header::<Pet>(&strings(&["name"])).unwrap_err();
        assert_eq!(missing.column.as_deref(), Some("legs"));
        let twice = match_header::<Pet>(&strings(&["name", "legs", "Name"])).unwrap_err();
        assert!(twice.reason.contains("twice"));
    }

    #[test]
    fn every_bad_cell_of_a_row_is_reported() {
        let columns = match_header::<Pet>(&strings(&["name", "legs", "tags"])).unwrap();
        let errors = read_row::<Pet>(5, &columns, &strings(&["", "four", "a;b"])).unwrap_err();
        let described: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            described,
            [
                "row 5, column name: is required",
                "row 5, column legs: `four`: invalid digit found in string"
            ]
        );
        let wide = read_row::<Pet>(6, &columns, &strings(&["a", "1", "", "extra"])).unwrap_err();
        assert_eq!(wide[0].column, None);
    }
}
