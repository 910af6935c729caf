//! The digest of a payload: MD5 of its line stripped of surrounding whitespace (Python
//! `str.strip()`), as the Python tool keys its hashlog (`hashlog.py`). Stores keep it as 32
//! lowercase hex digits; the engine keeps the 16 bytes.

use crate::pycompat;
use crate::uniform::UniformMap;
use md5::{Digest as _, Md5};
use std::fmt;
use std::hash::{Hash, Hasher};

/// MD5 of a payload line (stripped as Python strips it).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Digest(pub [u8; 16]);

/// Digest → value, without hashing the digests again.
pub type DigestMap<V> = UniformMap<Digest, V>;

impl Digest {
    /// The digest of a payload line.
    pub fn of_line(line: &str) -> Digest {
        Digest(Md5::digest(pycompat::strip(line).as_bytes()).into())
    }

    /// 32 lowercase hex digits (the hashlog's and the stores' form).
    pub fn to_hex(self) -> String {
        hex::encode(self.0)
    }

    /// From 32 hex digits; `None` for anything else.
    pub fn from_hex(text: &str) -> Option<Digest> {
        let mut bytes = [0u8; 16];
        hex::decode_to_slice(text, &mut bytes).ok()?;
        Some(Digest(bytes))
    }
}

impl Hash for Digest {
    fn hash<H: Hasher>(&self, state: &mut H) {
        state.write_u128(u128::from_le_bytes(self.0));
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

/// MD5 hex of any text, unstripped (Python `hashlog.get_hash_string`, used for cache keys).
pub fn md5_hex(text: &str) -> String {
    hex::encode(Md5::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn digest_matches_python() {
        // python: hashlib.md5('{"a": 1}'.encode()).hexdigest()
        let d = Digest::of_line("{\"a\": 1}");
        assert_eq!(d.to_hex(), "42b7b4f2921788ea14dac5566e6f06d0");
        assert_eq!(
            Digest::of_line(" \u{1c}{\"a\": 1}\u{a0}\u{2028}\r\n"),
            d,
            "stripped as Python strips"
        );
        assert_eq!(Digest::from_hex(&d.to_hex()), Some(d));
        assert_eq!(Digest::from_hex("42b7"), None);
        assert_eq!(Digest::from_hex(&"zz".repeat(16)), None);
        assert_eq!(md5_hex(""), "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(
            pycompat::strip("\u{feff}x "),
            "\u{feff}x",
            "a BOM is not whitespace"
        );
    }
}
