//! The workspace's structure: no two files of a crate import each other (directly or round a
//! circle), and no crate reaches back up the data path.
//!
//! A file imports another when it names a module path (`crate::`, `super::`, `self::`) that
//! resolves to that file's module. Paths to the file's own ancestors (the crate root and the
//! `mod.rs` files above it) are not counted: an ancestor declares and re-exports its children,
//! and a child using its ancestor's items is the intended direction. Test modules at the end
//! of a file (`#[cfg(test)]`) are left out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A module path inside a crate: `[]` is the root, `["eval", "separation"]` a module.
type ModulePath = Vec<String>;

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The source folders of every package: `src/` of the binary and each crate's.
fn source_roots() -> Vec<PathBuf> {
    let mut roots = vec![workspace().join("src")];
    let crates = std::fs::read_dir(workspace().join("crates")).unwrap();
    let mut crate_roots: Vec<PathBuf> = crates
        .map(|entry| entry.unwrap().path().join("src"))
        .filter(|src| src.is_dir())
        .collect();
    crate_roots.sort();
    roots.extend(crate_roots);
    roots
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module a file holds: `lib.rs`/`main.rs` the root, `a/mod.rs` and `a.rs` module `a`.
fn module_of(root: &Path, file: &Path) -> ModulePath {
    let relative = file.strip_prefix(root).unwrap().with_extension("");
    let mut parts: ModulePath = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

/// Every module path the code of `text` names from `crate::`, `super::` or `self::`, for a
/// file holding `module`.
fn named_paths(text: &str, module: &ModulePath) -> Vec<ModulePath> {
    let code: String = text
        .split("#[cfg(test)]")
        .next()
        .unwrap_or("")
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut paths = Vec::new();
    let parent = (!module.is_empty()).then(|| module[..module.len() - 1].to_vec());
    for (anchor, base) in [
        ("crate::", Some(Vec::new())),
        ("super::", parent),
        ("self::", Some(module.clone())),
    ] {
        let Some(base) = base else { continue };
        let mut rest = code.as_str();
        while let Some(at) = rest.find(anchor) {
            let boundary = rest[..at]
                .chars()
                .last()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_'));
            rest = &rest[at + anchor.len()..];
            if boundary {
                expand(rest, &base, &mut paths);
            }
        }
    }
    paths
}

/// Appends the paths of a `use` tree starting at `text` (after an anchor) to `out`.
fn expand(text: &str, base: &ModulePath, out: &mut Vec<ModulePath>) {
    let mut path = base.clone();
    let mut chars = text;
    loop {
        if let Some(group) = chars.strip_prefix('{') {
            for item in split_group(group) {
                expand(item.trim(), &path, out);
            }
            return;
        }
        let end = chars
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(chars.len());
        let segment = &chars[..end];
        if segment.is_empty() || segment == "self" {
            break;
        }
        path.push(segment.to_string());
        match chars[end..].strip_prefix("::") {
            Some(next) => chars = next,
            None => break,
        }
    }
    out.push(path);
}

/// The top-level items of a brace group, `a::b, c::{d, e}, f }...` → `a::b`, `c::{d, e}`, `f`.
fn split_group(text: &str) -> Vec<&str> {
    let (mut depth, mut start, mut items) = (0usize, 0usize, Vec::new());
    for (i, c) in text.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&text[start..i]);
                return items;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items
}

/// The modules of one source folder and the files each names, ancestors left out.
fn import_graph(root: &Path) -> BTreeMap<ModulePath, BTreeSet<ModulePath>> {
    let mut files = Vec::new();
    rust_files(root, &mut files);
    let modules: BTreeMap<ModulePath, PathBuf> = files
        .iter()
        .map(|file| (module_of(root, file), file.clone()))
        .collect();
    let mut graph = BTreeMap::new();
    for (module, file) in &modules {
        let text = std::fs::read_to_string(file).unwrap();
        let mut targets = BTreeSet::new();
        for path in named_paths(&text, module) {
            // The longest prefix that is a file of this crate.
            let target = (0..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|prefix| modules.contains_key(prefix));
            if let Some(target) = target {
                let is_ancestor = module.starts_with(&target);
                if !is_ancestor {
                    targets.insert(target);
                }
            }
        }
        graph.insert(module.clone(), targets);
    }
    graph
}

/// Circles of the graph: strongly connected groups of more than one module (Tarjan).
fn circles(graph: &BTreeMap<ModulePath, BTreeSet<ModulePath>>) -> Vec<Vec<ModulePath>> {
    struct Search<'a> {
        graph: &'a BTreeMap<ModulePath, BTreeSet<ModulePath>>,
        index: BTreeMap<&'a ModulePath, usize>,
        low: BTreeMap<&'a ModulePath, usize>,
        stack: Vec<&'a ModulePath>,
        on_stack: BTreeSet<&'a ModulePath>,
        found: Vec<Vec<ModulePath>>,
    }
    impl<'a> Search<'a> {
        fn visit(&mut self, node: &'a ModulePath) {
            let n = self.index.len();
            self.index.insert(node, n);
            self.low.insert(node, n);
            self.stack.push(node);
            self.on_stack.insert(node);
            for next in self.graph.get(node).into_iter().flatten() {
                if !self.index.contains_key(next) {
                    self.visit(next);
                    let low = self.low[node].min(self.low[next]);
                    self.low.insert(node, low);
                } else if self.on_stack.contains(next) {
                    let low = self.low[node].min(self.index[next]);
                    self.low.insert(node, low);
                }
            }
            if self.low[node] == self.index[node] {
                let mut group = Vec::new();
                while let Some(member) = self.stack.pop() {
                    self.on_stack.remove(member);
                    group.push(member.clone());
                    if member == node {
                        break;
                    }
                }
                if group.len() > 1 {
                    self.found.push(group);
                }
            }
        }
    }
    let mut search = Search {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for node in graph.keys() {
        if !search.index.contains_key(node) {
            search.visit(node);
        }
    }
    search.found
}

#[test]
fn no_two_files_of_a_crate_import_each_other() {
    let mut found = Vec::new();
    for root in source_roots() {
        for circle in circles(&import_graph(&root)) {
            let names: Vec<String> = circle.iter().map(|m| m.join("::")).collect();
            found.push(format!("{}: {}", root.display(), names.join(" <-> ")));
        }
    }
    assert!(found.is_empty(), "import circles:\n{}", found.join("\n"));
}

/// The checker itself: a circle of two siblings, through a group and `super::`, is found,
/// and a child's use of its parent is not one.
#[test]
fn the_circle_finder_sees_a_circle_and_only_a_circle() {
    let dir = std::env::temp_dir().join(format!("polyphon-structure-{}", std::process::id()));
    let src = dir.join("src");
    std::fs::create_dir_all(src.join("jobs")).unwrap();
    let write = |name: &str, text: &str| std::fs::write(src.join(name), text).unwrap();
    write("lib.rs", "mod jobs;\nmod a;\npub use jobs::b::Thing;\n");
    write("a.rs", "use crate::{jobs::b::Thing, Result};\n");
    write("jobs/mod.rs", "pub mod b;\npub mod c;\n");
    write(
        "jobs/b.rs",
        "use super::c::helper;\nuse crate::jobs::Other;\n",
    );
    write(
        "jobs/c.rs",
        "// use crate::a::nothing;\nuse super::b::Thing;\n",
    );
    let graph = import_graph(&src);
    let found = circles(&graph);
    std::fs::remove_dir_all(&dir).unwrap();
    let b: ModulePath = vec!["jobs".into(), "b".into()];
    let c: ModulePath = vec!["jobs".into(), "c".into()];
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(
        found[0].iter().collect::<BTreeSet<_>>(),
        [&b, &c].into_iter().collect()
    );
    assert!(graph[&vec!["a".to_string()]].contains(&b));
    assert!(!graph[&b].contains(&vec!["jobs".to_string()]));
}

/// The crates a package's Cargo.toml depends on, among the workspace's.
fn workspace_dependencies(manifest: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let dependencies = text
        .split("\n[")
        .filter(|section| section.starts_with("dependencies]"))
        .collect::<Vec<_>>()
        .join("\n");
    dependencies
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| name.starts_with("polyphon"))
        .map(str::to_string)
        .collect()
}

/// Each crate may use only crates before it on the data path (the README's layout), so no
/// dependency runs back up; synthesis is used by the facade alone.
#[test]
fn crates_depend_only_on_crates_before_them() {
    let order = [
        "polyphon-core",
        "polyphon-audio",
        "polyphon-features",
        "polyphon-plot",
        "polyphon-synth",
        "polyphon-datasets",
        "polyphon-models",
        "polyphon-decode",
        "polyphon-eval",
        "polyphon-instruments",
        "polyphon-analysis",
        "polyphon-train",
        "polyphon",
        "polyphon-python",
    ];
    let mut problems = Vec::new();
    for (position, name) in order.iter().enumerate() {
        let manifest = workspace().join("crates").join(name).join("Cargo.toml");
        for dependency in workspace_dependencies(&manifest) {
            let allowed = order[..position].contains(&dependency.as_str());
            let synthesis = dependency == "polyphon-synth" && *name != "polyphon";
            if !allowed || synthesis {
                problems.push(format!("{name} depends on {dependency}"));
            }
        }
    }
    let mut crates: Vec<String> = std::fs::read_dir(workspace().join("crates"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    crates.sort();
    let mut listed: Vec<String> = order.iter().map(|s| s.to_string()).collect();
    listed.sort();
    assert_eq!(crates, listed, "every crate has its place in the order");
    let cli = workspace_dependencies(&workspace().join("Cargo.toml"));
    assert!(cli.contains("polyphon"), "the command uses the library");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
