//! Repository hygiene the compiler cannot check: every Rust file (so every crate) starts with
//! `//!` docs, the README's embedding example is the compiled one, and the README gives exactly
//! two set-up commands.

use std::path::{Path, PathBuf};

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ has a parent").to_path_buf()
}

/// Every `.rs` file under `dir`, skipping build output and hidden directories.
fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a readable directory") {
        let path = entry.expect("a directory entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(&path, found);
            }
        } else if name.ends_with(".rs") {
            found.push(path);
        }
    }
}

#[test]
fn every_rust_file_starts_with_module_docs() {
    let mut files = Vec::new();
    rust_files(&root(), &mut files);
    assert!(files.len() > 50, "found only {} files", files.len());
    let undocumented: Vec<String> = files
        .iter()
        .filter(|file| {
            let text = std::fs::read_to_string(file).expect("a readable file");
            !text.starts_with("//!")
        })
        .map(|file| file.strip_prefix(root()).unwrap_or(file).display().to_string())
        .collect();
    assert!(undocumented.is_empty(), "start these with `//!` docs: {undocumented:#?}");
}

/// The fenced blocks of `markdown` whose info string is exactly `info`.
fn blocks<'a>(markdown: &'a str, info: &str) -> Vec<Vec<&'a str>> {
    let mut found = Vec::new();
    let mut current: Option<Vec<&str>> = None;
    for line in markdown.lines() {
        match (&mut current, line.strip_prefix("```")) {
            (None, Some(rest)) if rest == info => current = Some(Vec::new()),
            (Some(_), Some("")) => found.extend(current.take()),
            (Some(lines), _) => lines.push(line),
            (None, _) => {}
        }
    }
    found
}

#[test]
fn the_readme_shows_the_compiled_embedding_example() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let example = std::fs::read_to_string(root().join("examples/embed/src/main.rs"))
        .expect("the embedding example");
    // The README shows the example from its first `use` on (its docs and lint line are for
    // readers of the file).
    let code: Vec<&str> = example.lines().skip_while(|line| !line.starts_with("use ")).collect();
    let shown = blocks(&readme, "rust");
    assert!(shown.contains(&code), "README.md's embedding example differs from examples/embed");
    assert!(code.len() <= 40, "the example should stay short: {} lines", code.len());
}

#[test]
fn the_readme_gives_two_set_up_commands() {
    let readme = std::fs::read_to_string(root().join("README.md")).expect("README.md");
    let setup = readme.split("## Set up").nth(1).expect("a Set up section");
    let commands = blocks(setup, "sh").into_iter().next().expect("a shell block in Set up");
    let commands: Vec<&str> = commands.into_iter().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(commands.len(), 2, "{commands:#?}");
    assert!(commands[1].starts_with(".ci/test"), "the second runs every test: {commands:?}");
    let ci = std::fs::read_to_string(root().join(".ci/run")).expect(".ci/run");
    assert!(ci.contains(".ci/test"), "CI runs the README's test command");
}
