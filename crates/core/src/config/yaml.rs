//! A YAML document read into a small tree whose every node remembers where it came from
//! (a line of the config file, or a `--set` override), so that every config error can name
//! the key path and the line.

use std::collections::HashMap;

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser, Tag};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// Where a config value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A line (1-based) of the config file.
    Line(usize),
    /// A `--set key.path value` override on the command line.
    Override,
    /// A built-in default (no line to point at).
    Default,
}

/// A scalar as written in the YAML (or on the command line).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scalar {
    pub text: String,
    /// Written quoted (or as a block scalar, or tagged `!!str`): always a string.
    pub quoted: bool,
    /// Auto-typed by `--set` (see [`super::autocast`]); `None` for YAML scalars.
    pub cast: Option<Cast>,
}

/// The type `--set` gave a value (Python `autocast`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Cast {
    Bool(bool),
    Int(i64),
    Float(f64),
    Str,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum NodeKind {
    Null,
    Scalar(Scalar),
    Seq(Vec<Node>),
    /// Keys in document order (a key appears once).
    Map(Vec<(KeyNode, Node)>),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct KeyNode {
    pub name: String,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Node {
    pub origin: Origin,
    pub kind: NodeKind,
}

impl Node {
    pub fn new(origin: Origin, kind: NodeKind) -> Self {
        Node { origin, kind }
    }

    /// Human description of the node, for "expected X, got Y" messages.
    pub fn describe(&self) -> String {
        match &self.kind {
            NodeKind::Null => "an empty value".to_string(),
            NodeKind::Scalar(s) => format!("{:?}", s.text),
            NodeKind::Seq(_) => "a list".to_string(),
            NodeKind::Map(_) => "a mapping".to_string(),
        }
    }
}

/// A YAML syntax problem.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SyntaxError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Parses one YAML document into a [`Node`]; `Ok(None)` for an empty document.
pub(crate) fn parse(text: &str) -> Result<Option<Node>, SyntaxError> {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    parser.load(&mut builder, true).map_err(|e| SyntaxError {
        line: e.marker().line(),
        column: e.marker().col() + 1,
        message: e.info().to_string(),
    })?;
    if let Some(err) = builder.error {
        return Err(err);
    }
    if builder.documents.len() > 1 {
        return Err(SyntaxError {
            line: builder.second_document_line,
            column: 1,
            message: "expected a single YAML document, found more than one".to_string(),
        });
    }
    Ok(builder.documents.pop())
}

enum Frame {
    Seq(Node),
    /// The mapping, and a key waiting for its value.
    Map(Node, Option<KeyNode>),
}

#[derive(Default)]
struct Builder {
    stack: Vec<(Frame, usize)>,
    documents: Vec<Node>,
    anchors: HashMap<usize, Node>,
    error: Option<SyntaxError>,
    second_document_line: usize,
}

impl Builder {
    fn fail(&mut self, line: usize, message: String) {
        if self.error.is_none() {
            self.error = Some(SyntaxError {
                line,
                column: 1,
                message,
            });
        }
    }

    fn insert(&mut self, node: Node, anchor: usize) {
        if anchor > 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let line = match node.origin {
            Origin::Line(l) => l,
            _ => 0,
        };
        match self.stack.last_mut() {
            None => {
                if self.documents.len() == 1 {
                    self.second_document_line = line;
                }
                self.documents.push(node);
            }
            Some((Frame::Seq(seq), _)) => {
                if let NodeKind::Seq(items) = &mut seq.kind {
                    items.push(node);
                }
            }
            Some((Frame::Map(_, pending @ None), _)) => {
                let name = match &node.kind {
                    NodeKind::Scalar(s) => Some(s.text.clone()),
                    NodeKind::Null => Some(String::new()),
                    _ => None,
                };
                *pending = Some(KeyNode {
                    name: name.clone().unwrap_or_else(|| "?".to_string()),
                    origin: node.origin,
                });
                if name.is_none() {
                    self.fail(line, "mapping keys must be plain values".to_string());
                }
            }
            Some((Frame::Map(map, pending @ Some(_)), _)) => {
                let key = pending.take().unwrap_or(KeyNode {
                    name: String::new(),
                    origin: node.origin,
                });
                let mut node = node;
                if node.kind == NodeKind::Null {
                    // an empty value is reported where its key is, not on the next line
                    node.origin = key.origin;
                }
                let mut duplicate = None;
                if let NodeKind::Map(entries) = &mut map.kind {
                    if let Some((first, _)) = entries.iter().find(|(k, _)| k.name == key.name) {
                        duplicate = Some((first.origin, key.origin, key.name.clone()));
                    } else {
                        entries.push((key, node));
                    }
                }
                if let Some((first, second, name)) = duplicate {
                    let second_line = match second {
                        Origin::Line(l) => l,
                        _ => 0,
                    };
                    let first = match first {
                        Origin::Line(l) => format!(" (first at line {l})"),
                        _ => String::new(),
                    };
                    self.fail(second_line, format!("duplicate key {name:?}{first}"));
                }
            }
        }
    }
}

fn is_str_tag(tag: &Option<Tag>) -> bool {
    matches!(tag, Some(t) if t.suffix == "str")
}

impl MarkedEventReceiver for Builder {
    fn on_event(&mut self, ev: Event, mark: Marker) {
        let origin = Origin::Line(mark.line());
        match ev {
            Event::Scalar(text, style, anchor, tag) => {
                let quoted = style != TScalarStyle::Plain || is_str_tag(&tag);
                let kind = if !quoted && is_null(&text) {
                    NodeKind::Null
                } else {
                    NodeKind::Scalar(Scalar {
                        text,
                        quoted,
                        cast: None,
                    })
                };
                self.insert(Node::new(origin, kind), anchor);
            }
            Event::SequenceStart(anchor, _) => {
                self.stack
                    .push((Frame::Seq(Node::new(origin, NodeKind::Seq(vec![]))), anchor));
            }
            Event::MappingStart(anchor, _) => {
                self.stack.push((
                    Frame::Map(Node::new(origin, NodeKind::Map(vec![])), None),
                    anchor,
                ));
            }
            Event::SequenceEnd | Event::MappingEnd => {
                if let Some((frame, anchor)) = self.stack.pop() {
                    let node = match frame {
                        Frame::Seq(n) => n,
                        Frame::Map(n, _) => apply_merge_keys(n),
                    };
                    self.insert(node, anchor);
                }
            }
            Event::Alias(id) => match self.anchors.get(&id).cloned() {
                Some(mut node) => {
                    node.origin = origin;
                    self.insert(node, 0);
                }
                None => self.fail(mark.line(), "unknown alias".to_string()),
            },
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart
            | Event::DocumentEnd => {}
        }
    }
}

/// YAML `<<` merge keys (PyYAML supports them): keys of the merged mapping(s) that the
/// mapping does not set itself are added.
fn apply_merge_keys(mut node: Node) -> Node {
    let NodeKind::Map(entries) = &mut node.kind else {
        return node;
    };
    if !entries.iter().any(|(k, _)| k.name == "<<") {
        return node;
    }
    let mut own = Vec::new();
    let mut merged: Vec<Node> = Vec::new();
    for (k, v) in entries.drain(..) {
        if k.name == "<<" {
            match v.kind {
                NodeKind::Seq(items) => merged.extend(items),
                _ => merged.push(v),
            }
        } else {
            own.push((k, v));
        }
    }
    for source in merged {
        if let NodeKind::Map(source_entries) = source.kind {
            for (k, v) in source_entries {
                if !own.iter().any(|(o, _)| o.name == k.name) {
                    own.push((k, v));
                }
            }
        }
    }
    *entries = own;
    node
}

/// YAML null: `~`, `null`, `Null`, `NULL` or nothing (plain scalars only).
pub(crate) fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn map_get<'a>(node: &'a Node, key: &str) -> &'a Node {
        match &node.kind {
            NodeKind::Map(entries) => &entries.iter().find(|(k, _)| k.name == key).unwrap().1,
            _ => panic!("not a map"),
        }
    }

    #[test]
    fn lines_are_recorded() {
        let doc = parse("# comment\na: 1\nb:\n  c: x\n  d: [1, 2]\n")
            .unwrap()
            .unwrap();
        assert_eq!(map_get(&doc, "a").origin, Origin::Line(2));
        let b = map_get(&doc, "b");
        assert_eq!(map_get(b, "c").origin, Origin::Line(4));
        assert_eq!(map_get(b, "d").origin, Origin::Line(5));
    }

    #[test]
    fn nulls_and_quotes() {
        let doc = parse("a:\nb: ~\nc: 'null'\nd: \"\"\n").unwrap().unwrap();
        assert_eq!(map_get(&doc, "a").kind, NodeKind::Null);
        assert_eq!(map_get(&doc, "b").kind, NodeKind::Null);
        assert!(
            matches!(&map_get(&doc, "c").kind, NodeKind::Scalar(s) if s.quoted && s.text == "null")
        );
        assert!(
            matches!(&map_get(&doc, "d").kind, NodeKind::Scalar(s) if s.quoted && s.text.is_empty())
        );
    }

    #[test]
    fn empty_document_is_none() {
        assert_eq!(parse("").unwrap(), None);
        assert_eq!(parse("# only a comment\n").unwrap(), None);
    }

    #[test]
    fn syntax_error_has_line() {
        let err = parse("a: 1\n  b: 2\n").unwrap_err();
        assert_eq!(err.line, 2);
        let err = parse("a: [1\nb: 2\n").unwrap_err();
        assert_eq!(err.line, 2);
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(err.line, 3);
        assert!(err
            .message
            .contains("duplicate key \"a\" (first at line 1)"));
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let doc = parse("base: &b\n  x: 1\n  y: 2\nother:\n  <<: *b\n  y: 3\nz: *b\n")
            .unwrap()
            .unwrap();
        let other = map_get(&doc, "other");
        assert!(matches!(&map_get(other, "x").kind, NodeKind::Scalar(s) if s.text == "1"));
        assert!(matches!(&map_get(other, "y").kind, NodeKind::Scalar(s) if s.text == "3"));
        let z = map_get(&doc, "z");
        assert!(matches!(&map_get(z, "y").kind, NodeKind::Scalar(s) if s.text == "2"));
    }

    #[test]
    fn multiple_documents_are_an_error() {
        let err = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert!(err.message.contains("single YAML document"));
    }
}
