//! The code's shape, checked: dependencies go one way (web → domain → audit/notify/db, pages →
//! components), no import cycle between modules, statuses and audit actions written only in their
//! enums, and no long module without the reason it is long. These fail the moment a change breaks
//! the rule, instead of waiting for a reviewer to notice.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// Every `.rs` file under `dir` with its text, test modules cut off.
fn sources(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let text = match text.find("#[cfg(test)]\nmod tests") {
                    Some(i) => text[..i].to_owned(),
                    None => text,
                };
                out.push((path, text));
            }
        }
    }
    out.sort();
    out
}

/// The module a file belongs to, `depth` path segments deep (`rollout::engine` at depth 2).
fn module_of(root: &Path, file: &Path, depth: usize) -> String {
    let rel = file.strip_prefix(root).unwrap_or(file).with_extension("");
    let parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .filter(|p| !matches!(p.as_str(), "mod" | "lib" | "main"))
        .collect();
    if parts.is_empty() {
        "crate".into()
    } else {
        parts.into_iter().take(depth).collect::<Vec<_>>().join("::")
    }
}

/// Module → the modules it names as `crate::…` (code only: comments are skipped).
fn dependencies(root: &Path, depth: usize) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, text) in sources(root) {
        let from = module_of(root, &file, depth);
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (i, _) in line.match_indices("crate::") {
                let rest = &line[i + "crate::".len()..];
                let path: Vec<&str> = rest
                    .split(|c: char| !(c.is_ascii_lowercase() || c == '_' || c == ':'))
                    .next()
                    .unwrap_or_default()
                    .split("::")
                    .filter(|s| !s.is_empty())
                    .collect();
                let to = path.iter().take(depth).copied().collect::<Vec<_>>().join("::");
                // A module may use its own children and its parent's items.
                if !to.is_empty() && to != from && !from.starts_with(&format!("{to}::")) {
                    graph.entry(from.clone()).or_default().insert(to);
                }
            }
        }
    }
    graph
}

/// One cycle in the graph, if there is any, as the path around it.
fn a_cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|start| visit(start, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_import_cycle_between_modules() {
    for (krate, depth) in [("server", 1), ("server", 2), ("app", 1), ("app", 2)] {
        let root = workspace().join(krate).join("src");
        let graph = dependencies(&root, depth);
        assert!(graph.len() > 3, "{krate}: the graph was read ({graph:?})");
        assert_eq!(a_cycle(&graph), None, "{krate} at depth {depth}: an import cycle");
    }
}

#[test]
fn dependencies_go_one_way() {
    let server = dependencies(&workspace().join("server/src"), 1);
    for lower in [
        "lifecycle",
        "requests",
        "rollout",
        "environments",
        "people",
        "audit",
        "notify",
        "db",
        "catalog",
        "error",
        "clock",
    ] {
        let uses: BTreeSet<&str> = server.get(lower).into_iter().flatten().map(String::as_str).collect();
        for upper in ["web", "application", "cli"] {
            assert!(
                !uses.contains(upper),
                "server::{lower} uses server::{upper}: the domain must not know the web layer"
            );
        }
    }
    // Day two sits above the domain: the domain never calls it.
    for lower in ["requests", "rollout", "environments", "people", "audit", "notify", "db"] {
        let uses: BTreeSet<&str> = server.get(lower).into_iter().flatten().map(String::as_str).collect();
        assert!(!uses.contains("lifecycle"), "server::{lower} uses server::lifecycle");
    }
    let app = dependencies(&workspace().join("app/src"), 2);
    for (module, uses) in &app {
        if module.starts_with("components") {
            assert!(!uses.iter().any(|u| u.starts_with("pages")), "{module} uses a page: {uses:?}");
        }
        if module.starts_with("pages::") {
            let pages: Vec<_> = uses.iter().filter(|u| u.starts_with("pages::")).collect();
            assert!(pages.is_empty(), "{module} uses another page: {pages:?}");
        }
    }
}

/// The texts of every enum in `app/src/model/status.rs` (`Variant = "text",`).
fn enum_texts() -> Vec<String> {
    let text = std::fs::read_to_string(workspace().join("app/src/model/status.rs")).unwrap_or_default();
    text.lines()
        .filter_map(|l| l.trim().split_once(" = \"").map(|(_, rest)| rest.trim_end_matches("\",").to_owned()))
        .collect()
}

#[test]
fn statuses_and_audit_actions_are_written_only_in_their_enums() {
    let texts = enum_texts();
    assert!(texts.len() > 40 && texts.contains(&"request.approved".to_owned()), "{texts:?}");
    let mut found = Vec::new();
    for krate in ["server", "app"] {
        for (file, text) in sources(&workspace().join(krate).join("src")) {
            if file.ends_with("model/status.rs") {
                continue;
            }
            for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim_start().starts_with("//")) {
                for t in &texts {
                    // A status compared or matched as text, a status in SQL, an audit action as text.
                    let written =
                        [format!("== \"{t}\""), format!("!= \"{t}\""), format!("\"{t}\" =>"), format!("'{t}'")]
                            .iter()
                            .any(|p| line.contains(p.as_str()))
                            || (t.contains('.') && line.contains(&format!("\"{t}\"")));
                    if written {
                        found.push(format!("{}:{}: {t}", file.display(), n + 1));
                    }
                }
            }
        }
    }
    assert!(found.is_empty(), "use the enums, not their texts:\n{}", found.join("\n"));
}

#[test]
fn long_modules_say_why_they_are_long() {
    for (file, _) in sources(&workspace().join("server/src")) {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        let lines = text.lines().count();
        let header: String = text.lines().take_while(|l| l.starts_with("//!")).collect::<Vec<_>>().join("\n");
        assert!(
            lines <= 420 || header.contains("Over 400 lines on purpose"),
            "{} has {lines} lines and no reason at its top",
            file.display()
        );
    }
}
