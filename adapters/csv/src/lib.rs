//! `desk-csv`: CSV files in and out of the desk's registers (people, assets).
//!
//! The core says what a row means ([`desk_core::tabular::Tabular`]); this crate reads and writes
//! the bytes with the `csv` crate. Import never aborts on a bad row: each row is either a record
//! or a list of [`RowError`]s (row, column, reason), and the rest of the file is still read.
//! Only a file that cannot be read at all (no header, an unreadable header, an IO error) fails
//! as a whole.
//!
//! Exports are safe to open in a spreadsheet: a cell that begins with `=`, `+`, `-`, `@`, a tab
//! or a carriage return would be run as a formula there, so it is written with a leading
//! apostrophe (`'=HYPERLINK(…)`), which spreadsheets show as text. Import removes that
//! apostrophe again, so export → import gives back exactly what was exported.

use std::io;

use desk_core::tabular::{RowError, Tabular, match_header, read_row};

/// The whole file could not be read.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CsvError {
    /// The file is empty: it has no header row.
    #[error("the file is empty: a header row is needed")]
    Empty,
    /// The header row is not acceptable.
    #[error("{0}")]
    Header(RowError),
    /// Reading or writing failed.
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// What an import found: the good rows and the bad ones.
#[derive(Debug)]
pub struct Import<T> {
    /// Each good record with the file line it started on.
    pub records: Vec<(u64, T)>,
    /// Every problem, in file order.
    pub errors: Vec<RowError>,
}

impl<T> Import<T> {
    /// Whether every row was read.
    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }
}

/// Reads a CSV file of `T` records.
///
/// The file is read into memory first (registers are small), so that each row's line number is
/// exact even after blank lines, which the CSV reader skips without counting them in the next
/// record's position.
pub fn import<T: Tabular>(mut input: impl io::Read) -> Result<Import<T>, CsvError> {
    let mut bytes = Vec::new();
    input.read_to_end(&mut bytes)?;
    let line_of = |position: Option<&csv::Position>| position.map_or(0, |p| start_line(&bytes, p));
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(&bytes[..]);
    let mut rows = reader.byte_records();
    let header = match rows.next() {
        None => return Err(CsvError::Empty),
        Some(Ok(record)) => text_fields(&record)
            .map_err(|reason| CsvError::Header(RowError { row: 1, column: None, reason }))?,
        Some(Err(error)) => return Err(whole_file_error(error)),
    };
    let columns = match_header::<T>(&header).map_err(CsvError::Header)?;
    let mut import = Import { records: Vec::new(), errors: Vec::new() };
    for row in rows {
        match row {
            Ok(record) => {
                let line = line_of(record.position());
                if record.iter().all(|field| field.iter().all(u8::is_ascii_whitespace)) {
                    continue;
                }
                match text_fields(&record) {
                    Ok(fields) => match read_row::<T>(line, &columns, &fields) {
                        Ok(value) => import.records.push((line, value)),
                        Err(errors) => import.errors.extend(errors),
                    },
                    Err(reason) => import.errors.push(RowError { row: line, column: None, reason }),
                }
            }
            Err(error) => {
                let line = line_of(error.position());
                if let csv::ErrorKind::Io(_) = error.kind() {
                    return Err(whole_file_error(error));
                }
                import.errors.push(RowError { row: line, column: None, reason: error.to_string() });
            }
        }
    }
    Ok(import)
}

/// Writes `records` as a CSV file with a header row.
pub fn export<'a, T: Tabular + 'a>(
    output: impl io::Write,
    records: impl IntoIterator<Item = &'a T>,
) -> Result<(), CsvError> {
    let mut writer = csv::Writer::from_writer(output);
    writer.write_record(T::COLUMNS).map_err(whole_file_error)?;
    for record in records {
        let row = record.to_row().into_iter().map(defuse);
        writer.write_record(row.collect::<Vec<String>>()).map_err(whole_file_error)?;
    }
    writer.flush()?;
    Ok(())
}

/// The line a record starts on: the reader's position, moved past any blank lines it skipped.
fn start_line(bytes: &[u8], position: &csv::Position) -> u64 {
    let from = usize::try_from(position.byte()).unwrap_or(usize::MAX);
    let skipped = bytes
        .get(from..)
        .unwrap_or_default()
        .iter()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .filter(|b| **b == b'\n')
        .count();
    position.line() + skipped as u64
}

fn text_fields(record: &csv::ByteRecord) -> Result<Vec<String>, String> {
    record
        .iter()
        .enumerate()
        .map(|(n, field)| {
            String::from_utf8(field.to_vec()).map(restore).map_err(|_| {
                format!("cell {} is not UTF-8 text (save the file as CSV UTF-8)", n + 1)
            })
        })
        .collect()
}

/// Whether a spreadsheet would read `cell` as a formula, or it is already a cell written with
/// the apostrophe that stops one (so that the apostrophe survives a round trip).
fn needs_apostrophe(cell: &str) -> bool {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => true,
        Some('\'') => needs_apostrophe(&cell[1..]),
        _ => false,
    }
}

/// `cell` as written to a file: with a leading apostrophe when a spreadsheet would otherwise
/// run it as a formula.
fn defuse(cell: String) -> String {
    if needs_apostrophe(&cell) { format!("'{cell}") } else { cell }
}

/// `cell` as read from a file: without the apostrophe [`defuse`] added.
fn restore(cell: String) -> String {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_apostrophe(rest) => rest.to_owned(),
        _ => cell,
    }
}

fn whole_file_error(error: csv::Error) -> CsvError {
    match error.into_kind() {
        csv::ErrorKind::Io(io) => CsvError::Io(io),
        other => CsvError::Io(io::Error::new(io::ErrorKind::InvalidData, format!("{other:?}"))),
    }
}

#[cfg(test)]
mod tests {
    use desk_core::tabular::{Cells, FieldError, Row, list_cell};

    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct Kit {
        tag: String,
        seats: u32,
        owners: Vec<String>,
    }

    impl Tabular for Kit {
        const COLUMNS: &'static [&'static str] = &["tag", "seats", "owners"];
        const REQUIRED: &'static [&'static str] = &["tag"];

        fn from_row(row: &Row<'_>) -> Result<Self, Vec<FieldError>> {
            let mut cells = Cells::new(row, Self::COLUMNS);
            let tag = cells.required("tag").map(str::to_owned);
            let seats = cells.parse("seats").unwrap_or(1);
            let owners = cells.list("owners");
            cells.finish(tag.map(|tag| Kit { tag, seats, owners }))
        }

        fn to_row(&self) -> Vec<String> {
            vec![self.tag.clone(), self.seats.to_string(), list_cell(&self.owners)]
        }
    }

    #[test]
    fn bad_rows_are_reported_and_the_rest_is_read() {
        let file = b"tag,seats,owners\nA1,2,x;y\n,3,\nA3,lots,\nA4,1,\"quoted, comma\"\n\xff\xfe,1,\nA6,1,,extra\n";
        let import = import::<Kit>(&file[..]).unwrap();
        let tags: Vec<(u64, &str)> =
            import.records.iter().map(|(n, k)| (*n, k.tag.as_str())).collect();
        assert_eq!(tags, [(2, "A1"), (5, "A4")]);
        let problems: Vec<(u64, Option<&str>)> =
            import.errors.iter().map(|e| (e.row, e.column.as_deref())).collect();
        assert_eq!(problems, [(3, Some("tag")), (4, Some("seats")), (6, None), (7, None)]);
        assert_eq!(import.records[1].1.owners, ["quoted, comma"]);
    }

    #[test]
    fn rows_after_blank_lines_keep_their_line_numbers() {
        let file = b"tag,seats\r\nA1,1\r\n\r\n\r\nA4,x\n\nA6,2\n";
        let import = import::<Kit>(&file[..]).unwrap();
        let rows: Vec<u64> = import.records.iter().map(|(n, _)| *n).collect();
        assert_eq!(rows, [2, 7]);
        assert_eq!(import.errors.iter().map(|e| e.row).collect::<Vec<_>>(), [5]);
    }

    #[test]
    fn export_then_import_gives_the_same_records() {
        let kits = vec![
            Kit { tag: "T-1".into(), seats: 5, owners: vec!["a".into(), "b c".into()] },
            Kit { tag: "T-2, \"odd\"".into(), seats: 1, owners: vec![] },
        ];
        let mut bytes = Vec::new();
        export(&mut bytes, &kits).unwrap();
        let back = import::<Kit>(&bytes[..]).unwrap();
        assert!(back.is_clean(), "{:?}", back.errors);
        let records: Vec<Kit> = back.records.into_iter().map(|(_, k)| k).collect();
        assert_eq!(records, kits);
    }

    #[test]
    fn cells_a_spreadsheet_would_run_are_exported_as_text_and_read_back_unchanged() {
        // Given tags a spreadsheet would take for formulas, and ones that only look close
        let tags = [
            "=HYPERLINK(\"http://x\")",
            "+44 1632",
            "-1",
            "@SUM(A1)",
            "'=1+1",
            "''-2",
            "'t Hooft",
            "a=b",
        ];
        let kits: Vec<Kit> =
            tags.iter().map(|tag| Kit { tag: (*tag).into(), seats: 1, owners: vec![] }).collect();
        // When they are exported
        let mut bytes = Vec::new();
        export(&mut bytes, &kits).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        // Then no cell starts a formula, and the others are written as they are
        for line in text.lines().skip(1) {
            let first = line.trim_start_matches('"').chars().next();
            assert!(!matches!(first, Some('=' | '+' | '-' | '@')), "{line}");
        }
        assert!(text.contains("\n'=HYPERLINK") || text.contains("\n\"'=HYPERLINK"), "{text}");
        assert!(text.contains("\n'-1,") && text.contains("\n't Hooft,") && text.contains("\na=b,"));
        // And importing gives back exactly what was exported
        let back = import::<Kit>(&bytes[..]).unwrap();
        let read: Vec<String> = back.records.into_iter().map(|(_, kit)| kit.tag).collect();
        assert_eq!(read, tags);
    }

    #[test]
    fn a_file_without_a_usable_header_fails_as_a_whole() {
        assert!(matches!(import::<Kit>(&b""[..]), Err(CsvError::Empty)));
        let err = import::<Kit>(&b"tag,colour\nA,red\n"[..]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "row 1, column colour: unknown column; the columns are tag, seats, owners"
        );
    }
}
