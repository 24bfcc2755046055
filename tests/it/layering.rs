//! The layering of `src/`, checked from its source text so that it stays:
//! - `ui` imports `app` and egui, never `store`, `ml`, `jobs` or `studio`;
//! - `app` never imports `ui`, and the files of `src/app/` import each other
//!   without a cycle;
//! - `render` imports neither `store` nor `jobs`;
//! - `studio` (the headless core) and `ml` know nothing of egui, eframe,
//!   `app` or `ui`; `ml` does not import `store`, `jobs` or `studio`.
//!
//! Module paths are read from `use` lines and from inline paths
//! (`crate::x::`, `super::x::`), outside `#[cfg(test)]` modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).expect("read src dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The file's code without comments and without its test module.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).expect("read source");
    let text = match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    text.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every `crate::<module>` a file names (in `use` lines, `use` groups and
/// inline paths), plus `egui`/`eframe` when it uses them.
fn crate_modules(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            // `crate::{a, b::c}`: every first segment inside the braces.
            if let Some(group) = rest.strip_prefix('{') {
                let end = group.find('}').unwrap_or(group.len());
                for part in group[..end].split(',') {
                    let first: String = part
                        .trim()
                        .chars()
                        .take_while(|c| c.is_alphanumeric() || *c == '_')
                        .collect();
                    if !first.is_empty() {
                        found.insert(first);
                    }
                }
            }
        } else {
            found.insert(name);
        }
    }
    for external in ["egui", "eframe", "egui_plot"] {
        let used =
            code.contains(&format!("{external}::")) || code.contains(&format!("use {external}"));
        if used {
            found.insert(external.to_string());
        }
    }
    found
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn layer_of(path: &Path) -> String {
    let rel = path.strip_prefix(src()).expect("under src");
    let first = rel.components().next().expect("component");
    first
        .as_os_str()
        .to_string_lossy()
        .trim_end_matches(".rs")
        .to_string()
}

#[test]
fn layers_import_only_what_they_may() {
    let forbidden: BTreeMap<&str, &[&str]> = BTreeMap::from([
        ("ui", &["store", "ml", "jobs", "studio"][..]),
        ("app", &["ui"][..]),
        (
            "render",
            &["store", "jobs", "studio", "app", "ui", "egui", "eframe"][..],
        ),
        ("studio", &["app", "ui", "egui", "eframe", "egui_plot"][..]),
        (
            "ml",
            &[
                "store",
                "jobs",
                "studio",
                "app",
                "ui",
                "egui",
                "eframe",
                "egui_plot",
            ][..],
        ),
        (
            "product",
            &["store", "jobs", "studio", "app", "ui", "egui", "eframe"][..],
        ),
        (
            "store",
            &["ml", "jobs", "studio", "app", "ui", "egui", "eframe"][..],
        ),
    ]);
    let mut violations = Vec::new();
    for file in rust_files(&src()) {
        let layer = layer_of(&file);
        let Some(banned) = forbidden.get(layer.as_str()) else {
            continue;
        };
        for module in crate_modules(&code_of(&file)) {
            if banned.contains(&module.as_str()) {
                violations.push(format!("{} imports {module}", file.display()));
            }
        }
    }
    assert!(
        violations.is_empty(),
        "layering broken:\n{}",
        violations.join("\n")
    );
}

/// The files of `src/app/` a file of it names through `super::` or
/// `crate::app::` (a name that is not a file means `mod.rs`).
fn app_edges(code: &str, files: &BTreeSet<String>) -> BTreeSet<String> {
    let mut edges = BTreeSet::new();
    for prefix in ["super::", "crate::app::"] {
        for (i, _) in code.match_indices(prefix) {
            let rest = &code[i + prefix.len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let names: Vec<String> = if name.is_empty() {
                let group = rest.strip_prefix('{').unwrap_or("");
                let end = group.find('}').unwrap_or(group.len());
                group[..end]
                    .split(',')
                    .map(|p| {
                        p.trim()
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect()
                    })
                    .collect()
            } else {
                vec![name]
            };
            for n in names.into_iter().filter(|n| !n.is_empty()) {
                edges.insert(if files.contains(&n) { n } else { "mod".into() });
            }
        }
    }
    edges
}

#[test]
fn app_files_import_each_other_without_a_cycle() {
    let dir = src().join("app");
    let paths = rust_files(&dir);
    let name = |p: &Path| p.file_stem().expect("stem").to_string_lossy().into_owned();
    let files: BTreeSet<String> = paths.iter().map(|p| name(p)).collect();
    let graph: BTreeMap<String, BTreeSet<String>> = paths
        .iter()
        .map(|p| {
            let mut edges = app_edges(&code_of(p), &files);
            edges.remove(&name(p));
            (name(p), edges)
        })
        .collect();
    // Depth-first search for a back edge.
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(node.to_string(), 1);
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            match state.get(next.as_str()).copied().unwrap_or(0) {
                1 => {
                    let start = path.iter().position(|n| n == next).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(next.clone());
                    return Some(cycle);
                }
                0 => {
                    if let Some(c) = visit(next, graph, state, path) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for node in graph.keys() {
        if state.get(node.as_str()).copied().unwrap_or(0) == 0 {
            let cycle = visit(node, &graph, &mut state, &mut Vec::new());
            assert!(cycle.is_none(), "import cycle in src/app: {:?}", cycle);
        }
    }
}

#[test]
fn the_checks_see_what_they_should() {
    let code = "use crate::{store::Store, jobs};\nfn f() { crate::ml::x(); egui::Id::new(1); }";
    let found = crate_modules(code);
    for m in ["store", "jobs", "ml", "egui"] {
        assert!(found.contains(m), "{m} not seen in {found:?}");
    }
    let files = BTreeSet::from(["a".to_string(), "b".to_string()]);
    let edges = app_edges("use super::a::X;\nuse super::{b::Y, Z};", &files);
    assert_eq!(
        edges,
        BTreeSet::from(["a".to_string(), "b".to_string(), "mod".to_string()])
    );
}
