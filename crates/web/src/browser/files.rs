//! Dropped or picked files as the core's `DataSource`: read in chunks with `Blob.slice` and
//! `arrayBuffer`, never whole, so a 100 MB file costs a chunk of memory at a time.

use super::js_error_text;
use lightbeam_core::data::lines::LineSplitter;
use lightbeam_core::ports::{ChunkReader, DataFile, DataSource, LocalFuture};
use std::collections::HashMap;
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

/// The data files, by the name the engine knows them by (their path in the data folder).
#[derive(Default, Clone)]
pub struct FileSource {
    files: HashMap<String, File>,
}

impl FileSource {
    pub fn new(files: impl IntoIterator<Item = (String, File)>) -> Self {
        FileSource {
            files: files.into_iter().collect(),
        }
    }

    pub fn get(&self, name: &str) -> Option<&File> {
        self.files.get(name)
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

impl ChunkReader for BlobReader {
    fn next_chunk(&mut self) -> LocalFuture<'_, Result<Option<Vec<u8>>, String>> {
        Box::pin(async move {
            if self.offset >= self.size {
                return Ok(None);
            }
            let end = (self.offset + self.chunk).min(self.size);
            let part = self
                .blob
                .slice_with_f64_and_f64(self.offset, end)
                .map_err(|e| js_error_text(&e))?;
            let buf = JsFuture::from(part.array_buffer())
                .await
                .map_err(|e| js_error_text(&e))?;
            self.offset = end;
            Ok(Some(js_sys::Uint8Array::new(&buf).to_vec()))
        })
    }
}

impl DataSource for FileSource {
    fn read(&self, file: &DataFile) -> LocalFuture<'_, Result<Box<dyn ChunkReader + '_>, String>> {
        let found = self.files.get(&file.name).cloned();
        let name = file.name.clone();
        Box::pin(async move {
            let f = found.ok_or_else(|| format!("{name} is no longer among the dropped files"))?;
            Ok(Box::new(BlobReader::new(f.into(), CHUNK)) as Box<dyn ChunkReader>)
        })
    }
}

/// The text of line `number` (1-based) of a file, read chunk by chunk.
pub async fn read_line(file: &File, number: u64) -> Result<String, String> {
    let mut reader = BlobReader::new(file.clone().into(), CHUNK);
    let mut splitter = LineSplitter::new();
    while let Some(chunk) = reader.next_chunk().await? {
        for line in splitter.push(&chunk) {
            if line.number == number {
                return line.text.map_err(|e| e.to_string());
            }
        }
        if splitter.lines_seen() > number {
            break;
        }
    }
    for line in splitter.finish() {
        if line.number == number {
            return line.text.map_err(|e| e.to_string());
        }
    }
    Err(format!(
        "line {number} is blank or past the end of the file"
    ))
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

async fn entry_file(entry: &FileSystemFileEntry) -> Result<File, String> {
    let promise = js_sys::Promise::new(&mut |resolve, reject| {
        entry.file_with_callback_and_callback(&resolve, &reject);
    });
    JsFuture::from(promise)
        .await
        .map_err(|e| js_error_text(&e))?
        .dyn_into::<File>()
        .map_err(|_| "not a file".to_string())
}

async fn dir_entries(dir: &FileSystemDirectoryEntry) -> Result<Vec<FileSystemEntry>, String> {
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
            .map_err(|e| js_error_text(&e))?
            .unchecked_into();
        if batch.length() == 0 {
            return Ok(all);
        }
        all.extend(batch.iter().map(|e| e.unchecked_into::<FileSystemEntry>()));
    }
}

/// Walks dropped entries (folders recursively) into files with their paths.
pub async fn walk_entries(entries: Vec<FileSystemEntry>) -> Result<Vec<PickedFile>, String> {
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
