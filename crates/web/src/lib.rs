//! The lightbeam web app: a Leptos single-page app over the same engine as the CLI, compiled to
//! WebAssembly. Three layers: [`logic`] (pure, tested natively: what the panels show), `browser`
//! (the browser adapters of the core's ports: fetch, timers, IndexedDB, dropped files, the
//! confirmation dialog) and `ui` (one component per panel); the last two exist on wasm32 only.

pub mod logic;

#[cfg(target_arch = "wasm32")]
pub mod browser;
#[cfg(target_arch = "wasm32")]
pub mod ui;

/// Mounts the app on the page's body (called by index.html once the module is loaded).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn mount() {
    leptos::mount::mount_to_body(ui::App);
}

/// Benchmark hook (scripts/bench-web.sh): reads a file in chunks, splits its lines and hashes
/// every payload, as `send` does before deciding what to skip. Resolves to the number of lines.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub async fn bench_read_hash(file: web_sys::File) -> Result<f64, wasm_bindgen::JsValue> {
    use lightbeam_core::ports::ChunkReader;
    let mut reader = browser::files::BlobReader::new(file.into(), browser::files::CHUNK);
    let mut splitter = lightbeam_core::data::lines::LineSplitter::new();
    let mut lines = 0u64;
    loop {
        let chunk = reader
            .next_chunk()
            .await
            .map_err(|e| wasm_bindgen::JsValue::from_str(&e.to_string()))?;
        let batch = match &chunk {
            Some(c) => splitter.push(c),
            None => splitter.finish(),
        };
        for l in batch {
            if let Ok(t) = l.text {
                let _ = lightbeam_core::state::Digest::of_line(&t);
                lines += 1;
            }
        }
        if chunk.is_none() {
            return Ok(lines as f64);
        }
    }
}
