//! The native cache: one file per key under `{state_dir}/cache/`, its age taken from the file's
//! modification time (as the Python tool does for its swagger and descriptor caches, which live
//! in the same folder).
//!
//! A key made of `A-Z a-z 0-9 . _ -` (starting with a letter or digit, at most 128 characters) is
//! the file name itself, so `swagger-resources-{md5}.json` reads as it says; any other key becomes
//! `{key, unsafe characters replaced}~{md5 of the key}`, which no plain key can collide with.
//! Writes go to a temporary file renamed into place, so a reader (another `lightbeam` process)
//! sees the old document or the new one, never half of one.
//!
//! The cache never holds secrets: the engine stores only public API documents in it.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use lightbeam_core::ports::{Cache, LocalFuture};
use md5::{Digest, Md5};

/// The cache folder's name inside `state_dir`.
pub const CACHE_DIR_NAME: &str = "cache";

const MAX_PLAIN_KEY: usize = 128;
const MAX_SANITISED_PREFIX: usize = 64;
const TEMP_SUFFIX: &str = ".tmp";

/// Cached documents as files; see the module documentation.
#[derive(Debug, Clone)]
pub struct FileCache {
    dir: PathBuf,
}

impl FileCache {
    /// The cache of `state_dir`, in `{state_dir}/cache/` (created on the first write).
    pub fn new(state_dir: &Path) -> FileCache {
        FileCache {
            dir: state_dir.join(CACHE_DIR_NAME),
        }
    }

    /// The cache folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The file that holds `key`.
    pub fn path_of(&self, key: &str) -> PathBuf {
        self.dir.join(file_name_for(key))
    }

    /// The cached bytes of `key` and their age in seconds; `None` when not cached.
    pub fn read(&self, key: &str) -> io::Result<Option<(Vec<u8>, u64)>> {
        let mut file = match fs::File::open(self.path_of(key)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let meta = file.metadata()?;
        let age = meta
            .modified()
            .ok()
            .and_then(|m| SystemTime::now().duration_since(m).ok())
            .map_or(0, |d| d.as_secs());
        let mut bytes = Vec::with_capacity(meta.len() as usize);
        file.read_to_end(&mut bytes)?;
        Ok(Some((bytes, age)))
    }

    /// Stores `value` under `key`, atomically (temporary file, then rename).
    pub fn write(&self, key: &str, value: &[u8]) -> io::Result<()> {
        static COUNTER: AtomicU64 = AtomicU64::new(0);
        fs::create_dir_all(&self.dir)?;
        let target = self.path_of(key);
        let temp = self.dir.join(format!(
            ".{}.{}.{}{TEMP_SUFFIX}",
            file_name_for(key),
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let written = (|| {
            let mut f = fs::File::create(&temp)?;
            f.write_all(value)?;
            f.flush()?;
            drop(f);
            fs::rename(&temp, &target)
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written
    }

    /// Deletes every file in the cache folder (also the Python tool's cache files, which
    /// `lightbeam -w` clears as well). Returns how many were deleted.
    pub fn clear(&self) -> io::Result<usize> {
        let entries = match fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
            Err(e) => return Err(e),
        };
        let mut removed = 0;
        for entry in entries {
            let entry = entry?;
            if entry.file_type()?.is_file() {
                match fs::remove_file(entry.path()) {
                    Ok(()) => removed += 1,
                    // removed meanwhile by another process
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
            }
        }
        Ok(removed)
    }
}

/// The file name of a key; see the module documentation.
pub fn file_name_for(key: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    if !key.is_empty()
        && key.len() <= MAX_PLAIN_KEY
        && key.starts_with(|c: char| c.is_ascii_alphanumeric())
        && key.chars().all(plain)
    {
        return key.to_string();
    }
    let prefix: String = key
        .chars()
        .take(MAX_SANITISED_PREFIX)
        .enumerate()
        .map(|(i, c)| {
            if plain(c) && !(i == 0 && c == '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!("{prefix}~{}", hex::encode(Md5::digest(key.as_bytes())))
}

/// The `Cache` port. A cache that cannot be read or written is no error: the document is then
/// fetched again.
impl Cache for FileCache {
    fn get(&self, key: &str) -> LocalFuture<'_, Option<(Vec<u8>, u64)>> {
        Box::pin(std::future::ready(self.read(key).ok().flatten()))
    }

    fn put(&self, key: &str, value: &[u8]) -> LocalFuture<'_, ()> {
        let _ = self.write(key, value);
        Box::pin(std::future::ready(()))
    }

    fn wipe(&self) -> LocalFuture<'_, ()> {
        let _ = self.clear();
        Box::pin(std::future::ready(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use std::time::Duration;

    #[test]
    fn put_get_wipe() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FileCache::new(dir.path());
        assert_eq!(block_on(cache.get("swagger-resources-abc.json")), None);
        block_on(cache.put("swagger-resources-abc.json", b"{\"a\":1}"));
        block_on(cache.put("https://api.example/metadata?x=1", b"other"));
        let (bytes, age) = block_on(cache.get("swagger-resources-abc.json")).unwrap();
        assert_eq!(bytes, b"{\"a\":1}");
        assert!(age <= 1);
        assert!(dir
            .path()
            .join("cache/swagger-resources-abc.json")
            .is_file());
        assert_eq!(
            block_on(cache.get("https://api.example/metadata?x=1"))
                .unwrap()
                .0,
            b"other"
        );
        // overwrite
        block_on(cache.put("swagger-resources-abc.json", b"new"));
        assert_eq!(
            block_on(cache.get("swagger-resources-abc.json")).unwrap().0,
            b"new"
        );
        // only the two documents, no temporary files left behind
        assert_eq!(fs::read_dir(cache.dir()).unwrap().count(), 2);

        block_on(cache.wipe());
        assert_eq!(block_on(cache.get("swagger-resources-abc.json")), None);
        assert_eq!(
            block_on(cache.get("https://api.example/metadata?x=1")),
            None
        );
        assert_eq!(cache.clear().unwrap(), 0);
    }

    #[test]
    fn age_from_mtime() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FileCache::new(dir.path());
        block_on(cache.put("descriptors", b"x"));
        let month = Duration::from_secs(31 * 24 * 3600);
        let file = fs::File::options()
            .write(true)
            .open(cache.path_of("descriptors"))
            .unwrap();
        file.set_modified(SystemTime::now() - month).unwrap();
        drop(file);
        let (_, age) = block_on(cache.get("descriptors")).unwrap();
        assert!(
            (month.as_secs()..month.as_secs() + 5).contains(&age),
            "{age}"
        );
        // a modification time in the future is age 0
        let file = fs::File::options()
            .write(true)
            .open(cache.path_of("descriptors"))
            .unwrap();
        file.set_modified(SystemTime::now() + month).unwrap();
        drop(file);
        assert_eq!(block_on(cache.get("descriptors")).unwrap().1, 0);
    }

    #[test]
    fn file_names() {
        assert_eq!(
            file_name_for("descriptor-values-0a1b.csv"),
            "descriptor-values-0a1b.csv"
        );
        let odd = file_name_for("../../etc/passwd");
        assert!(!odd.contains('/') && !odd.starts_with('.'), "{odd}");
        assert!(odd.ends_with(&hex::encode(Md5::digest(b"../../etc/passwd"))));
        assert_ne!(file_name_for("a/b"), file_name_for("a_b"));
        assert_ne!(file_name_for("a/b"), file_name_for("a?b"));
        assert!(file_name_for(&"x".repeat(1000)).len() < 120);
        assert!(file_name_for("").contains('~'));
        assert!(file_name_for(".hidden").starts_with('_'));
    }

    #[test]
    fn unwritable_cache_is_not_an_error() {
        let dir = tempfile::tempdir().unwrap();
        // `cache` is a file, so the folder cannot be created
        fs::write(dir.path().join(CACHE_DIR_NAME), b"").unwrap();
        let cache = FileCache::new(dir.path());
        block_on(cache.put("k", b"v"));
        assert_eq!(block_on(cache.get("k")), None);
        assert!(cache.write("k", b"v").is_err());
        block_on(cache.wipe());
    }
}
