//! The engine's output port on disk: `fetch` writes `{data_dir}/{endpoint}.jsonl`, `create`
//! writes `earthmover.yml` and `templates/` in the working directory.

use lightbeam_core::ports::{LocalFuture, OutputError, OutputFiles, OutputWriter};
use std::fs;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Output files under a directory; `path`s are relative to it.
#[derive(Debug, Clone)]
pub struct FsOutput {
    root: PathBuf,
}

impl FsOutput {
    pub fn new(root: impl Into<PathBuf>) -> FsOutput {
        FsOutput { root: root.into() }
    }

    /// Where the file `path` is.
    pub fn path_of(&self, path: &str) -> PathBuf {
        self.root.join(path)
    }

    fn open(&self, path: &str) -> Result<FsWriter, OutputError> {
        let target = self.path_of(path);
        if let Some(parent) = target.parent() {
            if !parent.as_os_str().is_empty() {
                fs::create_dir_all(parent)
                    .map_err(|e| OutputError(format!("cannot create {}: {e}", parent.display())))?;
            }
        }
        let file = fs::File::create(&target)
            .map_err(|e| OutputError(format!("cannot create {}: {e}", target.display())))?;
        Ok(FsWriter {
            path: target,
            out: Some(BufWriter::with_capacity(256 * 1024, file)),
        })
    }
}

/// A file being written through a buffer.
pub struct FsWriter {
    path: PathBuf,
    out: Option<BufWriter<fs::File>>,
}

impl FsWriter {
    fn write_now(&mut self, bytes: &[u8]) -> Result<(), OutputError> {
        let path = &self.path;
        match &mut self.out {
            Some(out) => out
                .write_all(bytes)
                .map_err(|e| OutputError(format!("{}: {e}", path.display()))),
            None => Err(OutputError(format!("{}: already closed", path.display()))),
        }
    }

    fn finish_now(&mut self) -> Result<(), OutputError> {
        let Some(out) = self.out.take() else {
            return Ok(());
        };
        let file = out
            .into_inner()
            .map_err(|e| OutputError(format!("{}: {}", self.path.display(), e.error())))?;
        file.sync_all()
            .map_err(|e| OutputError(format!("{}: {e}", self.path.display())))
    }
}

impl OutputWriter for FsWriter {
    fn write(&mut self, bytes: &[u8]) -> LocalFuture<'_, Result<(), OutputError>> {
        Box::pin(std::future::ready(self.write_now(bytes)))
    }

    fn finish(&mut self) -> LocalFuture<'_, Result<(), OutputError>> {
        Box::pin(std::future::ready(self.finish_now()))
    }
}

fn exists(path: &Path) -> Result<bool, OutputError> {
    path.try_exists()
        .map_err(|e| OutputError(format!("cannot check {}: {e}", path.display())))
}

impl OutputFiles for FsOutput {
    fn exists(&self, path: &str) -> LocalFuture<'_, Result<bool, OutputError>> {
        Box::pin(std::future::ready(exists(&self.path_of(path))))
    }

    fn read_text(&self, path: &str) -> LocalFuture<'_, Result<Option<String>, OutputError>> {
        let target = self.path_of(path);
        let text = match fs::read_to_string(&target) {
            Ok(t) => Ok(Some(t)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(OutputError(format!(
                "cannot read {}: {e}",
                target.display()
            ))),
        };
        Box::pin(std::future::ready(text))
    }

    fn create(
        &self,
        path: &str,
    ) -> LocalFuture<'_, Result<Box<dyn OutputWriter + '_>, OutputError>> {
        let w = self
            .open(path)
            .map(|w| Box::new(w) as Box<dyn OutputWriter>);
        Box::pin(std::future::ready(w))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block<F: std::future::Future>(f: F) -> F::Output {
        futures::executor::block_on(f)
    }

    #[test]
    fn writes_reads_and_creates_folders() {
        let dir = tempfile::tempdir().unwrap();
        let out = FsOutput::new(dir.path());
        assert!(!block(out.exists("templates/a.jsont")).unwrap());
        assert_eq!(block(out.read_text("earthmover.yml")).unwrap(), None);
        let mut w = block(out.create("templates/a.jsont")).unwrap();
        block(w.write(b"one\n")).unwrap();
        block(w.write(b"two\n")).unwrap();
        block(w.finish()).unwrap();
        drop(w);
        assert!(block(out.exists("templates/a.jsont")).unwrap());
        assert_eq!(
            block(out.read_text("templates/a.jsont"))
                .unwrap()
                .as_deref(),
            Some("one\ntwo\n")
        );
        // replacing a file
        let mut w = block(out.create("templates/a.jsont")).unwrap();
        block(w.write(b"new")).unwrap();
        block(w.finish()).unwrap();
        drop(w);
        assert_eq!(
            std::fs::read_to_string(dir.path().join("templates/a.jsont")).unwrap(),
            "new"
        );
    }
}
