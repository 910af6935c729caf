//! Loading the documents and the seed data a sandbox starts with.

use crate::store::{Api, ErrorStyle, Store};
use anyhow::{bail, Context};
use lightbeam_core::api::openapi::{Document, Model};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// Read and parse an OpenAPI document.
pub fn read_document(path: &Path) -> anyhow::Result<(Vec<u8>, Document)> {
    let raw = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let value: Value =
        serde_json::from_slice(&raw).with_context(|| format!("{} is not JSON", path.display()))?;
    let doc = Document::new(value)
        .with_context(|| format!("{} is not an Ed-Fi OpenAPI document", path.display()))?;
    Ok((raw, doc))
}

/// `{"/ed-fi/students": 3, ...}` from a dependencies document (the first `Create` entry).
pub fn dependency_orders(raw: &[u8]) -> anyhow::Result<HashMap<String, i64>> {
    let v: Value = serde_json::from_slice(raw).context("the dependencies document is not JSON")?;
    let Some(items) = v.as_array() else {
        bail!("the dependencies document is not a JSON array");
    };
    let mut out = HashMap::new();
    for it in items {
        let creates = it["operations"]
            .as_array()
            .is_none_or(|ops| ops.iter().any(|o| o == "Create"));
        if let (Some(r), Some(o), true) = (it["resource"].as_str(), it["order"].as_i64(), creates) {
            out.entry(r.to_ascii_lowercase()).or_insert(o);
        }
    }
    Ok(out)
}

/// The API model with an empty store pre-seeded with schoolYearTypes 1991-2050, as the ODS.
pub fn build(resources: Document, descriptors: Document, style: ErrorStyle) -> (Api, Store) {
    let api = Api::new(Model::new(vec![resources, descriptors]), style);
    let mut store = Store::new(&api);
    if let Some(ep) = api.model.find("ed-fi", "schoolYearTypes") {
        let current = 2025;
        for y in 1991..=2050 {
            let body = json!({"schoolYear": y, "currentSchoolYear": y == current, "schoolYearDescription": format!("{}-{}", y - 1, y)});
            let _ = store.upsert(&api, ep, body);
        }
    }
    (api, store)
}

/// Load `{endpoint}.jsonl` files from seed directories, in dependency order.
/// Returns (records loaded, problems).
pub fn load_seed_dirs(
    api: &Api,
    store: &mut Store,
    dirs: &[PathBuf],
    orders: &HashMap<String, i64>,
) -> anyhow::Result<(usize, Vec<String>)> {
    let mut files: Vec<(i64, usize, PathBuf)> = Vec::new();
    let mut problems = Vec::new();
    for dir in dirs {
        let entries = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read seed dir {}", dir.display()))?;
        for entry in entries {
            let path = entry?.path();
            let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
                continue;
            };
            let Some(stem) = name
                .strip_suffix(".jsonl")
                .or_else(|| name.strip_suffix(".ndjson"))
            else {
                continue;
            };
            let found = api
                .model
                .namespaces()
                .iter()
                .filter_map(|ns| api.model.find(ns, stem))
                .min_by_key(|i| (api.model.endpoints[*i].namespace != "ed-fi", *i));
            match found {
                Some(ep) => {
                    let order = orders
                        .get(&api.model.endpoints[ep].path().to_ascii_lowercase())
                        .copied()
                        .unwrap_or(i64::MAX);
                    files.push((order, ep, path));
                }
                None => problems.push(format!("{}: no endpoint named {stem}", path.display())),
            }
        }
    }
    files.sort();
    let mut loaded = 0;
    for (_, ep, path) in files {
        let f = std::fs::File::open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
            let line =
                line.with_context(|| format!("{} line {}: not UTF-8", path.display(), i + 1))?;
            let line = line.trim().trim_start_matches('\u{feff}');
            if line.is_empty() {
                continue;
            }
            match serde_json::from_str::<Value>(line) {
                Ok(v) => match store.upsert(api, ep, v) {
                    Ok(_) => loaded += 1,
                    Err(e) => problems.push(format!("{} line {}: {e:?}", path.display(), i + 1)),
                },
                Err(e) => problems.push(format!(
                    "{} line {}: invalid JSON: {e}",
                    path.display(),
                    i + 1
                )),
            }
        }
    }
    Ok((loaded, problems))
}
