//! Generated data loads into a seeded sandbox with only 201s, in dependency order.

use lightbeam_testkit::{generate, tmp_dir, total_lines, Sandbox, Version};

#[test]
fn generated_school_system_loads_with_only_201s() {
    let out = tmp_dir("gen");
    // "{lines}\t{endpoint}" in dependency order
    let files = generate(&out, 250, 11);
    assert!(files.len() >= 14, "{files:?}");
    let sb = Sandbox::start(Version::Ds50, &[]);
    let token = sb.token();
    let deps = sb.get_json(&sb.url("/metadata/data/v3/dependencies"));
    let deps = deps.as_array().unwrap();
    let order = |e: &str| {
        deps.iter()
            .find(|d| {
                d["resource"] == format!("/ed-fi/{e}")
                    && d["operations"].to_string().contains("Create")
            })
            .and_then(|d| d["order"].as_i64())
            .unwrap_or_else(|| panic!("{e} not in the dependencies"))
    };
    let mut by_level: Vec<(i64, String)> =
        files.iter().map(|(e, _)| (order(e), e.clone())).collect();
    by_level.sort();
    let mut levels: Vec<Vec<String>> = Vec::new();
    let mut last = None;
    for (o, e) in by_level {
        if last != Some(o) {
            levels.push(Vec::new());
            last = Some(o);
        }
        levels.last_mut().unwrap().push(e);
    }
    for level in &levels {
        let bodies: Vec<(String, String, usize)> = level
            .iter()
            .flat_map(|e| {
                let text = std::fs::read_to_string(out.join(format!("{e}.jsonl"))).unwrap();
                text.lines()
                    .enumerate()
                    .map(|(i, l)| (e.clone(), l.to_string(), i + 1))
                    .collect::<Vec<_>>()
            })
            .collect();
        let chunks: Vec<Vec<(String, String, usize)>> = bodies
            .chunks(bodies.len().div_ceil(4).max(1))
            .map(|c| c.to_vec())
            .collect();
        std::thread::scope(|s| {
            for chunk in chunks {
                let (sb, token) = (&sb, &token);
                s.spawn(move || {
                    for (e, body, line) in chunk {
                        let r = sb
                            .http
                            .post(sb.data(&format!("/ed-fi/{e}")))
                            .bearer_auth(token)
                            .header("content-type", "application/json")
                            .body(body)
                            .send()
                            .unwrap();
                        let status = r.status().as_u16();
                        assert_eq!(
                            status,
                            201,
                            "{e} line {line}: {}",
                            r.text().unwrap_or_default()
                        );
                    }
                });
            }
        });
    }
    let stats = sb.stats();
    for (e, n) in &files {
        assert_eq!(
            stats["records"][format!("ed-fi/{e}")].as_u64().unwrap(),
            *n,
            "{e}"
        );
    }
    assert_eq!(stats["creates"].as_u64().unwrap(), total_lines(&files));
    assert_eq!(stats["updates"], 0);
    let _ = std::fs::remove_dir_all(&out);
}
