//! The waiting behind `--latency-ms` and `--latency-jitter-ms`: [`PreciseDelay`], a delay with
//! sub-millisecond precision.

use std::collections::HashMap;
use std::time::Instant;

/// Delays with sub-millisecond precision (tokio's timer rounds up to whole milliseconds, which
/// would add about a millisecond to every `--latency-ms`): one thread sleeps until the earliest
/// deadline and wakes the waiting requests.
pub struct PreciseDelay {
    tx: std::sync::mpsc::Sender<(Instant, tokio::sync::oneshot::Sender<()>)>,
}

impl PreciseDelay {
    pub fn new() -> PreciseDelay {
        let (tx, rx) = std::sync::mpsc::channel::<(Instant, tokio::sync::oneshot::Sender<()>)>();
        std::thread::spawn(move || {
            let mut heap: std::collections::BinaryHeap<std::cmp::Reverse<(Instant, u64)>> =
                Default::default();
            let mut waiting: HashMap<u64, tokio::sync::oneshot::Sender<()>> = HashMap::new();
            let mut seq = 0u64;
            loop {
                let now = Instant::now();
                while let Some(std::cmp::Reverse((at, id))) = heap.peek().copied() {
                    if at > now {
                        break;
                    }
                    heap.pop();
                    if let Some(w) = waiting.remove(&id) {
                        let _ = w.send(());
                    }
                }
                let next = match heap.peek() {
                    Some(std::cmp::Reverse((at, _))) => {
                        rx.recv_timeout(at.saturating_duration_since(Instant::now()))
                    }
                    None => rx
                        .recv()
                        .map_err(|_| std::sync::mpsc::RecvTimeoutError::Disconnected),
                };
                match next {
                    Ok((at, w)) => {
                        seq += 1;
                        heap.push(std::cmp::Reverse((at, seq)));
                        waiting.insert(seq, w);
                    }
                    Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {}
                    Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
                }
            }
        });
        PreciseDelay { tx }
    }

    /// Wait until `deadline`.
    pub async fn until(&self, deadline: Instant) {
        let (tx, rx) = tokio::sync::oneshot::channel();
        if self.tx.send((deadline, tx)).is_ok() {
            let _ = rx.await;
        } else {
            tokio::time::sleep_until(deadline.into()).await;
        }
    }
}

impl Default for PreciseDelay {
    fn default() -> Self {
        Self::new()
    }
}
