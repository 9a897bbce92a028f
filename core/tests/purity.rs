//! Architecture invariant: the core is pure. It depends only on serde, thiserror, chrono,
//! chrono-tz and toml, and chrono comes without its clock.

// This test reads the manifests from disk, which the library itself may never do.
#![allow(clippy::disallowed_methods, clippy::unwrap_used)]

use std::path::Path;

const ALLOWED: [&str; 5] = ["serde", "thiserror", "chrono", "chrono-tz", "toml"];

fn manifest(path: &Path) -> toml::Table {
    let text = std::fs::read_to_string(path).unwrap();
    text.parse().unwrap()
}

#[test]
fn core_depends_only_on_the_allowed_crates() {
    let core = manifest(&Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml"));
    for section in ["dependencies", "build-dependencies"] {
        let Some(deps) = core.get(section).and_then(|d| d.as_table()) else { continue };
        let extra: Vec<&String> =
            deps.keys().filter(|name| !ALLOWED.contains(&name.as_str())).collect();
        assert!(extra.is_empty(), "desk-core must stay pure; remove {extra:?} from [{section}]");
    }
    assert!(core.get("target").is_none(), "desk-core must not have target-specific dependencies");
}

#[test]
fn chrono_comes_without_its_clock() {
    let root = manifest(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml"));
    let deps = &root["workspace"]["dependencies"];
    for name in ["chrono", "chrono-tz"] {
        let dep = deps[name].as_table().unwrap();
        assert_eq!(dep.get("default-features").and_then(|v| v.as_bool()), Some(false), "{name}");
        let features: Vec<&str> =
            dep["features"].as_array().unwrap().iter().filter_map(|f| f.as_str()).collect();
        for forbidden in ["clock", "now", "wasmbind"] {
            assert!(!features.contains(&forbidden), "{name} must not enable `{forbidden}`");
        }
    }
}
