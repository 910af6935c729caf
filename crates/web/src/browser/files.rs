//! Dropped or picked files as the core's `DataSource`: read in chunks with `Blob.slice` and
//! `arrayBuffer`, never whole, so a 100 MB file costs a chunk of memory at a time.

use super::js_error_text;
use crate::logic::files::relative_paths;
use lightbeam_core::data::lines::{LineError, LineSplitter};
use lightbeam_core::ports::{ChunkReader, DataFile, DataSource, LocalFuture, SourceError};
use std::collections::BTreeMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DataTransfer, File, FileSystemDirectoryEntry, FileSystemEntry, FileSystemFileEntry};

/// Bytes read at a time.
pub const CHUNK: f64 = 1024.0 * 1024.0;

/// A picked or dropped file and its path (relative to what was dropped).
#[derive(Clone)]
pub struct PickedFile {
    pub path: String,
    pub file: File,
}

/// What the dropped files are called in the engine's messages
/// (`your dropped files has no *.jsonl files for selected endpoints`).
pub const DESCRIPTION: &str = "your dropped files";

/// The dropped files as the engine's `DataSource`: listed, named and read by their path in the
/// data folder (which is also their name in messages and results).
#[derive(Default, Clone)]
pub struct FileSource {
    files: BTreeMap<String, File>,
}

impl FileSource {
    pub fn new(files: impl IntoIterator<Item = (String, File)>) -> Self {
        FileSource {
            files: files.into_iter().collect(),
        }
    }

    /// Picked files with their paths made relative to the data folder; the data folder's name.
    pub fn of_picked(picked: Vec<PickedFile>) -> (String, FileSource) {
        let paths: Vec<String> = picked.iter().map(|p| p.path.clone()).collect();
        let (dir, relative) = relative_paths(&paths);
        let files = relative
            .into_iter()
            .zip(picked)
            .map(|(path, p)| (path, p.file));
        (dir, FileSource::new(files))
    }

    pub fn get(&self, path: &str) -> Option<&File> {
        self.files.get(path)
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// The files' total size in bytes.
    pub fn bytes(&self) -> f64 {
        self.files.values().map(|f| f.size()).sum()
    }
}

/// Reads one blob in chunks.
pub struct BlobReader {
    blob: web_sys::Blob,
    offset: f64,
    size: f64,
    chunk: f64,
}

impl BlobReader {
    pub fn new(blob: web_sys::Blob, chunk: f64) -> Self {
        let size = blob.size();
        BlobReader {
            blob,
            offset: 0.0,
            size,
            chunk,
        }
    }
}

fn source_error(e: &JsValue) -> SourceError {
    SourceError(js_error_text(e))
}

impl ChunkReader for BlobReader {
    fn next_chunk(&mut self) -> LocalFuture<'_, Result<Option<Vec<u8>>, SourceError>> {
        Box::pin(async move {
            if self.offset >= self.size {
                return Ok(None);
            }
            let end = (self.offset + self.chunk).min(self.size);
            let part = self
                .blob
                .slice_with_f64_and_f64(self.offset, end)
                .map_err(|e| source_error(&e))?;
            let buf = JsFuture::from(part.array_buffer())
                .await
                .map_err(|e| source_error(&e))?;
            self.offset = end;
            Ok(Some(js_sys::Uint8Array::new(&buf).to_vec()))
        })
    }
}

impl DataSource for FileSource {
    fn list(&self) -> LocalFuture<'_, Result<Vec<String>, SourceError>> {
        Box::pin(std::future::ready(Ok(self.files.keys().cloned().collect())))
    }

    fn display_name(&self, path: &str) -> String {
        path.to_string()
    }

    fn describe(&self) -> String {
        DESCRIPTION.to_string()
    }

    fn read(
        &self,
        file: &DataFile,
    ) -> LocalFuture<'_, Result<Box<dyn ChunkReader + '_>, SourceError>> {
        let found = self.files.get(&file.path).cloned();
        let name = file.name.clone();
        Box::pin(async move {
            let f = found.ok_or_else(|| {
                SourceError(format!("{name} is no longer among the dropped files"))
            })?;
            Ok(Box::new(BlobReader::new(f.into(), CHUNK)) as Box<dyn ChunkReader>)
        })
    }
}

/// Why a line of a dropped file cannot be shown.
#[derive(Debug, Clone, thiserror::Error)]
pub enum LineViewError {
    #[error(transparent)]
    Read(#[from] SourceError),
    #[error(transparent)]
    Text(#[from] LineError),
    #[error("line {0} is blank or past the end of the file")]
    NoSuchLine(u64),
    #[error("{0} is not among the dropped files")]
    NotDropped(String),
}

/// The text of line `number` (1-based) of a file, read chunk by chunk.
pub async fn read_line(file: &File, number: u64) -> Result<String, LineViewError> {
    let mut reader = BlobReader::new(file.clone().into(), CHUNK);
    let mut splitter = LineSplitter::new();
    while let Some(chunk) = reader.next_chunk().await? {
        if let Some(line) = splitter
            .push(&chunk)
            .into_iter()
            .find(|l| l.number == number)
        {
            return Ok(line.text?);
        }
        if splitter.lines_seen() > number {
            return Err(LineViewError::NoSuchLine(number));
        }
    }
    match splitter.finish().into_iter().find(|l| l.number == number) {
        Some(line) => Ok(line.text?),
        None => Err(LineViewError::NoSuchLine(number)),
    }
}

impl FileSource {
    /// The text of line `number` of the dropped file at `path`.
    pub async fn line(&self, path: &str, number: u64) -> Result<String, LineViewError> {
        let file = self
            .get(path)
            .ok_or_else(|| LineViewError::NotDropped(path.to_string()))?;
        read_line(file, number).await
    }
}

/// The files of a file input: `webkitRelativePath` when a folder was picked, else the name.
pub fn from_file_list(list: &web_sys::FileList) -> Vec<PickedFile> {
    (0..list.length())
        .filter_map(|i| list.get(i))
        .map(|file| {
            let rel = js_sys::Reflect::get(&file, &JsValue::from_str("webkitRelativePath"))
                .ok()
                .and_then(|v| v.as_string())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| file.name());
            PickedFile { path: rel, file }
        })
        .collect()
}

/// What a drop carries, taken synchronously (a `DataTransfer` is emptied after the event):
/// entries when the browser gives them (folders can then be walked), else plain files.
pub enum Dropped {
    Entries(Vec<FileSystemEntry>),
    Files(Vec<PickedFile>),
}

pub fn take_drop(dt: &DataTransfer) -> Dropped {
    let items = dt.items();
    let mut entries = Vec::new();
    for i in 0..items.length() {
        if let Some(item) = items.get(i) {
            if item.kind() == "file" {
                if let Ok(Some(entry)) = item.webkit_get_as_entry() {
                    entries.push(entry);
                }
            }
        }
    }
    if !entries.is_empty() {
        return Dropped::Entries(entries);
    }
    match dt.files() {
        Some(list) => Dropped::Files(from_file_list(&list)),
        None => Dropped::Files(Vec::new()),
    }
}

async fn entry_file(entry: &FileSystemFileEntry) -> Result<File, SourceError> {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        entry.file_with_callback_and_callback(&resolve, &reject);
    });
    JsFuture::from(promise)
        .await
        .map_err(|e| source_error(&e))?
        .dyn_into::<File>()
        .map_err(|_| SourceError(format!("{} is not a file", entry.full_path())))
}

async fn dir_entries(dir: &FileSystemDirectoryEntry) -> Result<Vec<FileSystemEntry>, SourceError> {
    let reader = dir.create_reader();
    let mut all = Vec::new();
    loop {
        // readEntries gives at most 100 entries a call; an empty batch ends the listing
        let promise = js_sys::Promise::new(&mut |resolve, reject| {
            if let Err(e) = reader.read_entries_with_callback_and_callback(&resolve, &reject) {
                let _ = reject.call1(&JsValue::NULL, &e);
            }
        });
        let batch: js_sys::Array = JsFuture::from(promise)
            .await
            .map_err(|e| source_error(&e))?
            .unchecked_into();
        if batch.length() == 0 {
            return Ok(all);
        }
        all.extend(batch.iter().map(|e| e.unchecked_into::<FileSystemEntry>()));
    }
}

/// Walks dropped entries (folders recursively) into files with their paths.
pub async fn walk_entries(entries: Vec<FileSystemEntry>) -> Result<Vec<PickedFile>, SourceError> {
    let mut out = Vec::new();
    let mut stack = entries;
    while let Some(entry) = stack.pop() {
        if entry.is_directory() {
            let dir: FileSystemDirectoryEntry = entry.unchecked_into();
            stack.extend(dir_entries(&dir).await?);
        } else if entry.is_file() {
            let path = entry.full_path();
            let fe: FileSystemFileEntry = entry.unchecked_into();
            out.push(PickedFile {
                path,
                file: entry_file(&fe).await?,
            });
        }
    }
    Ok(out)
}
