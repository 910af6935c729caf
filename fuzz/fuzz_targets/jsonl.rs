//! The JSONL reader: `jsonl_lines` on a whole file and `LineSplitter` fed the same bytes in
//! arbitrary chunks give the same lines, numbered alike; no line holds a line break or surrounding
//! whitespace; never a panic.
//!
//! Input: the first byte picks chunk sizes, the rest is the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lightbeam_core::data::lines::{jsonl_lines, LineSplitter, OwnedLine};

fuzz_target!(|data: &[u8]| {
    let Some((&seed, file)) = data.split_first() else {
        return;
    };
    let whole: Vec<OwnedLine> = jsonl_lines(file)
        .map(|l| OwnedLine {
            number: l.number,
            text: l.text.map(str::to_string),
        })
        .collect();
    // chunk sizes 1..=16 cycling from the seed (0 means one chunk, plus an empty one)
    let mut splitter = LineSplitter::new();
    let mut chunked = Vec::new();
    if seed == 0 {
        chunked.extend(splitter.push(file));
        chunked.extend(splitter.push(&[]));
    } else {
        let mut rest = file;
        let mut k = seed as usize;
        while !rest.is_empty() {
            let n = (k % 16 + 1).min(rest.len());
            let (chunk, tail) = rest.split_at(n);
            chunked.extend(splitter.push(chunk));
            rest = tail;
            k = k.wrapping_mul(31).wrapping_add(7);
        }
    }
    chunked.extend(splitter.finish());
    assert_eq!(whole, chunked, "whole-file and chunked reading differ");
    let mut last = 0;
    for line in &whole {
        assert!(line.number > last, "line numbers increase");
        last = line.number;
        if let Ok(text) = &line.text {
            assert!(!text.is_empty());
            assert!(!text.contains(['\n', '\r']), "a line break inside a line");
            assert_eq!(text.trim(), text.as_str(), "surrounding whitespace");
        }
    }
    let breaks = file.iter().filter(|b| **b == b'\n' || **b == b'\r').count() as u64;
    assert!(last <= breaks + 1, "more lines than line breaks");
});
