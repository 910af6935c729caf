//! `create`: scaffold an earthmover project for the selected endpoints from the API's OpenAPI
//! documents: `earthmover.yml` with one destination per endpoint (appended to an existing file)
//! and `templates/{endpoint}.jsont`, a Jinja JSON template with every property of the
//! endpoint's schema. Modelled on the Python tool's `create.py` (same files, header texts,
//! `{# (required) #}`/`{# (optional) #}` annotations, variable names, `descriptor_namespace()`
//! macro and `{% for item in ... %}` loops), but every template renders valid JSON: optional
//! properties sit in `{% if %}` conditionals (so absent values leave no `"x": ,`), array items
//! are separated by commas, nested arrays loop over their parent item, descriptors get the
//! namespace of their descriptor type (`entryGradeLevelDescriptor` → `GradeLevelDescriptor`)
//! also inside arrays, numbers are numbers, and server-managed properties (`id`, `_etag`,
//! `_lastModifiedDate`, `link`, descriptor ids) are left out. Existing templates and
//! destinations are never overwritten.

use crate::api::openapi::{upper_first, Document, Endpoint, Model};
use crate::api::session::Session;
use crate::ports::{LogLevel, OutputError, OutputFiles};
use serde_json::Value;

/// Where templates go.
pub const TEMPLATE_FOLDER: &str = "templates/";
/// The earthmover project file.
pub const EARTHMOVER_FILE: &str = "earthmover.yml";

/// The beginning of a new `earthmover.yml` (the Python tool's text); destinations follow.
pub const EARTHMOVER_HEADER: &str = r#"version: 2.0

# This is an earthmover.yml file, generated with `lightbeam create`, for creating Ed-Fi JSON payloads
# using earthmover. See https://github.com/edanalytics/earthmover for documentation.

config:
  macros: >
    {% macro descriptor_namespace() -%}
      uri://ed-fi.org
    {%- endmacro %}

# Define your source data here:
sources:
  # Example:
  # mysource:
  #   file: path/to/myfile.csv
  # ...

# (If needed, define your data transformations here:)
# transformations:

destinations:"#;

/// What stops `create`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CreateError {
    #[error("The file `{EARTHMOVER_FILE}` already exists in the current directory and contains `$destinations.{0}`; to re-create it, please first manually remove it (and `{TEMPLATE_FOLDER}{0}.jsont`).")]
    DestinationExists(String),
    #[error("The file `{0}` already exists in the current directory; to re-create it, please first manually delete it.")]
    TemplateExists(String),
    #[error("the endpoint {0} is not in the API's OpenAPI documents")]
    UnknownEndpoint(String),
    #[error("{EARTHMOVER_FILE}: {0}")]
    Earthmover(String),
    #[error("cannot write {file}: {error}")]
    Write {
        file: String,
        #[source]
        error: OutputError,
    },
}

/// The destination node of an endpoint in `earthmover.yml` (starts with a line break).
pub fn destination_node(endpoint: &str) -> String {
    format!(
        "\n  {endpoint}:\n    source: $transformations.{endpoint}\n    template: {TEMPLATE_FOLDER}{endpoint}.jsont\n    extension: jsonl\n    linearize: True"
    )
}

/// The names under `destinations:` of an `earthmover.yml`.
pub fn existing_destinations(yaml: &str) -> Result<Vec<String>, String> {
    let docs = yaml_rust2::YamlLoader::load_from_str(yaml).map_err(|e| e.to_string())?;
    let Some(doc) = docs.first() else {
        return Ok(Vec::new());
    };
    Ok(match &doc["destinations"] {
        yaml_rust2::Yaml::Hash(h) => h
            .keys()
            .filter_map(|k| k.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    })
}

/// The path of an endpoint's template.
pub fn template_path(endpoint: &str) -> String {
    format!("{TEMPLATE_FOLDER}{endpoint}.jsont")
}

/// Where a value sits in the template: a prefix for flattened object fields
/// (`schoolReference_`) and the loop variable of the enclosing array, if any.
#[derive(Debug, Clone)]
struct Ctx {
    prefix: String,
    item: Option<String>,
    loops: usize,
}

impl Ctx {
    fn var(&self, key: &str) -> String {
        match &self.item {
            Some(item) => format!("{item}.{}{key}", self.prefix),
            None => format!("{}{key}", self.prefix),
        }
    }
}

/// A property rendered: `"key": value` (later lines indented), its condition when optional.
struct Field {
    text: String,
    required: bool,
    cond: String,
}

struct Gen<'m> {
    model: &'m Model,
    doc: &'m Document,
}

fn is_server_managed(key: &str) -> bool {
    matches!(key, "id" | "_etag" | "_lastModifiedDate" | "link") || key.ends_with("DescriptorId")
}

impl Gen<'_> {
    fn resolve(&self, v: &Value) -> Option<&Value> {
        let r = v.get("$ref")?.as_str()?;
        self.doc.resolve(r)
    }

    fn descriptor_type(&self, key: &str) -> String {
        match self.model.descriptor_for_property(key) {
            Some(i) => self.model.endpoints[i].entity_name(),
            None => upper_first(key),
        }
    }

    fn scalar(&self, key: &str, kind: &str, ctx: &Ctx) -> String {
        let var = ctx.var(key);
        match kind {
            "string" if key.ends_with("Descriptor") => format!(
                "\"{{{{descriptor_namespace()}}}}/{}#{{{{{var}}}}}\"",
                self.descriptor_type(key)
            ),
            "string" => format!("\"{{{{{var}}}}}\""),
            _ => format!("{{{{{var}}}}}"),
        }
    }

    /// The fields of an object schema at indentation `ind`.
    fn fields(&self, schema: &Value, ctx: &Ctx, ind: usize) -> Vec<Field> {
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut out = Vec::new();
        let Some(props) = schema.get("properties").and_then(Value::as_object) else {
            return out;
        };
        for (key, p) in props {
            if is_server_managed(key) {
                continue;
            }
            let req = required.contains(&key.as_str());
            let (value, cond) = if let Some(sub) = self.resolve(p) {
                let child = Ctx {
                    prefix: format!("{}{key}_", ctx.prefix),
                    ..ctx.clone()
                };
                let Some((text, cond)) = self.object(sub, &child, ind + 2) else {
                    continue;
                };
                (text, cond)
            } else {
                match p.get("type").and_then(Value::as_str) {
                    Some("array") => {
                        let list = ctx.var(key);
                        let item = if ctx.loops == 0 {
                            "item".to_string()
                        } else {
                            format!("item{}", ctx.loops + 1)
                        };
                        let child = Ctx {
                            prefix: String::new(),
                            item: Some(item.clone()),
                            loops: ctx.loops + 1,
                        };
                        let items = p.get("items").unwrap_or(&Value::Null);
                        let pad = " ".repeat(ind);
                        let body = match self.resolve(items) {
                            Some(sub) => match self.object(sub, &child, ind + 4) {
                                Some((text, _)) => format!("{pad}  {text}"),
                                None => continue,
                            },
                            None => {
                                let kind = items
                                    .get("type")
                                    .and_then(Value::as_str)
                                    .unwrap_or("string");
                                let value = if kind == "string" {
                                    format!("\"{{{{{item}}}}}\"")
                                } else {
                                    format!("{{{{{item}}}}}")
                                };
                                format!("{pad}  {value}")
                            }
                        };
                        (
                            format!(
                                "[ {{% for {item} in {list} %}}\n{body}{{% if not loop.last %}},{{% endif %}}\n{pad}{{% endfor %}} ]"
                            ),
                            list,
                        )
                    }
                    Some(kind @ ("string" | "integer" | "number" | "boolean")) => {
                        let var = ctx.var(key);
                        // `0` and `false` are values too: only none, undefined and "" are not
                        let cond = if kind == "string" {
                            var
                        } else {
                            format!("{var} is not none and {var} | string | length")
                        };
                        (self.scalar(key, kind, ctx), cond)
                    }
                    _ => continue,
                }
            };
            out.push(Field {
                text: format!("\"{key}\": {value}"),
                required: req,
                cond,
            });
        }
        out
    }

    /// An object schema rendered with its fields at indentation `ind` (the closing brace two
    /// spaces less), and the condition under which it has a value: its first required field's,
    /// else any field's. `None` for an object without properties.
    fn object(&self, schema: &Value, ctx: &Ctx, ind: usize) -> Option<(String, String)> {
        let fields = self.fields(schema, ctx, ind);
        if fields.is_empty() {
            return None;
        }
        let pad = " ".repeat(ind);
        let close = " ".repeat(ind.saturating_sub(2));
        let note = |f: &Field| {
            if f.required {
                "{# (required) #}"
            } else {
                "{# (optional) #}"
            }
        };
        let mut out = String::new();
        let cond;
        match fields.iter().position(|f| f.required) {
            Some(first) => {
                cond = fields[first].cond.clone();
                out.push_str("{\n");
                for f in &fields[..first] {
                    out.push_str(&format!(
                        "{pad}{} {{% if {} %}}{},{{% endif %}}\n",
                        note(f),
                        f.cond,
                        f.text
                    ));
                }
                out.push_str(&format!(
                    "{pad}{} {}",
                    note(&fields[first]),
                    fields[first].text
                ));
                for f in &fields[first + 1..] {
                    if f.required {
                        out.push_str(&format!(",\n{pad}{} {}", note(f), f.text));
                    } else {
                        out.push_str(&format!(
                            "{{% if {} %}},\n{pad}{} {}{{% endif %}}",
                            f.cond,
                            note(f),
                            f.text
                        ));
                    }
                }
            }
            None => {
                // no property is always there: a joiner puts the commas between those present
                let joiner = format!("comma{}", ind / 2);
                cond = if fields.len() == 1 {
                    fields[0].cond.clone()
                } else {
                    let conds: Vec<String> = fields
                        .iter()
                        .map(|f| {
                            if f.cond.contains(' ') && !f.cond.starts_with('(') {
                                format!("({})", f.cond)
                            } else {
                                f.cond.clone()
                            }
                        })
                        .collect();
                    format!("({})", conds.join(" or "))
                };
                out.push_str(&format!("{{ {{%- set {joiner} = joiner(\",\") %}}"));
                for f in &fields {
                    out.push_str(&format!(
                        "\n{pad}{} {{% if {} %}}{{{{ {joiner}() }}}}{}{{% endif %}}",
                        note(f),
                        f.cond,
                        f.text
                    ));
                }
            }
        }
        out.push_str(&format!("\n{close}}}"));
        Some((out, cond))
    }
}

/// The template of an endpoint (`templates/{endpoint}.jsont`), without a final line break as
/// the Python tool writes it.
pub fn template(model: &Model, endpoint: &Endpoint) -> String {
    let doc = model.document_of(endpoint);
    let gen = Gen { model, doc };
    let ctx = Ctx {
        prefix: String::new(),
        item: None,
        loops: 0,
    };
    let body = doc
        .schema(&endpoint.schema_name)
        .and_then(|s| gen.object(s, &ctx, 2))
        .map(|(text, _)| text)
        .unwrap_or_else(|| "{}".to_string());
    format!(
        "{{#\n  This is an earthmover JSON template file, generated with `lightbeam create`, for creating Ed-Fi JSON `{}`\n  payloads using earthmover. See https://github.com/edanalytics/earthmover for documentation.\n#}}\n{body}",
        endpoint.name
    )
}

/// The files `create` writes: (path, content), templates first, `earthmover.yml` last.
/// `existing_earthmover` is the text of an existing `earthmover.yml` (the destinations are then
/// appended to it), `existing_templates` the endpoints whose template exists. Nothing is
/// written when anything would be overwritten.
pub fn scaffold(
    model: &Model,
    endpoints: &[&Endpoint],
    existing_earthmover: Option<&str>,
    existing_templates: &[String],
) -> Result<Vec<(String, String)>, CreateError> {
    let destinations = match existing_earthmover {
        Some(text) => existing_destinations(text).map_err(CreateError::Earthmover)?,
        None => Vec::new(),
    };
    for e in endpoints {
        if destinations.iter().any(|d| d == &e.name) {
            return Err(CreateError::DestinationExists(e.name.clone()));
        }
        if existing_templates.iter().any(|t| t == &e.name) {
            return Err(CreateError::TemplateExists(template_path(&e.name)));
        }
    }
    let mut files: Vec<(String, String)> = endpoints
        .iter()
        .map(|e| (template_path(&e.name), template(model, e)))
        .collect();
    let mut earthmover = existing_earthmover
        .map(str::to_string)
        .unwrap_or_else(|| EARTHMOVER_HEADER.to_string());
    for e in endpoints {
        earthmover.push_str(&destination_node(&e.name));
    }
    files.push((EARTHMOVER_FILE.to_string(), earthmover));
    Ok(files)
}

/// Scaffold `endpoints` (dependency order) into `out`: see [`scaffold`].
pub async fn create(
    session: &Session<'_>,
    model: &Model,
    endpoints: &[String],
    out: &dyn OutputFiles,
) -> Result<Vec<String>, CreateError> {
    let mut found = Vec::with_capacity(endpoints.len());
    for name in endpoints {
        let ns = session.config.namespace_for(name);
        let i = model
            .find(ns, name)
            .ok_or_else(|| CreateError::UnknownEndpoint(name.clone()))?;
        found.push(&model.endpoints[i]);
    }
    let io = |file: &str| {
        let file = file.to_string();
        move |error: OutputError| CreateError::Write { file, error }
    };
    let existing = out
        .read_text(EARTHMOVER_FILE)
        .await
        .map_err(io(EARTHMOVER_FILE))?;
    let mut existing_templates = Vec::new();
    for e in &found {
        let path = template_path(&e.name);
        if out.exists(&path).await.map_err(io(&path))? {
            existing_templates.push(e.name.clone());
        }
    }
    let files = scaffold(model, &found, existing.as_deref(), &existing_templates)?;
    let mut written = Vec::with_capacity(files.len());
    for (path, content) in files {
        let verb = if path == EARTHMOVER_FILE && existing.is_some() {
            "appending to"
        } else {
            "creating"
        };
        session.log(LogLevel::Info, format!("{verb} file `{path}`..."));
        let mut w = out.create(&path).await.map_err(io(&path))?;
        w.write(content.as_bytes()).await.map_err(io(&path))?;
        w.finish().await.map_err(io(&path))?;
        written.push(path);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::openapi::Document;
    use serde_json::json;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    fn model() -> Model {
        let doc = json!({
            "openapi": "3.0.1",
            "paths": {
                "/ed-fi/widgets": {"post": {}, "get": {}},
                "/ed-fi/colorDescriptors": {"post": {}, "get": {}}
            },
            "components": {"schemas": {
                "edFi_widget": {"type": "object", "required": ["widgetId", "parts"], "properties": {
                    "id": {"type": "string"},
                    "note": {"type": "string"},
                    "widgetId": {"type": "integer"},
                    "schoolReference": {"$ref": "#/components/schemas/edFi_schoolReference"},
                    "parts": {"type": "array", "items": {"$ref": "#/components/schemas/edFi_widgetPart"}},
                    "trimColorDescriptor": {"type": "string"},
                    "weight": {"type": "number"},
                    "_ext": {"$ref": "#/components/schemas/widgetExtensions"},
                    "_etag": {"type": "string"},
                    "_lastModifiedDate": {"type": "string"}
                }},
                "edFi_schoolReference": {"type": "object", "required": ["schoolId"], "properties": {
                    "schoolId": {"type": "integer"}, "link": {"$ref": "#/components/schemas/link"}}},
                "edFi_widgetPart": {"type": "object", "required": ["colorDescriptor"], "properties": {
                    "colorDescriptor": {"type": "string"},
                    "periods": {"type": "array", "items": {"$ref": "#/components/schemas/edFi_period"}}
                }},
                "edFi_period": {"type": "object", "required": ["beginDate"], "properties": {
                    "beginDate": {"type": "string", "format": "date"}, "endDate": {"type": "string"}}},
                "widgetExtensions": {"type": "object", "properties": {
                    "sample": {"$ref": "#/components/schemas/sample_widgetExtension"}}},
                "sample_widgetExtension": {"type": "object", "properties": {
                    "flag": {"type": "boolean"}, "code": {"type": "string"}}},
                "edFi_colorDescriptor": {"type": "object", "required": ["codeValue", "namespace", "shortDescription"], "properties": {
                    "id": {"type": "string"}, "colorDescriptorId": {"type": "integer"},
                    "codeValue": {"type": "string"}, "namespace": {"type": "string"},
                    "shortDescription": {"type": "string"}, "_etag": {"type": "string"}}},
                "link": {"type": "object", "properties": {"rel": {"type": "string"}}}
            }}
        });
        Model::new(vec![Document::new(doc).unwrap()])
    }

    const WIDGET: &str = r#"{#
  This is an earthmover JSON template file, generated with `lightbeam create`, for creating Ed-Fi JSON `widgets`
  payloads using earthmover. See https://github.com/edanalytics/earthmover for documentation.
#}
{
  {# (optional) #} {% if note %}"note": "{{note}}",{% endif %}
  {# (required) #} "widgetId": {{widgetId}}{% if schoolReference_schoolId is not none and schoolReference_schoolId | string | length %},
  {# (optional) #} "schoolReference": {
    {# (required) #} "schoolId": {{schoolReference_schoolId}}
  }{% endif %},
  {# (required) #} "parts": [ {% for item in parts %}
    {
      {# (required) #} "colorDescriptor": "{{descriptor_namespace()}}/ColorDescriptor#{{item.colorDescriptor}}"{% if item.periods %},
      {# (optional) #} "periods": [ {% for item2 in item.periods %}
        {
          {# (required) #} "beginDate": "{{item2.beginDate}}"{% if item2.endDate %},
          {# (optional) #} "endDate": "{{item2.endDate}}"{% endif %}
        }{% if not loop.last %},{% endif %}
      {% endfor %} ]{% endif %}
    }{% if not loop.last %},{% endif %}
  {% endfor %} ]{% if trimColorDescriptor %},
  {# (optional) #} "trimColorDescriptor": "{{descriptor_namespace()}}/ColorDescriptor#{{trimColorDescriptor}}"{% endif %}{% if weight is not none and weight | string | length %},
  {# (optional) #} "weight": {{weight}}{% endif %}{% if ((_ext_sample_flag is not none and _ext_sample_flag | string | length) or _ext_sample_code) %},
  {# (optional) #} "_ext": { {%- set comma2 = joiner(",") %}
    {# (optional) #} {% if ((_ext_sample_flag is not none and _ext_sample_flag | string | length) or _ext_sample_code) %}{{ comma2() }}"sample": { {%- set comma3 = joiner(",") %}
      {# (optional) #} {% if _ext_sample_flag is not none and _ext_sample_flag | string | length %}{{ comma3() }}"flag": {{_ext_sample_flag}}{% endif %}
      {# (optional) #} {% if _ext_sample_code %}{{ comma3() }}"code": "{{_ext_sample_code}}"{% endif %}
    }{% endif %}
  }{% endif %}
}"#;

    #[test]
    fn widget_template() {
        let m = model();
        let e = &m.endpoints[m.find("ed-fi", "widgets").unwrap()];
        let got = template(&m, e);
        assert_eq!(got, WIDGET, "\n{got}");
    }

    #[test]
    fn descriptor_template_leaves_out_server_managed_fields() {
        let m = model();
        let e = &m.endpoints[m.find("ed-fi", "colorDescriptors").unwrap()];
        let got = template(&m, e);
        assert!(got.ends_with(
            "{\n  {# (required) #} \"codeValue\": \"{{codeValue}}\",\n  {# (required) #} \"namespace\": \"{{namespace}}\",\n  {# (required) #} \"shortDescription\": \"{{shortDescription}}\"\n}"
        ), "{got}");
        assert!(!got.contains("colorDescriptorId"));
    }

    #[test]
    fn scaffold_files_and_conflicts() {
        let m = model();
        let w = &m.endpoints[m.find("ed-fi", "widgets").unwrap()];
        let c = &m.endpoints[m.find("ed-fi", "colorDescriptors").unwrap()];
        let files = scaffold(&m, &[c, w], None, &[]).unwrap();
        let paths: Vec<&str> = files.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            paths,
            vec![
                "templates/colorDescriptors.jsont",
                "templates/widgets.jsont",
                "earthmover.yml"
            ]
        );
        let em = &files[2].1;
        assert!(em.starts_with("version: 2.0\n"));
        assert!(em.ends_with("destinations:\n  colorDescriptors:\n    source: $transformations.colorDescriptors\n    template: templates/colorDescriptors.jsont\n    extension: jsonl\n    linearize: True\n  widgets:\n    source: $transformations.widgets\n    template: templates/widgets.jsont\n    extension: jsonl\n    linearize: True"));
        // appending to an existing project
        let files = scaffold(&m, &[w], Some("destinations:\n  others: {}"), &[]).unwrap();
        assert_eq!(
            files[1].1,
            format!(
                "destinations:\n  others: {{}}{}",
                destination_node("widgets")
            )
        );
        assert_eq!(
            scaffold(&m, &[c, w], Some(em), &[]).unwrap_err(),
            CreateError::DestinationExists("colorDescriptors".into())
        );
        assert_eq!(
            scaffold(&m, &[w], None, &["widgets".to_string()])
                .unwrap_err()
                .to_string(),
            "The file `templates/widgets.jsont` already exists in the current directory; to re-create it, please first manually delete it."
        );
        assert!(matches!(
            scaffold(&m, &[w], Some("destinations: [\n"), &[]),
            Err(CreateError::Earthmover(_))
        ));
    }
}
