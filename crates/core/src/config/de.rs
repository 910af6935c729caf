//! A serde `Deserializer` over the located YAML tree: the config structs derive
//! `Deserialize`, and every error comes out with the key path and the line of the value.

use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};

use super::yaml::{Cast, Node, NodeKind, Origin, Scalar};

/// A deserialization error, located (key path and origin) as soon as it is known.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DeError {
    pub location: Option<(String, Origin)>,
    pub message: String,
}

impl DeError {
    fn at(path: &str, origin: Origin, message: String) -> Self {
        DeError {
            location: Some((path.to_string(), origin)),
            message,
        }
    }

    /// Gives the error a location if it has none yet (the innermost one wins).
    fn locate(mut self, path: &str, origin: Origin) -> Self {
        if self.location.is_none() {
            self.location = Some((path.to_string(), origin));
        }
        self
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            location: None,
            message: msg.to_string(),
        }
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        let mut message = "unknown key".to_string();
        if let Some(best) = closest(field, expected) {
            message.push_str(&format!(" (did you mean {best:?}?)"));
        }
        if !expected.is_empty() {
            message.push_str(&format!("; expected one of: {}", expected.join(", ")));
        }
        DeError {
            location: None,
            message,
        }
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        DeError {
            location: None,
            message: format!("expected one of {}, got {variant:?}", expected.join(", ")),
        }
    }

    fn missing_field(field: &'static str) -> Self {
        DeError {
            location: None,
            message: format!("missing required key {field:?}"),
        }
    }
}

/// The known name closest to `name` (small edit distance), for "did you mean" hints.
pub(crate) fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    let lower = name.to_lowercase();
    known
        .iter()
        .map(|k| (edit_distance(&lower, &k.to_lowercase()), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4))
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

pub(crate) fn child_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}

/// Booleans as PyYAML (YAML 1.1) reads them, case-insensitively, plus `--set` casts.
pub(crate) fn scalar_bool(s: &Scalar) -> Option<bool> {
    if let Some(Cast::Bool(b)) = s.cast {
        return Some(b);
    }
    match s.text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" => Some(true),
        "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// Integers: decimal (with `_` separators as Python allows), `0x` hex, `0o` octal.
pub(crate) fn scalar_int(s: &Scalar) -> Option<i64> {
    if let Some(Cast::Int(i)) = s.cast {
        return Some(i);
    }
    parse_int(&s.text)
}

pub(crate) fn parse_int(text: &str) -> Option<i64> {
    let t = text.trim();
    let (neg, body) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (radix, digits) = if let Some(h) = body.strip_prefix("0x").or(body.strip_prefix("0X")) {
        (16, h)
    } else if let Some(o) = body.strip_prefix("0o").or(body.strip_prefix("0O")) {
        (8, o)
    } else {
        (10, body)
    };
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c == '_' || c.is_digit(radix))
    {
        return None;
    }
    let cleaned: String = digits.chars().filter(|c| *c != '_').collect();
    let magnitude = i128::from_str_radix(&cleaned, radix).ok()?;
    let value = if neg { -magnitude } else { magnitude };
    i64::try_from(value).ok()
}

/// Numbers: integers or decimals (`1.5`, `1e3`, YAML `.inf`).
pub(crate) fn scalar_float(s: &Scalar) -> Option<f64> {
    match s.cast {
        Some(Cast::Float(f)) => return Some(f),
        Some(Cast::Int(i)) => return Some(i as f64),
        _ => {}
    }
    if let Some(i) = parse_int(&s.text) {
        return Some(i as f64);
    }
    parse_float(&s.text)
}

pub(crate) fn parse_float(text: &str) -> Option<f64> {
    let t = text.trim();
    match t.to_ascii_lowercase().as_str() {
        ".inf" | "+.inf" => return Some(f64::INFINITY),
        "-.inf" => return Some(f64::NEG_INFINITY),
        ".nan" => return Some(f64::NAN),
        _ => {}
    }
    if t.is_empty()
        || !t
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E' | '_'))
        || !t.chars().any(|c| c.is_ascii_digit())
        || t.starts_with('_')
        || t.ends_with('_')
        || t.contains("__")
    {
        return None;
    }
    let cleaned: String = t.chars().filter(|c| *c != '_').collect();
    cleaned.parse::<f64>().ok()
}

/// Deserializes one node; `path` is its dotted key path (`connection.pool_size`).
pub(crate) struct NodeDe<'a> {
    pub node: &'a Node,
    pub path: String,
}

impl<'a> NodeDe<'a> {
    pub fn new(node: &'a Node, path: String) -> Self {
        NodeDe { node, path }
    }

    fn err(&self, message: String) -> DeError {
        DeError::at(&self.path, self.node.origin, message)
    }

    fn expected(&self, what: &str) -> DeError {
        self.err(format!("expected {what}, got {}", self.node.describe()))
    }

    fn scalar(&self) -> Option<&'a Scalar> {
        match &self.node.kind {
            NodeKind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    fn int_in(&self, min: i128, max: i128) -> Result<i64, DeError> {
        let what = if min >= 0 {
            "a whole number (0 or more)"
        } else {
            "a whole number"
        };
        let value = self
            .scalar()
            .and_then(scalar_int)
            .ok_or_else(|| self.expected(what))?;
        let v = i128::from(value);
        if v < min {
            return Err(self.err(format!(
                "expected a whole number of at least {min}, got {value}"
            )));
        }
        if v > max {
            return Err(self.err(format!(
                "expected a whole number of at most {max}, got {value}"
            )));
        }
        Ok(value)
    }

    fn relocate<T>(&self, r: Result<T, DeError>) -> Result<T, DeError> {
        r.map_err(|e| e.locate(&self.path, self.node.origin))
    }
}

macro_rules! int_method {
    ($method:ident, $ty:ty, $visit:ident, $as:ty) => {
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let v = self.int_in(i128::from(<$ty>::MIN), i128::from(<$ty>::MAX))?;
            let r = visitor.$visit(v as $as);
            self.relocate(r)
        }
    };
}

impl<'de> de::Deserializer<'de> for NodeDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match &self.node.kind {
            NodeKind::Null => visitor.visit_unit(),
            NodeKind::Seq(items) => visitor.visit_seq(SeqDe::new(items, &self.path)),
            NodeKind::Map(entries) => visitor.visit_map(MapDe::new(entries, &self.path)),
            NodeKind::Scalar(s) => match s.cast {
                Some(Cast::Bool(b)) => visitor.visit_bool(b),
                Some(Cast::Int(i)) => visitor.visit_i64(i),
                Some(Cast::Float(f)) => visitor.visit_f64(f),
                Some(Cast::Str) => visitor.visit_str(&s.text),
                None if s.quoted => visitor.visit_str(&s.text),
                None => match s.text.as_str() {
                    "true" | "True" | "TRUE" => visitor.visit_bool(true),
                    "false" | "False" | "FALSE" => visitor.visit_bool(false),
                    t => {
                        if let Some(i) = parse_int(t) {
                            visitor.visit_i64(i)
                        } else if let Some(f) = parse_float(t) {
                            visitor.visit_f64(f)
                        } else {
                            visitor.visit_str(t)
                        }
                    }
                },
            },
        };
        self.relocate(r)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let b = self
            .scalar()
            .and_then(scalar_bool)
            .ok_or_else(|| self.expected("true or false"))?;
        let r = visitor.visit_bool(b);
        self.relocate(r)
    }

    int_method!(deserialize_i8, i8, visit_i64, i64);
    int_method!(deserialize_i16, i16, visit_i64, i64);
    int_method!(deserialize_i32, i32, visit_i64, i64);
    int_method!(deserialize_i64, i64, visit_i64, i64);
    int_method!(deserialize_u8, u8, visit_u64, u64);
    int_method!(deserialize_u16, u16, visit_u64, u64);
    int_method!(deserialize_u32, u32, visit_u64, u64);

    fn deserialize_u64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let v = self.int_in(0, i128::from(i64::MAX))?;
        let r = visitor.visit_u64(v as u64);
        self.relocate(r)
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let f = self
            .scalar()
            .and_then(scalar_float)
            .ok_or_else(|| self.expected("a number"))?;
        let r = visitor.visit_f64(f);
        self.relocate(r)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let s = self.scalar().ok_or_else(|| self.expected("a string"))?;
        let r = visitor.visit_str(&s.text);
        self.relocate(r)
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match self.node.kind {
            NodeKind::Null => visitor.visit_none(),
            _ => visitor.visit_some(NodeDe::new(self.node, self.path.clone())),
        };
        self.relocate(r)
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match self.node.kind {
            NodeKind::Null => {
                let r = visitor.visit_unit();
                self.relocate(r)
            }
            _ => Err(self.expected("an empty value")),
        }
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let r = visitor.visit_newtype_struct(NodeDe::new(self.node, self.path.clone()));
        self.relocate(r)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match &self.node.kind {
            NodeKind::Seq(items) => visitor.visit_seq(SeqDe::new(items, &self.path)),
            NodeKind::Null => visitor.visit_seq(SeqDe::new(&[], &self.path)),
            _ => return Err(self.expected("a list")),
        };
        self.relocate(r)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let r = match &self.node.kind {
            NodeKind::Map(entries) => visitor.visit_map(MapDe::new(entries, &self.path)),
            NodeKind::Null => visitor.visit_map(MapDe::new(&[], &self.path)),
            _ => return Err(self.expected("a mapping (key: value pairs)")),
        };
        self.relocate(r)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_map(visitor)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let Some(s) = self.scalar() else {
            return Err(self.expected(&format!("one of {}", variants.join(", "))));
        };
        let de: de::value::StrDeserializer<'_, DeError> = s.text.as_str().into_deserializer();
        let r = visitor.visit_enum(de);
        self.relocate(r)
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

struct SeqDe<'a> {
    items: &'a [Node],
    index: usize,
    path: &'a str,
}

impl<'a> SeqDe<'a> {
    fn new(items: &'a [Node], path: &'a str) -> Self {
        SeqDe {
            items,
            index: 0,
            path,
        }
    }
}

impl<'de> SeqAccess<'de> for SeqDe<'_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(node) = self.items.get(self.index) else {
            return Ok(None);
        };
        let path = format!("{}[{}]", self.path, self.index);
        self.index += 1;
        seed.deserialize(NodeDe::new(node, path.clone()))
            .map(Some)
            .map_err(|e| e.locate(&path, node.origin))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len() - self.index)
    }
}

struct MapDe<'a> {
    entries: &'a [(super::yaml::KeyNode, Node)],
    index: usize,
    path: &'a str,
}

impl<'a> MapDe<'a> {
    fn new(entries: &'a [(super::yaml::KeyNode, Node)], path: &'a str) -> Self {
        MapDe {
            entries,
            index: 0,
            path,
        }
    }
}

impl<'de> MapAccess<'de> for MapDe<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        let Some((key, _)) = self.entries.get(self.index) else {
            return Ok(None);
        };
        let path = child_path(self.path, &key.name);
        let de: de::value::StrDeserializer<'_, DeError> = key.name.as_str().into_deserializer();
        seed.deserialize(de)
            .map(Some)
            .map_err(|e| e.locate(&path, key.origin))
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((key, node)) = self.entries.get(self.index) else {
            return Err(de::Error::custom("value requested after the last key"));
        };
        self.index += 1;
        let path = child_path(self.path, &key.name);
        seed.deserialize(NodeDe::new(node, path.clone()))
            .map_err(|e| e.locate(&path, node.origin))
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len() - self.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn ints_like_python() {
        assert_eq!(parse_int("42"), Some(42));
        assert_eq!(parse_int(" -7 "), Some(-7));
        assert_eq!(parse_int("+3"), Some(3));
        assert_eq!(parse_int("1_000"), Some(1000));
        assert_eq!(parse_int("0x1F"), Some(31));
        assert_eq!(parse_int("1__0"), None);
        assert_eq!(parse_int("_1"), None);
        assert_eq!(parse_int("eight"), None);
        assert_eq!(parse_int("1.5"), None);
        assert_eq!(parse_int(""), None);
        assert_eq!(parse_int("99999999999999999999999"), None);
    }

    #[test]
    fn floats() {
        assert_eq!(parse_float("1.5"), Some(1.5));
        assert_eq!(parse_float("1e3"), Some(1000.0));
        assert_eq!(parse_float(".5"), Some(0.5));
        assert_eq!(parse_float("-.inf"), Some(f64::NEG_INFINITY));
        assert_eq!(parse_float("inf"), None);
        assert_eq!(parse_float("nan"), None);
        assert_eq!(parse_float("."), None);
        assert_eq!(parse_float("1.2.3"), None);
    }

    #[test]
    fn closest_names() {
        let known = ["pool_size", "timeout", "num_retries"];
        assert_eq!(closest("pool_sise", &known), Some("pool_size"));
        assert_eq!(closest("Timeout", &known), Some("timeout"));
        assert_eq!(closest("colour", &known), None);
    }
}
