//! The output port: files the engine writes (`fetch` writes `{endpoint}.jsonl`, `create` writes
//! `earthmover.yml` and `templates/{endpoint}.jsont`). Paths are relative and `/`-separated; the
//! face decides where they go (a directory natively, downloads or a zip in the browser).
//! Writers are streamed: `fetch` never holds a whole endpoint in memory.

use crate::ports::LocalFuture;
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

/// Where output files go.
pub trait OutputFiles {
    /// Whether `path` exists already.
    fn exists(&self, path: &str) -> LocalFuture<'_, Result<bool, String>>;
    /// The text of `path`, `None` when it does not exist.
    fn read_text(&self, path: &str) -> LocalFuture<'_, Result<Option<String>, String>>;
    /// Creates `path` (and its parent directories), replacing a file of that name.
    fn create(&self, path: &str) -> LocalFuture<'_, Result<Box<dyn OutputWriter + '_>, String>>;
}

/// One file being written, in order.
pub trait OutputWriter {
    fn write(&mut self, bytes: &[u8]) -> LocalFuture<'_, Result<(), String>>;
    /// Flushes and closes the file; it is complete only after this.
    fn finish(&mut self) -> LocalFuture<'_, Result<(), String>>;
}

/// Output files kept in memory (tests, and the web app before it offers them for download).
#[derive(Debug, Clone, Default)]
pub struct MemoryOutput {
    files: Rc<RefCell<BTreeMap<String, Vec<u8>>>>,
}

impl MemoryOutput {
    pub fn new() -> Self {
        Self::default()
    }

    /// A file's bytes (also while it is being written).
    pub fn get(&self, path: &str) -> Option<Vec<u8>> {
        self.files.borrow().get(path).cloned()
    }

    /// Puts a file (e.g. an existing `earthmover.yml`).
    pub fn put(&self, path: &str, bytes: &[u8]) {
        self.files
            .borrow_mut()
            .insert(path.to_string(), bytes.to_vec());
    }

    /// Paths of all files, sorted.
    pub fn paths(&self) -> Vec<String> {
        self.files.borrow().keys().cloned().collect()
    }
}

struct MemoryWriter {
    files: Rc<RefCell<BTreeMap<String, Vec<u8>>>>,
    path: String,
}

impl OutputWriter for MemoryWriter {
    fn write(&mut self, bytes: &[u8]) -> LocalFuture<'_, Result<(), String>> {
        self.files
            .borrow_mut()
            .entry(self.path.clone())
            .or_default()
            .extend_from_slice(bytes);
        Box::pin(std::future::ready(Ok(())))
    }

    fn finish(&mut self) -> LocalFuture<'_, Result<(), String>> {
        Box::pin(std::future::ready(Ok(())))
    }
}

impl OutputFiles for MemoryOutput {
    fn exists(&self, path: &str) -> LocalFuture<'_, Result<bool, String>> {
        let found = self.files.borrow().contains_key(path);
        Box::pin(std::future::ready(Ok(found)))
    }

    fn read_text(&self, path: &str) -> LocalFuture<'_, Result<Option<String>, String>> {
        let text = self
            .files
            .borrow()
            .get(path)
            .map(|b| String::from_utf8_lossy(b).into_owned());
        Box::pin(std::future::ready(Ok(text)))
    }

    fn create(&self, path: &str) -> LocalFuture<'_, Result<Box<dyn OutputWriter + '_>, String>> {
        self.files.borrow_mut().insert(path.to_string(), Vec::new());
        let w = MemoryWriter {
            files: self.files.clone(),
            path: path.to_string(),
        };
        Box::pin(std::future::ready(Ok(Box::new(w) as Box<dyn OutputWriter>)))
    }
}
