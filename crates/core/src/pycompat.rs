//! Everything that imitates Python's output, so that what users see reads exactly as the Python
//! tool's: `str.strip()` (payload digests, lines), `repr()` (what jsonschema puts in its messages:
//! `'abc'`, `{'a': 1}`, `True`, `1.0`), and `json.dumps()` with `ensure_ascii` and Python's
//! floats, compact (uniqueness and reference messages, fetched records:
//! `{"schoolId": 1, "name": "caf\u00e9", "x": 1e+16}`) or indented (the results file).

use serde::Serialize;
use serde_json::{Number, Value};
use std::fmt::Write as _;

/// Whether `c` is whitespace for Python's `str.strip()` (Rust's `char::is_whitespace` plus
/// the separators U+001C..U+001F).
pub fn is_whitespace(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// Python `str.strip()` with no argument.
pub fn strip(s: &str) -> &str {
    s.trim_matches(is_whitespace)
}

/// Python `repr()` of a float: the shortest round-trip digits, positional for decimal exponents
/// in [-4, 16), else scientific with a sign and at least two exponent digits; `1.0`, `1e+16`.
pub fn float_repr(f: f64) -> String {
    if f.is_nan() {
        return "nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { "inf".into() } else { "-inf".into() };
    }
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    // `{:e}` gives the shortest round-trip mantissa: "1.2345e17", "-5e-5"
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mantissa),
    };
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    if (-4..16).contains(&exp) {
        if exp < 0 {
            out.push_str("0.");
            for _ in 0..(-exp - 1) {
                out.push('0');
            }
            out.push_str(&digits);
        } else {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                for _ in digits.len()..int_len {
                    out.push('0');
                }
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        let _ = write!(
            out,
            "e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.unsigned_abs()
        );
    }
    out
}

fn number_repr(n: &Number) -> String {
    if n.is_i64() || n.is_u64() {
        n.to_string()
    } else {
        float_repr(n.as_f64().unwrap_or(f64::NAN))
    }
}

/// Whether Python's `str.isprintable()` is false for `c` (approximated: control characters,
/// separators other than the space, and the common format characters).
fn is_unprintable(c: char) -> bool {
    let u = c as u32;
    u < 0x20
        || (0x7f..=0xa0).contains(&u)
        || u == 0xad
        || matches!(u, 0x1680 | 0x180e | 0x2000..=0x200f | 0x2028..=0x202f | 0x205f..=0x2064 | 0x3000 | 0xfeff)
        || (0xe000..=0xf8ff).contains(&u)
        || (0xfff9..=0xfffb).contains(&u)
}

/// Python `repr()` of a string.
pub fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if is_unprintable(c) => {
                let u = c as u32;
                if u < 0x100 {
                    let _ = write!(out, "\\x{u:02x}");
                } else {
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Python `repr()` of the value `json.loads` makes of a JSON value.
pub fn repr(v: &Value) -> String {
    let mut out = String::new();
    write_repr(v, &mut out);
    out
}

fn write_repr(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("None"),
        Value::Bool(true) => out.push_str("True"),
        Value::Bool(false) => out.push_str("False"),
        Value::Number(n) => out.push_str(&number_repr(n)),
        Value::String(s) => out.push_str(&str_repr(s)),
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_repr(x, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            out.push('{');
            for (i, (k, x)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(&str_repr(k));
                out.push_str(": ");
                write_repr(x, out);
            }
            out.push('}');
        }
    }
}

/// A JSON string fragment as Python's `json.dumps` writes it (`ensure_ascii`): everything beyond
/// ASCII, and DEL, as `\uXXXX` UTF-16 escapes (serde_json escapes quotes, backslashes and
/// control characters as Python does).
fn write_ascii_escaped<W: ?Sized + std::io::Write>(
    w: &mut W,
    fragment: &str,
) -> std::io::Result<()> {
    let mut start = 0;
    for (i, c) in fragment.char_indices() {
        if c.is_ascii() && c != '\u{7f}' {
            continue;
        }
        w.write_all(&fragment.as_bytes()[start..i])?;
        let mut units = [0u16; 2];
        for unit in c.encode_utf16(&mut units) {
            write!(w, "\\u{unit:04x}")?;
        }
        start = i + c.len_utf8();
    }
    w.write_all(&fragment.as_bytes()[start..])
}

/// serde_json's output with Python's `json.dumps` habits: `", "` and `": "` separators (or
/// `indent`), floats as `repr()` writes them, non-ASCII escaped.
struct PyFormatter {
    /// `json.dumps(indent=4)`: serde_json's pretty printer does the layout.
    pretty: Option<serde_json::ser::PrettyFormatter<'static>>,
}

impl serde_json::ser::Formatter for PyFormatter {
    fn write_f64<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        value: f64,
    ) -> std::io::Result<()> {
        if value.is_infinite() {
            return w.write_all(if value > 0.0 {
                b"Infinity"
            } else {
                b"-Infinity"
            });
        }
        w.write_all(float_repr(value).as_bytes())
    }
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        write_ascii_escaped(w, fragment)
    }
    fn begin_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        match &mut self.pretty {
            Some(p) => p.begin_array(w),
            None => w.write_all(b"["),
        }
    }
    fn end_array<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        match &mut self.pretty {
            Some(p) => p.end_array(w),
            None => w.write_all(b"]"),
        }
    }
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        match &mut self.pretty {
            Some(p) => p.begin_array_value(w, first),
            None if first => Ok(()),
            None => w.write_all(b", "),
        }
    }
    fn end_array_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        match &mut self.pretty {
            Some(p) => p.end_array_value(w),
            None => Ok(()),
        }
    }
    fn begin_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        match &mut self.pretty {
            Some(p) => p.begin_object(w),
            None => w.write_all(b"{"),
        }
    }
    fn end_object<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        match &mut self.pretty {
            Some(p) => p.end_object(w),
            None => w.write_all(b"}"),
        }
    }
    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        match &mut self.pretty {
            Some(p) => p.begin_object_key(w, first),
            None if first => Ok(()),
            None => w.write_all(b", "),
        }
    }
    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        match &mut self.pretty {
            Some(p) => p.begin_object_value(w),
            None => w.write_all(b": "),
        }
    }
    fn end_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        match &mut self.pretty {
            Some(p) => p.end_object_value(w),
            None => Ok(()),
        }
    }
}

fn dumps<T: Serialize + ?Sized>(
    value: &T,
    pretty: Option<serde_json::ser::PrettyFormatter<'static>>,
) -> String {
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, PyFormatter { pretty });
    if value.serialize(&mut ser).is_err() {
        return String::new();
    }
    // the formatter writes UTF-8 (ASCII, in fact)
    String::from_utf8(buf).unwrap_or_default()
}

/// Python `json.dumps(value)`: `", "` and `": "` separators, floats as `repr()`, non-ASCII
/// escaped.
pub fn json_dumps<T: Serialize + ?Sized>(value: &T) -> String {
    dumps(value, None)
}

/// Python `json.dumps(value, indent=4)`.
pub fn json_dumps_indented<T: Serialize + ?Sized>(value: &T) -> String {
    dumps(
        value,
        Some(serde_json::ser::PrettyFormatter::with_indent(b"    ")),
    )
}

/// `json.dumps` of an object given as ordered (key, value) pairs; a repeated key keeps its first
/// position and its last value, as a Python dict built by assignment does.
pub fn json_dumps_pairs<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a Value)>) -> String {
    let mut map = serde_json::Map::new();
    for (k, v) in pairs {
        map.insert(k.to_string(), v.clone());
    }
    json_dumps(&map)
}

/// Python's `str()` of a list of strings: `['schema', 'descriptors']`.
pub fn str_list_repr<S: AsRef<str>>(items: &[S]) -> String {
    let parts: Vec<String> = items.iter().map(|s| str_repr(s.as_ref())).collect();
    format!("[{}]", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn floats_as_python() {
        let cases = [
            (1.0, "1.0"),
            (1.5, "1.5"),
            (-2.25, "-2.25"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (123456789012345680.0, "1.2345678901234568e+17"),
            (0.0001, "0.0001"),
            (0.00001, "1e-05"),
            (1.5e-7, "1.5e-07"),
            (0.1, "0.1"),
            (100.0, "100.0"),
            (123.456, "123.456"),
            (1e300, "1e+300"),
            (0.0, "0.0"),
        ];
        for (f, want) in cases {
            assert_eq!(float_repr(f), want, "{f}");
        }
    }

    #[test]
    fn repr_as_python() {
        assert_eq!(repr(&json!("abc")), "'abc'");
        assert_eq!(repr(&json!("it's")), "\"it's\"");
        assert_eq!(repr(&json!("a'b\"c")), "'a\\'b\"c'");
        assert_eq!(repr(&json!("tab\there\n")), "'tab\\there\\n'");
        assert_eq!(repr(&json!("café \u{1}")), "'café \\x01'");
        assert_eq!(repr(&json!("nb\u{a0}sp")), "'nb\\xa0sp'");
        assert_eq!(repr(&json!("\u{2028}")), "'\\u2028'");
        assert_eq!(
            repr(&json!({"a": [1, 2.5, true, null], "b": {"c": "d"}})),
            "{'a': [1, 2.5, True, None], 'b': {'c': 'd'}}"
        );
        assert_eq!(repr(&json!([])), "[]");
        assert_eq!(repr(&json!({})), "{}");
        assert_eq!(repr(&json!(-7)), "-7");
        assert_eq!(repr(&json!(1.0)), "1.0");
    }

    #[test]
    fn json_dumps_as_python() {
        assert_eq!(
            json_dumps(
                &json!({"schoolId": 255901, "name": "café ☃ 😀", "x": [1.0, null, "\"q\""]})
            ),
            r#"{"schoolId": 255901, "name": "caf\u00e9 \u2603 \ud83d\ude00", "x": [1.0, null, "\"q\""]}"#
        );
        assert_eq!(json_dumps(&json!("a\u{1}\u{7f}")), "\"a\\u0001\\u007f\"");
        assert_eq!(json_dumps(&json!({})), "{}");
        let a = json!(1);
        let b = json!("x");
        let c = json!(2);
        assert_eq!(
            json_dumps_pairs([("schoolId", &a), ("name", &b), ("schoolId", &c)]),
            r#"{"schoolId": 2, "name": "x"}"#
        );
        assert_eq!(
            str_list_repr(&["schema", "descriptors"]),
            "['schema', 'descriptors']"
        );
    }
}
