//! What the state remembers of each payload (its digest, its last outcome) and the rules that
//! decide whether it is sent again. The stores themselves are ports ([`crate::ports::StateStore`]).

pub mod digest;
pub mod resend;

pub use digest::{md5_hex, Digest, DigestMap};
pub use resend::{
    decide, decide_delete, parse_status_codes, CriteriaError, Decision, ResendCriteria,
    ResendFlags, SendReason,
};

/// Whether an HTTP status is a success (2xx).
pub fn is_success(status: u16) -> bool {
    (200..300).contains(&status)
}

/// The last outcome of one payload, as the state remembers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PayloadState {
    /// Unix seconds of the attempt.
    pub timestamp: i64,
    /// HTTP status of the attempt.
    pub status: u16,
}
