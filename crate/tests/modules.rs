//! The crate's modules import one another without a cycle: each can be read, tested and
//! changed with only the modules below it in mind.
//!
//! The graph is read from the sources: a module's edges are the `crate::` paths in its code
//! (comments and test modules left out, submodules counted with their parent), names
//! re-exported at the crate root resolved to the module that defines them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Graph = BTreeMap<String, BTreeSet<String>>;

/// The code of a source file that the library itself compiles: without comments, without
/// the items declared for tests only (`#[cfg(test)] mod test_util;`), and cut where its
/// inline test module (`#[cfg(test)] mod tests { … }`, last in the file) starts.
fn library_code(text: &str) -> String {
    let lines: Vec<&str> = text
        .lines()
        .map(|line| line.split("//").next().unwrap_or_default())
        .collect();
    let mut code = String::new();
    let mut lines = lines.into_iter();
    while let Some(line) = lines.next() {
        if line.trim() != "#[cfg(test)]" {
            code.push_str(line);
            code.push('\n');
            continue;
        }
        match lines.next() {
            Some(item) if item.trim_end().ends_with('{') => break,
            _ => continue,
        }
    }
    code
}

/// The first path segment after every `crate::`, including each item of `crate::{a, b::c}`.
fn crate_references(code: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for part in code.split("crate::").skip(1) {
        match part.strip_prefix('{') {
            Some(group) => {
                let group = group.split('}').next().unwrap_or_default();
                out.extend(group.split(',').map(|item| ident(item.trim())));
            }
            None => {
                out.insert(ident(part));
            }
        }
    }
    out.remove("");
    out
}

/// `pub use module::{A, B};` at the crate root: which module each name comes from.
fn root_exports(lib: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for statement in lib.split(';') {
        let Some(rest) = statement.trim().strip_prefix("pub use ") else {
            continue;
        };
        let Some((module, names)) = rest.split_once("::") else {
            continue;
        };
        let names = names.trim_start_matches('{').trim_end_matches('}');
        for name in names.split(',').map(str::trim).filter(|n| !n.is_empty()) {
            out.insert(name.to_string(), module.to_string());
        }
    }
    out
}

/// The library's module graph, from the sources under `src`.
fn module_graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    let mut dirs = vec![src.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let exports = root_exports(&library_code(&lib));
    let module_of = |path: &Path| -> Option<String> {
        let relative = path.strip_prefix(src).unwrap();
        let first = relative.iter().next()?.to_str()?;
        let name = first.trim_end_matches(".rs").to_string();
        let test_only = path.file_name()? == "tests.rs" || name == "test_util";
        (name != "lib" && name != "bin" && !test_only).then_some(name)
    };
    let modules: BTreeSet<String> = files.iter().filter_map(|p| module_of(p)).collect();
    let mut graph = Graph::new();
    for path in &files {
        let Some(module) = module_of(path) else {
            continue;
        };
        let code = library_code(&std::fs::read_to_string(path).unwrap());
        let edges = graph.entry(module.clone()).or_default();
        for name in crate_references(&code) {
            let target = exports.get(&name).cloned().unwrap_or(name);
            if target != module && modules.contains(&target) {
                edges.insert(target);
            }
        }
    }
    graph
}

/// A cycle of `graph` as the list of its modules (the first repeated at the end), if any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn the_library_s_modules_import_each_other_without_a_cycle() {
    let graph = module_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    // The graph is the real one: the engine sits on top of the modules it drives.
    let engine = &graph["engine"];
    for below in ["objective", "schedule", "start", "style", "tiles", "report"] {
        assert!(
            engine.contains(below),
            "engine → {below} not found: {engine:?}"
        );
    }
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "the modules import each other in a circle: {}",
            cycle.join(" → ")
        );
    }
}

#[test]
fn the_check_finds_a_cycle_and_reads_references_as_written() {
    let code = library_code(
        "use crate::a::B;\n#[cfg(test)]\nmod test_only;\nuse crate::{c, d::E};\n// crate::commented\n\
         fn f() { crate::g::h(); }\n#[cfg(test)]\nmod tests {\n use crate::tested;\n}",
    );
    let found: Vec<String> = crate_references(&code).into_iter().collect();
    assert_eq!(found, ["a", "c", "d", "g"]);
    let exports = root_exports("pub use engine::{Stylizer, Progress};\npub use burn;");
    assert_eq!(exports["Stylizer"], "engine");

    let graph = |edges: &[(&str, &str)]| {
        let mut g = Graph::new();
        for (a, b) in edges {
            g.entry(a.to_string()).or_default().insert(b.to_string());
            g.entry(b.to_string()).or_default();
        }
        g
    };
    assert_eq!(
        find_cycle(&graph(&[("a", "b"), ("b", "c"), ("a", "c")])),
        None
    );
    let cycle = find_cycle(&graph(&[("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")])).unwrap();
    assert_eq!(cycle, ["a", "b", "c", "a"]);
}
