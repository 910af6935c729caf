//! The lines of JSONL data files: 1-based numbers, split on `\n`, `\r\n` or `\r` (as Python's
//! text mode does), a UTF-8 BOM ignored, blank lines skipped (but counted), invalid UTF-8 an error
//! for that line only; from a whole file's bytes ([`jsonl_lines`]), from chunks
//! ([`LineSplitter`]), and the lines of several files as one stream read chunk by chunk, never a
//! whole file in memory ([`file_lines`]).

use crate::ports::{ChunkReader, DataFile, DataSource, SourceError};
use crate::pycompat::strip as python_strip;
use futures::stream::{self, LocalBoxStream, StreamExt};
use std::collections::VecDeque;
use std::rc::Rc;

/// A line that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("the line is not valid UTF-8 (invalid byte at position {position} of the line)")]
    InvalidUtf8 {
        /// 1-based byte position of the first invalid byte within the line.
        position: usize,
    },
}

/// One non-blank line of a JSONL file, stripped of surrounding whitespace (as the Python tool
/// strips it before hashing and sending).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line<'a> {
    /// 1-based line number in the file (blank lines count).
    pub number: u64,
    pub text: Result<&'a str, LineError>,
}

/// A [`Line`] that owns its text (from [`LineSplitter`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedLine {
    pub number: u64,
    pub text: Result<String, LineError>,
}

fn decode_line(raw: &[u8], number: u64) -> Option<Result<&str, LineError>> {
    let raw = if number == 1 {
        raw.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(raw)
    } else {
        raw
    };
    match std::str::from_utf8(raw) {
        Ok(s) => {
            let t = python_strip(s);
            (!t.is_empty()).then_some(Ok(t))
        }
        Err(e) => {
            // a line that is only whitespace around bad bytes is still an error
            Some(Err(LineError::InvalidUtf8 {
                position: e.valid_up_to() + 1,
            }))
        }
    }
}

/// The lines of a whole file: an iterator of non-blank [`Line`]s.
pub fn jsonl_lines(bytes: &[u8]) -> JsonlLines<'_> {
    JsonlLines {
        bytes,
        pos: 0,
        number: 0,
    }
}

/// Iterator returned by [`jsonl_lines`].
#[derive(Debug, Clone)]
pub struct JsonlLines<'a> {
    bytes: &'a [u8],
    pos: usize,
    number: u64,
}

impl JsonlLines<'_> {
    /// Lines seen so far, blank ones included.
    pub fn lines_seen(&self) -> u64 {
        self.number
    }
}

impl<'a> Iterator for JsonlLines<'a> {
    type Item = Line<'a>;

    fn next(&mut self) -> Option<Line<'a>> {
        while self.pos < self.bytes.len() {
            let rest = &self.bytes[self.pos..];
            let (raw, advance) = match rest.iter().position(|b| *b == b'\n' || *b == b'\r') {
                Some(i) => {
                    let crlf = rest[i] == b'\r' && rest.get(i + 1) == Some(&b'\n');
                    (&rest[..i], i + if crlf { 2 } else { 1 })
                }
                None => (rest, rest.len()),
            };
            self.pos += advance;
            self.number += 1;
            if let Some(text) = decode_line(raw, self.number) {
                return Some(Line {
                    number: self.number,
                    text,
                });
            }
        }
        None
    }
}

/// The same splitting for a file that arrives in chunks (a stream, a browser `File`).
#[derive(Debug, Clone, Default)]
pub struct LineSplitter {
    buf: Vec<u8>,
    number: u64,
    /// The previous chunk ended with `\r`: a `\n` starting the next one belongs to it.
    after_cr: bool,
}

impl LineSplitter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Lines seen so far, blank ones included.
    pub fn lines_seen(&self) -> u64 {
        self.number
    }

    /// Splits a chunk at line ends, calling `line(number, raw bytes)` for every completed line
    /// (blank ones included) and keeping an unfinished last line for the next chunk.
    fn split(&mut self, chunk: &[u8], mut line: impl FnMut(u64, &[u8])) {
        let mut chunk = chunk;
        if self.after_cr && !chunk.is_empty() {
            if chunk[0] == b'\n' {
                chunk = &chunk[1..];
            }
            self.after_cr = false;
        }
        let mut start = 0;
        while let Some(found) = memchr::memchr2(b'\n', b'\r', &chunk[start..]) {
            let i = start + found;
            self.number += 1;
            if self.buf.is_empty() {
                // the whole line is in this chunk: no copy
                line(self.number, &chunk[start..i]);
            } else {
                self.buf.extend_from_slice(&chunk[start..i]);
                line(self.number, &self.buf);
                self.buf.clear();
            }
            let mut next = i + 1;
            if chunk[i] == b'\r' {
                match chunk.get(i + 1) {
                    Some(b'\n') => next += 1,
                    None => self.after_cr = true,
                    Some(_) => {}
                }
            }
            start = next;
        }
        self.buf.extend_from_slice(&chunk[start..]);
    }

    /// The file's last line if it had no line break.
    fn split_end(&mut self, mut line: impl FnMut(u64, &[u8])) {
        if !self.buf.is_empty() {
            self.number += 1;
            line(self.number, &self.buf);
            self.buf.clear();
        }
        self.after_cr = false;
    }

    fn decoded(out: &mut Vec<OwnedLine>) -> impl FnMut(u64, &[u8]) + '_ {
        |number, raw| {
            if let Some(text) = decode_line(raw, number) {
                out.push(OwnedLine {
                    number,
                    text: text.map(str::to_string),
                });
            }
        }
    }

    /// Feeds a chunk; returns the lines it completed.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<OwnedLine> {
        let mut out = Vec::new();
        self.split(chunk, Self::decoded(&mut out));
        out
    }

    /// Feeds a chunk; returns how many payload lines (the ones [`push`](Self::push) would
    /// return) it completed, without copying them.
    pub fn count(&mut self, chunk: &[u8]) -> u64 {
        let mut n = 0;
        self.split(chunk, |number, raw| {
            n += u64::from(decode_line(raw, number).is_some())
        });
        n
    }

    /// Ends the file; returns how many payload lines it completed (see [`count`](Self::count)).
    pub fn finish_count(&mut self) -> u64 {
        let mut n = 0;
        self.split_end(|number, raw| n += u64::from(decode_line(raw, number).is_some()));
        n
    }

    /// Ends the file; returns its last line if it had no line break.
    pub fn finish(&mut self) -> Vec<OwnedLine> {
        let mut out = Vec::new();
        self.split_end(Self::decoded(&mut out));
        out
    }
}

/// A line of a data file.
#[derive(Debug, Clone)]
pub struct FileLine {
    /// Index of the file's endpoint (as given to [`file_lines`]).
    pub ep: usize,
    /// The file's name (as in results and messages).
    pub file: Rc<str>,
    pub line: OwnedLine,
}

/// A file that could not be opened or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read {file}: {error}")]
pub struct ReadError {
    pub file: String,
    #[source]
    pub error: SourceError,
}

type Current<'x> = (usize, Rc<str>, Box<dyn ChunkReader + 'x>, LineSplitter);

struct Reader<'x> {
    source: &'x dyn DataSource,
    files: VecDeque<(usize, DataFile)>,
    current: Option<Current<'x>>,
    pending: VecDeque<FileLine>,
}

impl<'x> Reader<'x> {
    async fn next(&mut self) -> Option<Result<FileLine, ReadError>> {
        loop {
            if let Some(line) = self.pending.pop_front() {
                return Some(Ok(line));
            }
            if self.current.is_none() {
                let (ep, file) = self.files.pop_front()?;
                match self.source.read(&file).await {
                    Ok(reader) => {
                        self.current = Some((
                            ep,
                            Rc::from(file.name.as_str()),
                            reader,
                            LineSplitter::new(),
                        ))
                    }
                    Err(error) => {
                        return Some(Err(ReadError {
                            file: file.name,
                            error,
                        }))
                    }
                }
            }
            let (ep, name, reader, splitter) = self.current.as_mut().expect("opened above");
            let (lines, done) = match reader.next_chunk().await {
                Ok(Some(chunk)) => (splitter.push(&chunk), false),
                Ok(None) => (splitter.finish(), true),
                Err(error) => {
                    let file = name.to_string();
                    self.current = None;
                    return Some(Err(ReadError { file, error }));
                }
            };
            for line in lines {
                self.pending.push_back(FileLine {
                    ep: *ep,
                    file: name.clone(),
                    line,
                });
            }
            if done {
                self.current = None;
            }
        }
    }
}

/// The non-blank lines of `files` (endpoint index, file), file after file.
pub fn file_lines<'x>(
    source: &'x dyn DataSource,
    files: Vec<(usize, DataFile)>,
) -> LocalBoxStream<'x, Result<FileLine, ReadError>> {
    let reader = Reader {
        source,
        files: files.into(),
        current: None,
        pending: VecDeque::new(),
    };
    stream::unfold(reader, |mut r| async move {
        r.next().await.map(|item| (item, r))
    })
    .boxed_local()
}

/// The payload (non-blank) lines of `files`, for progress totals, counted without copying them.
pub async fn count_lines(source: &dyn DataSource, files: &[DataFile]) -> Result<u64, ReadError> {
    let mut n = 0;
    for f in files {
        let read_error = |error| ReadError {
            file: f.name.clone(),
            error,
        };
        let mut reader = source.read(f).await.map_err(read_error)?;
        let mut splitter = LineSplitter::new();
        while let Some(chunk) = reader.next_chunk().await.map_err(read_error)? {
            n += splitter.count(&chunk);
        }
        n += splitter.finish_count();
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{block_on, MemFiles};
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn lines_of_several_files_in_order() {
        // two-byte chunks: lines cross chunk boundaries
        let src = MemFiles::new()
            .with("a", "{\"x\":1}\n\n{\"x\":2}")
            .with("b", "{}\r\n")
            .chunked(2);
        let f = |n: &str| DataFile {
            endpoint: "e".into(),
            path: n.into(),
            name: n.into(),
        };
        assert_eq!(block_on(count_lines(&src, &[f("a"), f("b")])), Ok(3));
        let lines: Vec<_> = block_on(
            file_lines(&src, vec![(0, f("a")), (1, f("b")), (1, f("missing"))]).collect::<Vec<_>>(),
        );
        let ok: Vec<(usize, String, u64, String)> = lines
            .iter()
            .filter_map(|l| l.as_ref().ok())
            .map(|l| {
                (
                    l.ep,
                    l.file.to_string(),
                    l.line.number,
                    l.line.text.clone().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            ok,
            vec![
                (0, "a".into(), 1, "{\"x\":1}".into()),
                (0, "a".into(), 3, "{\"x\":2}".into()),
                (1, "b".into(), 1, "{}".into()),
            ]
        );
        assert_eq!(
            lines.last().unwrap().as_ref().unwrap_err().file,
            "missing".to_string()
        );
    }

    fn collect(bytes: &[u8]) -> Vec<(u64, Result<String, LineError>)> {
        jsonl_lines(bytes)
            .map(|l| (l.number, l.text.map(str::to_string)))
            .collect()
    }

    #[test]
    fn lines_with_bom_crlf_blank_and_cr() {
        let bytes = b"\xEF\xBB\xBF{\"a\":1}\r\n\r\n  \n{\"b\":2}  \r{\"c\":3}\n\n{\"d\":4}";
        let got = collect(bytes);
        assert_eq!(
            got,
            vec![
                (1, Ok("{\"a\":1}".to_string())),
                (4, Ok("{\"b\":2}".to_string())),
                (5, Ok("{\"c\":3}".to_string())),
                (7, Ok("{\"d\":4}".to_string())),
            ]
        );
        let mut it = jsonl_lines(b"a\n\n");
        assert_eq!(it.next().unwrap().number, 1);
        assert!(it.next().is_none());
        assert_eq!(it.lines_seen(), 2);
        assert!(collect(b"").is_empty());
        assert!(collect(b"\xEF\xBB\xBF").is_empty());
    }

    #[test]
    fn invalid_utf8_is_an_error_for_that_line_only() {
        let got = collect(b"{\"a\":1}\n{\"b\":\"\xff\"}\n{\"c\":3}\n");
        assert_eq!(got.len(), 3);
        assert_eq!(got[0].1, Ok("{\"a\":1}".to_string()));
        assert_eq!(got[1], (2, Err(LineError::InvalidUtf8 { position: 7 })));
        assert_eq!(got[2].1, Ok("{\"c\":3}".to_string()));
        // a BOM is only a BOM on line 1
        let got = collect(b"a\n\xEF\xBB\xBFb\n");
        assert_eq!(got[1].1, Ok("\u{feff}b".to_string()));
    }

    #[test]
    fn chunked_matches_whole() {
        let bytes: &[u8] =
            b"\xEF\xBB\xBF{\"a\":1}\r\n\r\n  \n{\"b\":2}  \r{\"c\":3}\r\r\n{\"e\":\"\xc3\xa9\"}\n\xff\n{\"d\":4}";
        let whole = collect(bytes);
        for size in 1..=bytes.len() {
            let mut s = LineSplitter::new();
            let mut got = Vec::new();
            for chunk in bytes.chunks(size) {
                got.extend(s.push(chunk));
            }
            got.extend(s.finish());
            let got: Vec<(u64, Result<String, LineError>)> =
                got.into_iter().map(|l| (l.number, l.text)).collect();
            assert_eq!(got, whole, "chunk size {size}");
        }
        assert_eq!(whole.len(), 6);
        assert_eq!(whole[3], (7, Ok("{\"e\":\"é\"}".to_string())));
        assert_eq!(whole[4], (8, Err(LineError::InvalidUtf8 { position: 1 })));
    }
}
