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

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, UNIX_EPOCH};

use lightbeam_core::ports::{Digest, DigestMap, LocalFuture, PayloadState, StateStore, StoreError};
use rusqlite::{params, Connection, OptionalExtension, TransactionBehavior};

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
CREATE TABLE IF NOT EXISTS imported_hashlog (
    file        TEXT    PRIMARY KEY,
    size        INTEGER NOT NULL,
    mtime_ns    INTEGER NOT NULL,
    entries     INTEGER NOT NULL,
    imported_at INTEGER NOT NULL
);
";

const UPSERT: &str = "INSERT INTO payload_state (endpoint, hash, timestamp, status) \
     VALUES (?1, ?2, ?3, ?4) \
     ON CONFLICT (endpoint, hash) DO UPDATE SET timestamp = excluded.timestamp, status = excluded.status";

/// An import keeps the newer of two outcomes of the same payload.
const UPSERT_IF_NEWER: &str = "INSERT INTO payload_state (endpoint, hash, timestamp, status) \
     VALUES (?1, ?2, ?3, ?4) \
     ON CONFLICT (endpoint, hash) DO UPDATE SET timestamp = excluded.timestamp, status = excluded.status \
     WHERE excluded.timestamp > payload_state.timestamp";

const DELETE_ONE: &str = "DELETE FROM payload_state WHERE endpoint = ?1 AND hash = ?2";

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

/// What became of one Python hashlog file (`{endpoint}.dat`) on import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HashlogImport {
    pub file: PathBuf,
    pub endpoint: String,
    /// The number of payload outcomes read, or why the file could not be read (it is then
    /// tried again on the next open).
    pub result: Result<usize, String>,
}

enum Op {
    Record {
        endpoint: String,
        hash: String,
        state: PayloadState,
    },
    Remove {
        endpoint: String,
        hash: String,
    },
}

/// Operations not yet committed.
#[derive(Default)]
struct Buffer {
    pending: Vec<Op>,
    oldest: Option<Instant>,
}

/// The connection and the buffer have separate locks: the engine's `record` only ever waits for
/// the buffer (a push), never for a commit in progress, so sending does not stall while the
/// background thread writes a transaction.
struct Shared {
    conn: Mutex<Connection>,
    buffer: Mutex<Buffer>,
    path: PathBuf,
    options: StateOptions,
}

/// Payload state in SQLite; see the module documentation. Dropping it commits what is buffered
/// (errors then go to stderr); call [`StateStore::flush`] to see them.
pub struct SqliteState {
    shared: Arc<Shared>,
    ticker: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
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
            import_hashlogs(&mut conn, &path, state_dir)?
        } else {
            Vec::new()
        };
        let shared = Arc::new(Shared {
            conn: Mutex::new(conn),
            buffer: Mutex::new(Buffer::default()),
            path,
            options,
        });
        let ticker = if shared.options.background_commit {
            Some(start_ticker(Arc::clone(&shared))?)
        } else {
            None
        };
        Ok(SqliteState {
            shared,
            ticker,
            imported,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.shared.path
    }

    /// The Python hashlogs imported (or that failed to import) when this store was opened.
    pub fn imported(&self) -> &[HashlogImport] {
        &self.imported
    }

    /// The number of buffered, uncommitted operations.
    pub fn pending(&self) -> usize {
        self.shared.buffer().pending.len()
    }

    /// Commits the buffer now (the synchronous form of [`StateStore::flush`]).
    pub fn commit(&self) -> Result<(), StoreError> {
        self.shared.commit(&mut self.shared.conn())
    }

    /// The last outcome of every payload of `endpoint` (rows whose hash is not 32 hex digits,
    /// which lightbeam never writes, are left out).
    pub fn load_now(&self, endpoint: &str) -> Result<DigestMap<PayloadState>, StoreError> {
        let mut conn = self.shared.conn();
        self.shared.commit(&mut conn)?;
        let err = |e| self.shared.error("cannot read", e);
        let mut stmt = conn
            .prepare_cached("SELECT hash, timestamp, status FROM payload_state WHERE endpoint = ?1")
            .map_err(err)?;
        let mut rows = stmt.query([endpoint]).map_err(err)?;
        let mut out = DigestMap::default();
        while let Some(row) = rows.next().map_err(err)? {
            let hash: String = row.get(0).map_err(err)?;
            let timestamp: i64 = row.get(1).map_err(err)?;
            let status: u16 = row.get(2).map_err(err)?;
            if let Some(digest) = Digest::from_hex(&hash) {
                out.insert(digest, PayloadState { timestamp, status });
            }
        }
        Ok(out)
    }

    fn clear_now(&self, endpoint: &str) -> Result<(), StoreError> {
        let mut conn = self.shared.conn();
        self.shared.commit(&mut conn)?;
        write_transaction(&mut conn, |tx| {
            tx.execute("DELETE FROM payload_state WHERE endpoint = ?1", [endpoint])
                .map(drop)
        })
        .map_err(|e| self.shared.error("cannot clear endpoint", e))
    }

    fn push(&self, op: Op) -> Result<(), StoreError> {
        let due = {
            let mut buffer = self.shared.buffer();
            buffer.pending.push(op);
            let now = Instant::now();
            let oldest = *buffer.oldest.get_or_insert(now);
            buffer.pending.len() >= self.shared.options.max_pending
                || now.duration_since(oldest) >= self.shared.options.commit_interval
        };
        // with the background thread, commits happen there (it checks often); without it, here
        if due && !self.shared.options.background_commit {
            self.shared.commit(&mut self.shared.conn())?;
        }
        Ok(())
    }
}

impl Shared {
    // A panic while holding a lock leaves the data consistent (ops are pushed whole).
    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn buffer(&self) -> MutexGuard<'_, Buffer> {
        self.buffer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the buffer should be committed now.
    fn due(&self) -> bool {
        let buffer = self.buffer();
        buffer.pending.len() >= self.options.max_pending
            || buffer
                .oldest
                .is_some_and(|t| t.elapsed() >= self.options.commit_interval)
    }

    fn error(&self, what: &str, e: rusqlite::Error) -> StoreError {
        StoreError(format!("{}: {what}: {e}", self.path.display()))
    }

    /// Commits the buffer in one transaction (taken out of the buffer first, so pushes go on
    /// meanwhile); on failure the operations go back to the front of the buffer for the next try.
    fn commit(&self, conn: &mut Connection) -> Result<(), StoreError> {
        let ops = {
            let mut buffer = self.buffer();
            buffer.oldest = None;
            std::mem::take(&mut buffer.pending)
        };
        if ops.is_empty() {
            return Ok(());
        }
        let written = write_transaction(conn, |tx| {
            let mut upsert = tx.prepare_cached(UPSERT)?;
            let mut delete = tx.prepare_cached(DELETE_ONE)?;
            for op in ops.iter() {
                match op {
                    Op::Record {
                        endpoint,
                        hash,
                        state,
                    } => {
                        upsert.execute(params![endpoint, hash, state.timestamp, state.status])?;
                    }
                    Op::Remove { endpoint, hash } => {
                        delete.execute(params![endpoint, hash])?;
                    }
                }
            }
            Ok(())
        });
        if let Err(e) = written {
            let mut buffer = self.buffer();
            let newer = std::mem::replace(&mut buffer.pending, ops);
            buffer.pending.extend(newer);
            buffer.oldest.get_or_insert_with(Instant::now);
            return Err(self.error("cannot save payload state", e));
        }
        Ok(())
    }
}

fn start_ticker(shared: Arc<Shared>) -> Result<(mpsc::Sender<()>, JoinHandle<()>), StoreError> {
    let (stop, stopped) = mpsc::channel::<()>();
    let tick = (shared.options.commit_interval / 4)
        .clamp(Duration::from_millis(10), Duration::from_millis(250));
    let handle = std::thread::Builder::new()
        .name("lightbeam-state-commit".into())
        .spawn(move || {
            while let Err(mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(tick) {
                if shared.due() {
                    // A failure keeps the buffer; the next call or tick tries again and reports it.
                    let _ = shared.commit(&mut shared.conn());
                }
            }
        })
        .map_err(|e| StoreError(format!("cannot start the state commit thread: {e}")))?;
    Ok((stop, handle))
}

impl Drop for SqliteState {
    fn drop(&mut self) {
        if let Some((stop, handle)) = self.ticker.take() {
            drop(stop);
            let _ = handle.join();
        }
        if let Err(e) = self.commit() {
            eprintln!("warning: {e}");
        }
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
        self.push(Op::Record {
            endpoint: endpoint.to_string(),
            hash: digest.to_hex(),
            state,
        })
    }

    fn remove(&self, endpoint: &str, digest: Digest) -> Result<(), StoreError> {
        self.push(Op::Remove {
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
}

fn open_connection(path: &Path, busy_timeout: Duration) -> Result<Connection, StoreError> {
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
    // Not every filesystem supports WAL (network mounts); SQLite then keeps its rollback journal,
    // which is slower but as safe.
    let _mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(|e| err("cannot set journal mode", e))?;
    // A 32 MiB page cache (the default is 2 MiB) halves the time of large batches of upserts.
    conn.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA cache_size = -32768;")
        .map_err(|e| err("cannot set synchronous mode", e))?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| err("cannot read schema version", e))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError(format!(
            "{}: written by a newer lightbeam (schema version {version}, this one knows {SCHEMA_VERSION})",
            path.display()
        )));
    }
    write_transaction(&mut conn, |tx| {
        tx.execute_batch(SCHEMA)?;
        tx.execute_batch(&format!("PRAGMA user_version = {SCHEMA_VERSION};"))
    })
    .map_err(|e| err("cannot create tables", e))?;
    Ok(conn)
}

/// Runs `f` in a `BEGIN IMMEDIATE` transaction: the write lock is taken up front (waiting up to
/// the busy timeout), so a transaction never fails half-way on a lock upgrade.
fn write_transaction(
    conn: &mut Connection,
    f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    f(&tx)?;
    tx.commit()
}

// ---------------------------------------------------------------------------------------------
// Import of the Python tool's hashlogs
// ---------------------------------------------------------------------------------------------

/// Imports the Python tool's `{state_dir}/{endpoint}.dat` hashlogs into
/// `{state_dir}/lightbeam.sqlite` (creating it if needed). [`SqliteState::open`] does this
/// already; this form is for a one-off migration.
pub fn import_python_hashlog(state_dir: &Path) -> Result<Vec<HashlogImport>, StoreError> {
    let store = SqliteState::open_with(
        state_dir,
        StateOptions {
            background_commit: false,
            ..StateOptions::default()
        },
    )?;
    Ok(store.imported.clone())
}

fn import_hashlogs(
    conn: &mut Connection,
    db_path: &Path,
    state_dir: &Path,
) -> Result<Vec<HashlogImport>, StoreError> {
    let err =
        |what: &str, e: rusqlite::Error| StoreError(format!("{}: {what}: {e}", db_path.display()));
    let mut candidates = Vec::new();
    let entries = match fs::read_dir(state_dir) {
        Ok(entries) => entries,
        Err(e) => {
            return Err(StoreError(format!(
                "cannot read state_dir {}: {e}",
                state_dir.display()
            )))
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().and_then(|e| e.to_str()) != Some("dat") {
            continue;
        }
        let (Some(endpoint), Ok(meta)) = (
            path.file_stem()
                .and_then(|s| s.to_str())
                .map(str::to_string),
            fs::metadata(&path),
        ) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        let size = meta.len() as i64;
        let mtime_ns = meta
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos() as i64);
        candidates.push((path, endpoint, size, mtime_ns));
    }
    candidates.sort();
    let mut report = Vec::new();
    for (path, endpoint, size, mtime_ns) in candidates {
        let file_name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let seen: Option<(i64, i64)> = conn
            .query_row(
                "SELECT size, mtime_ns FROM imported_hashlog WHERE file = ?1",
                [&file_name],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| err("cannot read imported hashlogs", e))?;
        if seen == Some((size, mtime_ns)) {
            continue;
        }
        let parsed = fs::read(&path)
            .map_err(|e| e.to_string())
            .and_then(|bytes| parse_hashlog(&bytes));
        let result = match parsed {
            Err(e) => Err(e),
            Ok(entries) => {
                let now = std::time::SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_secs() as i64);
                write_transaction(conn, |tx| {
                    let mut upsert = tx.prepare_cached(UPSERT_IF_NEWER)?;
                    for (hash, state) in &entries {
                        upsert.execute(params![endpoint, hash, state.timestamp, state.status])?;
                    }
                    tx.execute(
                        "INSERT OR REPLACE INTO imported_hashlog \
                         (file, size, mtime_ns, entries, imported_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                        params![file_name, size, mtime_ns, entries.len() as i64, now],
                    )?;
                    Ok(())
                })
                .map_err(|e| err(&format!("cannot import hashlog {}", path.display()), e))?;
                Ok(entries.len())
            }
        };
        report.push(HashlogImport {
            file: path,
            endpoint,
            result,
        });
    }
    Ok(report)
}

/// A value of the pickle subset the Python hashlogs use.
#[derive(Debug, Clone, PartialEq)]
enum Pickled {
    None,
    Bool(bool),
    Int(i64),
    Float(f64),
    Bytes(Vec<u8>),
    Str(String),
    Tuple(Vec<Pickled>),
    List(Vec<Pickled>),
    Dict(Vec<(Pickled, Pickled)>),
}

/// Reads a Python hashlog: a pickle (protocol 2 to 5) of `{md5 digest: (timestamp, status)}`.
/// Keys become lowercase hex (a key already a string is kept, lowercased); a float timestamp is
/// rounded; entries of any other shape are skipped.
fn parse_hashlog(bytes: &[u8]) -> Result<Vec<(String, PayloadState)>, String> {
    let Pickled::Dict(items) = unpickle(bytes)? else {
        return Err("not a pickled dict".into());
    };
    let mut out = Vec::with_capacity(items.len());
    for (key, value) in items {
        let hash = match key {
            Pickled::Bytes(b) => hex::encode(b),
            Pickled::Str(s) => s.to_ascii_lowercase(),
            _ => continue,
        };
        let Pickled::Tuple(fields) = value else {
            continue;
        };
        let (Some(ts), Some(Pickled::Int(status))) = (fields.first(), fields.get(1)) else {
            continue;
        };
        let timestamp = match ts {
            Pickled::Int(t) => *t,
            Pickled::Float(t) if t.is_finite() => t.round() as i64,
            _ => continue,
        };
        let Ok(status) = u16::try_from(*status) else {
            continue;
        };
        out.push((hash, PayloadState { timestamp, status }));
    }
    Ok(out)
}

/// A minimal unpickler for plain data (no classes, no globals): enough for the hashlogs.
fn unpickle(bytes: &[u8]) -> Result<Pickled, String> {
    struct Reader<'a> {
        bytes: &'a [u8],
        pos: usize,
    }
    impl<'a> Reader<'a> {
        fn take(&mut self, n: usize) -> Result<&'a [u8], String> {
            let end = self
                .pos
                .checked_add(n)
                .filter(|&end| end <= self.bytes.len())
                .ok_or_else(|| format!("truncated pickle at byte {}", self.pos))?;
            let s = &self.bytes[self.pos..end];
            self.pos = end;
            Ok(s)
        }
        fn u8(&mut self) -> Result<u8, String> {
            Ok(self.take(1)?[0])
        }
        fn u16(&mut self) -> Result<u16, String> {
            Ok(u16::from_le_bytes(
                self.take(2)?.try_into().expect("2 bytes"),
            ))
        }
        fn u32(&mut self) -> Result<u32, String> {
            Ok(u32::from_le_bytes(
                self.take(4)?.try_into().expect("4 bytes"),
            ))
        }
        fn u64(&mut self) -> Result<u64, String> {
            Ok(u64::from_le_bytes(
                self.take(8)?.try_into().expect("8 bytes"),
            ))
        }
        fn len8(&mut self) -> Result<usize, String> {
            usize::try_from(self.u64()?).map_err(|_| "pickle length too large".to_string())
        }
    }
    fn long(b: &[u8]) -> Result<i64, String> {
        if b.len() > 8 {
            return Err("pickled integer too large".into());
        }
        if b.is_empty() {
            return Ok(0);
        }
        let fill = if b[b.len() - 1] & 0x80 != 0 { 0xff } else { 0 };
        let mut buf = [fill; 8];
        buf[..b.len()].copy_from_slice(b);
        Ok(i64::from_le_bytes(buf))
    }
    fn utf8(b: &[u8]) -> Result<Pickled, String> {
        String::from_utf8(b.to_vec())
            .map(Pickled::Str)
            .map_err(|_| "invalid UTF-8 in pickled string".to_string())
    }

    let mut r = Reader { bytes, pos: 0 };
    let mut stack: Vec<Pickled> = Vec::new();
    let mut marks: Vec<usize> = Vec::new();
    let mut memo: HashMap<u32, Pickled> = HashMap::new();
    let pop = |stack: &mut Vec<Pickled>| {
        stack
            .pop()
            .ok_or_else(|| "pickle stack underflow".to_string())
    };
    let pop_mark =
        |stack: &mut Vec<Pickled>, marks: &mut Vec<usize>| -> Result<Vec<Pickled>, String> {
            let m = marks.pop().ok_or("pickle MARK missing")?;
            if m > stack.len() {
                return Err("pickle MARK past the stack".into());
            }
            Ok(stack.split_off(m))
        };
    let set_items = |stack: &mut Vec<Pickled>, items: Vec<Pickled>| -> Result<(), String> {
        if !items.len().is_multiple_of(2) {
            return Err("odd number of dict items in pickle".into());
        }
        let Some(Pickled::Dict(dict)) = stack.last_mut() else {
            return Err("SETITEMS on a non-dict in pickle".into());
        };
        let mut it = items.into_iter();
        while let (Some(k), Some(v)) = (it.next(), it.next()) {
            dict.push((k, v));
        }
        Ok(())
    };
    loop {
        let at = r.pos;
        let op = r.u8()?;
        match op {
            0x80 => {
                let proto = r.u8()?;
                if !(2..=5).contains(&proto) {
                    return Err(format!("unsupported pickle protocol {proto}"));
                }
            }
            0x95 => {
                r.u64()?; // FRAME: a length hint only
            }
            b'.' => return pop(&mut stack),
            b'(' => marks.push(stack.len()),
            b'}' => stack.push(Pickled::Dict(Vec::new())),
            b')' => stack.push(Pickled::Tuple(Vec::new())),
            b']' => stack.push(Pickled::List(Vec::new())),
            b'N' => stack.push(Pickled::None),
            0x88 => stack.push(Pickled::Bool(true)),
            0x89 => stack.push(Pickled::Bool(false)),
            b'J' => stack.push(Pickled::Int(r.u32()? as i32 as i64)),
            b'K' => stack.push(Pickled::Int(r.u8()? as i64)),
            b'M' => stack.push(Pickled::Int(r.u16()? as i64)),
            0x8a => {
                let n = r.u8()? as usize;
                stack.push(Pickled::Int(long(r.take(n)?)?));
            }
            0x8b => {
                let n = r.u32()? as usize;
                stack.push(Pickled::Int(long(r.take(n)?)?));
            }
            b'G' => {
                let b: [u8; 8] = r.take(8)?.try_into().expect("8 bytes");
                stack.push(Pickled::Float(f64::from_be_bytes(b)));
            }
            b'C' => {
                let n = r.u8()? as usize;
                stack.push(Pickled::Bytes(r.take(n)?.to_vec()));
            }
            b'B' => {
                let n = r.u32()? as usize;
                stack.push(Pickled::Bytes(r.take(n)?.to_vec()));
            }
            0x8e => {
                let n = r.len8()?;
                stack.push(Pickled::Bytes(r.take(n)?.to_vec()));
            }
            0x8c => {
                let n = r.u8()? as usize;
                stack.push(utf8(r.take(n)?)?);
            }
            b'X' => {
                let n = r.u32()? as usize;
                stack.push(utf8(r.take(n)?)?);
            }
            0x8d => {
                let n = r.len8()?;
                stack.push(utf8(r.take(n)?)?);
            }
            0x85..=0x87 => {
                let n = (op - 0x84) as usize;
                if stack.len() < n {
                    return Err("pickle stack underflow".into());
                }
                let items = stack.split_off(stack.len() - n);
                stack.push(Pickled::Tuple(items));
            }
            b't' => {
                let items = pop_mark(&mut stack, &mut marks)?;
                stack.push(Pickled::Tuple(items));
            }
            b'l' => {
                let items = pop_mark(&mut stack, &mut marks)?;
                stack.push(Pickled::List(items));
            }
            b'e' => {
                let items = pop_mark(&mut stack, &mut marks)?;
                let Some(Pickled::List(list)) = stack.last_mut() else {
                    return Err("APPENDS on a non-list in pickle".into());
                };
                list.extend(items);
            }
            b'a' => {
                let item = pop(&mut stack)?;
                let Some(Pickled::List(list)) = stack.last_mut() else {
                    return Err("APPEND on a non-list in pickle".into());
                };
                list.push(item);
            }
            b'd' => {
                let items = pop_mark(&mut stack, &mut marks)?;
                stack.push(Pickled::Dict(Vec::new()));
                set_items(&mut stack, items)?;
            }
            b's' => {
                let v = pop(&mut stack)?;
                let k = pop(&mut stack)?;
                set_items(&mut stack, vec![k, v])?;
            }
            b'u' => {
                let items = pop_mark(&mut stack, &mut marks)?;
                set_items(&mut stack, items)?;
            }
            0x94 => {
                let top = stack
                    .last()
                    .ok_or("pickle MEMOIZE on an empty stack")?
                    .clone();
                memo.insert(memo.len() as u32, top);
            }
            b'q' | b'r' => {
                let idx = if op == b'q' { r.u8()? as u32 } else { r.u32()? };
                let top = stack.last().ok_or("pickle PUT on an empty stack")?.clone();
                memo.insert(idx, top);
            }
            b'h' | b'j' => {
                let idx = if op == b'h' { r.u8()? as u32 } else { r.u32()? };
                let v = memo
                    .get(&idx)
                    .ok_or("pickle GET of an unknown memo entry")?
                    .clone();
                stack.push(v);
            }
            other => {
                return Err(format!(
                "unsupported pickle opcode 0x{other:02x} at byte {at} (not a lightbeam hashlog?)"
            ))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    /// A digest given in hex.
    fn hex(text: &str) -> Digest {
        Digest::from_hex(text).expect("32 hex digits")
    }

    /// The digest of a test payload.
    fn d(payload: &str) -> Digest {
        Digest::of_line(payload)
    }

    fn ps(timestamp: i64, status: u16) -> PayloadState {
        PayloadState { timestamp, status }
    }

    fn quiet() -> StateOptions {
        StateOptions {
            background_commit: false,
            ..StateOptions::default()
        }
    }

    /// Rows committed to the database, seen from a separate connection.
    fn committed(dir: &Path, endpoint: &str) -> usize {
        let conn = Connection::open(dir.join(DB_FILE_NAME)).unwrap();
        conn.query_row(
            "SELECT count(*) FROM payload_state WHERE endpoint = ?1",
            [endpoint],
            |r| r.get::<_, i64>(0),
        )
        .unwrap() as usize
    }

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
    fn load_sees_buffered_writes() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteState::open_with(dir.path(), quiet()).unwrap();
        store.record("students", d("aa"), ps(1, 201)).unwrap();
        assert_eq!(block_on(store.load("students")).unwrap().len(), 1);
    }

    #[test]
    fn buffering_and_flush() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteState::open_with(dir.path(), quiet()).unwrap();
        for i in 0..10 {
            store
                .record("students", d(&format!("h{i}")), ps(i, 201))
                .unwrap();
        }
        assert_eq!(store.pending(), 10);
        assert_eq!(committed(dir.path(), "students"), 0);
        block_on(store.flush()).unwrap();
        assert_eq!(store.pending(), 0);
        assert_eq!(committed(dir.path(), "students"), 10);
    }

    #[test]
    fn commits_when_the_buffer_is_full() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteState::open_with(dir.path(), quiet()).unwrap();
        for i in 0..5_000 {
            store
                .record("students", d(&format!("h{i}")), ps(i, 201))
                .unwrap();
        }
        assert_eq!(store.pending(), 0);
        assert_eq!(committed(dir.path(), "students"), 5_000);
        store.record("students", d("one more"), ps(1, 201)).unwrap();
        assert_eq!(store.pending(), 1);
    }

    #[test]
    fn commits_old_writes_on_the_next_call() {
        let dir = tempfile::tempdir().unwrap();
        let options = StateOptions {
            commit_interval: Duration::from_millis(200),
            ..quiet()
        };
        let store = SqliteState::open_with(dir.path(), options).unwrap();
        store.record("students", d("a"), ps(1, 201)).unwrap();
        assert_eq!(committed(dir.path(), "students"), 0);
        std::thread::sleep(Duration::from_millis(250));
        store.record("students", d("b"), ps(1, 201)).unwrap();
        assert_eq!(committed(dir.path(), "students"), 2);
    }

    /// A crash loses at most about a second: the background thread commits old writes even when
    /// no further call comes. (Seen from another connection, as a rerun after `kill -9` would.)
    #[test]
    fn background_commit_without_further_calls() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteState::open(dir.path()).unwrap();
        store.record("students", d("a"), ps(1, 201)).unwrap();
        assert_eq!(committed(dir.path(), "students"), 0);
        std::thread::sleep(Duration::from_millis(1_500));
        assert_eq!(committed(dir.path(), "students"), 1);
        assert_eq!(store.pending(), 0);
    }

    /// Dropping the store without `flush` commits the buffer (Drop flushes).
    #[test]
    fn drop_commits() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteState::open_with(dir.path(), quiet()).unwrap();
        store.record("students", d("a"), ps(1, 201)).unwrap();
        store.record("students", d("b"), ps(2, 500)).unwrap();
        drop(store);
        assert_eq!(committed(dir.path(), "students"), 2);
        let store = SqliteState::open(dir.path()).unwrap();
        assert_eq!(block_on(store.load("students")).unwrap().len(), 2);
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
        let check: String = conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
    }

    #[test]
    fn load_benchmark_200k() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteState::open_with(dir.path(), quiet()).unwrap();
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

    fn lightbeam_hash(i: i64) -> Digest {
        Digest::of_line(&i.to_string())
    }

    /// Written by Python 3.11 (`pickle.dump`, protocol 4) the way `hashlog.save` does:
    /// `{md5(b'{"a": 1}'): (1700000000, 201), md5(b'x'): (1700000001, 409)}`.
    const PY_HASHLOG: &[u8] = b"\x80\x04\x95>\x00\x00\x00\x00\x00\x00\x00}\x94(C\x10B\xb7\xb4\xf2\x92\x17\x88\xea\x14\xda\xc5Vno\x06\xd0\x94J\x00\xf1SeK\xc9\x86\x94C\x10\x9d\xd4\xe4a&\x8c\x804\xf5\xc8VN\x15\x5cg\xa6\x94J\x01\xf1SeM\x99\x01\x86\x94u.";

    #[test]
    fn parses_a_python_hashlog() {
        let entries = parse_hashlog(PY_HASHLOG).unwrap();
        assert_eq!(
            entries,
            vec![
                (
                    "42b7b4f2921788ea14dac5566e6f06d0".to_string(),
                    ps(1_700_000_000, 201)
                ),
                (
                    "9dd4e461268c8034f5c8564e155c67a6".to_string(),
                    ps(1_700_000_001, 409)
                ),
            ]
        );
        assert!(parse_hashlog(b"not a pickle").is_err());
        assert!(parse_hashlog(&PY_HASHLOG[..20]).is_err());
        assert_eq!(parse_hashlog(b"\x80\x04}\x94.").unwrap(), vec![]);
    }

    #[test]
    fn imports_python_hashlogs_once() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("students.dat"), PY_HASHLOG).unwrap();
        fs::write(dir.path().join("broken.dat"), b"garbage").unwrap();
        let store = SqliteState::open(dir.path()).unwrap();
        let imported = store.imported().to_vec();
        assert_eq!(imported.len(), 2);
        assert_eq!(imported[0].endpoint, "broken");
        assert!(imported[0].result.is_err());
        assert_eq!(imported[1].endpoint, "students");
        assert_eq!(imported[1].result, Ok(2));
        let loaded = block_on(store.load("students")).unwrap();
        assert_eq!(
            loaded[&hex("42b7b4f2921788ea14dac5566e6f06d0")],
            ps(1_700_000_000, 201)
        );
        // a newer outcome recorded by us survives a later re-import of the same (changed) file
        store
            .record(
                "students",
                hex("42b7b4f2921788ea14dac5566e6f06d0"),
                ps(1_800_000_000, 200),
            )
            .unwrap();
        drop(store);
        // unchanged: not imported again (the broken one is retried)
        let again = import_python_hashlog(dir.path()).unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].endpoint, "broken");
        // changed (the Python tool ran again): merged, the newer timestamp wins
        let file = fs::File::options()
            .write(true)
            .open(dir.path().join("students.dat"))
            .unwrap();
        file.set_modified(std::time::SystemTime::now() + Duration::from_secs(5))
            .unwrap();
        drop(file);
        let store = SqliteState::open(dir.path()).unwrap();
        assert!(store
            .imported()
            .iter()
            .any(|i| i.endpoint == "students" && i.result == Ok(2)));
        let loaded = block_on(store.load("students")).unwrap();
        assert_eq!(
            loaded[&hex("42b7b4f2921788ea14dac5566e6f06d0")],
            ps(1_800_000_000, 200)
        );
        assert_eq!(
            loaded[&hex("9dd4e461268c8034f5c8564e155c67a6")],
            ps(1_700_000_001, 409)
        );
    }

    /// A larger hashlog (several SETITEMS batches and frames, a float timestamp, a post-2038
    /// timestamp) written by Python's own pickle, when a Python is at hand.
    #[test]
    fn parses_a_large_python_hashlog() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("students.dat");
        let script = r#"
import pickle, hashlib, sys
d = {hashlib.md5(str(i).encode()).digest(): (1700000000 + i, 201 if i % 7 else 409) for i in range(3000)}
d[hashlib.md5(b"float").digest()] = (1700000000.6, 200)
d[hashlib.md5(b"late").digest()] = (5000000000, 200)
with open(sys.argv[1], "wb") as f:
    pickle.dump(d, f)
"#;
        let python = ["/work/pyvenv/bin/python", "python3"]
            .into_iter()
            .find(|p| {
                std::process::Command::new(p)
                    .arg("-c")
                    .arg(script)
                    .arg(&file)
                    .status()
                    .is_ok_and(|s| s.success())
            });
        if python.is_none() {
            eprintln!("no python3: skipped");
            return;
        }
        let entries: HashMap<_, _> = parse_hashlog(&fs::read(&file).unwrap())
            .unwrap()
            .into_iter()
            .collect();
        assert_eq!(entries.len(), 3002);
        assert_eq!(entries[&lightbeam_hash(7).to_hex()], ps(1_700_000_007, 409));
        assert_eq!(
            entries[&lightbeam_hash(2999).to_hex()],
            ps(1_700_002_999, 201)
        );
        let md5 = |s: &str| {
            use md5::{Digest, Md5};
            hex::encode(Md5::digest(s.as_bytes()))
        };
        assert_eq!(entries[&md5("float")], ps(1_700_000_001, 200));
        assert_eq!(entries[&md5("late")], ps(5_000_000_000, 200));
    }
}
