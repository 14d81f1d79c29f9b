//! The workspace's shape, checked on its source (in the manner of
//! rust-analyzer's tidy tests): every `.rs` file says what it owns in a `//!`
//! line; a service names `atmr_proto` only in `api/`, `peers/`, `lib.rs` and
//! `bin/`; no function takes its arguments under a local allowance of clippy's
//! too-many-arguments lint (pass a struct); no two modules import each other,
//! directly or round a circle; files stay short at the median, and one over 500
//! lines says in its `//!` why it is one concern. ARCHITECTURE.md names each of
//! these as an "Architecture Invariant".

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use syn::visit::Visit;

/// The crates whose source is checked, from the workspace root.
const CRATES: &[&str] = &[
    "proto",
    "migrations",
    "services/kit",
    "services/dispatch",
    "services/safety",
    "services/bugs",
    "services/notify",
    "services/atmr",
    "gateway",
    "reliability",
];

/// The service crates: their own protos enter through `api/`, other services'
/// through `peers/`.
const SERVICES: &[&str] = &["services/dispatch", "services/safety", "services/bugs", "services/notify"];

/// Where a service may name `atmr_proto`, relative to its `src/`.
const PROTO_ROOMS: &[&str] = &["api/", "peers/", "bin/", "lib.rs"];

/// A file longer than this says `One file` (and why) in its leading `//!` lines.
const LONG_FILE: usize = 500;

/// "About 150 lines at the median", over every crate's `src/`.
const MEDIAN_LINES: usize = 175;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Every `.rs` file of `krate` (its `src/`, `tests/`, `benches/`), read.
fn sources(krate: &str) -> Vec<(PathBuf, String)> {
    let root = workspace().join(krate);
    let mut files = Vec::new();
    for dir in ["src", "tests", "benches"] {
        rust_files(&root.join(dir), &mut files);
    }
    files.into_iter().map(|f| (f.clone(), std::fs::read_to_string(&f).unwrap())).collect()
}

fn shown(path: &Path) -> String {
    path.strip_prefix(workspace()).unwrap_or(path).display().to_string()
}

/// The file's leading `//!` block (blank lines before it skipped).
fn leading_doc(text: &str) -> Vec<&str> {
    text.lines().skip_while(|l| l.trim().is_empty()).take_while(|l| l.trim_start().starts_with("//!")).collect()
}

#[test]
fn every_file_says_what_it_owns() {
    let mut bare = Vec::new();
    for krate in CRATES {
        for (path, text) in sources(krate) {
            if leading_doc(&text).is_empty() {
                bare.push(shown(&path));
            }
        }
    }
    assert!(bare.is_empty(), "these files do not start with a `//!` line saying what they own:\n{}", bare.join("\n"));
}

#[test]
fn no_function_takes_too_many_arguments_under_an_allowance() {
    // Spelled in two halves so this file does not match itself.
    let needle = concat!("clippy::too_many", "_arguments");
    let mut found = Vec::new();
    for krate in CRATES {
        for (path, text) in sources(krate) {
            for (n, line) in text.lines().enumerate() {
                if line.contains(needle) && line.contains("allow(") {
                    found.push(format!("{}:{}: {}", shown(&path), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "pass a struct instead of allowing clippy's lint:\n{}", found.join("\n"));
}

#[test]
fn files_stay_short_and_a_long_one_says_why() {
    let mut unexplained = Vec::new();
    let mut lengths = Vec::new();
    for krate in CRATES {
        for (path, text) in sources(krate) {
            let lines = text.lines().count();
            if path.starts_with(workspace().join(krate).join("src")) {
                lengths.push(lines);
            }
            if lines > LONG_FILE && !leading_doc(&text).iter().any(|l| l.contains("One file")) {
                unexplained.push(format!("{} ({lines} lines)", shown(&path)));
            }
        }
    }
    assert!(
        unexplained.is_empty(),
        "files over {LONG_FILE} lines whose `//!` does not say `One file …` and why it is one concern:\n{}",
        unexplained.join("\n")
    );
    lengths.sort_unstable();
    let median = lengths[lengths.len() / 2];
    assert!(lengths.len() > 200, "the sources were read ({} files)", lengths.len());
    assert!(median <= MEDIAN_LINES, "the workspace's median source file is {median} lines, over {MEDIAN_LINES}");
}

/// Every path a file writes, with the inline module it is written in (empty
/// at the file's top): `use` trees flattened, and paths in items, expressions,
/// types and patterns (not those inside macro invocations).
#[derive(Default)]
struct Paths {
    inline: Vec<String>,
    found: Vec<(Vec<String>, Vec<String>)>,
}

impl Paths {
    fn of(file: &syn::File) -> Vec<(Vec<String>, Vec<String>)> {
        let mut paths = Paths::default();
        paths.visit_file(file);
        paths.found
    }

    fn flatten(tree: &syn::UseTree, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match tree {
            syn::UseTree::Path(p) => {
                prefix.push(p.ident.to_string());
                Self::flatten(&p.tree, prefix, out);
                prefix.pop();
            }
            syn::UseTree::Name(n) => out.push([prefix.as_slice(), &[n.ident.to_string()]].concat()),
            syn::UseTree::Rename(r) => out.push([prefix.as_slice(), &[r.ident.to_string()]].concat()),
            syn::UseTree::Glob(_) => out.push(prefix.clone()),
            syn::UseTree::Group(g) => g.items.iter().for_each(|t| Self::flatten(t, prefix, out)),
        }
    }
}

impl<'ast> Visit<'ast> for Paths {
    fn visit_item_use(&mut self, item: &'ast syn::ItemUse) {
        let mut prefix = Vec::new();
        if item.leading_colon.is_some() {
            prefix.push(String::new());
        }
        let mut flat = Vec::new();
        Self::flatten(&item.tree, &mut prefix, &mut flat);
        self.found.extend(flat.into_iter().map(|p| (self.inline.clone(), p)));
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        self.found.push((self.inline.clone(), path.segments.iter().map(|s| s.ident.to_string()).collect()));
        syn::visit::visit_path(self, path);
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        if is_test_only(&item.attrs) {
            return; // tests use the crate as a client does; they are no layer of it
        }
        self.inline.push(item.ident.to_string());
        syn::visit::visit_item_mod(self, item);
        self.inline.pop();
    }
}

/// `#[cfg(test)]`: code that exists only in the crate's unit tests.
fn is_test_only(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("cfg") && a.parse_args::<syn::Meta>().is_ok_and(|m| m.path().is_ident("test")))
}

/// A crate's modules: the module path of every file under `src/` (binaries
/// left out: each is a crate of its own) and the inline modules in them.
struct Modules {
    /// module path -> the file that holds it
    files: BTreeMap<Vec<String>, PathBuf>,
    /// file -> its parsed text and its own module path
    parsed: Vec<(PathBuf, Vec<String>, syn::File)>,
}

impl Modules {
    fn of(krate: &str) -> Modules {
        let src = workspace().join(krate).join("src");
        let mut files = BTreeMap::new();
        let mut parsed = Vec::new();
        for (path, text) in sources(krate) {
            let Ok(rel) = path.strip_prefix(&src) else { continue };
            if rel.starts_with("bin") || rel == Path::new("main.rs") {
                continue;
            }
            let mut module: Vec<String> = rel.with_extension("").iter().map(|p| p.to_string_lossy().into_owned()).collect();
            if module.last().is_some_and(|m| m == "mod" || (module.len() == 1 && m == "lib")) {
                module.pop();
            }
            let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", shown(&path)));
            files.insert(module.clone(), path.clone());
            parsed.push((path, module, file));
        }
        Modules { files, parsed }
    }

    /// The module a path written in `scope` names (its longest prefix that is
    /// a module of this crate), or None when it leaves the crate.
    fn target(&self, scope: &[String], path: &[String]) -> Option<Vec<String>> {
        let (mut base, rest): (Vec<String>, &[String]) = match path.first().map(String::as_str) {
            Some("crate") => (Vec::new(), &path[1..]),
            Some("super" | "self") => {
                let mut base = scope.to_vec();
                let mut rest = path;
                while let Some(first) = rest.first().map(String::as_str) {
                    match first {
                        "super" => {
                            base.pop();
                        }
                        "self" => {}
                        _ => break,
                    }
                    rest = &rest[1..];
                }
                (base, rest)
            }
            Some(child) if self.files.contains_key(&[scope, &[child.to_owned()]].concat()) => (scope.to_vec(), path),
            _ => return None,
        };
        for segment in rest {
            base.push(segment.clone());
            if !self.files.contains_key(&base) {
                base.pop();
                break;
            }
        }
        Some(base)
    }

    /// For every module with children: the edges between its children that
    /// the files below them make (an edge a -> b where a descendant of child
    /// `a` names a descendant of child `b`), with one example each.
    fn sibling_edges(&self) -> BTreeMap<Vec<String>, BTreeMap<(String, String), String>> {
        let mut edges: BTreeMap<Vec<String>, BTreeMap<(String, String), String>> = BTreeMap::new();
        for (path, module, file) in &self.parsed {
            for (inline, written) in Paths::of(file) {
                let from = [module.as_slice(), &inline].concat();
                let Some(to) = self.target(&from, &written) else { continue };
                let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
                if common == from.len() || common == to.len() {
                    continue; // a module and its own ancestor or descendant
                }
                let parent = from[..common].to_vec();
                let example = format!("{} names {}", shown(path), written.join("::"));
                edges.entry(parent).or_default().entry((from[common].clone(), to[common].clone())).or_insert(example);
            }
        }
        edges
    }
}

/// The circles of a directed graph, one per strongly connected component of
/// more than one node, each as the edges that close it.
fn circles(edges: &BTreeMap<(String, String), String>) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&String> = edges.keys().flat_map(|(a, b)| [a, b]).collect();
    let reach = |from: &String| {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from];
        while let Some(n) = stack.pop() {
            for (a, b) in edges.keys() {
                if a == n && seen.insert(b) {
                    stack.push(b);
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&String, BTreeSet<&String>> = nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut done = BTreeSet::new();
    let mut out = Vec::new();
    for n in &nodes {
        if done.contains(n) || !reaches[n].contains(n) {
            continue;
        }
        let component: BTreeSet<&String> = nodes.iter().copied().filter(|m| reaches[n].contains(m) && reaches[m].contains(n)).collect();
        done.extend(component.iter().copied());
        out.push(
            edges
                .iter()
                .filter(|((a, b), _)| component.contains(a) && component.contains(b))
                .map(|((a, b), example)| format!("{a} -> {b} ({example})"))
                .collect(),
        );
    }
    out
}

#[test]
fn no_two_modules_import_each_other() {
    let mut found = Vec::new();
    for krate in CRATES {
        for (parent, edges) in Modules::of(krate).sibling_edges() {
            for circle in circles(&edges) {
                let room = if parent.is_empty() { "src".to_owned() } else { parent.join("::") };
                found.push(format!("{krate}, in {room}:\n  {}", circle.join("\n  ")));
            }
        }
    }
    assert!(found.is_empty(), "modules that import each other (break the circle):\n{}", found.join("\n"));
}

#[test]
fn a_service_names_protos_only_at_its_doors() {
    let mut found = Vec::new();
    for krate in SERVICES {
        let src = workspace().join(krate).join("src");
        for (path, text) in sources(krate) {
            let Ok(rel) = path.strip_prefix(&src) else { continue };
            let rel = rel.to_string_lossy().replace('\\', "/");
            if PROTO_ROOMS.iter().any(|room| rel == *room || (room.ends_with('/') && rel.starts_with(room))) {
                continue;
            }
            let file = syn::parse_file(&text).unwrap_or_else(|e| panic!("{}: {e}", shown(&path)));
            if Paths::of(&file).iter().any(|(_, p)| p.iter().any(|s| s == "atmr_proto")) {
                found.push(shown(&path));
            }
        }
    }
    assert!(
        found.is_empty(),
        "these files name atmr_proto outside api/, peers/, lib.rs and bin/ (convert at the door):\n{}",
        found.join("\n")
    );
}

/// The checker itself: a circle three modules round is found, a chain is not.
#[test]
fn the_circle_finder_finds_a_circle_and_only_a_circle() {
    let edge = |a: &str, b: &str| ((a.to_owned(), b.to_owned()), format!("{a} names {b}"));
    let chain: BTreeMap<_, _> = [edge("api", "core"), edge("core", "store"), edge("api", "store")].into();
    assert!(circles(&chain).is_empty());
    let circle: BTreeMap<_, _> = [edge("a", "b"), edge("b", "c"), edge("c", "a"), edge("c", "d")].into();
    let found = circles(&circle);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].len(), 3, "the edge to d is not part of the circle: {found:?}");
}
