//! The native state store: payload hash → last outcome, per endpoint, in one SQLite database
//! `{state_dir}/lightbeam.sqlite`.
//!
//! - WAL journal and a 30 s busy timeout, and every write transaction is `BEGIN IMMEDIATE`, so
//!   several `lightbeam` processes may share one `state_dir` at once: writers queue for the lock
//!   instead of failing with "database is locked", and readers never block writers.
//! - `record`/`remove` go to a buffer in memory that is committed in one transaction when it holds
//!   [`StateOptions::max_pending`] operations, when its oldest operation is older than
//!   [`StateOptions::commit_interval`] (checked on every call, and by a background thread so that
//!   a quiet spell does not hold outcomes back), on `flush`, `load`, `clear_endpoint` and on drop.
//!   A crash (even `kill -9`) so loses at most about a second of outcomes; `synchronous=NORMAL`
//!   keeps committed transactions across process crashes (a power cut may lose the last ones).
//! - The Python tool's state (`{state_dir}/{endpoint}.dat`, a pickle of
//!   `{md5 digest: (timestamp, status)}`) is imported on open: every `.dat` file not yet imported,
//!   or changed since, is merged in (the newer timestamp of a payload wins). The `.dat` files are
//!   left in place for the Python tool.
//!
//! Where each part lives: this file has [`SqliteState`] (opening, `load`, `clear_endpoint`, the
//! [`StateStore`] port); `schema` the tables, statements and connection settings; `committer`
//! the buffer of writes, when it is committed, the background thread and the commit on drop;
//! `hashlog` the import of the Python tool's `.dat` files.

mod committer;
mod hashlog;
mod schema;
#[cfg(test)]
mod test_support;

use std::fs;
use std::path::Path;
use std::time::Duration;

use lightbeam_core::ports::{Digest, DigestMap, LocalFuture, PayloadState, StateStore, StoreError};

use committer::{Committer, Op, Shared};
pub use hashlog::{import_python_hashlog, HashlogImport};
pub use schema::DB_FILE_NAME;
use schema::{open_connection, write_transaction};

/// Tuning of a [`SqliteState`]. The defaults suit the CLI.
#[derive(Debug, Clone)]
pub struct StateOptions {
    /// Commit buffered writes once the oldest is this old.
    pub commit_interval: Duration,
    /// Commit buffered writes once there are this many.
    pub max_pending: usize,
    /// How long to wait for another process's write lock before failing.
    pub busy_timeout: Duration,
    /// Run a background thread that commits old buffered writes even when no call comes.
    pub background_commit: bool,
    /// Import the Python tool's `{endpoint}.dat` files on open.
    pub import_python_hashlog: bool,
}

impl Default for StateOptions {
    fn default() -> Self {
        StateOptions {
            commit_interval: Duration::from_secs(1),
            max_pending: 5_000,
            busy_timeout: Duration::from_secs(30),
            background_commit: true,
            import_python_hashlog: true,
        }
    }
}

/// Payload state in SQLite; see the module documentation. Dropping it commits what is buffered
/// (errors then go to stderr); call [`StateStore::flush`] to see them.
pub struct SqliteState {
    committer: Committer,
    imported: Vec<HashlogImport>,
}

impl SqliteState {
    /// Opens (creating it and `state_dir` if needed) `{state_dir}/lightbeam.sqlite`, with the
    /// default options; imports the Python tool's hashlogs found in `state_dir`.
    pub fn open(state_dir: &Path) -> Result<SqliteState, StoreError> {
        Self::open_with(state_dir, StateOptions::default())
    }

    pub fn open_with(state_dir: &Path, options: StateOptions) -> Result<SqliteState, StoreError> {
        fs::create_dir_all(state_dir).map_err(|e| {
            StoreError(format!(
                "cannot create state_dir {}: {e}",
                state_dir.display()
            ))
        })?;
        let path = state_dir.join(DB_FILE_NAME);
        let mut conn = open_connection(&path, options.busy_timeout)?;
        let imported = if options.import_python_hashlog {
            hashlog::import_hashlogs(&mut conn, &path, state_dir)?
        } else {
            Vec::new()
        };
        let committer = Committer::start(Shared::new(conn, path, options))?;
        Ok(SqliteState {
            committer,
            imported,
        })
    }

    fn shared(&self) -> &Shared {
        self.committer.shared()
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.shared().path
    }

    /// The Python hashlogs imported (or that failed to import) when this store was opened.
    pub fn imported(&self) -> &[HashlogImport] {
        &self.imported
    }

    /// The number of buffered, uncommitted operations.
    pub fn pending(&self) -> usize {
        self.shared().pending()
    }

    /// Commits the buffer now (the synchronous form of [`StateStore::flush`]).
    pub fn commit(&self) -> Result<(), StoreError> {
        self.shared().commit_now()
    }

    /// The last outcome of every payload of `endpoint` (rows whose hash is not 32 hex digits,
    /// which lightbeam never writes, are left out).
    pub fn load_now(&self, endpoint: &str) -> Result<DigestMap<PayloadState>, StoreError> {
        let shared = self.shared();
        let mut conn = shared.conn();
        shared.commit(&mut conn)?;
        let err = |e| shared.error("cannot read", e);
        // sized at once: growing a map of a million entries would hold the old one beside it
        let count: i64 = conn
            .prepare_cached("SELECT count(*) FROM payload_state WHERE endpoint = ?1")
            .and_then(|mut s| s.query_row([endpoint], |r| r.get(0)))
            .map_err(err)?;
        let mut stmt = conn
            .prepare_cached("SELECT hash, timestamp, status FROM payload_state WHERE endpoint = ?1")
            .map_err(err)?;
        let mut rows = stmt.query([endpoint]).map_err(err)?;
        let mut out = DigestMap::default();
        out.reserve(usize::try_from(count).unwrap_or(0));
        while let Some(row) = rows.next().map_err(err)? {
            let hash = row.get_ref(0).map_err(err)?;
            let timestamp: i64 = row.get(1).map_err(err)?;
            let status: u16 = row.get(2).map_err(err)?;
            let digest = hash.as_str().ok().and_then(Digest::from_hex);
            if let Some(digest) = digest {
                out.insert(digest, PayloadState { timestamp, status });
            }
        }
        Ok(out)
    }

    fn clear_now(&self, endpoint: &str) -> Result<(), StoreError> {
        let shared = self.shared();
        let mut conn = shared.conn();
        shared.commit(&mut conn)?;
        write_transaction(&mut conn, |tx| {
            tx.execute("DELETE FROM payload_state WHERE endpoint = ?1", [endpoint])
                .map(drop)
        })
        .map_err(|e| shared.error("cannot clear endpoint", e))
    }
}

impl StateStore for SqliteState {
    fn load(&self, endpoint: &str) -> LocalFuture<'_, Result<DigestMap<PayloadState>, StoreError>> {
        Box::pin(std::future::ready(self.load_now(endpoint)))
    }

    fn record(
        &self,
        endpoint: &str,
        digest: Digest,
        state: PayloadState,
    ) -> Result<(), StoreError> {
        self.shared().push(Op::Record {
            endpoint: endpoint.to_string(),
            hash: digest.to_hex(),
            state,
        })
    }

    fn remove(&self, endpoint: &str, digest: Digest) -> Result<(), StoreError> {
        self.shared().push(Op::Remove {
            endpoint: endpoint.to_string(),
            hash: digest.to_hex(),
        })
    }

    fn clear_endpoint(&self, endpoint: &str) -> LocalFuture<'_, Result<(), StoreError>> {
        Box::pin(std::future::ready(self.clear_now(endpoint)))
    }

    fn flush(&self) -> LocalFuture<'_, Result<(), StoreError>> {
        Box::pin(std::future::ready(self.commit()))
    }

    fn mark(&self, key: &str) -> LocalFuture<'_, Result<Option<String>, StoreError>> {
        let shared = self.shared();
        let conn = shared.conn();
        let value = conn
            .query_row("SELECT value FROM mark WHERE key = ?1", [key], |r| r.get(0))
            .map(Some)
            .or_else(|e| match e {
                rusqlite::Error::QueryReturnedNoRows => Ok(None),
                e => Err(shared.error("cannot read", e)),
            });
        Box::pin(std::future::ready(value))
    }

    fn set_mark(&self, key: &str, value: &str) -> LocalFuture<'_, Result<(), StoreError>> {
        let shared = self.shared();
        let mut conn = shared.conn();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let done = write_transaction(&mut conn, |tx| {
            tx.execute(
                "INSERT INTO mark (key, value, updated_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
                rusqlite::params![key, value, now],
            )
            .map(drop)
        })
        .map_err(|e| shared.error("cannot write", e));
        Box::pin(std::future::ready(done))
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::{d, lightbeam_hash, pragma, ps, quiet_store};
    use super::*;
    use futures::executor::block_on;
    use rusqlite::Connection;
    use std::time::Instant;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let state_dir = dir.path().join("state");
        let store = SqliteState::open(&state_dir).unwrap();
        assert!(state_dir.join(DB_FILE_NAME).is_file());
        store.record("students", d("aa"), ps(100, 201)).unwrap();
        store.record("students", d("bb"), ps(101, 409)).unwrap();
        store.record("students", d("aa"), ps(102, 200)).unwrap();
        store.record("schools", d("aa"), ps(103, 200)).unwrap();
        store.remove("students", d("bb")).unwrap();
        block_on(store.flush()).unwrap();
        drop(store);

        let store = SqliteState::open(&state_dir).unwrap();
        let students = block_on(store.load("students")).unwrap();
        assert_eq!(students, DigestMap::from_iter([(d("aa"), ps(102, 200))]));
        let schools = block_on(store.load("schools")).unwrap();
        assert_eq!(schools, DigestMap::from_iter([(d("aa"), ps(103, 200))]));
        assert!(block_on(store.load("nothing")).unwrap().is_empty());
    }

    #[test]
    fn marks_are_kept_across_opens() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteState::open(dir.path()).unwrap();
        assert_eq!(block_on(store.mark("changes:a")).unwrap(), None);
        block_on(store.set_mark("changes:a", "41")).unwrap();
        block_on(store.set_mark("changes:a", "42")).unwrap();
        drop(store);
        let store = SqliteState::open(dir.path()).unwrap();
        assert_eq!(
            block_on(store.mark("changes:a")).unwrap().as_deref(),
            Some("42")
        );
        assert_eq!(block_on(store.mark("changes:b")).unwrap(), None);
    }

    #[test]
    fn load_sees_buffered_writes() {
        let (_dir, store) = quiet_store();
        store.record("students", d("aa"), ps(1, 201)).unwrap();
        assert_eq!(block_on(store.load("students")).unwrap().len(), 1);
    }

    #[test]
    fn clear_endpoint() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteState::open(dir.path()).unwrap();
        store.record("students", d("a"), ps(1, 201)).unwrap();
        block_on(store.flush()).unwrap();
        store.record("students", d("b"), ps(1, 201)).unwrap();
        store.record("schools", d("a"), ps(1, 201)).unwrap();
        block_on(store.clear_endpoint("students")).unwrap();
        assert!(block_on(store.load("students")).unwrap().is_empty());
        assert_eq!(block_on(store.load("schools")).unwrap().len(), 1);
    }

    /// Two stores on one file (as two `lightbeam send` processes would be) write at once without
    /// "database is locked" and lose nothing.
    #[test]
    fn two_stores_write_concurrently() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().to_path_buf();
        let options = StateOptions {
            max_pending: 100,
            commit_interval: Duration::from_millis(5),
            ..StateOptions::default()
        };
        let threads: Vec<_> = (0..2)
            .map(|t| {
                let path = path.clone();
                let options = options.clone();
                std::thread::spawn(move || {
                    let store = SqliteState::open_with(&path, options).unwrap();
                    for i in 0..20_000 {
                        let endpoint = if i % 2 == 0 { "students" } else { "schools" };
                        store
                            .record(endpoint, d(&format!("t{t}-{i}")), ps(i, 201))
                            .unwrap();
                        if i % 3_000 == 0 {
                            // readers interleaved with the other thread's writes
                            block_on(store.load(endpoint)).unwrap();
                        }
                    }
                    block_on(store.flush()).unwrap();
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        let store = SqliteState::open(&path).unwrap();
        assert_eq!(block_on(store.load("students")).unwrap().len(), 20_000);
        assert_eq!(block_on(store.load("schools")).unwrap().len(), 20_000);
        let conn = Connection::open(path.join(DB_FILE_NAME)).unwrap();
        assert_eq!(pragma::<String>(&conn, "integrity_check"), "ok");
        assert_eq!(pragma::<String>(&conn, "journal_mode"), "wal");
    }

    #[test]
    fn load_benchmark_200k() {
        let (dir, store) = quiet_store();
        let n = 200_000;
        let started = Instant::now();
        for i in 0..n {
            let hash = lightbeam_hash(i);
            store
                .record(
                    "studentSchoolAssociations",
                    hash,
                    ps(1_700_000_000 + i, 201),
                )
                .unwrap();
        }
        block_on(store.flush()).unwrap();
        let written = started.elapsed();
        for i in 0..1_000 {
            store
                .record("students", lightbeam_hash(i), ps(1, 201))
                .unwrap();
        }
        block_on(store.flush()).unwrap();
        drop(store);

        let store = SqliteState::open(dir.path()).unwrap();
        let started = Instant::now();
        let loaded = block_on(store.load("studentSchoolAssociations")).unwrap();
        let read = started.elapsed();
        assert_eq!(loaded.len(), n as usize);
        assert_eq!(loaded[&lightbeam_hash(7)], ps(1_700_000_007, 201));
        println!("state store: wrote {n} rows in {written:?}, loaded them in {read:?}");
        // Generous bound (debug builds, busy CI machines); ~1 M rows in a few seconds in release.
        assert!(read < Duration::from_secs(10), "load took {read:?}");
    }
}
