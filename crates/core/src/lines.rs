//! The lines of several data files as one stream, read chunk by chunk (never a whole file in
//! memory), each tagged with the index of its endpoint and its file name.

use crate::datafiles::{LineSplitter, OwnedLine};
use crate::ports::{ChunkReader, DataFile, DataSource};
use futures::stream::{self, LocalBoxStream, StreamExt};
use std::collections::VecDeque;
use std::rc::Rc;

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
#[error("cannot read {file}: {reason}")]
pub struct ReadError {
    pub file: String,
    pub reason: String,
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
                    Err(reason) => {
                        return Some(Err(ReadError {
                            file: file.name,
                            reason,
                        }))
                    }
                }
            }
            let (ep, name, reader, splitter) = self.current.as_mut().expect("opened above");
            let (lines, done) = match reader.next_chunk().await {
                Ok(Some(chunk)) => (splitter.push(&chunk), false),
                Ok(None) => (splitter.finish(), true),
                Err(reason) => {
                    let file = name.to_string();
                    self.current = None;
                    return Some(Err(ReadError { file, reason }));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::LocalFuture;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn run<F: std::future::Future>(f: F) -> F::Output {
        let mut f = std::pin::pin!(f);
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        loop {
            if let std::task::Poll::Ready(v) = f.as_mut().poll(&mut cx) {
                return v;
            }
        }
    }

    struct Mem(Vec<(&'static str, &'static [u8])>);
    struct Chunks(Vec<Vec<u8>>);
    impl ChunkReader for Chunks {
        fn next_chunk(&mut self) -> LocalFuture<'_, Result<Option<Vec<u8>>, String>> {
            let c = if self.0.is_empty() {
                None
            } else {
                Some(self.0.remove(0))
            };
            Box::pin(std::future::ready(Ok(c)))
        }
    }
    impl DataSource for Mem {
        fn read(
            &self,
            file: &DataFile,
        ) -> LocalFuture<'_, Result<Box<dyn ChunkReader + '_>, String>> {
            let found = self.0.iter().find(|(n, _)| *n == file.name).map(|(_, b)| {
                // two-byte chunks: lines cross chunk boundaries
                Box::new(Chunks(b.chunks(2).map(<[u8]>::to_vec).collect())) as Box<dyn ChunkReader>
            });
            Box::pin(std::future::ready(
                found.ok_or_else(|| "no such file".to_string()),
            ))
        }
    }

    #[test]
    fn lines_of_several_files_in_order() {
        let src = Mem(vec![("a", b"{\"x\":1}\n\n{\"x\":2}"), ("b", b"{}\r\n")]);
        let f = |n: &str| DataFile {
            endpoint: "e".into(),
            name: n.into(),
        };
        let lines: Vec<_> = run(file_lines(
            &src,
            vec![(0, f("a")), (1, f("b")), (1, f("missing"))],
        )
        .collect::<Vec<_>>());
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
}
