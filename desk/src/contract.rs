//! The storage contract's finer rules, as code every adapter shares.
//!
//! [`crate::store`] says what a store does; this module pins down the details where adapters
//! could otherwise drift apart, and the in-memory adapter uses it directly as the reference the
//! others are tested against:
//!
//! - **What a filter matches**: [`Filter::matches`]. Text search matches words by prefix: the
//!   query and the row's title and body are lower-cased and cut into words, runs of letters and
//!   digits ([`search_terms`]); every word of the query must begin some word of the row. So
//!   `print` finds "Printer jammed", `ws-01234` finds host WS-01234 and `siân` finds "Siân
//!   Evans", while `connect` does not find "AnyConnect". The words are cut here, in Rust, and
//!   stored: databases index them as they are (SQLite's FTS5 and PostgreSQL's `tsvector`),
//!   so every backend matches exactly the same rows.
//! - **How rows order**: [`SortKey`]. Orders compare integers and end with the record's
//!   [`id_key`], so they are total; a missing priority or due time sorts last. Instants are
//!   nanoseconds since 1970 ([`time_key`]), so SQL adapters index plain integers.
//! - **What a cursor holds**: the last row's [`SortKey`], as text (`queue:2:1767600000000000000:0-0000000123`).
//!   Pages continue strictly after it (keyset pagination), so rows inserted meanwhile neither
//!   repeat nor shift a page.
//! - **Which writes are well formed**: [`check_commit`] and [`check_redaction`].

use std::cmp::Ordering;

use desk_core::Timestamp;
use desk_core::id::{RecordId, Reference};
use desk_core::priority::Priority;

use crate::store::{
    Commit, Cursor, EventRecord, Filter, Order, Page, Query, RecordRow, Redaction, RowKind,
    StoreError,
};

/// The most rows a page holds, whatever the query asks.
pub const MAX_PAGE: u32 = 1_000;

/// The key of an instant that never comes (no due time, no wake-up): after every other.
pub const NEVER: i64 = i64::MAX;

/// The rank of a missing priority: after every real one.
pub const NO_PRIORITY: i64 = 1_000;

/// The rows a query returns at most: its limit, capped at [`MAX_PAGE`].
pub fn page_size(query: &Query) -> usize {
    query.limit.min(MAX_PAGE) as usize
}

/// An instant as nanoseconds since 1970, clamped to the years 1677–2262 (beyond them every
/// instant has the same key, just before [`NEVER`]).
pub fn time_key(at: Timestamp) -> i64 {
    at.timestamp_nanos_opt().unwrap_or(if at.timestamp() < 0 { i64::MIN } else { NEVER - 1 })
}

/// The key of an optional instant: [`NEVER`] when absent.
pub fn optional_time_key(at: Option<Timestamp>) -> i64 {
    at.map_or(NEVER, time_key)
}

/// A priority's rank: its level (1 for P1), [`NO_PRIORITY`] when absent.
pub fn priority_rank(priority: Option<Priority>) -> i64 {
    priority.map_or(NO_PRIORITY, |p| i64::from(p.level()))
}

/// A record's id as text that sorts, byte by byte, the way [`RecordId`] orders: numbered
/// records by kind then number (`0-0000000123` is INC-000123), then requesters (`7` + id),
/// then agents (`8` + id).
pub fn id_key(id: &RecordId) -> String {
    match id {
        RecordId::Ref(reference) => {
            let kind = desk_core::id::RecordKind::ALL
                .iter()
                .position(|kind| *kind == reference.kind())
                .unwrap_or_default();
            format!("{kind}-{:010}", reference.number())
        }
        RecordId::Requester(person) => format!("7{person}"),
        RecordId::Agent(person) => format!("8{person}"),
    }
}

/// The longest word text search keeps, in characters (longer words are cut to it).
pub const MAX_TERM_CHARS: usize = 64;

/// The most distinct words of a row that text search indexes (the first ones).
pub const MAX_TERMS: usize = 2_000;

/// The words of `text` as text search sees them: lower-cased, then cut into runs of letters
/// and digits (`char::is_alphanumeric`), each cut to [`MAX_TERM_CHARS`], without repeats, at
/// most [`MAX_TERMS`], in order of first appearance.
pub fn search_terms(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut terms: Vec<String> = Vec::new();
    for word in lower.split(|c: char| !c.is_alphanumeric()).filter(|word| !word.is_empty()) {
        let term: String = word.chars().take(MAX_TERM_CHARS).collect();
        if !terms.contains(&term) {
            if terms.len() == MAX_TERMS {
                break;
            }
            terms.push(term);
        }
    }
    terms
}

/// The words of a row that text search matches: those of its title, then of its body.
pub fn row_terms(row: &RecordRow) -> Vec<String> {
    let mut text = String::with_capacity(row.title.len() + row.body.len() + 1);
    text.push_str(&row.title);
    text.push('\n');
    text.push_str(&row.body);
    search_terms(&text)
}

/// The key the SLA due time of a row sorts by.
pub fn due_key(row: &RecordRow) -> i64 {
    optional_time_key(row.sla.due_at)
}

impl Filter {
    /// Whether `row` passes every part of this filter. This is the meaning every adapter's
    /// query implements.
    pub fn matches(&self, row: &RecordRow) -> bool {
        self.kind.is_none_or(|kind| kind == row.kind)
            && self.open.is_none_or(|open| open == row.open)
            && (self.statuses.is_empty() || self.statuses.contains(&row.status))
            && wanted(&self.team, &row.team)
            && wanted(&self.tier, &row.tier)
            && wanted(&self.agent, &row.agent)
            && wanted(&self.requester, &row.requester)
            && self.ci.is_none_or(|ci| row.cis.contains(&ci))
            && self.text.as_deref().is_none_or(|text| {
                let terms = row_terms(row);
                search_terms(text)
                    .iter()
                    .all(|word| terms.iter().any(|term| term.starts_with(word)))
            })
            && self.at_risk_before.is_none_or(|before| {
                row.open && (row.sla.warned || due_key(row) < time_key(before))
            })
            && self.breached.is_none_or(|breached| {
                if breached {
                    row.open && row.sla.breached_at.is_some()
                } else {
                    row.sla.breached_at.is_none()
                }
            })
    }
}

impl Order {
    /// The name of the order in cursors.
    pub const fn as_str(self) -> &'static str {
        match self {
            Order::Queue => "queue",
            Order::Due => "due",
            Order::Newest => "newest",
            Order::Updated => "updated",
        }
    }

    /// Whether the order runs from the largest keys down (newest first).
    pub const fn descending(self) -> bool {
        matches!(self, Order::Newest | Order::Updated)
    }

    /// How many integer keys precede the id in this order.
    pub const fn arity(self) -> usize {
        match self {
            Order::Queue => 2,
            Order::Due | Order::Newest | Order::Updated => 1,
        }
    }
}

/// Where a row stands in an order: integer keys, then its [`id_key`].
///
/// | order | keys | direction |
/// |---|---|---|
/// | queue | [`priority_rank`], [`due_key`] | ascending |
/// | due | [`due_key`] | ascending |
/// | newest | `created_at` | descending |
/// | updated | `updated_at` | descending |
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SortKey {
    /// The order.
    pub order: Order,
    /// The integer keys ([`Order::arity`] of them).
    pub numbers: Vec<i64>,
    /// The record's [`id_key`].
    pub id: String,
}

impl SortKey {
    /// The key of `row` in `order`.
    pub fn of(order: Order, row: &RecordRow) -> SortKey {
        let numbers = match order {
            Order::Queue => vec![priority_rank(row.priority), due_key(row)],
            Order::Due => vec![due_key(row)],
            Order::Newest => vec![time_key(row.created_at)],
            Order::Updated => vec![time_key(row.updated_at)],
        };
        SortKey { order, numbers, id: id_key(&row.id) }
    }

    /// Compares two keys of the same order: `Less` means `self` comes first.
    pub fn precedes(&self, other: &SortKey) -> Ordering {
        let natural = self.numbers.cmp(&other.numbers).then_with(|| self.id.cmp(&other.id));
        if self.order.descending() { natural.reverse() } else { natural }
    }

    /// The cursor that continues after this key.
    pub fn cursor(&self) -> Cursor {
        let mut text = self.order.as_str().to_owned();
        for number in &self.numbers {
            text.push(':');
            text.push_str(&number.to_string());
        }
        text.push(':');
        text.push_str(&self.id);
        Cursor(text)
    }

    /// Reads a cursor of `order`; a cursor of another order or not made by
    /// [`SortKey::cursor`] is [`StoreError::Invalid`].
    pub fn from_cursor(order: Order, cursor: &Cursor) -> Result<SortKey, StoreError> {
        let invalid =
            || StoreError::Invalid(format!("`{}` is not a {} cursor", cursor.0, order.as_str()));
        let mut parts = cursor.0.splitn(order.arity() + 2, ':');
        if parts.next() != Some(order.as_str()) {
            return Err(invalid());
        }
        let numbers = (0..order.arity())
            .map(|_| parts.next().and_then(|n| n.parse().ok()).ok_or_else(invalid))
            .collect::<Result<Vec<i64>, StoreError>>()?;
        let id = parts.next().filter(|id| !id.is_empty()).ok_or_else(invalid)?;
        Ok(SortKey { order, numbers, id: id.to_owned() })
    }
}

/// The page `query` returns from `rows` (in any order): the reference implementation of
/// [`crate::store::Store::query`]. A page has a `next` cursor only when more rows follow.
pub fn page_of<'a>(
    query: &Query,
    rows: impl IntoIterator<Item = &'a RecordRow>,
) -> Result<Page, StoreError> {
    let after = query.after.as_ref().map(|c| SortKey::from_cursor(query.order, c)).transpose()?;
    let mut keyed: Vec<(SortKey, &RecordRow)> = rows
        .into_iter()
        .filter(|row| query.filter.matches(row))
        .map(|row| (SortKey::of(query.order, row), row))
        .filter(|(key, _)| after.as_ref().is_none_or(|after| after.precedes(key).is_lt()))
        .collect();
    keyed.sort_by(|a, b| a.0.precedes(&b.0));
    Ok(paginate(query, keyed))
}

/// Cuts a page from rows already filtered, after the cursor and in order, of which at most
/// one more than the page size is needed.
pub fn paginate<R: Into<RecordRow>>(query: &Query, rows: Vec<(SortKey, R)>) -> Page {
    let size = page_size(query);
    let more = rows.len() > size;
    let mut page = Vec::with_capacity(size.min(rows.len()));
    let mut last = None;
    for (key, row) in rows.into_iter().take(size) {
        page.push(row.into());
        last = Some(key);
    }
    Page { rows: page, next: last.filter(|_| more).map(|key| key.cursor()) }
}

impl From<&RecordRow> for RecordRow {
    fn from(row: &RecordRow) -> Self {
        row.clone()
    }
}

/// Refuses `claim` with [`StoreError::ReferenceTaken`] unless its number is above `last`, the
/// last number of its kind (see [`Commit::claim`]).
pub fn check_claim(claim: Reference, last: u32) -> Result<(), StoreError> {
    if claim.number().get() > last {
        Ok(())
    } else {
        Err(StoreError::ReferenceTaken { reference: claim, last })
    }
}

/// Checks the shape of a commit before any store reads it: every append's events belong to
/// its record and number on from its expected version; every row's kind fits its id; a row
/// of a record appended to in the same commit carries the version the appends leave.
pub fn check_commit(commit: &Commit) -> Result<(), StoreError> {
    let mut versions: Vec<(&RecordId, u64)> = Vec::new();
    for append in &commit.appends {
        if let Some((_, version)) = versions.iter().rev().find(|(id, _)| *id == &append.record)
            && *version != append.expected_version
        {
            return Err(StoreError::Invalid(format!(
                "two appends to {} in one commit do not chain: the second expects version {} after {}",
                append.record, append.expected_version, version
            )));
        }
        for (n, event) in append.events.iter().enumerate() {
            let seq = append.expected_version + 1 + n as u64;
            if event.record != append.record {
                return Err(StoreError::Invalid(format!(
                    "an event of {} is in the append to {}",
                    event.record, append.record
                )));
            }
            if event.seq != seq {
                return Err(StoreError::Invalid(format!(
                    "event {} of {} should have seq {seq}",
                    event.seq, append.record
                )));
            }
        }
        versions.push((&append.record, append.expected_version + append.events.len() as u64));
    }
    for row in &commit.rows {
        check_row_kind(row)?;
        if let Some((_, version)) = versions.iter().rev().find(|(id, _)| *id == &row.id)
            && row.version != *version
        {
            return Err(StoreError::Invalid(format!(
                "the row of {} has version {} but its history reaches {version}",
                row.id, row.version
            )));
        }
    }
    Ok(())
}

/// Checks the shape of a redaction: its events and row belong to the record (or to its new id),
/// a rename keeps the kind of record, and no event is given twice.
pub fn check_redaction(redaction: &Redaction) -> Result<(), StoreError> {
    let target = redaction.rename.as_ref().unwrap_or(&redaction.record);
    if RowKind::of(target) != RowKind::of(&redaction.record) {
        return Err(StoreError::Invalid(format!(
            "{} cannot be renamed to {target}, a record of another kind",
            redaction.record
        )));
    }
    if &redaction.row.id != target {
        return Err(StoreError::Invalid(format!(
            "the redacted row of {} is for {}",
            redaction.record, redaction.row.id
        )));
    }
    check_row_kind(&redaction.row)?;
    for (n, event) in redaction.events.iter().enumerate() {
        if event.record != redaction.record && &event.record != target {
            return Err(StoreError::Invalid(format!(
                "an event of {} is in the redaction of {}",
                event.record, redaction.record
            )));
        }
        if redaction.events[..n].iter().any(|earlier| earlier.seq == event.seq) {
            return Err(StoreError::Invalid(format!(
                "event {} of {} is redacted twice",
                event.seq, redaction.record
            )));
        }
    }
    Ok(())
}

/// Checks a redaction against the record's current version: the new row must carry it (else
/// [`StoreError::Conflict`]: the record changed since the redaction was prepared), and every
/// event named must exist.
pub fn check_redaction_version(redaction: &Redaction, actual: u64) -> Result<(), StoreError> {
    if redaction.row.version != actual {
        return Err(StoreError::Conflict {
            record: redaction.record.clone(),
            expected: redaction.row.version,
            actual,
        });
    }
    match redaction.events.iter().find(|event| event.seq == 0 || event.seq > actual) {
        Some(missing) => Err(StoreError::Invalid(format!(
            "{} has no event {} to redact",
            redaction.record, missing.seq
        ))),
        None => Ok(()),
    }
}

/// Applies `redaction` to one event of the record's history: the new actor and payload if the
/// redaction names the event (then marked redacted), and the new id if the record is renamed.
/// The digests and hashes stay as they are. Returns whether the event changed.
pub fn redact_event(event: &mut EventRecord, redaction: &Redaction) -> bool {
    let mut changed = false;
    if let Some(redacted) = redaction.events.iter().find(|r| r.seq == event.seq) {
        event.payload = redacted.payload.clone();
        event.actor = redacted.actor.clone();
        event.redacted = true;
        changed = true;
    }
    if let Some(rename) = &redaction.rename
        && &event.record != rename
    {
        event.record = rename.clone();
        changed = true;
    }
    changed
}

/// Whether an optional filter field lets `actual` through.
fn wanted<T: PartialEq>(wanted: &Option<T>, actual: &Option<T>) -> bool {
    wanted.is_none() || wanted == actual
}

fn check_row_kind(row: &RecordRow) -> Result<(), StoreError> {
    if row.kind == RowKind::of(&row.id) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!(
            "the row of {} says it is a {}",
            row.id,
            row.kind.as_str()
        )))
    }
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;
    use crate::store::SlaRow;

    fn row(id: &str, priority: Option<u8>, due_minutes: Option<i64>) -> RecordRow {
        let id: RecordId = id.parse().unwrap();
        let at = Utc.with_ymd_and_hms(2026, 1, 5, 9, 0, 0).unwrap();
        RecordRow {
            kind: RowKind::of(&id),
            id,
            version: 1,
            status: "new".into(),
            open: true,
            title: "Printer jammed on Floor 2".into(),
            body: "The HP LaserJet shows error 13.2".into(),
            team: None,
            tier: None,
            agent: None,
            priority: priority.and_then(Priority::new),
            requester: None,
            people: vec![],
            cis: vec![],
            created_at: at,
            updated_at: at,
            closed_at: None,
            sla: SlaRow {
                due_at: due_minutes.map(|m| at + chrono::Duration::minutes(m)),
                ..SlaRow::default()
            },
            wake_at: None,
            state: serde_json::Value::Null,
        }
    }

    #[test]
    fn id_keys_sort_like_record_ids() {
        let mut ids: Vec<RecordId> = [
            "agent:a",
            "REQ-000002",
            "INC-1000000",
            "INC-000009",
            "requester:z.z",
            "requester:a.b",
            "CMP-000001",
        ]
        .iter()
        .map(|text| text.parse().unwrap())
        .collect();
        let mut by_key = ids.clone();
        ids.sort();
        by_key.sort_by_key(id_key);
        assert_eq!(ids, by_key);
    }

    #[test]
    fn the_queue_puts_p1_first_and_missing_priority_and_due_last() {
        let rows = [
            row("INC-000001", None, Some(5)),
            row("INC-000002", Some(3), None),
            row("INC-000003", Some(3), Some(60)),
            row("INC-000004", Some(1), Some(240)),
        ];
        let query = Query { limit: 10, ..Query::default() };
        let page = page_of(&query, &rows).unwrap();
        let order: Vec<String> = page.rows.iter().map(|r| r.id.to_string()).collect();
        assert_eq!(order, ["INC-000004", "INC-000003", "INC-000002", "INC-000001"]);
        assert_eq!(page.next, None);
    }

    #[test]
    fn pages_continue_strictly_after_their_cursor() {
        let rows: Vec<RecordRow> =
            (1..=5).map(|n| row(&format!("INC-{n:06}"), Some(2), Some(10))).collect();
        let mut query = Query { limit: 2, order: Order::Newest, ..Query::default() };
        let mut seen = Vec::new();
        loop {
            let page = page_of(&query, &rows).unwrap();
            seen.extend(page.rows.iter().map(|r| r.id.to_string()));
            match page.next {
                Some(next) => query.after = Some(next),
                None => break,
            }
        }
        assert_eq!(seen, ["INC-000005", "INC-000004", "INC-000003", "INC-000002", "INC-000001"]);
    }

    #[test]
    fn a_cursor_reads_back_only_in_its_own_order() {
        let key = SortKey::of(Order::Queue, &row("requester:k.lee", Some(2), Some(3)));
        let cursor = key.cursor();
        assert_eq!(SortKey::from_cursor(Order::Queue, &cursor).unwrap(), key);
        for bad in [Order::Due, Order::Newest] {
            assert!(matches!(SortKey::from_cursor(bad, &cursor), Err(StoreError::Invalid(_))));
        }
        let garbage = Cursor("queue:x:1:0-1".into());
        assert!(matches!(
            SortKey::from_cursor(Order::Queue, &garbage),
            Err(StoreError::Invalid(_))
        ));
    }

    #[test]
    fn text_search_finds_every_word_as_a_word_prefix_in_any_case() {
        let row = row("INC-000001", None, None);
        let search =
            |text: &str| Filter { text: Some(text.into()), ..Filter::default() }.matches(&row);
        assert!(search("print laserjet"));
        assert!(search("  13.2   FLOOR "));
        assert!(search("hp-laser"));
        assert!(search(""));
        assert!(search("!!"));
        assert!(!search("printer scanner"));
        assert!(!search("jet"));
    }

    #[test]
    fn search_terms_are_lower_case_runs_of_letters_and_digits() {
        assert_eq!(
            search_terms("Siân's PC-0042, ERROR 13.2!"),
            ["siân", "s", "pc", "0042", "error", "13", "2"]
        );
        assert_eq!(search_terms("a a A"), ["a"]);
        let long = "x".repeat(100);
        assert_eq!(search_terms(&long), ["x".repeat(MAX_TERM_CHARS)]);
        let many: String = (0..3_000).map(|n| format!("w{n} ")).collect();
        assert_eq!(search_terms(&many).len(), MAX_TERMS);
    }
}
