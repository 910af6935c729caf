//! Data files on disk: the `DataSource` port over a `data_dir`, and the listing the engine's
//! data-file discovery works from.

use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use lightbeam_core::ports::{ChunkReader, DataFile, DataSource, LocalFuture, SourceError};

/// The size of the chunks a data file is read in.
pub const CHUNK_SIZE: usize = 256 * 1024;

/// The data files of a `data_dir` (as the config gives it): files are read by their path
/// relative to it, and named as the Python tool names them (`{data_dir}/{path}`).
#[derive(Debug, Clone)]
pub struct FsDataSource {
    data_dir: String,
    chunk_size: usize,
}

impl FsDataSource {
    pub fn new(data_dir: impl Into<String>) -> FsDataSource {
        FsDataSource {
            data_dir: data_dir.into(),
            chunk_size: CHUNK_SIZE,
        }
    }

    /// The same, reading chunks of `chunk_size` bytes (at least 1).
    pub fn with_chunk_size(mut self, chunk_size: usize) -> FsDataSource {
        self.chunk_size = chunk_size.max(1);
        self
    }

    pub fn data_dir(&self) -> &Path {
        Path::new(&self.data_dir)
    }

    /// Where the file at `path` (relative to `data_dir`, or absolute) is.
    pub fn path_of(&self, path: &str) -> PathBuf {
        // `join` keeps an absolute `path` as it is.
        self.data_dir().join(path)
    }

    /// Opens a data file; errors name the file as `name`.
    pub fn open(&self, path: &str, name: &str) -> Result<FsChunkReader, SourceError> {
        let path = self.path_of(path);
        match fs::metadata(&path) {
            Ok(m) if m.is_dir() => {
                return Err(SourceError(format!(
                    "{name}: is a directory, not a data file"
                )))
            }
            Ok(_) => {}
            Err(e) => return Err(SourceError(format!("{name}: cannot read: {e}"))),
        }
        let file =
            fs::File::open(&path).map_err(|e| SourceError(format!("{name}: cannot read: {e}")))?;
        Ok(FsChunkReader {
            file,
            name: name.to_string(),
            chunk_size: self.chunk_size,
            done: false,
        })
    }
}

impl DataSource for FsDataSource {
    fn list(&self) -> LocalFuture<'_, Result<Vec<String>, SourceError>> {
        let listing = list_data_dir(self.data_dir())
            .map_err(|e| SourceError(format!("cannot read data_dir {}: {e}", self.data_dir)));
        Box::pin(std::future::ready(listing))
    }

    fn display_name(&self, path: &str) -> String {
        if self.data_dir.ends_with('/') {
            format!("{}{path}", self.data_dir)
        } else {
            format!("{}/{path}", self.data_dir)
        }
    }

    fn describe(&self) -> String {
        format!("`data_dir` {}", self.data_dir)
    }

    fn read(
        &self,
        file: &DataFile,
    ) -> LocalFuture<'_, Result<Box<dyn ChunkReader + '_>, SourceError>> {
        let reader = self
            .open(&file.path, &file.name)
            .map(|r| Box::new(r) as Box<dyn ChunkReader>);
        Box::pin(std::future::ready(reader))
    }
}

/// Successive chunks of one file on disk, each `chunk_size` bytes but the last.
#[derive(Debug)]
pub struct FsChunkReader {
    file: fs::File,
    name: String,
    chunk_size: usize,
    done: bool,
}

impl FsChunkReader {
    /// The next chunk, `None` at the end of the file.
    pub fn read_chunk(&mut self) -> Result<Option<Vec<u8>>, SourceError> {
        if self.done {
            return Ok(None);
        }
        let mut buf = vec![0u8; self.chunk_size];
        let mut filled = 0;
        while filled < buf.len() {
            match self.file.read(&mut buf[filled..]) {
                Ok(0) => {
                    self.done = true;
                    break;
                }
                Ok(n) => filled += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(SourceError(format!("{}: cannot read: {e}", self.name))),
            }
        }
        if filled == 0 {
            return Ok(None);
        }
        buf.truncate(filled);
        Ok(Some(buf))
    }
}

impl ChunkReader for FsChunkReader {
    fn next_chunk(&mut self) -> LocalFuture<'_, Result<Option<Vec<u8>>, SourceError>> {
        Box::pin(std::future::ready(self.read_chunk()))
    }
}

/// The regular files (symbolic links followed) directly in `data_dir` and in its immediate
/// subfolders (`{endpoint}/*.jsonl`), as paths relative to `data_dir` with `/` separators,
/// sorted. Deeper folders are not entered. Names that are not valid UTF-8 are listed lossily
/// (reading them then fails with an error naming them).
pub fn list_data_dir(data_dir: &Path) -> io::Result<Vec<String>> {
    let context =
        |path: &Path, e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    let mut out = Vec::new();
    for entry in fs::read_dir(data_dir).map_err(|e| context(data_dir, e))? {
        let entry = entry.map_err(|e| context(data_dir, e))?;
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        // follow symbolic links; a dangling one is skipped
        let Ok(meta) = fs::metadata(&path) else {
            continue;
        };
        if meta.is_file() {
            out.push(name);
        } else if meta.is_dir() {
            for sub in fs::read_dir(&path).map_err(|e| context(&path, e))? {
                let sub = sub.map_err(|e| context(&path, e))?;
                if fs::metadata(sub.path()).is_ok_and(|m| m.is_file()) {
                    out.push(format!("{name}/{}", sub.file_name().to_string_lossy()));
                }
            }
        }
    }
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;

    fn read_all(source: &FsDataSource, path: &str) -> Result<Vec<Vec<u8>>, String> {
        block_on(async {
            let file = DataFile {
                endpoint: "students".into(),
                path: path.into(),
                name: path.into(),
            };
            let mut reader = source.read(&file).await.map_err(|e| e.0)?;
            let mut chunks = Vec::new();
            while let Some(chunk) = reader.next_chunk().await.map_err(|e| e.0)? {
                chunks.push(chunk);
            }
            assert_eq!(reader.next_chunk().await.map_err(|e| e.0)?, None);
            Ok(chunks)
        })
    }

    #[test]
    fn reads_a_1mb_file_in_chunks() {
        let dir = tempfile::tempdir().unwrap();
        let content: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        fs::write(dir.path().join("students.jsonl"), &content).unwrap();
        let source = FsDataSource::new(dir.path().display().to_string());
        let chunks = read_all(&source, "students.jsonl").unwrap();
        assert_eq!(chunks.len(), 4); // 3 × 256 KiB + the rest
        assert!(chunks[..3].iter().all(|c| c.len() == CHUNK_SIZE));
        assert_eq!(chunks[3].len(), 1_000_000 - 3 * CHUNK_SIZE);
        assert_eq!(chunks.concat(), content);

        // an absolute name, another chunk size
        let abs = dir.path().join("students.jsonl");
        let source = FsDataSource::new("/nonexistent").with_chunk_size(300_000);
        let chunks = read_all(&source, abs.to_str().unwrap()).unwrap();
        assert_eq!(
            chunks.iter().map(Vec::len).collect::<Vec<_>>(),
            [300_000, 300_000, 300_000, 100_000]
        );
    }

    #[test]
    fn empty_and_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("empty.jsonl"), b"").unwrap();
        fs::create_dir(dir.path().join("folder")).unwrap();
        let source = FsDataSource::new(dir.path().display().to_string());
        assert_eq!(
            read_all(&source, "empty.jsonl").unwrap(),
            Vec::<Vec<u8>>::new()
        );
        let err = read_all(&source, "missing.jsonl").unwrap_err();
        assert!(err.starts_with("missing.jsonl: "), "{err}");
        let err = read_all(&source, "folder").unwrap_err();
        assert!(err.starts_with("folder: "), "{err}");
    }

    #[test]
    fn lists_two_levels() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        for f in ["students.jsonl", "Schools.NDJSON", "notes.txt"] {
            fs::write(d.join(f), b"").unwrap();
        }
        fs::create_dir_all(d.join("studentSchoolAssociations/2024")).unwrap();
        fs::write(d.join("studentSchoolAssociations/a.jsonl"), b"").unwrap();
        fs::write(d.join("studentSchoolAssociations/b.jsonl"), b"").unwrap();
        fs::write(d.join("studentSchoolAssociations/2024/deep.jsonl"), b"").unwrap();
        fs::create_dir(d.join("empty")).unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(d.join("students.jsonl"), d.join("linked.jsonl")).unwrap();
            std::os::unix::fs::symlink(d.join("gone"), d.join("dangling.jsonl")).unwrap();
        }
        let mut expected = vec![
            "Schools.NDJSON",
            "notes.txt",
            "studentSchoolAssociations/a.jsonl",
            "studentSchoolAssociations/b.jsonl",
            "students.jsonl",
        ];
        if cfg!(unix) {
            expected.insert(1, "linked.jsonl");
        }
        assert_eq!(list_data_dir(d).unwrap(), expected);
        let source = FsDataSource::new(format!("{}/", d.display()));
        assert_eq!(block_on(source.list()).unwrap(), expected);
        assert_eq!(
            source.display_name("students.jsonl"),
            format!("{}/students.jsonl", d.display())
        );
        assert_eq!(
            FsDataSource::new("./data").display_name("a/b.jsonl"),
            "./data/a/b.jsonl"
        );
        assert_eq!(FsDataSource::new("./data").describe(), "`data_dir` ./data");

        let err = list_data_dir(&d.join("nope")).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(err.to_string().contains("nope"), "{err}");
    }
}
