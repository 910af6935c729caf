//! In-memory output files: what the web app offers as downloads after `fetch`, and what tests
//! read back.

use super::{LocalFuture, OutputError, OutputFiles, OutputWriter};
use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

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
    fn write(&mut self, bytes: &[u8]) -> LocalFuture<'_, Result<(), OutputError>> {
        self.files
            .borrow_mut()
            .entry(self.path.clone())
            .or_default()
            .extend_from_slice(bytes);
        Box::pin(std::future::ready(Ok(())))
    }

    fn finish(&mut self) -> LocalFuture<'_, Result<(), OutputError>> {
        Box::pin(std::future::ready(Ok(())))
    }
}

impl OutputFiles for MemoryOutput {
    fn exists(&self, path: &str) -> LocalFuture<'_, Result<bool, OutputError>> {
        let found = self.files.borrow().contains_key(path);
        Box::pin(std::future::ready(Ok(found)))
    }

    fn read_text(&self, path: &str) -> LocalFuture<'_, Result<Option<String>, OutputError>> {
        let text = self
            .files
            .borrow()
            .get(path)
            .map(|b| String::from_utf8_lossy(b).into_owned());
        Box::pin(std::future::ready(Ok(text)))
    }

    fn create(
        &self,
        path: &str,
    ) -> LocalFuture<'_, Result<Box<dyn OutputWriter + '_>, OutputError>> {
        self.files.borrow_mut().insert(path.to_string(), Vec::new());
        let w = MemoryWriter {
            files: self.files.clone(),
            path: path.to_string(),
        };
        Box::pin(std::future::ready(Ok(Box::new(w) as Box<dyn OutputWriter>)))
    }
}
