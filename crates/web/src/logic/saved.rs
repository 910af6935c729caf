//! What the browser keeps for an API (the state of sent payloads and the cached documents), as
//! the "Saved in this browser" panel shows it.

use super::format::{hours, human_bytes, thousands};

/// One cached document.
#[derive(Debug, Clone, PartialEq)]
pub struct CachedDocument {
    pub key: String,
    pub age_seconds: u64,
    pub bytes: usize,
}

impl CachedDocument {
    /// `1.5 h`.
    pub fn age_text(&self) -> String {
        hours(self.age_seconds)
    }

    /// `12.3 kB`.
    pub fn size_text(&self) -> String {
        human_bytes(self.bytes as f64)
    }
}

/// What is saved for one API.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SavedSummary {
    /// Payloads remembered, per endpoint.
    pub state: Vec<(String, usize)>,
    pub cache: Vec<CachedDocument>,
}

impl SavedSummary {
    /// The state table's rows: endpoint and payloads.
    pub fn state_rows(&self) -> Vec<(String, String)> {
        self.state
            .iter()
            .map(|(e, n)| (e.clone(), thousands(*n as u64)))
            .collect()
    }
}

/// What the page says once saved `state` and/or `cache` were cleared.
pub fn cleared_notice(state: bool, cache: bool) -> &'static str {
    match (state, cache) {
        (true, true) => "saved state and cache cleared",
        (true, false) => "saved state cleared: the next send sends everything",
        _ => "cache cleared",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_and_notices() {
        let s = SavedSummary {
            state: vec![("students".into(), 1200)],
            cache: vec![CachedDocument {
                key: "resources".into(),
                age_seconds: 1800,
                bytes: 2500,
            }],
        };
        assert_eq!(
            s.state_rows(),
            vec![("students".to_string(), "1,200".to_string())]
        );
        assert_eq!(s.cache[0].age_text(), "0.5 h");
        assert_eq!(s.cache[0].size_text(), "2.5 kB");
        assert_eq!(
            cleared_notice(true, false),
            "saved state cleared: the next send sends everything"
        );
        assert_eq!(cleared_notice(false, true), "cache cleared");
        assert_eq!(cleared_notice(true, true), "saved state and cache cleared");
    }
}
