//! Text search on SQLite: the full-text query of a search's words, the newest-first search that
//! stops after its page, and what the projector keeps for both.
//!
//! **Word prefixes.** A search word matches every word it begins. FTS5 answers a prefix of one
//! to three characters from its prefix indexes (see [`crate::schema`]), reading the matches
//! one by one; a longer prefix it answers by merging every matching word's whole list of rows
//! before returning the first (about 30 ms for a word in every sixteenth of a million rows).
//! So the projector keeps every word it has indexed in `search_vocab`, and a longer prefix is
//! asked as the words it begins, `("revenue" OR "revenues")`, which FTS5 reads one match at a
//! time like any word. A prefix that begins no word at all answers the search at once.
//! Deleting a row (anonymising a person, retention) removes those of its words no other row
//! has, so that the vocabulary never keeps a name the rows no longer hold.
//!
//! **Newest first.** Full-text indexes list each word's rows in rowid order, and FTS5 reads
//! matches of several words, newest rowid first, without gathering them (`ORDER BY rowid DESC`
//! and a `LIMIT`). Rows get rowids as they are first indexed, so rowid order is nearly the order
//! of creation, but not exactly (records imported with their old dates, clocks of several
//! processes). `row_blocks` keeps, for each block of [`BLOCK_ROWS`] rowids, the earliest and
//! latest creation time of the rows given a rowid there (a bound that only widens). A newest
//! first search reads matches in rowid order, in growing chunks, keeps the best page, and stops
//! as soon as no row below the last one read can be newer than the page's last: the latest
//! creation time of the blocks below says so. A page after a cursor starts at the highest block
//! holding a row not newer than the cursor. The page is exact whatever the rowids; when they
//! follow creation it costs a page of matches, however common the words.

use std::collections::{BTreeMap, BTreeSet};

use desk::contract::{self, SortKey};
use desk::store::{Order, Query, RecordRow, StoreError};
use desk_sql::{SearchScope, Statement, Value, to_json};
use rusqlite::Connection;

use crate::{Sqlite, backend, read_rows, sql_params};

/// How many rowids make a block of `row_blocks` (a power of two).
pub(crate) const BLOCK_BITS: u32 = 12;

/// How many rowids make a block of `row_blocks`.
pub(crate) const BLOCK_ROWS: i64 = 1 << BLOCK_BITS;

/// The most words a prefix of four or more characters is asked as; a prefix beginning more is
/// left to FTS5's own prefix search.
const MOST_WORDS: usize = 64;

/// The first chunk of matches a newest-first search reads; each next one is four times larger,
/// up to [`LAST_CHUNK`].
const FIRST_CHUNK: i64 = 64;

/// The largest chunk of matches a newest-first search reads at once.
const LAST_CHUNK: i64 = 4_096;

/// The FTS5 query that matches rows having each of `terms` (from
/// [`contract::search_terms`]) as a word prefix, or `None` when one of them begins no word the
/// desk has indexed (nothing matches).
pub(crate) fn match_expression(
    connection: &Connection,
    terms: &[String],
) -> Result<Option<String>, StoreError> {
    let mut parts = Vec::with_capacity(terms.len());
    let mut select = connection
        .prepare_cached("SELECT word FROM search_vocab WHERE word >= ?1 ORDER BY word LIMIT ?2")
        .map_err(backend)?;
    for term in terms {
        // Terms are letters and digits only: quoting them needs no escapes.
        if term.chars().count() <= 3 {
            parts.push(format!("\"{term}\"*"));
            continue;
        }
        let limit = i64::try_from(MOST_WORDS + 1).unwrap_or(i64::MAX);
        let mut words = Vec::new();
        let mut rows = select.query((term, limit)).map_err(backend)?;
        while let Some(row) = rows.next().map_err(backend)? {
            let word: String = row.get(0).map_err(backend)?;
            if !word.starts_with(term.as_str()) {
                break;
            }
            words.push(format!("\"{word}\""));
        }
        match words.len() {
            0 => return Ok(None),
            1 => parts.push(words.remove(0)),
            n if n <= MOST_WORDS => parts.push(format!("({})", words.join(" OR "))),
            _ => parts.push(format!("\"{term}\"*")),
        }
    }
    // FTS5 takes a bracketed group after a phrase only with an explicit AND.
    Ok(Some(parts.join(" AND ")))
}

/// The search index table of `scope`.
pub(crate) fn table(scope: SearchScope) -> &'static str {
    match scope {
        SearchScope::All => "row_search",
        SearchScope::Open => "row_search_open",
    }
}

/// A match of a newest-first search that passed the query's other conditions.
struct Found {
    created: i64,
    sort_key: String,
    rowid: i64,
}

/// The rows of a [`Order::Newest`] `query` whose words `expression` matches: at most one more
/// than its page, in no particular order (see the module docs).
pub(crate) fn newest(
    connection: &Connection,
    query: &Query,
    expression: String,
) -> Result<Vec<RecordRow>, StoreError> {
    debug_assert_eq!(query.order, Order::Newest);
    let wanted = contract::page_size(query) + 1;
    let search = table(SearchScope::of(&query.filter));
    let mut statement = Statement::default();
    let condition = desk_sql::condition_besides_words(&Sqlite, query, &mut statement)?;
    let words = statement.bind(&Sqlite, Value::Text(expression));
    let below = statement.bind(&Sqlite, Value::Int(i64::MAX));
    let limit = statement.bind(&Sqlite, Value::Int(FIRST_CHUNK));
    let sql = format!(
        "SELECT m.rowid, r.created_key, r.sort_key, coalesce(({condition}), 0)
         FROM (SELECT rowid FROM {search} WHERE {search} MATCH {words} AND rowid < {below}
               ORDER BY rowid DESC LIMIT {limit}) m
         LEFT JOIN rows r ON r.rowid = m.rowid"
    );
    let mut params = sql_params(statement.params);
    let (below_at, limit_at) = (params.len() - 2, params.len() - 1);
    if let Some(cursor) = &query.after {
        let key = SortKey::from_cursor(query.order, cursor)?;
        let created = key.numbers.first().copied().unwrap_or(i64::MAX);
        match first_block_not_newer(connection, created)? {
            Some(block) => params[below_at] = rusqlite::types::Value::Integer(block_end(block)),
            None => return Ok(Vec::new()),
        }
    }
    let mut select = connection.prepare_cached(&sql).map_err(backend)?;
    let mut best: Vec<Found> = Vec::new();
    let mut chunk = FIRST_CHUNK;
    loop {
        params[limit_at] = rusqlite::types::Value::Integer(chunk);
        let mut read = 0;
        let mut lowest = None;
        let mut rows = select.query(rusqlite::params_from_iter(params.iter())).map_err(backend)?;
        while let Some(row) = rows.next().map_err(backend)? {
            read += 1;
            let rowid: i64 = row.get(0).map_err(backend)?;
            lowest = Some(rowid);
            if row.get::<_, i64>(3).map_err(backend)? != 0 {
                best.push(Found {
                    created: row.get(1).map_err(backend)?,
                    sort_key: row.get(2).map_err(backend)?,
                    rowid,
                });
            }
        }
        drop(rows);
        best.sort_by(|a, b| (b.created, &b.sort_key).cmp(&(a.created, &a.sort_key)));
        best.truncate(wanted);
        let Some(lowest) = lowest.filter(|_| read == chunk) else { break };
        if let Some(last) = best.get(wanted - 1) {
            match latest_below(connection, lowest)? {
                Some(latest) if latest >= last.created => {}
                _ => break,
            }
        }
        params[below_at] = rusqlite::types::Value::Integer(lowest);
        chunk = (chunk * 4).min(LAST_CHUNK);
    }
    let rowids: Vec<i64> = best.iter().map(|found| found.rowid).collect();
    read_rows(
        connection,
        Statement {
            sql: "SELECT row_json FROM row_bodies
                  WHERE rowid IN (SELECT value FROM json_each(?1))"
                .to_owned(),
            params: vec![Value::Text(to_json(&rowids)?)],
        },
    )
}

/// The rowid just past `block`.
fn block_end(block: i64) -> i64 {
    block.saturating_add(1).saturating_mul(BLOCK_ROWS)
}

/// The highest block holding a row created no later than `created`, if any.
fn first_block_not_newer(connection: &Connection, created: i64) -> Result<Option<i64>, StoreError> {
    connection
        .prepare_cached("SELECT max(block) FROM row_blocks WHERE min_created <= ?1")
        .map_err(backend)?
        .query_row([created], |row| row.get(0))
        .map_err(backend)
}

/// The latest creation time of a row with a rowid below `rowid` (a bound: it may be later).
fn latest_below(connection: &Connection, rowid: i64) -> Result<Option<i64>, StoreError> {
    connection
        .prepare_cached("SELECT max(max_created) FROM row_blocks WHERE block <= ?1")
        .map_err(backend)?
        .query_row([(rowid - 1) >> BLOCK_BITS], |row| row.get(0))
        .map_err(backend)
}

/// Removes from `search_vocab` each of `words` (a deleted row's, separated by spaces) that no
/// row has any more. Anonymising a person deletes their row's words, their name among them:
/// the vocabulary must not keep it.
pub(crate) fn forget_unused(tx: &Connection, words: &str) -> Result<(), StoreError> {
    let mut used = tx
        .prepare_cached("SELECT EXISTS (SELECT 1 FROM row_search WHERE row_search MATCH ?1)")
        .map_err(backend)?;
    let mut forget =
        tx.prepare_cached("DELETE FROM search_vocab WHERE word = ?1").map_err(backend)?;
    for word in words.split_whitespace() {
        let still: bool =
            used.query_row([format!("\"{word}\"")], |row| row.get(0)).map_err(backend)?;
        if !still {
            forget.execute([word]).map_err(backend)?;
        }
    }
    Ok(())
}

/// What the projector adds to `row_blocks` and `search_vocab` for a batch of rows.
#[derive(Default)]
pub(crate) struct Bounds {
    /// Each block's earliest and latest creation time among the batch's rows.
    blocks: BTreeMap<i64, (i64, i64)>,
    /// The words of rows whose words changed.
    words: BTreeSet<String>,
}

impl Bounds {
    /// Notes a row stored at `rowid`, created at time key `created`.
    pub(crate) fn row(&mut self, rowid: i64, created: i64) {
        let bounds = self.blocks.entry(rowid >> BLOCK_BITS).or_insert((created, created));
        bounds.0 = bounds.0.min(created);
        bounds.1 = bounds.1.max(created);
    }

    /// Notes the words a row was indexed with.
    pub(crate) fn words(&mut self, terms: &[String]) {
        for term in terms {
            if !self.words.contains(term) {
                self.words.insert(term.clone());
            }
        }
    }

    /// Writes them, widening each block's bounds.
    pub(crate) fn write(self, tx: &Connection) -> Result<(), StoreError> {
        let mut upsert = tx
            .prepare_cached(
                "INSERT INTO row_blocks (block, min_created, max_created) VALUES (?1, ?2, ?3)
                 ON CONFLICT (block) DO UPDATE SET
                     min_created = min(min_created, excluded.min_created),
                     max_created = max(max_created, excluded.max_created)",
            )
            .map_err(backend)?;
        for (block, (min, max)) in self.blocks {
            upsert.execute((block, min, max)).map_err(backend)?;
        }
        if !self.words.is_empty() {
            tx.prepare_cached(
                "INSERT OR IGNORE INTO search_vocab (word) SELECT value FROM json_each(?1)",
            )
            .map_err(backend)?
            .execute([to_json(&self.words)?])
            .map_err(backend)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Duration};
    use desk::store::{Commit, Filter, Page, Store};

    use super::*;
    use crate::SqliteStore;
    use crate::tests::new_incident;

    /// Rows over several blocks of rowids whose creation times mostly follow their rowids, with
    /// runs that do not: records imported with old dates, a clock ahead, many at one instant.
    fn rows() -> Vec<RecordRow> {
        let start = DateTime::UNIX_EPOCH + Duration::days(20_000);
        let total = 3 * BLOCK_ROWS as u32 + 500;
        (1..=total)
            .map(|n| {
                let mut words = vec!["printer"];
                for (every, word) in [(3, "prints"), (7, "toner"), (50, "jammed"), (400, "zebra")] {
                    if n % every == 0 {
                        words.push(word);
                    }
                }
                let host = format!("host{:03}", n % 100);
                words.push(&host);
                let (_, mut row, _) = new_incident(n, &words.join(" "));
                let minutes = match n {
                    5_000..5_200 => i64::from(n) - 20_000,
                    9_000..9_040 => 100_000,
                    10_000..10_300 => 9_999,
                    _ => i64::from(n),
                };
                row.created_at = start + Duration::minutes(minutes);
                row.open = n % 5 != 0;
                row
            })
            .collect()
    }

    #[tokio::test]
    async fn newest_first_pages_equal_the_contract_whatever_the_rowids() {
        let store = SqliteStore::in_memory().await.unwrap();
        let rows = rows();
        store.commit(Commit { rows: rows.clone(), ..Commit::default() }).await.unwrap();
        for (words, open, limit) in [
            ("printer", None, 50),
            ("print", Some(true), 200),
            ("pr toner", None, 120),
            ("jammed zebra", None, 3),
            ("zebra", Some(false), 1),
            ("host", None, 500),
            ("host007 jam", None, 25),
            ("pr print", None, 40),
            ("print pr jamm", Some(true), 40),
            ("zzzz", None, 10),
        ] {
            let mut query = Query {
                filter: Filter { text: Some(words.into()), open, ..Filter::default() },
                order: Order::Newest,
                limit,
                after: None,
            };
            let matching: Vec<&RecordRow> =
                rows.iter().filter(|row| query.filter.matches(row)).collect();
            let mut pages = 0;
            loop {
                let page = store.query(&query).await.unwrap();
                let expected: Page = contract::page_of(&query, matching.iter().copied()).unwrap();
                assert_eq!(page, expected, "{words:?}, page {pages}");
                pages += 1;
                match page.next {
                    Some(next) if pages < 8 => query.after = Some(next),
                    _ => break,
                }
            }
        }
    }

    #[tokio::test]
    async fn a_deleted_rows_words_leave_the_vocabulary_unless_another_row_has_them() {
        let store = SqliteStore::in_memory().await.unwrap();
        let (first, one, _) = new_incident(1, "Printer jam for Siobhan");
        let (_, two, _) = new_incident(2, "Printer offline");
        store.commit(Commit { rows: vec![one, two], ..Commit::default() }).await.unwrap();
        assert!(store.row(&first).await.unwrap().is_some());
        store.delete(&first).await.unwrap();
        let writer = store.inner.writer.lock().unwrap();
        let words: Vec<String> = writer
            .prepare("SELECT word FROM search_vocab ORDER BY word")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(words, ["offline", "printer"]);
    }

    #[tokio::test]
    async fn long_prefixes_are_asked_as_the_words_they_begin() {
        let store = SqliteStore::in_memory().await.unwrap();
        let (_, mut first, _) = new_incident(1, "printer prints toner");
        first.body = (0..70).map(|n| format!("code{n:02}")).collect::<Vec<_>>().join(" ");
        let record = first.id.clone();
        store.commit(Commit { rows: vec![first], ..Commit::default() }).await.unwrap();
        // A read indexes the pending row.
        assert!(store.row(&record).await.unwrap().is_some());
        let writer = store.inner.writer.lock().unwrap();
        let terms = |text: &str| contract::search_terms(text);
        assert_eq!(
            match_expression(&writer, &terms("pr print toner zzzz")).unwrap(),
            None,
            "no word begins with zzzz"
        );
        assert_eq!(
            match_expression(&writer, &terms("pr print tone code")).unwrap().unwrap(),
            r#""pr"* AND ("printer" OR "prints") AND "toner" AND "code"*"#
        );
    }
}
