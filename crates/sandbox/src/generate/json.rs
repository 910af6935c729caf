//! The streaming JSON writer: objects and arrays appended member by member to one line's `String`.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate};

/// Appends `s` as a JSON string literal.
pub(super) fn push_json_str(buf: &mut String, s: &str) {
    buf.push('"');
    for c in s.chars() {
        match c {
            '"' => buf.push_str("\\\""),
            '\\' => buf.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(buf, "\\u{:04x}", c as u32);
            }
            c => buf.push(c),
        }
    }
    buf.push('"');
}

/// Appends `d` as a JSON string `"YYYY-MM-DD"`.
pub(super) fn push_date(buf: &mut String, d: NaiveDate) {
    let _ = write!(buf, "\"{:04}-{:02}-{:02}\"", d.year(), d.month(), d.day());
}

/// Appends a JSON object whose members `f` writes.
pub(super) fn object(buf: &mut String, f: impl FnOnce(&mut Obj<'_>)) {
    buf.push('{');
    f(&mut Obj { buf, first: true });
    buf.push('}');
}

/// Appends a JSON array whose items `f` writes.
fn array(buf: &mut String, f: impl FnOnce(&mut Arr<'_>)) {
    buf.push('[');
    f(&mut Arr { buf, first: true });
    buf.push(']');
}

/// Appends the comma that comes before every member or item but the first.
fn separate(buf: &mut String, first: &mut bool) {
    if !*first {
        buf.push(',');
    }
    *first = false;
}

/// Builder of the members of one JSON object.
pub(super) struct Obj<'a> {
    buf: &'a mut String,
    first: bool,
}

impl Obj<'_> {
    fn key(&mut self, k: &str) {
        separate(self.buf, &mut self.first);
        self.buf.push('"');
        self.buf.push_str(k);
        self.buf.push_str("\":");
    }

    /// A member whose value `json` is JSON text already.
    pub(super) fn raw(&mut self, k: &str, json: &str) {
        self.key(k);
        self.buf.push_str(json);
    }

    pub(super) fn str(&mut self, k: &str, v: &str) {
        self.key(k);
        push_json_str(self.buf, v);
    }

    /// A descriptor value `uri://ed-fi.org/{ty}Descriptor#{code}`.
    pub(super) fn desc(&mut self, k: &str, ty: &str, code: &str) {
        self.key(k);
        self.buf.push_str("\"uri://ed-fi.org/");
        self.buf.push_str(ty);
        self.buf.push_str("Descriptor#");
        let start = self.buf.len();
        push_json_str(self.buf, code);
        // drop the opening quote that push_json_str added
        self.buf.remove(start);
    }

    pub(super) fn int(&mut self, k: &str, v: i64) {
        self.key(k);
        let _ = write!(self.buf, "{v}");
    }

    pub(super) fn num(&mut self, k: &str, v: f64) {
        self.key(k);
        let _ = write!(self.buf, "{v}");
    }

    pub(super) fn bool(&mut self, k: &str, v: bool) {
        self.key(k);
        self.buf.push_str(if v { "true" } else { "false" });
    }

    pub(super) fn date(&mut self, k: &str, d: NaiveDate) {
        self.key(k);
        push_date(self.buf, d);
    }

    pub(super) fn obj(&mut self, k: &str, f: impl FnOnce(&mut Obj<'_>)) {
        self.key(k);
        object(self.buf, f);
    }

    pub(super) fn arr(&mut self, k: &str, f: impl FnOnce(&mut Arr<'_>)) {
        self.key(k);
        array(self.buf, f);
    }

    /// `k: [{...}]`: a collection of one item, whose members `f` writes.
    pub(super) fn item(&mut self, k: &str, f: impl FnOnce(&mut Obj<'_>)) {
        self.arr(k, |a| a.obj(f));
    }

    /// `k: [{inner_key: descriptor}]`, the shape of most descriptor collections.
    pub(super) fn desc_list(&mut self, k: &str, inner_key: &str, ty: &str, codes: &[&str]) {
        self.arr(k, |a| {
            for code in codes {
                a.obj(|o| o.desc(inner_key, ty, code));
            }
        });
    }
}

/// Builder of the items of one JSON array (of objects).
pub(super) struct Arr<'a> {
    buf: &'a mut String,
    first: bool,
}

impl Arr<'_> {
    pub(super) fn obj(&mut self, f: impl FnOnce(&mut Obj<'_>)) {
        separate(self.buf, &mut self.first);
        object(self.buf, f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(f: impl FnOnce(&mut Obj<'_>)) -> String {
        let mut buf = String::new();
        object(&mut buf, f);
        buf
    }

    #[test]
    fn writes_members_nested_objects_and_arrays() {
        let text = line(|o| {
            o.str("s", "a\"b\\c\n");
            o.int("i", -3);
            o.num("n", 0.5);
            o.num("whole", 1.0);
            o.bool("b", false);
            o.date("d", NaiveDate::from_ymd_opt(2024, 1, 5).unwrap());
            o.obj("r", |r| r.int("x", 1));
            o.arr("empty", |_| {});
            o.desc_list("l", "k", "Sex", &["Female", "Ma\"le"]);
            o.item("one", |i| i.int("y", 2));
            o.raw("j", "[1]");
        });
        assert_eq!(
            text,
            concat!(
                r#"{"s":"a\"b\\c\u000a","i":-3,"n":0.5,"whole":1,"b":false,"d":"2024-01-05","#,
                r#""r":{"x":1},"empty":[],"l":[{"k":"uri://ed-fi.org/SexDescriptor#Female"},"#,
                r#"{"k":"uri://ed-fi.org/SexDescriptor#Ma\"le"}],"one":[{"y":2}],"j":[1]}"#
            )
        );
        let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(parsed["s"], "a\"b\\c\n");
    }

    #[test]
    fn writes_an_empty_object() {
        assert_eq!(line(|_| {}), "{}");
    }
}
