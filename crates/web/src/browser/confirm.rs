//! The `Confirm` port: the page's confirmation dialog. The engine asks (with the endpoints about
//! to lose data); the page shows the dialog and answers with what the user typed.

use futures::channel::oneshot;
use lightbeam_core::ports::{Confirm, ConfirmRequest, LocalFuture};

/// Where the user's answer goes: typed text, or nothing (`Cancel`, or the dialog went away).
pub type Reply = oneshot::Sender<String>;

/// Shows the dialog through `show` and waits for its reply.
pub struct DialogConfirm<F: Fn(&ConfirmRequest, Reply)> {
    show: F,
}

impl<F: Fn(&ConfirmRequest, Reply)> DialogConfirm<F> {
    pub fn new(show: F) -> Self {
        DialogConfirm { show }
    }
}

impl<F: Fn(&ConfirmRequest, Reply)> Confirm for DialogConfirm<F> {
    fn ask(&self, request: &ConfirmRequest) -> LocalFuture<'_, Option<String>> {
        let (reply, answer) = oneshot::channel();
        (self.show)(request, reply);
        // a dialog closed without an answer is not a "yes"
        Box::pin(async move { Some(answer.await.unwrap_or_default()) })
    }
}
