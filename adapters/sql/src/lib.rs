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
use desk::store::Cursor;
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
    /// what a [`WindowedSearch`] asks of each row it reads in the order of `query` (whose
    /// other filters and order say which index the window reads, and so what is at hand).
    fn has_terms(&self, terms: &[String], query: &Query, statement: &mut Statement) -> String;
}

/// How many rows of a query's order a text search looks at first, word by word, before it
/// decides how to go on (see [`WindowedSearch`]).
pub const SEARCH_WINDOW: u32 = 1_000;

/// The most rows a text search expects to read in a second window: when its first window
/// says the words are rarer than that needs, it asks the search index instead.
pub const MAX_EXPECTED_ROWS: u64 = 20_000;

/// The statements of one window of a [`WindowedSearch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowSearch {
    /// The JSON of the rows of the window, in the query's order, that have the words: at most
    /// as many as the search still wants. The database stops reading the window once it has
    /// them.
    pub page: Statement,
    /// The window's last row, if the window is full: its order's integer keys, then its sort
    /// key. No row means the window held every row left.
    pub last: Statement,
}

/// What [`WindowedSearch::together`] returned, split: the page's JSON, and the window's last row
/// if it was asked for and the window was full.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Together {
    /// The JSON of the rows found.
    pub page: Vec<String>,
    /// The window's last row.
    pub last: Option<SortKey>,
}

/// One row that [`WindowedSearch::together`] returned, column by column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WindowRow {
    /// The first column: a page row's JSON.
    pub json: Option<String>,
    /// The next ones: the last row's integer keys.
    pub numbers: Vec<Option<i64>>,
    /// The last one: the last row's sort key.
    pub id: Option<String>,
}

impl WindowedSearch {
    /// Splits the rows [`WindowedSearch::together`] returned.
    pub fn split(
        order: Order,
        rows: impl IntoIterator<Item = WindowRow>,
    ) -> Result<Together, StoreError> {
        let mut together = Together::default();
        for WindowRow { json, numbers, id } in rows {
            match (json, id) {
                (Some(json), None) => together.page.push(json),
                (None, Some(id)) => {
                    let numbers = numbers.into_iter().collect::<Option<Vec<i64>>>();
                    let numbers = numbers
                        .filter(|numbers| numbers.len() == order.arity())
                        .ok_or_else(|| corrupt_window_row("keys"))?;
                    together.last = Some(SortKey { order, numbers, id });
                }
                _ => return Err(corrupt_window_row("JSON and sort key")),
            }
        }
        Ok(together)
    }
}

/// A row of [`WindowedSearch::together`] that is neither a page row nor a last row.
fn corrupt_window_row(what: &str) -> StoreError {
    StoreError::Corrupt(format!("a search window returned a row with wrong {what}"))
}

/// What a [`WindowedSearch`] does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// The rows found answer the query: [`WindowedSearch::page`].
    Answer,
    /// Read the next window ([`WindowedSearch::statements`]).
    Window,
    /// The words are rare: this statement, from the search index, answers the query alone
    /// ([`page_from`] its rows).
    Index(Statement),
}

/// A text search that reads its query's order window by window, checking each row's words.
///
/// A search index answers "which rows have these words" well when few rows have them; when
/// many do (a common word, or several common ones together) it has to gather them all before
/// the query can sort them and keep a page. Reading the query's order and checking each row's
/// words costs rows read per match instead, so common words fill a page after a few rows.
///
/// The first window is the first [`SEARCH_WINDOW`] rows the query's other filters select. If it
/// holds the page, or every row there is, that is the answer. Otherwise what it found says how
/// common the words are: if a page is expected within [`MAX_EXPECTED_ROWS`] more rows, a second
/// window goes on from the first one's last row (three times that size, though the database
/// stops as soon as the page is full); if nothing was found, or the page is further away than
/// that, or the second window falls short too, the words are rare enough for the search index
/// ([`select_page`]), whose matches are then few. Every way gives the same rows: the matches
/// found in the windows are the first matches in the order.
///
/// Adapters run the statements and feed back what they return:
///
/// ```text
/// while searching:  run statements().page  -> take(rows)     (true: Answer)
///                   run statements().last  -> after_window(last) -> Answer | Window | Index
/// ```
///
/// or, in one round trip a window, run `together()`, [`WindowedSearch::split`] what it returns,
/// and feed its page to `take` and its last row to `after_window`.
#[derive(Debug, Clone)]
pub struct WindowedSearch {
    /// The query as asked.
    query: Query,
    /// Where the current window starts: the query's cursor, then the first window's last row.
    after: Option<Cursor>,
    terms: Vec<String>,
    found: Vec<RecordRow>,
    window: u32,
    second: bool,
}

/// What a window's statement selects.
enum Take {
    /// Its rows in order, these columns of each.
    All(String),
    /// Its last row's order keys, if it is full.
    Last,
}

impl WindowedSearch {
    /// The search of `query`, or `None` when it has no search words.
    pub fn new(query: &Query) -> Option<WindowedSearch> {
        let terms = query.filter.text.as_deref().map(contract::search_terms)?;
        if terms.is_empty() {
            return None;
        }
        Some(WindowedSearch {
            query: query.clone(),
            after: query.after.clone(),
            terms,
            found: Vec::new(),
            window: SEARCH_WINDOW,
            second: false,
        })
    }

    /// How many more matches the search wants: the page and one more.
    fn wanted(&self) -> usize {
        (contract::page_size(&self.query) + 1).saturating_sub(self.found.len())
    }

    /// The statements of the current window.
    pub fn statements(&self, dialect: &impl Dialect) -> Result<WindowSearch, StoreError> {
        let mut page = Statement::default();
        page.sql = self.page_sql(dialect, &mut page)?;
        let mut last = Statement::default();
        last.sql = self.window_sql(dialect, &mut last, Take::Last)?;
        Ok(WindowSearch { page, last })
    }

    /// Both statements of the current window as one, for a database in another process, where
    /// a round trip costs more than the statement: the page's rows, each as its JSON followed by
    /// `NULL`s, then, only when they fall short, the window's last row as `NULL` followed by
    /// what [`WindowSearch::last`] gives. See [`WindowedSearch::split`].
    pub fn together(&self, dialect: &impl Dialect) -> Result<Statement, StoreError> {
        let mut together = Statement::default();
        let found = self.page_sql(dialect, &mut together)?;
        let window_end = self.window_sql(dialect, &mut together, Take::Last)?;
        let short = together.bind(dialect, Value::Int(self.wanted_int()));
        // The last row is read only when the page falls short: the condition on the page's
        // count holds for the whole statement, so the database decides it once, first.
        let names = order_columns(self.query.order);
        let nulls = ", NULL".repeat(names.len());
        let ends: Vec<String> = names.iter().map(|column| format!("l.{column}")).collect();
        together.sql = format!(
            "WITH p AS ({found})
             SELECT p.row_json{nulls} FROM p
             UNION ALL
             SELECT NULL, {} FROM ({window_end}) l WHERE (SELECT count(*) FROM p) < {short}",
            ends.join(", ")
        );
        Ok(together)
    }

    /// How many more matches the search wants, as a parameter.
    fn wanted_int(&self) -> i64 {
        i64::try_from(self.wanted()).unwrap_or(0)
    }

    /// The `SELECT` of the JSON of the current window's rows that have the words, at most as
    /// many as the search still wants, binding its parameters in `statement`.
    fn page_sql(
        &self,
        dialect: &impl Dialect,
        statement: &mut Statement,
    ) -> Result<String, StoreError> {
        let key = dialect.key();
        let has = dialect.has_terms(&self.terms, &self.query, statement);
        let rows =
            self.window_sql(dialect, statement, Take::All(format!("r.{key} AS k, {has} AS hit")))?;
        let limit = statement.bind(dialect, Value::Int(self.wanted_int()));
        Ok(format!(
            "SELECT b.row_json FROM (SELECT w.k FROM ({rows}) w WHERE w.hit LIMIT {limit}) p
             JOIN row_bodies b ON b.{key} = p.k"
        ))
    }

    /// The `SELECT` of the current window's rows in order, or of only the last of them.
    fn window_sql(
        &self,
        dialect: &impl Dialect,
        statement: &mut Statement,
        take: Take,
    ) -> Result<String, StoreError> {
        let query = &Query { after: self.after.clone(), ..self.query.clone() };
        let mut conditions = where_filter(dialect, query, Words::Skip, statement);
        let order_by = ordering(dialect, query, &mut conditions, statement)?;
        let size = i64::from(self.window);
        let (columns, limit) = match take {
            Take::All(columns) => (columns, statement.bind(dialect, Value::Int(size))),
            Take::Last => {
                let columns: Vec<String> =
                    order_columns(query.order).iter().map(|column| format!("r.{column}")).collect();
                let one = statement.bind(dialect, Value::Int(1));
                let skip = statement.bind(dialect, Value::Int(size - 1));
                (columns.join(", "), format!("{one} OFFSET {skip}"))
            }
        };
        Ok(format!(
            "SELECT {columns} FROM rows r{} ORDER BY {order_by} LIMIT {limit}",
            filter_clause(&conditions)
        ))
    }

    /// Takes the rows the current window's page statement returned; says whether the search
    /// has its page.
    pub fn take(&mut self, rows: Vec<RecordRow>) -> bool {
        self.found.extend(rows);
        self.wanted() == 0
    }

    /// What to do after a window whose page fell short, given its last row (from
    /// [`WindowSearch::last`]; `None` if the window was not full).
    pub fn after_window(
        &mut self,
        dialect: &impl Dialect,
        last: Option<SortKey>,
    ) -> Result<Next, StoreError> {
        let Some(last) = last else { return Ok(Next::Answer) };
        let found = self.found.len() as u64;
        let wanted = self.wanted() as u64;
        // Rows the first window read per match, times the matches still wanted.
        let expected = (found > 0).then(|| wanted * u64::from(SEARCH_WINDOW) / found);
        match expected {
            Some(expected) if !self.second && expected <= MAX_EXPECTED_ROWS => {
                self.second = true;
                self.window = u32::try_from(expected * 3).unwrap_or(u32::MAX).max(SEARCH_WINDOW);
                self.after = Some(last.cursor());
                Ok(Next::Window)
            }
            _ => {
                self.found.clear();
                Ok(Next::Index(select_page(dialect, &self.query)?))
            }
        }
    }

    /// The page of the rows found.
    pub fn page(self) -> Page {
        page_from(&self.query, self.found)
    }
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
        if filter.open == Some(true) || only_open(filter) {
            SearchScope::Open
        } else {
            SearchScope::All
        }
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
        RowColumns::with_json(row, to_json(row)?)
    }

    /// The columns of `row`, whose JSON (as [`to_json`] encodes it) is `row_json`.
    pub fn with_json(row: &RecordRow, row_json: String) -> Result<RowColumns, StoreError> {
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
            row_json,
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

/// Whether `filter` selects open rows only whatever its `open` says: at-risk and breached rows
/// are open ones.
fn only_open(filter: &Filter) -> bool {
    filter.at_risk_before.is_some() || filter.breached == Some(true)
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
    let open_only = only_open(filter);
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

        fn has_terms(&self, terms: &[String], _: &Query, statement: &mut Statement) -> String {
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

    /// Incident `n` as a row, for a search to find.
    fn incident(n: u32) -> RecordRow {
        from_json(&format!(
            r#"{{"id": "INC-{n:06}", "kind": "incident", "version": 1, "status": "new",
                "open": true, "title": "printer", "body": "", "team": null, "tier": null,
                "agent": null, "priority": null, "requester": null, "people": [], "cis": [],
                "created_at": "2026-01-05T09:00:00Z", "updated_at": "2026-01-05T09:00:00Z",
                "closed_at": null,
                "sla": {{"due_at": null, "warning_at": null, "warned": false, "breached_at": null}},
                "wake_at": null, "state": {{}}}}"#
        ))
        .unwrap()
    }

    fn printer_search(limit: u32) -> WindowedSearch {
        let filter = Filter { text: Some("Printer".into()), ..Filter::default() };
        WindowedSearch::new(&Query { filter, order: Order::Newest, limit, after: None }).unwrap()
    }

    fn last_row() -> Option<SortKey> {
        Some(SortKey { order: Order::Newest, numbers: vec![42], id: "0-0000000007".into() })
    }

    #[test]
    fn a_search_whose_first_window_holds_its_page_is_answered() {
        let mut search = printer_search(2);
        let window = search.statements(&Numbered).unwrap();
        assert!(window.page.sql.contains("words(r, $1)"), "{}", window.page.sql);
        assert_eq!(window.page.params[1..], [Value::Int(1_000), Value::Int(3)]);
        assert!(window.last.sql.ends_with("LIMIT $1 OFFSET $2"), "{}", window.last.sql);
        assert_eq!(window.last.params, [Value::Int(1), Value::Int(999)]);
        assert!(search.take((1..=3).map(incident).collect()));
        assert_eq!(search.page().rows.len(), 2);
    }

    #[test]
    fn together_asks_for_the_last_row_only_when_the_page_falls_short() {
        let search = printer_search(2);
        let window = search.statements(&Numbered).unwrap();
        let together = &search.together(&Numbered).unwrap();
        // The page's statement and parameters, then the last row's, then the page's size.
        assert!(together.sql.starts_with(&format!("WITH p AS ({})", window.page.sql)));
        assert_eq!(together.params[..3], window.page.params[..]);
        assert_eq!(together.params[3..], [Value::Int(1), Value::Int(999), Value::Int(3)]);
        assert!(together.sql.contains("LIMIT $4 OFFSET $5) l"), "{}", together.sql);
        assert!(together.sql.ends_with("WHERE (SELECT count(*) FROM p) < $6"), "{}", together.sql);
        assert!(together.sql.contains("SELECT p.row_json, NULL, NULL FROM p"));
        assert!(together.sql.contains("SELECT NULL, l.created_key, l.sort_key FROM"));
    }

    #[test]
    fn together_splits_into_the_page_and_the_windows_last_row() {
        let page_row =
            |json: &str| WindowRow { json: Some(json.into()), numbers: vec![None], id: None };
        let last = |numbers| WindowRow { json: None, numbers, id: Some("0-0000000007".into()) };
        let rows = vec![page_row("{}"), last(vec![Some(42)]), page_row("[]")];
        let together = WindowedSearch::split(Order::Newest, rows).unwrap();
        assert_eq!(together.page, ["{}", "[]"]);
        assert_eq!(together.last, last_row());

        assert!(matches!(
            WindowedSearch::split(Order::Newest, [last(vec![None])]),
            Err(StoreError::Corrupt(message)) if message.contains("keys")
        ));
        let neither = WindowRow { json: None, numbers: vec![None], id: None };
        assert!(WindowedSearch::split(Order::Newest, [neither]).is_err());
    }

    #[test]
    fn a_window_holding_every_row_answers_however_few_it_found() {
        let mut search = printer_search(50);
        assert!(!search.take(vec![incident(1)]));
        assert_eq!(search.after_window(&Numbered, None).unwrap(), Next::Answer);
        assert_eq!(search.page().rows, [incident(1)]);
    }

    #[test]
    fn common_words_go_on_reading_the_order_from_the_first_windows_last_row() {
        let mut search = printer_search(50);
        assert!(!search.take((1..=10).map(incident).collect()));
        assert_eq!(search.after_window(&Numbered, last_row()).unwrap(), Next::Window);
        let window = search.statements(&Numbered).unwrap();
        // 41 more wanted at 100 rows a match, three times over.
        assert!(window.page.sql.contains("(r.created_key, r.sort_key) < ($2, $3)"));
        assert_eq!(
            window.page.params[1..],
            [
                Value::Int(42),
                Value::Text("0-0000000007".into()),
                Value::Int(12_300),
                Value::Int(41)
            ]
        );
        assert!(search.take((11..=51).map(incident).collect()));
        let page = search.page();
        assert_eq!(page.rows.len(), 50);
        assert!(page.next.is_some());
    }

    #[test]
    fn rare_words_and_a_short_second_window_turn_to_the_index() {
        let mut none = printer_search(50);
        assert!(!none.take(Vec::new()));
        let Next::Index(statement) = none.after_window(&Numbered, last_row()).unwrap() else {
            panic!("no match in the first window means rare words");
        };
        assert!(statement.sql.contains("search(All, $1)"), "{}", statement.sql);

        let mut few = printer_search(50);
        assert!(!few.take(vec![incident(1)]));
        assert!(matches!(few.after_window(&Numbered, last_row()).unwrap(), Next::Index(_)));

        let mut short = printer_search(50);
        assert!(!short.take((1..=10).map(incident).collect()));
        assert_eq!(short.after_window(&Numbered, last_row()).unwrap(), Next::Window);
        assert!(!short.take((11..=20).map(incident).collect()));
        let Next::Index(statement) = short.after_window(&Numbered, last_row()).unwrap() else {
            panic!("a second window that falls short turns to the index");
        };
        assert!(!statement.sql.contains("created_key) <"), "the asked query has no cursor");
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
