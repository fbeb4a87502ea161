//! Every relative link in the docs leads somewhere: a file, a heading, or
//! lines of a source file that still say what the link says.

use std::path::Path;

use crate::{rust_files, workspace};

/// GitHub's anchor for a heading: lower case, letters, digits, `-` and `_`
/// kept, spaces made `-`, everything else dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

/// The anchors of a Markdown file's headings (outside code blocks).
fn anchors(text: &str) -> Vec<String> {
    let mut in_code = false;
    let mut found = Vec::new();
    for line in text.lines() {
        if line.starts_with("```") {
            in_code = !in_code;
        } else if !in_code && line.starts_with('#') {
            found.push(anchor(line.trim_start_matches('#')));
        }
    }
    found
}

/// The relative link targets of a Markdown file: the `x` of every `](x)`
/// that is not a URL.
fn relative_links(text: &str) -> Vec<String> {
    text.split("](")
        .skip(1)
        .filter_map(|rest| rest.split(')').next())
        .filter(|target| !target.contains("://") && !target.starts_with("mailto:"))
        .map(str::to_owned)
        .collect()
}

/// A link's `#L12` or `#L12-L30`: the lines it points at.
fn line_range(fragment: &str) -> Option<(usize, usize)> {
    let (first, last) = match fragment.split_once('-') {
        Some((first, last)) => (first, last),
        None => (fragment, fragment),
    };
    let first = first.strip_prefix('L')?.parse().ok()?;
    let last = last.strip_prefix('L')?.parse().ok()?;
    Some((first, last))
}

/// The text of the link to `link` in `document`: what is between `[` and
/// `](link)`, its backticks dropped.
fn link_text(document: &str, link: &str) -> Option<String> {
    let end = document.find(&format!("]({link})"))?;
    let start = document[..end].rfind('[')? + 1;
    Some(document[start..end].replace('`', ""))
}

/// A link to lines of a source file holds while the lines exist and the
/// first of them still says what the link's text says; otherwise it says
/// where that text is now.
fn check_line_link(
    document: &str,
    link: &str,
    target: &Path,
    (first, last): (usize, usize),
) -> Result<(), String> {
    let source = std::fs::read_to_string(target).map_err(|error| error.to_string())?;
    let lines: Vec<&str> = source.lines().collect();
    if first == 0 || first > last || last > lines.len() {
        return Err(format!("the file has {} lines", lines.len()));
    }
    let text = link_text(document, link).ok_or("no link text")?;
    if lines[first - 1].contains(&text) {
        return Ok(());
    }
    let now: Vec<String> = lines
        .iter()
        .enumerate()
        .filter(|(_, line)| line.contains(&text))
        .map(|(at, _)| format!("L{}", at + 1))
        .collect();
    Err(format!(
        "line {first} does not say `{text}`; it is now at {now:?}"
    ))
}

#[test]
fn every_relative_link_in_the_docs_leads_somewhere() {
    let workspace = workspace();
    let mut documents = vec![
        workspace.join("README.md"),
        workspace.join("ARCHITECTURE.md"),
    ];
    let docs = std::fs::read_dir(workspace.join("docs")).expect("docs/ is readable");
    documents.extend(
        docs.filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "md")),
    );
    let mut checked = 0;
    let mut broken = Vec::new();
    for document in &documents {
        let text = std::fs::read_to_string(document).expect("a document is readable");
        let here = document.parent().expect("a document sits in a folder");
        for link in relative_links(&text) {
            checked += 1;
            let (file, fragment) = match link.split_once('#') {
                Some((file, fragment)) => (file, Some(fragment)),
                None => (link.as_str(), None),
            };
            let target = if file.is_empty() {
                document.clone()
            } else {
                here.join(file)
            };
            if !target.exists() {
                broken.push(format!("{}: {link} (no such file)", document.display()));
            } else if let Some(lines) = fragment.and_then(line_range) {
                if let Err(why) = check_line_link(&text, &link, &target, lines) {
                    broken.push(format!("{}: {link} ({why})", document.display()));
                }
            } else if let Some(fragment) = fragment {
                let headings = std::fs::read_to_string(&target)
                    .map(|text| anchors(&text))
                    .unwrap_or_default();
                if !headings.iter().any(|heading| heading == fragment) {
                    broken.push(format!("{}: {link} (no such heading)", document.display()));
                }
            }
        }
    }
    assert!(
        checked > 50,
        "found only {checked} links: is the check reading them right?"
    );
    assert!(
        broken.is_empty(),
        "links that lead nowhere:\n{}",
        broken.join("\n")
    );
}

#[test]
fn the_readme_stays_short_enough_to_reach_its_lessons() {
    let text =
        std::fs::read_to_string(workspace().join("README.md")).expect("README.md is readable");
    let lines = text.lines().count();
    assert!(
        lines < 250,
        "README.md has {lines} lines; manuals go to docs/INSTRUMENTS.md, tables to docs/RESULTS.md"
    );
    let lessons = text
        .find("## The lessons")
        .expect("README.md has its lessons");
    let instruments = text
        .find("docs/INSTRUMENTS.md")
        .expect("README.md points to the manuals");
    assert!(
        lessons < text.len() / 2,
        "the lessons start past the README's middle"
    );
    assert!(
        instruments < lessons,
        "the manuals' pointer comes before the lessons"
    );
}

#[test]
fn a_link_to_lines_holds_only_while_its_first_line_says_its_text() {
    let document = "read [`place_in`](../x.rs#L2-L3) and [`gone`](../x.rs#L1)";
    let target = std::env::temp_dir().join(format!("tidy-lines-{}.rs", std::process::id()));
    std::fs::write(&target, "//! x\nfn place_in() {\n}\n").expect("a temporary file");
    let checked = |link: &str, lines| check_line_link(document, link, &target, lines);
    assert_eq!(checked("../x.rs#L2-L3", (2, 3)), Ok(()));
    let moved = checked("../x.rs#L1", (1, 1)).expect_err("line 1 does not say `gone`");
    assert!(moved.contains("does not say `gone`"), "{moved}");
    assert!(checked("../x.rs#L2-L3", (2, 9)).is_err(), "past the end");
    assert_eq!(line_range("L12-L30"), Some((12, 30)));
    assert_eq!(line_range("L7"), Some((7, 7)));
    assert_eq!(line_range("the-heading"), None);
    let _ = std::fs::remove_file(&target);
}

#[test]
fn an_anchor_is_made_as_github_makes_it() {
    assert_eq!(anchor(" Fencing: who may write"), "fencing-who-may-write");
    assert_eq!(
        anchor(" Running a deployment by hand (`shoplab up`)"),
        "running-a-deployment-by-hand-shoplab-up"
    );
    assert_eq!(anchors("# A\n```\n# not\n```\n## B c"), ["a", "b-c"]);
}

/// The repository paths `text` names: words that start with one of its top
/// folders and hold no placeholder (`<service>`, `{users,catalog}`, `*`),
/// cut at a `::` item or a `#` anchor, trailing punctuation dropped.
fn named_paths(text: &str) -> Vec<String> {
    const TOP: [&str; 8] = [
        "common/",
        "monolith/",
        "microservices/",
        "benches/",
        "testkit/",
        "scripts/",
        "docs/",
        "deploy/",
    ];
    text.split(|c: char| c.is_whitespace() || "`'\"()[],;".contains(c))
        .filter(|word| TOP.iter().any(|top| word.starts_with(top)))
        .filter(|word| !word.contains(['<', '{', '*', '$']))
        .map(|word| {
            let word = word.split("::").next().unwrap_or(word);
            let word = word.split('#').next().unwrap_or(word);
            word.trim_end_matches(['.', ':', '!', '?']).to_owned()
        })
        .collect()
}

#[test]
fn every_path_a_comment_or_the_architecture_names_exists() {
    let root = workspace();
    let mut files = Vec::new();
    for dir in ["common", "monolith", "microservices", "benches", "testkit"] {
        rust_files(&root.join(dir), &mut files);
    }
    let mut named = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file).expect("a readable source file");
        for line in source.lines() {
            if let Some((_, comment)) = line.split_once("//") {
                named.extend(
                    named_paths(comment)
                        .into_iter()
                        .map(|path| (file.clone(), path)),
                );
            }
        }
    }
    let map = root.join("ARCHITECTURE.md");
    let text = std::fs::read_to_string(&map).expect("ARCHITECTURE.md is readable");
    named.extend(
        named_paths(&text)
            .into_iter()
            .map(|path| (map.clone(), path)),
    );
    assert!(named.len() > 200, "found only {} paths", named.len());
    let missing: Vec<String> = named
        .iter()
        .filter(|(_, path)| !root.join(path).exists())
        .map(|(file, path)| format!("{}: {path}", file.display()))
        .collect();
    assert!(
        missing.is_empty(),
        "paths named that do not exist:\n{}",
        missing.join("\n")
    );
}

#[test]
fn a_path_is_read_from_prose_and_cut_at_its_item() {
    assert_eq!(
        named_paths("see `monolith/src/checkout.rs::cancel_in`, and microservices/<service>/src."),
        ["monolith/src/checkout.rs"]
    );
    assert_eq!(
        named_paths("(docs/SAGA.md#fencing-who-may-write)."),
        ["docs/SAGA.md"]
    );
}
