//! Helpers shared by the state store's tests.

use std::path::Path;

use lightbeam_core::ports::{Digest, PayloadState, StateStore};
use rusqlite::Connection;

use super::{SqliteState, StateOptions, DB_FILE_NAME};

/// A digest given in hex.
pub fn hex(text: &str) -> Digest {
    Digest::from_hex(text).expect("32 hex digits")
}

/// The digest of a test payload.
pub fn d(payload: &str) -> Digest {
    Digest::of_line(payload)
}

/// The digest lightbeam computes for the line `i`.
pub fn lightbeam_hash(i: i64) -> Digest {
    Digest::of_line(&i.to_string())
}

pub fn ps(timestamp: i64, status: u16) -> PayloadState {
    PayloadState { timestamp, status }
}

/// The default options without the background thread: commits happen only on calls.
pub fn quiet() -> StateOptions {
    StateOptions {
        background_commit: false,
        ..StateOptions::default()
    }
}

/// Records `n` payloads `h0`, `h1`, … of `endpoint` (timestamp `i`, status 201).
pub fn record_many(store: &SqliteState, endpoint: &str, n: i64) {
    for i in 0..n {
        store
            .record(endpoint, d(&format!("h{i}")), ps(i, 201))
            .unwrap();
    }
}

/// A store in a new temporary directory, with [`quiet`] options.
pub fn quiet_store() -> (tempfile::TempDir, SqliteState) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteState::open_with(dir.path(), quiet()).unwrap();
    (dir, store)
}

/// Asserts how many operations of `store` are buffered, and how many rows of `endpoint` are
/// committed in `dir`.
pub fn assert_counts(store: &SqliteState, dir: &Path, endpoint: &str, pending: usize, rows: usize) {
    assert_eq!(store.pending(), pending, "pending");
    assert_eq!(committed(dir, endpoint), rows, "committed rows");
}

/// Rows committed to the database, seen from a separate connection.
pub fn committed(dir: &Path, endpoint: &str) -> usize {
    let conn = Connection::open(dir.join(DB_FILE_NAME)).unwrap();
    conn.query_row(
        "SELECT count(*) FROM payload_state WHERE endpoint = ?1",
        [endpoint],
        |r| r.get::<_, i64>(0),
    )
    .unwrap() as usize
}

/// The value of `PRAGMA {name}` on `conn`.
pub fn pragma<T: rusqlite::types::FromSql>(conn: &Connection, name: &str) -> T {
    conn.query_row(&format!("PRAGMA {name}"), [], |r| r.get(0))
        .unwrap()
}
