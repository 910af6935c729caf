//! Native counterpart of the browser's read + hash benchmark (scripts/bench-web.sh): reads a
//! JSONL file in 1 MiB chunks, splits lines and hashes each payload, as `send` does before it
//! decides what to skip. Prints `lines seconds`.
use lightbeam_core::data::lines::LineSplitter;
use lightbeam_core::state::Digest;
use std::io::Read;

fn main() {
    let path = std::env::args()
        .nth(1)
        .expect("usage: bench_read_hash FILE");
    let start = std::time::Instant::now();
    let mut f = std::fs::File::open(&path).expect("open");
    let mut buf = vec![0u8; 1 << 20];
    let mut splitter = LineSplitter::new();
    let (mut lines, mut check) = (0u64, 0u64);
    loop {
        let n = f.read(&mut buf).expect("read");
        let batch = if n == 0 {
            splitter.finish()
        } else {
            splitter.push(&buf[..n])
        };
        for l in batch {
            if let Ok(t) = l.text {
                check += u64::from(Digest::of_line(&t).0[0]);
                lines += 1;
            }
        }
        if n == 0 {
            break;
        }
    }
    println!("{lines} {:.4} {check}", start.elapsed().as_secs_f64());
}
