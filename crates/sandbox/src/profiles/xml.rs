//! A small XML reader for ODS/API profile definitions: elements with attributes and text, the
//! XML declaration, comments, DOCTYPE and CDATA, the five predefined entities and numeric
//! character references. No namespaces, no DTD processing: what `Profiles.xml` files use.

/// An element: its name, attributes in document order, child elements and text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Element {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    /// The value of attribute `name`.
    pub fn attr(&self, name: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The child elements called `name`.
    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> + 'a {
        self.children.iter().filter(move |c| c.name == name)
    }
}

/// Parse a document into its root element; `Err` tells what is wrong and on which line.
pub fn parse(text: &str) -> Result<Element, String> {
    let mut p = Parser {
        s: text.trim_start_matches('\u{feff}'),
        i: 0,
    };
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    while p.i < p.s.len() {
        let rest = p.rest();
        if let Some(after) = rest.strip_prefix("<?") {
            p.skip_past(after, "?>", "processing instruction")?;
        } else if let Some(after) = rest.strip_prefix("<!--") {
            p.skip_past(after, "-->", "comment")?;
        } else if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let start = p.s.len() - after.len();
            let end = after
                .find("]]>")
                .ok_or_else(|| p.error("unterminated CDATA section"))?;
            let cdata = &p.s[start..start + end];
            match stack.last_mut() {
                Some(e) => e.text.push_str(cdata),
                None => return Err(p.error("text outside the root element")),
            }
            p.i = start + end + 3;
        } else if let Some(after) = rest.strip_prefix("<!") {
            p.skip_past(after, ">", "declaration")?;
        } else if let Some(after) = rest.strip_prefix("</") {
            let end = after
                .find('>')
                .ok_or_else(|| p.error("unterminated end tag"))?;
            let name = after[..end].trim();
            let Some(e) = stack.pop() else {
                return Err(p.error(&format!("end tag </{name}> without a start tag")));
            };
            if e.name != name {
                return Err(p.error(&format!("end tag </{name}> closes <{}>", e.name)));
            }
            p.i = p.s.len() - after.len() + end + 1;
            close(e, &mut stack, &mut root, &p)?;
        } else if rest.starts_with('<') {
            let (e, self_closing) = p.start_tag()?;
            if self_closing {
                close(e, &mut stack, &mut root, &p)?;
            } else {
                stack.push(e);
            }
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let raw = &rest[..end];
            match stack.last_mut() {
                Some(e) => e.text.push_str(&unescape(raw).map_err(|m| p.error(&m))?),
                None if raw.trim().is_empty() => {}
                None => return Err(p.error("text outside the root element")),
            }
            p.i += end;
        }
    }
    if let Some(open) = stack.last() {
        return Err(format!("<{}> is not closed", open.name));
    }
    root.ok_or_else(|| "no root element".to_string())
}

/// A finished element goes into its parent, or becomes the root.
fn close(
    e: Element,
    stack: &mut [Element],
    root: &mut Option<Element>,
    p: &Parser,
) -> Result<(), String> {
    match stack.last_mut() {
        Some(parent) => parent.children.push(e),
        None if root.is_none() => *root = Some(e),
        None => return Err(p.error("a second root element")),
    }
    Ok(())
}

struct Parser<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        &self.s[self.i..]
    }

    fn error(&self, what: &str) -> String {
        let line = self.s[..self.i].matches('\n').count() + 1;
        format!("line {line}: {what}")
    }

    /// Move past `end` in `after` (the text after an opening like `<!--`).
    fn skip_past(&mut self, after: &str, end: &str, what: &str) -> Result<(), String> {
        let at = after
            .find(end)
            .ok_or_else(|| self.error(&format!("unterminated {what}")))?;
        self.i = self.s.len() - after.len() + at + end.len();
        Ok(())
    }

    /// A start tag at the current position: the element (without children) and whether it
    /// closes itself (`<a/>`).
    fn start_tag(&mut self) -> Result<(Element, bool), String> {
        self.i += 1;
        let name = self.take_name();
        if name.is_empty() {
            return Err(self.error("a tag without a name"));
        }
        let mut e = Element {
            name,
            ..Element::default()
        };
        loop {
            self.skip_space();
            let rest = self.rest();
            if rest.starts_with("/>") {
                self.i += 2;
                return Ok((e, true));
            }
            if rest.starts_with('>') {
                self.i += 1;
                return Ok((e, false));
            }
            let attr = self.take_name();
            if attr.is_empty() {
                return Err(self.error(&format!("unexpected text in <{}>", e.name)));
            }
            self.skip_space();
            if !self.rest().starts_with('=') {
                return Err(self.error(&format!("attribute {attr} without a value")));
            }
            self.i += 1;
            self.skip_space();
            let quote = self.rest().chars().next();
            let Some(q @ ('"' | '\'')) = quote else {
                return Err(self.error(&format!("the value of {attr} is not quoted")));
            };
            let body = &self.rest()[1..];
            let end = body
                .find(q)
                .ok_or_else(|| self.error(&format!("unterminated value of {attr}")))?;
            let value = unescape(&body[..end]).map_err(|m| self.error(&m))?;
            self.i += end + 2;
            e.attrs.push((attr, value));
        }
    }

    fn take_name(&mut self) -> String {
        let rest = self.rest();
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '/' | '>' | '=' | '<'))
            .unwrap_or(rest.len());
        self.i += end;
        rest[..end].to_string()
    }

    fn skip_space(&mut self) {
        let rest = self.rest();
        self.i += rest.len() - rest.trim_start().len();
    }
}

/// Text with its entity and character references replaced.
fn unescape(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after
            .find(';')
            .ok_or_else(|| "an unterminated entity reference".to_string())?;
        let entity = &after[..end];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = entity.strip_prefix('#') {
                    dec.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| format!("unknown entity &{entity};"))?
            }
        };
        out.push(c);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_profiles_document() {
        let doc = "\u{feff}<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<!-- profiles -->\n<Profiles>\n  <Profile name='A &amp; B'>\n    <Resource name=\"School\">\n      <ReadContentType memberSelection=\"IncludeOnly\"><Property name=\"NameOfInstitution\" /><!-- a comment --></ReadContentType>\n    </Resource>\n  </Profile>\n  <Profile name=\"C\"><Resource name=\"Student\"><Filter><Value>x&#65;&lt;<![CDATA[<y>]]></Value></Filter></Resource></Profile>\n</Profiles>\n";
        let root = parse(doc).unwrap();
        assert_eq!(root.name, "Profiles");
        let profiles: Vec<&Element> = root.children_named("Profile").collect();
        assert_eq!(profiles.len(), 2);
        assert_eq!(profiles[0].attr("name"), Some("A & B"));
        let read = &profiles[0].children[0].children[0];
        assert_eq!(read.attr("memberSelection"), Some("IncludeOnly"));
        assert_eq!(read.children[0].attr("name"), Some("NameOfInstitution"));
        let value = &profiles[1].children[0].children[0].children[0];
        assert_eq!(value.text, "xA<<y>");
    }

    #[test]
    fn tells_what_is_wrong_and_where() {
        for (doc, says) in [
            ("<a><b></a>", "line 1: end tag </a> closes <b>"),
            ("<a>\n<b x=1/></a>", "line 2: the value of x is not quoted"),
            ("<a>", "<a> is not closed"),
            ("<a/><b/>", "a second root element"),
            ("<a>&nope;</a>", "unknown entity &nope;"),
            ("", "no root element"),
        ] {
            let e = parse(doc).unwrap_err();
            assert!(e.contains(says), "{doc:?}: {e}");
        }
    }
}
