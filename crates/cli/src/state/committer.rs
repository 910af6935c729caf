//! Buffered writes: `record`/`remove` push operations to a buffer in memory, which is committed
//! in one transaction when it is due (full, or its oldest operation old enough), by the next call
//! or by a background thread, and once more when the store is dropped.

use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use lightbeam_core::ports::{PayloadState, StoreError};
use rusqlite::{params, Connection};

use super::schema::{write_transaction, DELETE_ONE, UPSERT};
use super::StateOptions;

/// One write not yet committed.
pub(super) enum Op {
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
pub(super) struct Shared {
    conn: Mutex<Connection>,
    buffer: Mutex<Buffer>,
    pub(super) path: PathBuf,
    pub(super) options: StateOptions,
}

impl Shared {
    pub(super) fn new(conn: Connection, path: PathBuf, options: StateOptions) -> Shared {
        Shared {
            conn: Mutex::new(conn),
            buffer: Mutex::new(Buffer::default()),
            path,
            options,
        }
    }

    // A panic while holding a lock leaves the data consistent (ops are pushed whole).
    pub(super) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn buffer(&self) -> MutexGuard<'_, Buffer> {
        self.buffer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The number of buffered, uncommitted operations.
    pub(super) fn pending(&self) -> usize {
        self.buffer().pending.len()
    }

    /// Whether the buffer should be committed now.
    fn due(&self) -> bool {
        let buffer = self.buffer();
        buffer.pending.len() >= self.options.max_pending
            || buffer
                .oldest
                .is_some_and(|t| t.elapsed() >= self.options.commit_interval)
    }

    pub(super) fn error(&self, what: &str, e: rusqlite::Error) -> StoreError {
        StoreError(format!("{}: {what}: {e}", self.path.display()))
    }

    /// Buffers `op`; commits at once when the buffer is due and no background thread runs.
    pub(super) fn push(&self, op: Op) -> Result<(), StoreError> {
        let due = {
            let mut buffer = self.buffer();
            buffer.pending.push(op);
            let now = Instant::now();
            let oldest = *buffer.oldest.get_or_insert(now);
            buffer.pending.len() >= self.options.max_pending
                || now.duration_since(oldest) >= self.options.commit_interval
        };
        // with the background thread, commits happen there (it checks often); without it, here
        if due && !self.options.background_commit {
            self.commit(&mut self.conn())?;
        }
        Ok(())
    }

    /// Commits the buffer in one transaction (taken out of the buffer first, so pushes go on
    /// meanwhile); on failure the operations go back to the front of the buffer for the next try.
    pub(super) fn commit(&self, conn: &mut Connection) -> Result<(), StoreError> {
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

    /// Commits the buffer now, on this store's own connection.
    pub(super) fn commit_now(&self) -> Result<(), StoreError> {
        self.commit(&mut self.conn())
    }
}

/// The shared connection and buffer, and the background thread (if any) that commits the buffer
/// when it is due. Dropping it stops the thread and commits what is left (errors then go to
/// stderr).
pub(super) struct Committer {
    shared: Arc<Shared>,
    ticker: Option<(mpsc::Sender<()>, JoinHandle<()>)>,
}

impl Committer {
    /// Starts the background thread when the options ask for one.
    pub(super) fn start(shared: Shared) -> Result<Committer, StoreError> {
        let shared = Arc::new(shared);
        let ticker = if shared.options.background_commit {
            Some(start_ticker(Arc::clone(&shared))?)
        } else {
            None
        };
        Ok(Committer { shared, ticker })
    }

    pub(super) fn shared(&self) -> &Shared {
        &self.shared
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
                    let _ = shared.commit_now();
                }
            }
        })
        .map_err(|e| StoreError(format!("cannot start the state commit thread: {e}")))?;
    Ok((stop, handle))
}

impl Drop for Committer {
    fn drop(&mut self) {
        if let Some((stop, handle)) = self.ticker.take() {
            drop(stop);
            let _ = handle.join();
        }
        if let Err(e) = self.shared.commit_now() {
            eprintln!("warning: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{
        assert_counts, committed, d, ps, quiet, quiet_store, record_many,
    };
    use super::super::{SqliteState, StateOptions};
    use super::*;
    use futures::executor::block_on;
    use lightbeam_core::ports::StateStore;

    #[test]
    fn buffering_and_flush() {
        let (dir, store) = quiet_store();
        record_many(&store, "students", 10);
        assert_counts(&store, dir.path(), "students", 10, 0);
        block_on(store.flush()).unwrap();
        assert_counts(&store, dir.path(), "students", 0, 10);
    }

    #[test]
    fn commits_when_the_buffer_is_full() {
        let (dir, store) = quiet_store();
        record_many(&store, "students", 5_000);
        assert_counts(&store, dir.path(), "students", 0, 5_000);
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
        let (dir, store) = quiet_store();
        store.record("students", d("a"), ps(1, 201)).unwrap();
        store.record("students", d("b"), ps(2, 500)).unwrap();
        drop(store);
        assert_eq!(committed(dir.path(), "students"), 2);
        let store = SqliteState::open(dir.path()).unwrap();
        assert_eq!(block_on(store.load("students")).unwrap().len(), 2);
    }
}
