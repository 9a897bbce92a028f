//! `desk-postgres`: the desk's storage in PostgreSQL, for several desk processes sharing one
//! database.
//!
//! [`PostgresStore::connect`] takes a connection URL (`postgres://user@host:port/db`) and a
//! schema name: every table lives in that schema (created if missing), so tests, and tenants
//! sharing a database, keep apart. Connecting applies the migrations ([`schema`]) and refuses a
//! schema written by a newer desk with [`StoreError::NewerSchema`]. No extension is needed.
//!
//! Connections come from a pool (deadpool, sixteen at most). They plan every statement with
//! its parameters (`plan_cache_mode = force_custom_plan`): a generic plan cannot know whether a
//! search word is rare or common, and the one PostgreSQL cached for text search took seconds
//! at a million rows where a custom plan takes a millisecond. Commits run in `READ COMMITTED`
//! transactions whose version checks take row locks, so concurrent commits to one record are
//! serialisable: exactly one of several writers expecting a version wins, the others get
//! [`StoreError::Conflict`]. A transaction PostgreSQL aborts for a deadlock or a serialisation
//! failure is retried from the start, a few times, before the error is returned. A commit sends
//! its statements in two pipelined batches, the checks (reference claim, versions) and then the
//! writes, so opening an incident costs four round trips however many tables it writes.

pub mod schema;
mod words;

use std::collections::BTreeSet;

use async_trait::async_trait;
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use desk::contract::{self, time_key};
use desk::store::{
    Append, Commit, DeadLetter, Delivery, EventRecord, Filter, LegalHold, Order, OutboxItem,
    OutboxMessage, Page, Query, RecordRow, Redaction, RowKind, Store, StoreError, StoredEvent,
};
use desk_core::Timestamp;
use desk_core::id::{PersonId, RecordId, RecordKind, Reference};
use desk_sql::{
    Dialect, Next, ROWS_COLUMNS, ROWS_UPDATE, RowColumns, SearchScope, Statement, Value, from_json,
    to_i64, to_json, to_u64,
};
use tokio_postgres::error::SqlState;
use tokio_postgres::types::ToSql;
use tokio_postgres::{NoTls, Row};
use words::word_bits;

/// The most connections a store opens.
const POOL_SIZE: usize = 16;

/// The tables whose statistics queries plan by: what [`PostgresStore::analyze`] and
/// [`PostgresStore::vacuum`] maintain.
const STORE_TABLES: &str =
    "rows, row_bodies, row_people, row_cis, streams, events, outbox, allocations";

/// How many times a transaction aborted by a deadlock or serialisation failure is retried.
const RETRIES: usize = 5;

/// A desk store in one schema of a PostgreSQL database. Clones share the pool.
#[derive(Clone)]
pub struct PostgresStore {
    pool: Pool,
    schema: String,
}

impl std::fmt::Debug for PostgresStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresStore").field("schema", &self.schema).finish()
    }
}

/// Wraps a driver error.
pub(crate) fn backend(error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::backend(error)
}

/// Whether PostgreSQL aborted a transaction that may succeed if run again.
fn retryable(error: &StoreError) -> bool {
    let StoreError::Backend(source) = error else { return false };
    source
        .downcast_ref::<tokio_postgres::Error>()
        .and_then(tokio_postgres::Error::code)
        .is_some_and(|code| {
            *code == SqlState::T_R_DEADLOCK_DETECTED || *code == SqlState::T_R_SERIALIZATION_FAILURE
        })
}

impl PostgresStore {
    /// Connects to the database at `url` and uses (creating and migrating it if needed) the
    /// schema `schema`: a lower-case SQL identifier, `[a-z_][a-z0-9_]*`, at most 63 bytes.
    pub async fn connect(url: &str, schema: &str) -> Result<PostgresStore, StoreError> {
        let valid = !schema.is_empty()
            && schema.len() <= 63
            && schema.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
            && schema.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !valid {
            return Err(StoreError::Invalid(format!(
                "`{schema}` is not a schema name: use a-z, 0-9 and _, starting with a letter or _"
            )));
        }
        let mut config: tokio_postgres::Config = url.parse().map_err(|error| {
            StoreError::Invalid(format!("`{url}` is not a PostgreSQL URL: {error}"))
        })?;
        config.options(format!("-c search_path={schema} -c plan_cache_mode=force_custom_plan"));
        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig { recycling_method: RecyclingMethod::Fast },
        );
        let pool = Pool::builder(manager).max_size(POOL_SIZE).build().map_err(backend)?;
        let store = PostgresStore { pool, schema: schema.to_owned() };
        let mut client = store.client().await?;
        schema::migrate(&mut client, schema).await?;
        Ok(store)
    }

    /// The schema this store uses.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// Refreshes the query planner's statistics of the store's tables. PostgreSQL's
    /// autovacuum does this in time; call it after a bulk import so that queries plan well at
    /// once.
    pub async fn analyze(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        client.batch_execute(&format!("ANALYZE {STORE_TABLES}")).await.map_err(backend)
    }

    /// Vacuums the store's tables and refreshes their statistics. Autovacuum does this in time;
    /// call it after a bulk import so that searches in creation order read the index alone at
    /// once (an index can skip the table only on pages vacuuming found all visible; see
    /// [`schema`]).
    pub async fn vacuum(&self) -> Result<(), StoreError> {
        let client = self.client().await?;
        client.batch_execute(&format!("VACUUM (ANALYZE) {STORE_TABLES}")).await.map_err(backend)
    }

    /// Drops the store's schema and everything in it (for tests and removed tenants).
    pub async fn drop_schema(self) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema))
            .await
            .map_err(backend)
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, StoreError> {
        self.pool.get().await.map_err(backend)
    }

    /// Runs a query on a pooled connection.
    async fn fetch(
        &self,
        sql: &str,
        params: &[&(dyn ToSql + Sync)],
    ) -> Result<Vec<Row>, StoreError> {
        query(&self.client().await?, sql, params).await
    }
}

/// PostgreSQL's flavour of the shared query SQL.
struct Postgres;

impl Dialect for Postgres {
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
        let placeholder = statement.bind(self, Value::Text(ts_query(terms)));
        let open = match scope {
            SearchScope::All => "",
            SearchScope::Open => "open AND ",
        };
        // Matches first, as the row versions the index finds (see the schema's docs).
        format!(
            "r.ctid = ANY(ARRAY(SELECT ctid FROM rows
                                WHERE {open}search @@ {placeholder}::text::tsquery))"
        )
    }

    fn has_terms(&self, terms: &[String], query: &Query, statement: &mut Statement) -> String {
        let mut checks = Vec::new();
        for (n, bits) in word_bits(terms).into_iter().enumerate() {
            if bits != 0 {
                let bits = statement.bind(self, Value::Int(bits));
                checks.push(format!("(r.words_{n} & {bits}) = {bits}"));
            }
        }
        let placeholder = statement.bind(self, Value::Text(ts_query(terms)));
        // The bits first; then the words of the rows that have them.
        checks.push(if !checks.is_empty() && reads_index_alone(query) {
            // Fetched by id, since a reference to `r.search` would fetch every row.
            format!(
                "(SELECT x.search @@ {placeholder}::text::tsquery FROM rows x WHERE x.id = r.id)"
            )
        } else {
            // Terms too short for bits, or a window that fetches every row anyway.
            format!("r.search @@ {placeholder}::text::tsquery")
        });
        format!("({})", checks.join(" AND "))
    }
}

/// Whether a search window of `query` can read the creation-order index alone (see the
/// schema's docs): its order is that index's, and it filters only on what the index carries.
fn reads_index_alone(query: &Query) -> bool {
    let Filter {
        kind: _,
        open: _,
        text: _,
        statuses,
        team,
        tier,
        agent,
        requester,
        ci,
        at_risk_before,
        breached,
    } = &query.filter;
    query.order == Order::Newest
        && statuses.is_empty()
        && team.is_none()
        && tier.is_none()
        && agent.is_none()
        && requester.is_none()
        && ci.is_none()
        && at_risk_before.is_none()
        && breached.is_none()
}

/// The text of the `tsquery` that holds when a row has every one of `terms`.
fn ts_query(terms: &[String]) -> String {
    // Terms are letters and digits only: quoted as lexemes they need no escapes.
    let lexemes: Vec<String> = terms
        .iter()
        .map(|term| {
            if term.chars().count() <= SHORT_PREFIX {
                format!("'^{term}'")
            } else {
                format!("'{term}':*")
            }
        })
        .collect();
    lexemes.join(" & ")
}

/// The columns that hold a row's word bits (see the schema's docs).
const WORDS_COLUMNS: &str = "words_0, words_1, words_2, words_3";

/// The longest prefix indexed as a lexeme of its own.
const SHORT_PREFIX: usize = 3;

/// A row's lexemes: its words, and their first one to [`SHORT_PREFIX`] characters marked `^`.
fn lexemes(terms: &[String]) -> Vec<String> {
    let mut lexemes: BTreeSet<String> = terms.iter().cloned().collect();
    for term in terms {
        for (n, (end, _)) in term.char_indices().skip(1).chain([(term.len(), ' ')]).enumerate() {
            if n == SHORT_PREFIX {
                break;
            }
            lexemes.insert(format!("^{}", &term[..end]));
        }
    }
    lexemes.into_iter().collect()
}

fn sql_params(params: &[Value]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|value| match value {
            Value::Int(n) => n as &(dyn ToSql + Sync),
            Value::Text(text) => text as &(dyn ToSql + Sync),
        })
        .collect()
}

fn record_id(text: &str) -> Result<RecordId, StoreError> {
    text.parse().map_err(|error| StoreError::Corrupt(format!("record id `{text}`: {error}")))
}

fn stored_events(rows: Vec<Row>) -> Result<Vec<StoredEvent>, StoreError> {
    rows.iter().map(|row| desk_sql::stored_event(row.get(0), row.get(1))).collect()
}

fn ids(rows: Vec<Row>) -> Result<Vec<RecordId>, StoreError> {
    rows.iter().map(|row| record_id(row.get(0))).collect()
}

async fn query(
    client: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>, StoreError> {
    let statement = client.prepare_cached(sql).await.map_err(backend)?;
    client.query(&statement, params).await.map_err(backend)
}

async fn execute(
    client: &impl GenericClient,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64, StoreError> {
    let statement = client.prepare_cached(sql).await.map_err(backend)?;
    client.execute(&statement, params).await.map_err(backend)
}

/// The version of `record`, locking its stream row until the transaction ends.
async fn locked_version(client: &impl GenericClient, record: &str) -> Result<u64, StoreError> {
    let rows =
        query(client, "SELECT version FROM streams WHERE record_id = $1 FOR UPDATE", &[&record])
            .await?;
    to_u64(rows.first().map_or(0, |row| row.get(0)))
}

/// The last reference number of the kind with `prefix`.
async fn last_allocated(client: &impl GenericClient, prefix: &str) -> Result<u32, StoreError> {
    let rows = query(client, "SELECT last FROM allocations WHERE kind = $1", &[&prefix]).await?;
    u32::try_from(rows.first().map_or(0, |row| row.get::<_, i64>(0)))
        .map_err(|_| StoreError::Corrupt(format!("the last {prefix} reference is out of range")))
}

/// Records `claim` as the last reference of its kind, or refuses it if that is not above the
/// last one (see [`Commit::claim`]). The upsert locks the kind's row until the transaction
/// ends and compares with the last committed number, so of several transactions claiming one
/// number exactly one moves it.
async fn claim(tx: &impl GenericClient, claim: Reference) -> Result<(), StoreError> {
    let kind = claim.kind().prefix();
    let number = i64::from(claim.number().get());
    let moved = execute(
        tx,
        "INSERT INTO allocations (kind, last) VALUES ($1, $2)
         ON CONFLICT (kind) DO UPDATE SET last = excluded.last
         WHERE allocations.last < excluded.last",
        &[&kind, &number],
    )
    .await?;
    if moved == 1 {
        return Ok(());
    }
    contract::check_claim(claim, last_allocated(tx, kind).await?)?;
    Err(StoreError::Corrupt(format!("the claim of {claim} was neither taken nor refused")))
}

/// Whether `record` has a history or a row, locking its row until the transaction ends.
async fn locked_exists(client: &impl GenericClient, record: &str) -> Result<bool, StoreError> {
    let version = locked_version(client, record).await?;
    let row = query(client, "SELECT 1 FROM rows WHERE id = $1 FOR UPDATE", &[&record]).await?;
    Ok(version > 0 || !row.is_empty())
}

/// Refuses a record under hold ([`StoreError::OnHold`]) or unknown ([`StoreError::NotFound`]).
async fn check_no_hold(client: &impl GenericClient, record: &RecordId) -> Result<(), StoreError> {
    let id = record.to_string();
    if !locked_exists(client, &id).await? {
        return Err(StoreError::NotFound(record.clone()));
    }
    if !query(client, "SELECT 1 FROM holds WHERE record_id = $1", &[&id]).await?.is_empty() {
        return Err(StoreError::OnHold(record.clone()));
    }
    Ok(())
}

/// Inserts or replaces rows: one statement per table however many rows there are (a bulk
/// import or a cascade to many children costs a handful of statements), all sent at once and
/// run in turn (one round trip; see [`commit_in`]). The last row given for a record wins. A
/// row's old people and CIs are deleted before its new ones are inserted; for a new row the
/// delete finds nothing in the index, which costs less than waiting to learn that it is new.
async fn write_rows(client: &impl GenericClient, rows: &[RecordRow]) -> Result<(), StoreError> {
    let mut seen = BTreeSet::new();
    let mut columns = Vec::with_capacity(rows.len());
    for row in rows.iter().rev() {
        if seen.insert(&row.id) {
            columns.push(RowColumns::of(row)?);
        }
    }
    if columns.is_empty() {
        return Ok(());
    }
    let ids: Vec<&str> = columns.iter().map(|c| c.id.as_str()).collect();
    let vectors: Vec<String> = columns.iter().map(|c| lexemes(&c.terms).join(" ")).collect();
    let mut words: [Vec<i64>; words::PARTS] = Default::default();
    for c in &columns {
        for (part, bits) in words.iter_mut().zip(word_bits(&c.terms)) {
            part.push(bits);
        }
    }
    let column = |pick: fn(&RowColumns) -> Option<&str>| -> Vec<Option<&str>> {
        columns.iter().map(pick).collect()
    };
    let number = |pick: fn(&RowColumns) -> i64| -> Vec<i64> { columns.iter().map(pick).collect() };
    let maybe = |pick: fn(&RowColumns) -> Option<i64>| -> Vec<Option<i64>> {
        columns.iter().map(pick).collect()
    };
    let flag = |pick: fn(&RowColumns) -> bool| -> Vec<bool> { columns.iter().map(pick).collect() };
    let rows_sql = format!(
        "INSERT INTO rows ({ROWS_COLUMNS}, search, {WORDS_COLUMNS})
         SELECT {ROWS_COLUMNS}, array_to_tsvector(string_to_array(lexemes, ' ')), {WORDS_COLUMNS}
         FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[],
             $6::boolean[], $7::text[], $8::text[], $9::text[], $10::text[], $11::bigint[],
             $12::bigint[], $13::boolean[], $14::boolean[], $15::bigint[], $16::bigint[],
             $17::bigint[], $18::bigint[], $19::text[], $20::bigint[], $21::bigint[],
             $22::bigint[], $23::bigint[])
             AS given ({ROWS_COLUMNS}, lexemes, {WORDS_COLUMNS})
         ON CONFLICT (id) DO UPDATE SET {ROWS_UPDATE}, search = excluded.search,
             words_0 = excluded.words_0, words_1 = excluded.words_1,
             words_2 = excluded.words_2, words_3 = excluded.words_3"
    );
    let (sort_keys, kinds) = (column(|c| Some(&c.sort_key)), column(|c| Some(c.kind)));
    let (versions, statuses, opens) =
        (number(|c| c.version), column(|c| Some(&c.status)), flag(|c| c.open));
    let (teams, tiers, agents) =
        (column(|c| c.team.as_deref()), column(|c| c.tier), column(|c| c.agent.as_deref()));
    let (requesters, ranks, dues) =
        (column(|c| c.requester.as_deref()), number(|c| c.prio_rank), number(|c| c.due_key));
    let (warned, breached) = (flag(|c| c.warned), flag(|c| c.breached));
    let (created, updated) = (number(|c| c.created_key), number(|c| c.updated_key));
    let (closed, wakes) = (maybe(|c| c.closed_key), maybe(|c| c.wake_key));
    let [words_0, words_1, words_2, words_3] = &words;
    let row_params: [&(dyn ToSql + Sync); 23] = [
        &ids,
        &sort_keys,
        &kinds,
        &versions,
        &statuses,
        &opens,
        &teams,
        &tiers,
        &agents,
        &requesters,
        &ranks,
        &dues,
        &warned,
        &breached,
        &created,
        &updated,
        &closed,
        &wakes,
        &vectors,
        words_0,
        words_1,
        words_2,
        words_3,
    ];
    let bodies = column(|c| Some(&c.row_json));
    let side = |pick: fn(&RowColumns) -> &Vec<String>| -> (Vec<&str>, Vec<&str>) {
        columns
            .iter()
            .flat_map(|c| pick(c).iter().map(move |value| (value.as_str(), c.id.as_str())))
            .unzip()
    };
    let (people, people_owners) = side(|c| &c.people);
    let (cis, ci_owners) = side(|c| &c.cis);
    let body_params: [&(dyn ToSql + Sync); 2] = [&ids, &bodies];
    let id_params: [&(dyn ToSql + Sync); 1] = [&ids];
    // Inserts of no values are skipped; the deletes run whatever the rows are.
    tokio::try_join!(
        biased;
        execute(client, &rows_sql, &row_params),
        execute(
            client,
            "INSERT INTO row_bodies (id, row_json) SELECT * FROM unnest($1::text[], $2::text[])
             ON CONFLICT (id) DO UPDATE SET row_json = excluded.row_json",
            &body_params,
        ),
        execute(client, "DELETE FROM row_people WHERE record_id = ANY($1)", &id_params),
        insert_pairs(
            client,
            "INSERT INTO row_people (person, record_id) SELECT * FROM unnest($1::text[], $2::text[])",
            &people,
            &people_owners,
        ),
        execute(client, "DELETE FROM row_cis WHERE record_id = ANY($1)", &id_params),
        insert_pairs(
            client,
            "INSERT INTO row_cis (ci, record_id) SELECT * FROM unnest($1::text[], $2::text[])",
            &cis,
            &ci_owners,
        ),
    )?;
    Ok(())
}

/// Runs `sql`, which inserts pairs of `values` and their `owners`, unless there are none.
async fn insert_pairs(
    client: &impl GenericClient,
    sql: &str,
    values: &[&str],
    owners: &[&str],
) -> Result<u64, StoreError> {
    if values.is_empty() {
        return Ok(0);
    }
    execute(client, sql, &[&values, &owners]).await
}

async fn delete_row(client: &impl GenericClient, record: &str) -> Result<(), StoreError> {
    for sql in [
        "DELETE FROM rows WHERE id = $1",
        "DELETE FROM row_bodies WHERE id = $1",
        "DELETE FROM row_people WHERE record_id = $1",
        "DELETE FROM row_cis WHERE record_id = $1",
    ] {
        execute(client, sql, &[&record]).await?;
    }
    Ok(())
}

fn conflict(append: &Append, actual: u64) -> StoreError {
    StoreError::Conflict {
        record: append.record.clone(),
        expected: append.expected_version,
        actual,
    }
}

/// Checks one append's expected version and moves its record's version past its events.
async fn move_stream(tx: &impl GenericClient, append: &Append) -> Result<(), StoreError> {
    let record = append.record.to_string();
    if append.events.is_empty() {
        let actual = locked_version(tx, &record).await?;
        return if actual == append.expected_version {
            Ok(())
        } else {
            Err(conflict(append, actual))
        };
    }
    let expected = to_i64(append.expected_version)?;
    let version = to_i64(append.expected_version + append.events.len() as u64)?;
    let moved = if expected == 0 {
        execute(
            tx,
            "INSERT INTO streams (record_id, version) VALUES ($1, $2)
             ON CONFLICT (record_id) DO NOTHING",
            &[&record, &version],
        )
        .await?
    } else {
        execute(
            tx,
            "UPDATE streams SET version = $3 WHERE record_id = $1 AND version = $2",
            &[&record, &expected, &version],
        )
        .await?
    };
    if moved == 0 {
        return Err(conflict(append, locked_version(tx, &record).await?));
    }
    Ok(())
}

/// Appends as the columns of a batched statement.
struct Moves {
    ids: Vec<String>,
    expected: Vec<i64>,
    versions: Vec<i64>,
}

impl Moves {
    fn of(appends: &[&Append]) -> Result<Moves, StoreError> {
        let mut moves = Moves { ids: Vec::new(), expected: Vec::new(), versions: Vec::new() };
        for append in appends {
            moves.ids.push(append.record.to_string());
            moves.expected.push(to_i64(append.expected_version)?);
            moves.versions.push(to_i64(append.expected_version + append.events.len() as u64)?);
        }
        Ok(moves)
    }
}

/// Does what [`move_stream`] does for every append, in two statements when the appends are
/// to distinct records and all carry events (the usual bulk case); the conflict reported is
/// that of the first stale append, as one by one.
async fn move_streams(tx: &impl GenericClient, appends: &[Append]) -> Result<(), StoreError> {
    let records: BTreeSet<&RecordId> = appends.iter().map(|append| &append.record).collect();
    if appends.len() < 2
        || records.len() < appends.len()
        || appends.iter().any(|append| append.events.is_empty())
    {
        for append in appends {
            move_stream(tx, append).await?;
        }
        return Ok(());
    }
    let mut moved = BTreeSet::new();
    let (new, old): (Vec<&Append>, Vec<&Append>) =
        appends.iter().partition(|append| append.expected_version == 0);
    if !new.is_empty() {
        let Moves { ids, versions, .. } = Moves::of(&new)?;
        let rows = query(
            tx,
            "INSERT INTO streams (record_id, version) SELECT * FROM unnest($1::text[], $2::bigint[])
             ON CONFLICT (record_id) DO NOTHING RETURNING record_id",
            &[&ids, &versions],
        )
        .await?;
        moved.extend(rows.iter().map(|row| row.get::<_, String>(0)));
    }
    if !old.is_empty() {
        let Moves { ids, expected, versions } = Moves::of(&old)?;
        let rows = query(
            tx,
            "UPDATE streams s SET version = given.version
             FROM unnest($1::text[], $2::bigint[], $3::bigint[]) AS given (record_id, expected, version)
             WHERE s.record_id = given.record_id AND s.version = given.expected
             RETURNING s.record_id",
            &[&ids, &expected, &versions],
        )
        .await?;
        moved.extend(rows.iter().map(|row| row.get::<_, String>(0)));
    }
    match appends.iter().find(|append| !moved.contains(&append.record.to_string())) {
        Some(stale) => Err(conflict(stale, locked_version(tx, &stale.record.to_string()).await?)),
        None => Ok(()),
    }
}

/// Writes `commit` in `tx` (without committing it).
///
/// Statements are pipelined: sent together, run by PostgreSQL in the order sent, answered in
/// turn. A commit that opens an incident therefore costs four round trips (`BEGIN`, the checks,
/// the writes, `COMMIT`) instead of one per statement. The checks go first, on their own: a
/// claim lost to another writer or a stale version is refused before anything is written
/// (neither check fails the transaction, so what each finds can be asked about afterwards),
/// and only then are the rows, notifications and events written. Both checks finish before
/// their errors are weighed, so that a lost claim is reported as such even when the version
/// check found its answer first.
async fn commit_in(tx: &impl GenericClient, commit: &Commit) -> Result<(), StoreError> {
    // The claim first, so that a claim that loses a race is refused as such (rather than as a
    // conflict on the new record's history, which the winner created).
    let claimed = async {
        match commit.claim {
            Some(reference) => claim(tx, reference).await,
            None => Ok(()),
        }
    };
    let (claimed, moved) = tokio::join!(biased; claimed, move_streams(tx, &commit.appends));
    first_error(claimed, moved)?;
    tokio::try_join!(
        biased;
        write_rows(tx, &commit.rows),
        enqueue(tx, &commit.outbox),
        // Last, so that the lock on the position counter is held as briefly as possible, and
        // events take positions in the order their transactions commit.
        append_events(tx, &commit.appends),
    )?;
    Ok(())
}

/// The outcome of two checks made together, as if made one after the other: the first's error,
/// else the second's. Which answer PostgreSQL sends first depends on which statement was already
/// prepared on the connection, so it is not the order to go by. An error after which the whole
/// transaction may be retried comes before either: the other check may have failed only because
/// that error aborted the transaction.
fn first_error(
    first: Result<(), StoreError>,
    second: Result<(), StoreError>,
) -> Result<(), StoreError> {
    match (first, second) {
        (Err(first), Err(second)) if !retryable(&first) && retryable(&second) => Err(second),
        (Err(first), _) => Err(first),
        (Ok(()), second) => second,
    }
}

/// Enqueues `outbox` in one statement; `ORDER BY` keeps the messages' order in `seq`.
async fn enqueue(tx: &impl GenericClient, outbox: &[OutboxMessage]) -> Result<(), StoreError> {
    if outbox.is_empty() {
        return Ok(());
    }
    let keys: Vec<&str> = outbox.iter().map(|message| message.key.as_str()).collect();
    let records: Vec<String> = outbox.iter().map(|message| message.record.to_string()).collect();
    let jsons = outbox.iter().map(to_json).collect::<Result<Vec<_>, _>>()?;
    execute(
        tx,
        "INSERT INTO outbox (key, record_id, message_json, state)
         SELECT key, record_id, message_json, 'waiting'
         FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY
             AS given (key, record_id, message_json, n)
         ORDER BY n
         ON CONFLICT (key) DO NOTHING",
        &[&keys, &records, &jsons],
    )
    .await?;
    Ok(())
}

/// Appends the events of `appends`, taking their positions, in one statement.
async fn append_events(tx: &impl GenericClient, appends: &[Append]) -> Result<(), StoreError> {
    let mut records = Vec::new();
    let mut seqs = Vec::new();
    let mut jsons = Vec::new();
    for append in appends {
        for event in &append.events {
            records.push(append.record.to_string());
            seqs.push(to_i64(event.seq)?);
            jsons.push(to_json(event)?);
        }
    }
    if records.is_empty() {
        return Ok(());
    }
    let count = to_i64(records.len() as u64)?;
    // The counter's move and the insert in one statement.
    let written = execute(
        tx,
        "WITH moved AS (UPDATE positions SET last = last + $4 RETURNING last)
         INSERT INTO events (position, record_id, seq, event_json)
         SELECT moved.last - $4 + given.n, given.record_id, given.seq, given.event_json
         FROM moved, unnest($1::text[], $2::bigint[], $3::text[]) WITH ORDINALITY
             AS given (record_id, seq, event_json, n)",
        &[&records, &seqs, &jsons, &count],
    )
    .await?;
    if written != records.len() as u64 {
        return Err(StoreError::Corrupt("the position counter is missing".to_owned()));
    }
    Ok(())
}

/// Anonymises one record in `tx` (without committing it).
async fn redact_in(tx: &impl GenericClient, redaction: &Redaction) -> Result<(), StoreError> {
    let record = redaction.record.to_string();
    check_no_hold(tx, &redaction.record).await?;
    contract::check_redaction_version(redaction, locked_version(tx, &record).await?)?;
    let target = redaction.rename.as_ref().map_or_else(|| record.clone(), ToString::to_string);
    if target != record && locked_exists(tx, &target).await? {
        return Err(StoreError::Invalid(format!(
            "{record} cannot be renamed to {target}, which exists"
        )));
    }
    let events =
        query(tx, "SELECT seq, event_json FROM events WHERE record_id = $1", &[&record]).await?;
    for row in events {
        let seq: i64 = row.get(0);
        let mut event: EventRecord = from_json(row.get(1))?;
        if contract::redact_event(&mut event, redaction) {
            execute(
                tx,
                "UPDATE events SET record_id = $1, event_json = $2 WHERE record_id = $3 AND seq = $4",
                &[&target, &to_json(&event)?, &record, &seq],
            )
            .await?;
        }
    }
    execute(tx, "UPDATE streams SET record_id = $1 WHERE record_id = $2", &[&target, &record])
        .await?;
    delete_row(tx, &record).await?;
    write_rows(tx, std::slice::from_ref(&redaction.row)).await
}

#[async_trait]
impl Store for PostgresStore {
    async fn last_allocated(&self, kind: RecordKind) -> Result<u32, StoreError> {
        last_allocated(&self.client().await?, kind.prefix()).await
    }

    async fn history(&self, record: &RecordId) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = self
            .fetch(
                "SELECT position, event_json FROM events WHERE record_id = $1 ORDER BY seq",
                &[&record.to_string()],
            )
            .await?;
        stored_events(rows)
    }

    async fn commit(&self, commit: Commit) -> Result<(), StoreError> {
        contract::check_commit(&commit)?;
        let mut client = self.client().await?;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let tx = client.transaction().await.map_err(backend)?;
            let result = match commit_in(&tx, &commit).await {
                Ok(()) => tx.commit().await.map_err(backend),
                Err(error) => Err(error),
            };
            match result {
                Err(error) if attempt < RETRIES && retryable(&error) => continue,
                result => return result,
            }
        }
    }

    async fn row(&self, record: &RecordId) -> Result<Option<RecordRow>, StoreError> {
        let rows = self
            .fetch("SELECT row_json FROM row_bodies WHERE id = $1", &[&record.to_string()])
            .await?;
        rows.first().map(|row| from_json(row.get(0))).transpose()
    }

    async fn query(&self, query: &Query) -> Result<Page, StoreError> {
        let statement = match desk_sql::WindowedSearch::new(query) {
            None => desk_sql::select_page(&Postgres, query)?,
            Some(mut search) => loop {
                // The page and, if it falls short, the window's last row: one round trip.
                let window = search.together(&Postgres)?;
                let rows = self.fetch(&window.sql, &sql_params(&window.params)).await?;
                let arity = query.order.arity();
                let rows = rows
                    .iter()
                    .map(|row| {
                        let numbers =
                            (1..=arity).map(|n| row.try_get(n)).collect::<Result<_, _>>()?;
                        Ok(desk_sql::WindowRow {
                            json: row.try_get(0)?,
                            numbers,
                            id: row.try_get(arity + 1)?,
                        })
                    })
                    .collect::<Result<Vec<_>, tokio_postgres::Error>>()
                    .map_err(backend)?;
                let found = desk_sql::WindowedSearch::split(query.order, rows)?;
                let page =
                    found.page.iter().map(|json| from_json(json)).collect::<Result<Vec<_>, _>>()?;
                if search.take(page) {
                    return Ok(search.page());
                }
                match search.after_window(&Postgres, found.last)? {
                    Next::Answer => return Ok(search.page()),
                    Next::Window => {}
                    Next::Index(statement) => break statement,
                }
            },
        };
        let rows = self.fetch(&statement.sql, &sql_params(&statement.params)).await?;
        let rows = rows.iter().map(|row| from_json(row.get(0))).collect::<Result<_, _>>()?;
        Ok(desk_sql::page_from(query, rows))
    }

    async fn events_after(
        &self,
        position: u64,
        limit: u32,
    ) -> Result<Vec<StoredEvent>, StoreError> {
        let rows = self.fetch(
            "SELECT position, event_json FROM events WHERE position > $1 ORDER BY position LIMIT $2",
            &[&to_i64(position)?, &i64::from(limit)],
        )
        .await?;
        stored_events(rows)
    }

    async fn next_wake(&self) -> Result<Option<Timestamp>, StoreError> {
        let rows = self
            .fetch(
                "SELECT b.row_json FROM rows r JOIN row_bodies b ON b.id = r.id
             WHERE r.wake_key IS NOT NULL ORDER BY r.wake_key, r.sort_key LIMIT 1",
                &[],
            )
            .await?;
        let row: Option<RecordRow> = rows.first().map(|row| from_json(row.get(0))).transpose()?;
        Ok(row.and_then(|row| row.wake_at))
    }

    async fn due(&self, now: Timestamp, limit: u32) -> Result<Vec<RecordId>, StoreError> {
        let rows = self
            .fetch(
                "SELECT id FROM rows WHERE wake_key <= $1 ORDER BY wake_key, sort_key LIMIT $2",
                &[&time_key(now), &i64::from(limit)],
            )
            .await?;
        ids(rows)
    }

    async fn claim_outbox(
        &self,
        now: Timestamp,
        lease_until: Timestamp,
        limit: u32,
    ) -> Result<Vec<OutboxItem>, StoreError> {
        let mut rows = self
            .fetch(
                "UPDATE outbox o SET attempts = o.attempts + 1, lease_key = $2
             FROM (SELECT seq FROM outbox
                   WHERE state = 'waiting' AND (ready_key IS NULL OR ready_key <= $1)
                     AND (lease_key IS NULL OR lease_key <= $1)
                   ORDER BY seq LIMIT $3 FOR UPDATE SKIP LOCKED) claimed
             WHERE o.seq = claimed.seq
             RETURNING o.seq, o.message_json, o.attempts",
                &[&time_key(now), &time_key(lease_until), &i64::from(limit)],
            )
            .await?;
        rows.sort_by_key(|row| row.get::<_, i64>(0));
        rows.iter()
            .map(|row| {
                let message: OutboxMessage = from_json(row.get(1))?;
                let attempts: i64 = row.get(2);
                let attempts = u32::try_from(attempts)
                    .map_err(|_| StoreError::Corrupt(format!("{attempts} attempts")))?;
                Ok(OutboxItem { message, attempts })
            })
            .collect()
    }

    async fn settle_outbox(
        &self,
        key: &str,
        delivery: Delivery,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let client = self.client().await?;
        match delivery {
            Delivery::Delivered => {
                execute(
                    &client,
                    "UPDATE outbox SET state = 'delivered', lease_key = NULL
                     WHERE key = $1 AND state = 'waiting'",
                    &[&key],
                )
                .await
            }
            Delivery::Retry { error, retry_at } => {
                execute(
                    &client,
                    "UPDATE outbox SET ready_key = $2, lease_key = NULL, error = $3
                     WHERE key = $1 AND state = 'waiting'",
                    &[&key, &time_key(retry_at), &error],
                )
                .await
            }
            Delivery::Dead { error } => {
                execute(
                    &client,
                    "UPDATE outbox SET state = 'dead', lease_key = NULL, error = $2,
                         dead_key = $3, dead_at = $4
                     WHERE key = $1 AND state = 'waiting'",
                    &[&key, &error, &time_key(now), &to_json(&now)?],
                )
                .await
            }
        }
        .map(|_| ())
    }

    async fn dead_letters(&self, limit: u32) -> Result<Vec<DeadLetter>, StoreError> {
        let rows = self
            .fetch(
                "SELECT message_json, attempts, error, dead_at FROM outbox
             WHERE state = 'dead' ORDER BY dead_key, seq LIMIT $1",
                &[&i64::from(limit)],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let attempts: i64 = row.get(1);
                Ok(DeadLetter {
                    message: from_json(row.get(0))?,
                    attempts: u32::try_from(attempts)
                        .map_err(|_| StoreError::Corrupt(format!("{attempts} attempts")))?,
                    error: row.get(2),
                    dead_at: from_json(row.get(3))?,
                })
            })
            .collect()
    }

    async fn mentioning(&self, person: &PersonId) -> Result<Vec<RecordId>, StoreError> {
        let rows = self
            .fetch(
                "SELECT r.id FROM row_people p JOIN rows r ON r.id = p.record_id
             WHERE p.person = $1 ORDER BY r.sort_key",
                &[&person.as_str()],
            )
            .await?;
        ids(rows)
    }

    async fn redact(&self, redaction: Redaction) -> Result<(), StoreError> {
        contract::check_redaction(&redaction)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        redact_in(&tx, &redaction).await?;
        tx.commit().await.map_err(backend)
    }

    async fn closed_before(
        &self,
        kind: RowKind,
        cutoff: Timestamp,
        limit: u32,
    ) -> Result<Vec<RecordId>, StoreError> {
        let rows = self
            .fetch(
                "SELECT r.id FROM rows r
             WHERE r.kind = $1 AND r.closed_key < $2
               AND NOT EXISTS (SELECT 1 FROM holds h WHERE h.record_id = r.id)
             ORDER BY r.closed_key, r.sort_key LIMIT $3",
                &[&kind.as_str(), &time_key(cutoff), &i64::from(limit)],
            )
            .await?;
        ids(rows)
    }

    async fn delete(&self, record: &RecordId) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        check_no_hold(&tx, record).await?;
        let id = record.to_string();
        for sql in [
            "DELETE FROM events WHERE record_id = $1",
            "DELETE FROM streams WHERE record_id = $1",
            "DELETE FROM outbox WHERE record_id = $1",
        ] {
            execute(&tx, sql, &[&id]).await?;
        }
        delete_row(&tx, &id).await?;
        tx.commit().await.map_err(backend)
    }

    async fn place_hold(&self, hold: LegalHold) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(backend)?;
        let id = hold.record.to_string();
        if !locked_exists(&tx, &id).await? {
            return Err(StoreError::NotFound(hold.record));
        }
        execute(
            &tx,
            "INSERT INTO holds (record_id, hold_json) VALUES ($1, $2)
             ON CONFLICT (record_id) DO UPDATE SET hold_json = excluded.hold_json",
            &[&id, &to_json(&hold)?],
        )
        .await?;
        tx.commit().await.map_err(backend)
    }

    async fn release_hold(&self, record: &RecordId) -> Result<(), StoreError> {
        let client = self.client().await?;
        execute(&client, "DELETE FROM holds WHERE record_id = $1", &[&record.to_string()])
            .await
            .map(|_| ())
    }

    async fn hold(&self, record: &RecordId) -> Result<Option<LegalHold>, StoreError> {
        let rows = self
            .fetch("SELECT hold_json FROM holds WHERE record_id = $1", &[&record.to_string()])
            .await?;
        rows.first().map(|row| from_json(row.get(0))).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_prefixes_of_every_word_are_lexemes_of_their_own() {
        let terms = ["ws".to_owned(), "siân".to_owned(), "a".to_owned()];
        assert_eq!(
            lexemes(&terms),
            ["^a", "^s", "^si", "^siâ", "^w", "^ws", "a", "siân", "ws"].map(String::from)
        );
    }

    #[test]
    fn a_window_checks_the_word_bits_before_the_words() {
        let terms = |text: &str| contract::search_terms(text);
        let query = |order, filter| Query { order, filter, limit: 10, ..Query::default() };
        let newest = query(Order::Newest, Filter { open: Some(true), ..Filter::default() });
        let mut statement = Statement::default();
        let sql = Postgres.has_terms(&terms("printer jam"), &newest, &mut statement);
        // The bits as parameters, then the words, fetched by id: the window reads an index.
        let bits = word_bits(&terms("printer jam"));
        let parts: Vec<Value> =
            bits.iter().filter(|bits| **bits != 0).map(|bits| Value::Int(*bits)).collect();
        assert_eq!(statement.params[..parts.len()], parts[..]);
        assert_eq!(statement.params[parts.len()..], [Value::Text("'printer':* & '^jam'".into())]);
        assert!(sql.contains("(r.words_"), "{sql}");
        assert!(sql.ends_with("FROM rows x WHERE x.id = r.id))"), "{sql}");

        // A window that fetches every row anyway reads the words there.
        let team = Filter { team: Some("networks".parse().unwrap()), ..Filter::default() };
        for other in [query(Order::Queue, Filter::default()), query(Order::Newest, team)] {
            let sql = Postgres.has_terms(&terms("printer"), &other, &mut Statement::default());
            assert!(sql.contains("(r.words_"), "{sql}");
            assert!(sql.ends_with("AND r.search @@ $3::text::tsquery)"), "{sql}");
        }

        // Words of one or two characters have no bits.
        let mut statement = Statement::default();
        let sql = Postgres.has_terms(&terms("pc 13"), &newest, &mut statement);
        assert_eq!(sql, "(r.search @@ $1::text::tsquery)");
        assert_eq!(statement.params, [Value::Text("'^pc' & '^13'".into())]);
    }

    #[test]
    fn checks_made_together_report_as_if_made_in_turn() {
        let taken =
            || StoreError::ReferenceTaken { reference: "INC-000002".parse().unwrap(), last: 2 };
        let stale = || StoreError::Conflict {
            record: "INC-000002".parse().unwrap(),
            expected: 1,
            actual: 0,
        };
        assert!(matches!(
            first_error(Err(taken()), Err(stale())),
            Err(StoreError::ReferenceTaken { .. })
        ));
        assert!(matches!(first_error(Ok(()), Err(stale())), Err(StoreError::Conflict { .. })));
        assert!(matches!(
            first_error(Err(taken()), Ok(())),
            Err(StoreError::ReferenceTaken { .. })
        ));
        assert!(first_error(Ok(()), Ok(())).is_ok());
    }
}
