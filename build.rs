//! Embeds the shipped cases and worlds (`cases/**/*.json`) in the crate, as
//! the specs are, so that `imgconform run` works from any folder after
//! `cargo install`. Writes `$OUT_DIR/embedded_cases.rs`: a table of each
//! file's path (from the crate's root) and its text through `include_str!`,
//! which makes Cargo rebuild when a file changes; the `rerun-if-changed`
//! on the folder catches files added or removed.

use std::path::{Path, PathBuf};

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "json") {
            out.push(path);
        }
    }
}

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by Cargo"));
    let cases = root.join("cases");
    println!("cargo:rerun-if-changed=cases");
    let mut files = Vec::new();
    json_files(&cases, &mut files);
    files.sort();
    let mut table = String::from("&[\n");
    for file in &files {
        let relative = file.strip_prefix(&root).expect("under the crate's root");
        table.push_str(&format!(
            "    ({:?}, include_str!({:?})),\n",
            relative.to_string_lossy().replace('\\', "/"),
            file.to_string_lossy()
        ));
    }
    table.push(']');
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by Cargo"));
    std::fs::write(out.join("embedded_cases.rs"), table).expect("OUT_DIR is writable");
}
