//! Asking the user on the terminal before data is deleted.

use lightbeam_core::ports::{Confirm, ConfirmRequest, LocalFuture};
use std::io::{BufRead, IsTerminal, Write};

/// Prints the prompt on stderr and reads the answer from stdin; nobody to ask when stdin is not
/// a terminal (or cannot be read).
pub struct TerminalConfirm;

impl Confirm for TerminalConfirm {
    fn ask(&self, request: &ConfirmRequest) -> LocalFuture<'_, Option<String>> {
        let stdin = std::io::stdin();
        let answer = stdin.is_terminal().then(|| {
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(request.prompt().as_bytes());
            let _ = err.flush();
            let mut answer = String::new();
            stdin.lock().read_line(&mut answer).ok().map(|_| answer)
        });
        Box::pin(std::future::ready(answer.flatten()))
    }
}
