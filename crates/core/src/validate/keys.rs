//! 128-bit keys (xxh3) of identities and references, and the hash sets/maps that hold them without
//! hashing them again.
//!
//! A reference finds its target by the *set* of its values, sorted and deduplicated (as the
//! sandbox's store does): `{"schoolId": 255901, "schoolYear": 2024, "sessionName": "Fall"}`
//! matches the session whose identity values are `255901` (its `schoolReference`), `2024` (its
//! `schoolYearTypeReference`) and `Fall`. No mapping is needed between the names inside a
//! reference and the target's own property names (`educationOrganizationId` → `schoolId`,
//! role-named references, values repeated through two references).

use crate::uniform::{UniformMap, UniformSet};
use serde_json::{Map, Value};
use std::borrow::Cow;
use xxhash_rust::xxh3::xxh3_128;

/// Keys are uniform already (xxh3): kept in the [`crate::uniform`] maps without hashing again.
pub type KeySet = UniformSet<u128>;
pub type KeyMap<V> = UniformMap<u128, V>;

/// The text of a scalar value in a reference key: strings as they are, numbers as written,
/// `true`/`false`/`null`; objects and arrays as JSON.
fn canonical(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s.as_str()),
        Value::Number(n) => Cow::Owned(n.to_string()),
        Value::Bool(true) => Cow::Borrowed("true"),
        Value::Bool(false) => Cow::Borrowed("false"),
        Value::Null => Cow::Borrowed("null"),
        other => Cow::Owned(other.to_string()),
    }
}

fn set_key(mut parts: Vec<Cow<'_, str>>) -> u128 {
    parts.sort_unstable();
    parts.dedup();
    let mut buf: Vec<u8> = Vec::with_capacity(64);
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            buf.push(0x1f);
        }
        buf.extend_from_slice(p.as_bytes());
    }
    xxh3_128(&buf)
}

/// The key of a reference object (its values but `link`).
pub fn reference_key(obj: &Map<String, Value>) -> u128 {
    set_key(
        obj.iter()
            .filter(|(k, _)| k.as_str() != "link")
            .map(|(_, v)| canonical(v))
            .collect(),
    )
}

/// The key under which a record is found by references to it: the set of its identity values.
pub fn record_key(values: &[&Value]) -> u128 {
    set_key(values.iter().map(|v| canonical(v)).collect())
}

/// The key of an identity for uniqueness: the values in order, as JSON (so `1` and `"1"` differ,
/// as they do for the Python tool).
pub fn identity_key(values: &[&Value]) -> u128 {
    let mut buf: Vec<u8> = Vec::with_capacity(64);
    for (i, v) in values.iter().enumerate() {
        if i > 0 {
            buf.push(0x1f);
        }
        // writing JSON into a Vec cannot fail
        let _ = serde_json::to_writer(&mut buf, v);
    }
    xxh3_128(&buf)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn references_match_records_by_their_set_of_values() {
        let session_ref = json!({"schoolId": 255901, "schoolYear": 2024, "sessionName": "Fall", "link": {"rel": "x"}});
        let (a, b, c, d) = (json!("Fall"), json!(255901), json!(2024), json!(255901));
        assert_eq!(
            reference_key(session_ref.as_object().unwrap()),
            record_key(&[&a, &b, &c, &d])
        );
        // a string and a number of the same digits are the same value to the API
        let r = json!({"schoolId": "255901"});
        assert_eq!(reference_key(r.as_object().unwrap()), record_key(&[&b]));
        // case matters
        let r = json!({"sessionName": "fall"});
        assert_ne!(reference_key(r.as_object().unwrap()), record_key(&[&a]));
    }

    #[test]
    fn identities_keep_order_and_types() {
        let (a, b) = (json!(1), json!("1"));
        assert_ne!(identity_key(&[&a]), identity_key(&[&b]));
        let (x, y) = (json!("x"), json!("y"));
        assert_ne!(identity_key(&[&x, &y]), identity_key(&[&y, &x]));
        let mut s = KeySet::default();
        assert!(s.insert(identity_key(&[&x])));
        assert!(!s.insert(identity_key(&[&x])));
    }
}
