//! `desk-sql`: what the relational storage adapters (`desk-sqlite`, `desk-postgres`) share.
//!
//! Both keep the same tables (their DDL differs in types and indexes, not in shape):
//!
//! | table | holds |
//! |---|---|
//! | `streams` | PostgreSQL only: one row per record with history, its id and version, locked by a commit to it (SQLite reads a version from `events` under its one write lock) |
//! | `events` | every event: global `position`, `record_id`, `seq`, the [`EventRecord`] as JSON |
//! | `rows` | the projection: the narrow [`RowColumns`] queries filter and sort by |
//! | `row_bodies` | each row's [`RecordRow`] as JSON |
//! | search | each row's words (SQLite: FTS5 `row_search` and `row_search_open`, and the words as text in `row_words`; PostgreSQL: a `tsvector` in `rows`) |
//! | `pending_rows` | SQLite only: rows committed and not yet indexed (see `desk-sqlite`) |
//! | `row_people`, `row_cis` | who and which CIs each row names (GDPR search, CI filter) |
//! | `outbox` | notifications: waiting, delivered or dead, kept by key so none is enqueued twice |
//! | `holds` | legal holds |
//!
//! Keeping the JSON out of `rows` keeps that table narrow, so that a query which must look at
//! many candidate rows (a common search word, an at-risk scan) reads few pages; only the rows
//! of the page fetch their JSON.
//!
//! This crate turns a row into those columns, encodes JSON, and builds the `SELECT` of a
//! [`Query`] for a [`Dialect`]: the filters of [`desk::contract`], keyset pagination on the
//! order's columns with a row-value comparison, and `LIMIT` one past the page to know whether
//! another page follows. It has no driver: adapters bind the [`Value`]s themselves.

use desk::contract::{self, SortKey};
use desk::store::{EventRecord, Filter, Order, Page, Query, RecordRow, StoreError, StoredEvent};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// A parameter of a statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// An integer (SQLite `INTEGER`, PostgreSQL `BIGINT`).
    Int(i64),
    /// Text.
    Text(String),
}

/// What differs between the SQL of two databases, as far as queries go.
pub trait Dialect {
    /// The placeholder of the `n`th parameter, from 1.
    fn placeholder(&self, n: usize) -> String;

    /// A boolean literal.
    fn boolean(&self, value: bool) -> &'static str;

    /// The column that joins `rows` to `row_bodies`.
    fn key(&self) -> &'static str;

    /// A condition on the rows aliased `r` that holds when each of `terms` (from
    /// [`contract::search_terms`], never empty) begins one of the row's
    /// [`contract::row_terms`]. With [`SearchScope::Open`] the query only wants open rows,
    /// and the condition may look in an index of open rows alone.
    fn matches_terms(
        &self,
        terms: &[String],
        scope: SearchScope,
        statement: &mut Statement,
    ) -> String;

    /// A boolean expression on the row aliased `r`, true when it has each of `terms` as
    /// [`Dialect::matches_terms`] defines it, read from that one row alone (no search index):
    /// what [`select_window`] asks of each row it reads in the query's order.
    fn has_terms(&self, terms: &[String], statement: &mut Statement) -> String;
}

/// How many rows of a query's order a text search looks at, word by word, before it turns to
/// the search index for every match instead (see [`select_window`]).
pub const SEARCH_WINDOW: u32 = 1_000;

/// The two statements of a text search's first attempt (see [`select_window`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSearch {
    /// The JSON of the rows among the first [`SEARCH_WINDOW`] of the query's other filters, in
    /// its order, that have the words: at most one more than the page.
    pub page: Statement,
    /// How many rows the window holds (at most [`SEARCH_WINDOW`]).
    pub count: Statement,
}

impl WindowSearch {
    /// Whether `found` rows from [`WindowSearch::page`] fill the page and one more: then they
    /// answer `query`.
    pub fn fills_page(query: &Query, found: usize) -> bool {
        found > contract::page_size(query)
    }

    /// Whether a window of `count` rows (from [`WindowSearch::count`]) held every row the
    /// query's other filters select: then the rows found answer it, however few.
    pub fn covers_all(count: i64) -> bool {
        count < i64::from(SEARCH_WINDOW)
    }
}

/// For a query with search words: the statements that look for its page among the first
/// [`SEARCH_WINDOW`] rows its other filters select, in its order.
///
/// A search index answers "which rows have these words" well when few rows have them; when
/// many have them (a common word, or several common ones together) it has to gather them all
/// before the query can sort them and keep a page. Reading the query's order and checking each
/// row's words costs rows read per match instead, so common words fill a page after a few
/// rows. This is tried first; if the window holds fewer matches than a page and the window was
/// full, the words are rare enough for [`select_page`], which starts from the index. Both give
/// the same rows: the matches within the window are the first matches in the order.
pub fn select_window(
    dialect: &impl Dialect,
    query: &Query,
) -> Result<Option<WindowSearch>, StoreError> {
    let Some(terms) = query.filter.text.as_deref().map(contract::search_terms) else {
        return Ok(None);
    };
    if terms.is_empty() {
        return Ok(None);
    }
    let key = dialect.key();
    let window = |statement: &mut Statement, columns: &str| -> Result<String, StoreError> {
        let mut conditions = where_filter(dialect, query, Words::Skip, statement);
        let order_by = ordering(dialect, query, &mut conditions, statement)?;
        let size = statement.bind(dialect, Value::Int(i64::from(SEARCH_WINDOW)));
        Ok(format!(
            "SELECT {columns} FROM rows r{} ORDER BY {order_by} LIMIT {size}",
            filter_clause(&conditions)
        ))
    };
    let mut page = Statement::default();
    let has = dialect.has_terms(&terms, &mut page);
    let rows = window(&mut page, &format!("r.{key} AS k, {has} AS hit"))?;
    let limit = page.bind(dialect, Value::Int(contract::page_size(query) as i64 + 1));
    page.sql = format!(
        "SELECT b.row_json FROM (SELECT w.k FROM ({rows}) w WHERE w.hit LIMIT {limit}) p
         JOIN row_bodies b ON b.{key} = p.k"
    );
    let mut count = Statement::default();
    let rows = window(&mut count, "1")?;
    count.sql = format!("SELECT count(*) FROM ({rows}) w");
    Ok(Some(WindowSearch { page, count }))
}

/// Every condition of `query` but its words, its cursor's included, as one boolean expression
/// on the row aliased `r` (true when there is none): what a search that finds rows by their
/// words in a search index of its own asks of each row it finds there.
pub fn condition_besides_words(
    dialect: &impl Dialect,
    query: &Query,
    statement: &mut Statement,
) -> Result<String, StoreError> {
    let mut conditions = where_filter(dialect, query, Words::Skip, statement);
    ordering(dialect, query, &mut conditions, statement)?;
    Ok(if conditions.is_empty() {
        dialect.boolean(true).to_owned()
    } else {
        conditions.join(" AND ")
    })
}

/// Which rows a text search has to look among.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchScope {
    /// Every row.
    All,
    /// Open rows only: the work queues, a twentieth of a mature desk, with their own index.
    Open,
}

impl SearchScope {
    /// The rows a search with `filter` looks among: only open ones when the filter asks for
    /// them, or for at-risk or breached rows (which are open).
    pub fn of(filter: &Filter) -> SearchScope {
        let open_only = filter.at_risk_before.is_some() || filter.breached == Some(true);
        if filter.open == Some(true) || open_only { SearchScope::Open } else { SearchScope::All }
    }
}

/// SQL text and its parameters, numbered in the order they were bound.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Statement {
    /// The text.
    pub sql: String,
    /// The parameters.
    pub params: Vec<Value>,
}

impl Statement {
    /// Adds a parameter and returns its placeholder.
    pub fn bind(&mut self, dialect: &impl Dialect, value: Value) -> String {
        self.params.push(value);
        dialect.placeholder(self.params.len())
    }
}

/// The columns a row is queried by, derived from a [`RecordRow`].
///
/// Instants are [`contract::time_key`]s; `prio_rank` and `due_key` use the missing-last
/// sentinels of [`desk::contract`], so that orders compare plain integers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowColumns {
    /// The record id as text (`INC-000123`), the primary key.
    pub id: String,
    /// [`contract::id_key`]: the last part of every order.
    pub sort_key: String,
    /// The kind's name.
    pub kind: &'static str,
    /// Version.
    pub version: i64,
    /// Status name.
    pub status: String,
    /// Open or not.
    pub open: bool,
    /// Team.
    pub team: Option<String>,
    /// Tier name.
    pub tier: Option<&'static str>,
    /// Agent.
    pub agent: Option<String>,
    /// Requester.
    pub requester: Option<String>,
    /// [`contract::priority_rank`].
    pub prio_rank: i64,
    /// [`contract::due_key`].
    pub due_key: i64,
    /// A warning threshold passed.
    pub warned: bool,
    /// An SLA breached.
    pub breached: bool,
    /// Created, as a time key.
    pub created_key: i64,
    /// Updated, as a time key.
    pub updated_key: i64,
    /// Closed, as a time key.
    pub closed_key: Option<i64>,
    /// Wake-up, as a time key.
    pub wake_key: Option<i64>,
    /// [`contract::row_terms`].
    pub terms: Vec<String>,
    /// The whole row as JSON.
    pub row_json: String,
    /// Everyone the row names, without repeats.
    pub people: Vec<String>,
    /// The CIs the row names, without repeats.
    pub cis: Vec<String>,
}

impl RowColumns {
    /// The columns of `row`.
    pub fn of(row: &RecordRow) -> Result<RowColumns, StoreError> {
        let mut people: Vec<String> = row.people.iter().map(ToString::to_string).collect();
        people.sort();
        people.dedup();
        let mut cis: Vec<String> = row.cis.iter().map(ToString::to_string).collect();
        cis.sort();
        cis.dedup();
        Ok(RowColumns {
            id: row.id.to_string(),
            sort_key: contract::id_key(&row.id),
            kind: row.kind.as_str(),
            version: to_i64(row.version)?,
            status: row.status.clone(),
            open: row.open,
            team: row.team.as_ref().map(ToString::to_string),
            tier: row.tier.map(|tier| tier.as_str()),
            agent: row.agent.as_ref().map(ToString::to_string),
            requester: row.requester.as_ref().map(ToString::to_string),
            prio_rank: contract::priority_rank(row.priority),
            due_key: contract::due_key(row),
            warned: row.sla.warned,
            breached: row.sla.breached_at.is_some(),
            created_key: contract::time_key(row.created_at),
            updated_key: contract::time_key(row.updated_at),
            closed_key: row.closed_at.map(contract::time_key),
            wake_key: row.wake_at.map(contract::time_key),
            terms: contract::row_terms(row),
            row_json: to_json(row)?,
            people,
            cis,
        })
    }
}

/// The columns of `rows`, in the order of [`RowColumns`].
pub const ROWS_COLUMNS: &str = "id, sort_key, kind, version, status, open, team, tier, agent, \
    requester, prio_rank, due_key, warned, breached, created_key, updated_key, closed_key, wake_key";

/// What an upsert of `rows` replaces when the row exists: everything but its id and sort key.
pub const ROWS_UPDATE: &str = "version = excluded.version, status = excluded.status, \
    open = excluded.open, team = excluded.team, tier = excluded.tier, agent = excluded.agent, \
    requester = excluded.requester, prio_rank = excluded.prio_rank, due_key = excluded.due_key, \
    warned = excluded.warned, breached = excluded.breached, created_key = excluded.created_key, \
    updated_key = excluded.updated_key, closed_key = excluded.closed_key, \
    wake_key = excluded.wake_key";

/// A count or version as a database integer.
pub fn to_i64(value: u64) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Invalid(format!("{value} is too large to store")))
}

/// A database integer as a count or version.
pub fn to_u64(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt(format!("{value} is negative")))
}

/// `value` as JSON text.
pub fn to_json(value: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|error| StoreError::Invalid(error.to_string()))
}

/// JSON text read back; bad JSON is [`StoreError::Corrupt`].
pub fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Corrupt(format!("{error}: {text}")))
}

/// An event read back from its position and JSON.
pub fn stored_event(position: i64, json: &str) -> Result<StoredEvent, StoreError> {
    let event: EventRecord = from_json(json)?;
    Ok(StoredEvent { position: to_u64(position)?, event })
}

/// Orders the rows a [`select_page`] statement returned and cuts the page from them.
pub fn page_from(query: &Query, rows: Vec<RecordRow>) -> Page {
    let mut keyed: Vec<(SortKey, RecordRow)> =
        rows.into_iter().map(|row| (SortKey::of(query.order, &row), row)).collect();
    keyed.sort_by(|a, b| a.0.precedes(&b.0));
    contract::paginate(query, keyed)
}

/// The columns of an order, most significant first, ending with `sort_key`.
pub fn order_columns(order: Order) -> &'static [&'static str] {
    match order {
        Order::Queue => &["prio_rank", "due_key", "sort_key"],
        Order::Due => &["due_key", "sort_key"],
        Order::Newest => &["created_key", "sort_key"],
        Order::Updated => &["updated_key", "sort_key"],
    }
}

/// The `SELECT` of the JSON of the rows that answer `query`: at most one row more than the
/// page, so that [`contract::paginate`] knows whether another page follows, in no particular
/// order (sort them by [`SortKey`]). The rows are chosen on `rows` alone and only then joined
/// to their bodies.
pub fn select_page(dialect: &impl Dialect, query: &Query) -> Result<Statement, StoreError> {
    let mut statement = Statement::default();
    let mut conditions = where_filter(dialect, query, Words::Index, &mut statement);
    let order_by = ordering(dialect, query, &mut conditions, &mut statement)?;
    let limit = statement.bind(dialect, Value::Int(contract::page_size(query) as i64 + 1));
    let filter = filter_clause(&conditions);
    let key = dialect.key();
    statement.sql = format!(
        "SELECT b.row_json FROM (SELECT r.{key} AS k FROM rows r{filter} ORDER BY {order_by} LIMIT {limit}) p
         JOIN row_bodies b ON b.{key} = p.k"
    );
    Ok(statement)
}

/// ` WHERE` and `conditions`, or nothing.
fn filter_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

/// The `ORDER BY` list of the query's order; adds the condition of its cursor, if any.
fn ordering(
    dialect: &impl Dialect,
    query: &Query,
    conditions: &mut Vec<String>,
    statement: &mut Statement,
) -> Result<String, StoreError> {
    let order = order_columns(query.order);
    let qualified: Vec<String> = order.iter().map(|column| format!("r.{column}")).collect();
    if let Some(cursor) = &query.after {
        let key = SortKey::from_cursor(query.order, cursor)?;
        let mut bounds: Vec<String> =
            key.numbers.iter().map(|n| statement.bind(dialect, Value::Int(*n))).collect();
        bounds.push(statement.bind(dialect, Value::Text(key.id)));
        let comparison = if query.order.descending() { "<" } else { ">" };
        conditions.push(format!("({}) {comparison} ({})", qualified.join(", "), bounds.join(", ")));
    }
    let direction = if query.order.descending() { " DESC" } else { "" };
    let order_by: Vec<String> =
        qualified.iter().map(|column| format!("{column}{direction}")).collect();
    Ok(order_by.join(", "))
}

/// Whether a filter's search words become a condition.
#[derive(Clone, Copy)]
enum Words {
    /// Yes, answered by the search index.
    Index,
    /// No: the caller checks them itself.
    Skip,
}

/// The conditions of a query's filter, as [`desk::contract`] defines them.
fn where_filter(
    dialect: &impl Dialect,
    query: &Query,
    words: Words,
    statement: &mut Statement,
) -> Vec<String> {
    let filter = &query.filter;
    let mut conditions = Vec::new();
    let mut equals = |column: &str, value: Option<String>, statement: &mut Statement| {
        if let Some(value) = value {
            let placeholder = statement.bind(dialect, Value::Text(value));
            conditions.push(format!("r.{column} = {placeholder}"));
        }
    };
    equals("kind", filter.kind.map(|kind| kind.as_str().to_owned()), statement);
    equals("team", filter.team.as_ref().map(ToString::to_string), statement);
    equals("tier", filter.tier.map(|tier| tier.as_str().to_owned()), statement);
    equals("agent", filter.agent.as_ref().map(ToString::to_string), statement);
    equals("requester", filter.requester.as_ref().map(ToString::to_string), statement);
    let truth = dialect.boolean(true);
    let open_only = filter.at_risk_before.is_some() || filter.breached == Some(true);
    match filter.open {
        Some(false) if open_only => conditions.push("1 = 0".to_owned()),
        Some(open) => conditions.push(format!("r.open = {}", dialect.boolean(open))),
        None if open_only => conditions.push(format!("r.open = {truth}")),
        None => {}
    }
    if !filter.statuses.is_empty() {
        let placeholders: Vec<String> = filter
            .statuses
            .iter()
            .map(|status| statement.bind(dialect, Value::Text(status.clone())))
            .collect();
        conditions.push(format!("r.status IN ({})", placeholders.join(", ")));
    }
    if let Some(ci) = filter.ci {
        let placeholder = statement.bind(dialect, Value::Text(ci.to_string()));
        conditions
            .push(format!("r.id IN (SELECT record_id FROM row_cis WHERE ci = {placeholder})"));
    }
    if let (Some(text), Words::Index) = (&filter.text, words) {
        let terms = contract::search_terms(text);
        if !terms.is_empty() {
            conditions.push(dialect.matches_terms(&terms, SearchScope::of(filter), statement));
        }
    }
    if let Some(before) = filter.at_risk_before {
        let placeholder = statement.bind(dialect, Value::Int(contract::time_key(before)));
        // A CASE rather than an OR: databases then walk the queue's index in order and stop
        // at the page's end, instead of collecting every at-risk row to sort them.
        conditions.push(format!(
            "(CASE WHEN r.warned = {truth} THEN {truth} ELSE r.due_key < {placeholder} END)"
        ));
    }
    if let Some(breached) = filter.breached {
        conditions.push(format!("r.breached = {}", dialect.boolean(breached)));
    }
    conditions
}

#[cfg(test)]
mod tests {
    use desk::store::{Filter, Order};

    use super::*;

    struct Numbered;

    impl Dialect for Numbered {
        fn placeholder(&self, n: usize) -> String {
            format!("${n}")
        }

        fn boolean(&self, value: bool) -> &'static str {
            if value { "TRUE" } else { "FALSE" }
        }

        fn key(&self) -> &'static str {
            "id"
        }

        fn matches_terms(
            &self,
            terms: &[String],
            scope: SearchScope,
            statement: &mut Statement,
        ) -> String {
            let placeholder = statement.bind(self, Value::Text(terms.join(" ")));
            format!("search({scope:?}, {placeholder})")
        }

        fn has_terms(&self, terms: &[String], statement: &mut Statement) -> String {
            let placeholder = statement.bind(self, Value::Text(terms.join(" ")));
            format!("words(r, {placeholder})")
        }
    }

    #[test]
    fn a_next_page_continues_after_the_cursor_in_the_order_direction() {
        let first = Query { order: Order::Newest, limit: 20, ..Query::default() };
        let cursor = SortKey { order: Order::Newest, numbers: vec![42], id: "0-0000000007".into() };
        let next = Query { after: Some(cursor.cursor()), ..first };

        let statement = select_page(&Numbered, &next).unwrap();

        assert!(
            statement.sql.contains("(r.created_key, r.sort_key) < ($1, $2)"),
            "{}",
            statement.sql
        );
        assert!(statement.sql.contains("ORDER BY r.created_key DESC, r.sort_key DESC LIMIT $3"));
        assert_eq!(
            statement.params,
            [Value::Int(42), Value::Text("0-0000000007".into()), Value::Int(21)]
        );
    }

    #[test]
    fn filters_that_imply_open_rows_search_the_open_index() {
        let at_risk = Filter {
            at_risk_before: Some(chrono::DateTime::UNIX_EPOCH),
            text: Some("VPN".into()),
            ..Filter::default()
        };
        let statement =
            select_page(&Numbered, &Query { filter: at_risk.clone(), ..Query::default() }).unwrap();
        assert!(statement.sql.contains("r.open = TRUE"), "{}", statement.sql);
        assert!(statement.sql.contains("search(Open, $1)"), "{}", statement.sql);

        let closed = Filter { open: Some(false), ..at_risk };
        let statement =
            select_page(&Numbered, &Query { filter: closed, ..Query::default() }).unwrap();
        assert!(statement.sql.contains("1 = 0"), "{}", statement.sql);
    }
}
