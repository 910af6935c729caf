//! The database itself: its file name, tables and statements, opening a connection (WAL, busy
//! timeout, schema version) and the `BEGIN IMMEDIATE` write transaction every write goes through.

use std::path::Path;
use std::time::{Duration, Instant};

use lightbeam_core::ports::StoreError;
use rusqlite::{Connection, TransactionBehavior};

/// The database's file name inside `state_dir`.
pub const DB_FILE_NAME: &str = "lightbeam.sqlite";

/// The schema version kept in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS payload_state (
    endpoint  TEXT    NOT NULL,
    hash      TEXT    NOT NULL,
    timestamp INTEGER NOT NULL,
    status    INTEGER NOT NULL,
    PRIMARY KEY (endpoint, hash)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS mark (
    key        TEXT    PRIMARY KEY,
    value      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS imported_hashlog (
    file        TEXT    PRIMARY KEY,
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    entries     INTEGER NOT NULL,
    imported_at INTEGER NOT NULL
);
";

pub(super) const UPSERT: &str = "INSERT INTO payload_state (endpoint, hash, timestamp, status) \
     VALUES (?1, ?2, ?3, ?4) \
     ON CONFLICT (endpoint, hash) DO UPDATE SET timestamp = excluded.timestamp, status = excluded.status";

/// An import keeps the newer of two outcomes of the same payload.
pub(super) const UPSERT_IF_NEWER: &str = "INSERT INTO payload_state (endpoint, hash, timestamp, status) \
     VALUES (?1, ?2, ?3, ?4) \
     ON CONFLICT (endpoint, hash) DO UPDATE SET timestamp = excluded.timestamp, status = excluded.status \
     WHERE excluded.timestamp > payload_state.timestamp";

pub(super) const DELETE_ONE: &str = "DELETE FROM payload_state WHERE endpoint = ?1 AND hash = ?2";

pub(super) fn open_connection(
    path: &Path,
    busy_timeout: Duration,
) -> Result<Connection, StoreError> {
    let err = |what: &str, e: rusqlite::Error| {
        let hint = match e.sqlite_error_code() {
            Some(rusqlite::ErrorCode::NotADatabase | rusqlite::ErrorCode::DatabaseCorrupt) => {
                "; the file is damaged or not a lightbeam state database: move it away to start \
                 with an empty state (the next run then sends every payload again)"
            }
            _ => "",
        };
        StoreError(format!("{}: {what}: {e}{hint}", path.display()))
    };
    let mut conn = Connection::open(path).map_err(|e| err("cannot open", e))?;
    // The busy timeout first: switching to WAL and creating the schema may wait for another process.
    conn.busy_timeout(busy_timeout)
        .map_err(|e| err("cannot set busy timeout", e))?;
    // SQLite answers "database is locked" at once, without its busy handler, where waiting could
    // deadlock: two processes that open a new database together both read it, then both want the
    // exclusive lock that switching to WAL takes. One of them steps back and tries again here.
    let deadline = Instant::now() + busy_timeout;
    // Not every filesystem supports WAL (network mounts); SQLite then keeps its rollback journal,
    // which is slower but as safe.
    let _mode: String = while_busy(deadline, || {
        conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
    })
    .map_err(|e| err("cannot set journal mode", e))?;
    // A 32 MiB page cache (the default is 2 MiB) halves the time of large batches of upserts.
    while_busy(deadline, || {
        conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768;")
    })
    .map_err(|e| err("cannot set synchronous mode", e))?;
    let version: i64 = while_busy(deadline, || {
        conn.query_row("PRAGMA user_version", [], |r| r.get(0))
    })
    .map_err(|e| err("cannot read schema version", e))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError(format!(
            "{}: written by a newer lightbeam (schema version {version}, this one knows {SCHEMA_VERSION})",
            path.display()
        )));
    }
    while_busy(deadline, || {
        write_transaction(&mut conn, |tx| {
            tx.execute_batch(SCHEMA)?;
            tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION};"))
        })
    })
    .map_err(|e| err("cannot create tables", e))?;
    Ok(conn)
}

/// Runs `f` again while SQLite says the database is busy or locked, until `deadline`.
fn while_busy<T>(
    deadline: Instant,
    mut f: impl FnMut() -> rusqlite::Result<T>,
) -> rusqlite::Result<T> {
    let mut pause = Duration::from_millis(5);
    loop {
        match f() {
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                ) && Instant::now() + pause < deadline =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(100));
            }
            other => return other,
        }
    }
}

/// Runs `f` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up front (waiting up to
/// the busy timeout), so a transaction never fails half-way on a lock upgrade.
pub(super) fn write_transaction(
    conn: &mut Connection,
    f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    f(&tx)?;
    tx.commit()
}

#[cfg(test)]
mod tests {
    use super::super::test_support::pragma;
    use super::*;

    #[test]
    fn creates_the_schema_in_wal_mode() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(DB_FILE_NAME);
        let conn = open_connection(&path, Duration::from_secs(1)).unwrap();
        assert_eq!(pragma::<String>(&conn, "journal_mode"), "wal");
        assert_eq!(pragma::<i64>(&conn, "user_version"), SCHEMA_VERSION);
        // opening again keeps what is there
        drop(conn);
        open_connection(&path, Duration::from_secs(1)).unwrap();
    }

    #[test]
    fn many_processes_can_open_a_new_database_together() {
        // Separate connections lock the file as separate processes do.
        for round in 0..20 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join(DB_FILE_NAME);
            let barrier = std::sync::Barrier::new(4);
            std::thread::scope(|s| {
                let opened: Vec<_> = (0..4)
                    .map(|_| {
                        s.spawn(|| {
                            barrier.wait();
                            open_connection(&path, Duration::from_secs(10)).map(|_| ())
                        })
                    })
                    .collect();
                for o in opened {
                    assert_eq!(o.join().unwrap(), Ok(()), "round {round}");
                }
            });
        }
    }

    #[test]
    fn refuses_a_newer_schema_and_explains_a_damaged_file() {
        let dir = tempfile::tempdir().unwrap();
        let newer = dir.path().join("newer.sqlite");
        Connection::open(&newer)
            .unwrap()
            .execute_batch("PRAGMA user_version = 2;")
            .unwrap();
        let err = open_connection(&newer, Duration::from_secs(1)).unwrap_err();
        assert!(
            err.0
                .ends_with("written by a newer lightbeam (schema version 2, this one knows 1)"),
            "{err:?}"
        );
        let damaged = dir.path().join("damaged.sqlite");
        std::fs::write(&damaged, vec![b'x'; 4096]).unwrap();
        let err = open_connection(&damaged, Duration::from_secs(1)).unwrap_err();
        assert!(
            err.0.contains("move it away to start with an empty state"),
            "{err:?}"
        );
    }
}
