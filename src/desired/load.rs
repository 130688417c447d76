//! Reads every `*.kdl` file of a desired directory and lowers them into one [`Desired`].

use std::path::{Path, PathBuf};

use super::diagnostic::{Code, Diagnostic};
use super::lower;
use super::model::{Deployment, Desired};
use super::node_reader::Cx;
use super::source::{FileId, SourceFile, Sources, Span, normalize};
use super::validate;

/// What loading read and lowered, before the profile's pass ([`crate::profile::apply`]):
/// the model is not validated yet, since scenario templates still have to expand into it.
#[derive(Debug)]
pub struct Lowered {
    pub sources: Sources,
    pub desired: Option<Desired>,
    pub diagnostics: Vec<Diagnostic>,
    /// Files of the directory that could not be read; reported first.
    pub unread: Vec<Diagnostic>,
}

/// The outcome of loading: the sources (always, so diagnostics can be rendered), the model
/// when it is valid, and every diagnostic.
#[derive(Debug)]
pub struct Loaded {
    pub sources: Sources,
    pub desired: Option<Desired>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    /// Validates a lowered model the profile has expanded: desired's own rules judge it, and
    /// `lint` adds what it finds in a model that validated. The model is kept only when
    /// nothing is an error.
    pub fn validate(lowered: Lowered, lint: impl FnOnce(&Desired) -> Vec<Diagnostic>) -> Self {
        let Lowered {
            sources,
            desired,
            mut diagnostics,
            unread,
        } = lowered;
        if let Some(desired) = &desired {
            diagnostics.extend(validate::validate(desired));
            // Lints judge a desired state that means what it says: only once it is valid.
            if !diagnostics.iter().any(Diagnostic::is_error) {
                diagnostics.extend(lint(desired));
            }
        }
        // Reports read top to bottom, file by file; problems of the whole directory come first.
        diagnostics.sort_by_key(|d| d.primary.as_ref().map(|p| (p.span.file, p.span.offset)));
        let mut all = unread;
        all.append(&mut diagnostics);
        let has_errors = all.iter().any(Diagnostic::is_error);
        Self {
            sources,
            desired: desired.filter(|_| !has_errors),
            diagnostics: all,
        }
    }

    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// The directory relative paths in `file` are resolved against: absolute and without `.`
/// or `..`, so store roots read the same whatever directory standby runs in.
fn base_dir(file: &Path) -> PathBuf {
    let parent = file.parent().unwrap_or(Path::new(""));
    let absolute = std::path::absolute(parent).unwrap_or_else(|_| parent.to_path_buf());
    normalize(&absolute)
}

/// The `*.kdl` files of `dir`, sorted by name.
fn kdl_files(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "kdl") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Reads and lowers the desired state of a directory.
pub fn load_dir(dir: &Path) -> Lowered {
    let sources = Sources::default();
    let mut diagnostics = Vec::new();
    let files = match kdl_files(dir) {
        Ok(files) => files,
        Err(e) => {
            diagnostics.push(
                Diagnostic::error(
                    Code::ReadError,
                    format!("cannot read the desired directory {}: {e}", dir.display()),
                )
                .with_help("pass the directory that holds the *.kdl files with --desired DIR"),
            );
            return Lowered {
                sources,
                desired: None,
                diagnostics: Vec::new(),
                unread: diagnostics,
            };
        }
    };
    if files.is_empty() {
        diagnostics.push(
            Diagnostic::error(
                Code::NoDesiredFiles,
                format!("{} holds no *.kdl file", dir.display()),
            )
            .with_help("write one, or start from `standby init`, or pass --desired DIR"),
        );
        return Lowered {
            sources,
            desired: None,
            diagnostics: Vec::new(),
            unread: diagnostics,
        };
    }
    let mut texts = Vec::new();
    for path in files {
        match std::fs::read(&path) {
            Ok(bytes) => match String::from_utf8(bytes) {
                Ok(text) => texts.push((path, text)),
                Err(e) => diagnostics.push(not_utf8(&path, e.as_bytes(), &e.utf8_error())),
            },
            Err(e) => diagnostics.push(Diagnostic::error(
                Code::ReadError,
                format!("cannot read {}: {e}", path.display()),
            )),
        }
    }
    let unreadable = !diagnostics.is_empty();
    let mut lowered = load_texts(texts);
    // The deployment may well be in the file that could not be read: say so once, not twice.
    if unreadable {
        lowered
            .diagnostics
            .retain(|d| d.code != Code::DeploymentMissing);
    }
    lowered.unread = diagnostics;
    lowered
}

/// The error for a desired file that is not UTF-8, at the line and column of its first
/// invalid byte (columns count characters, as editors do).
fn not_utf8(path: &Path, bytes: &[u8], error: &std::str::Utf8Error) -> Diagnostic {
    let valid = &bytes[..error.valid_up_to()];
    let line_start = valid.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
    let line = valid.split(|b| *b == b'\n').count();
    let column = String::from_utf8_lossy(&valid[line_start..])
        .chars()
        .count()
        + 1;
    let byte = bytes.get(error.valid_up_to()).copied().unwrap_or_default();
    Diagnostic::error(
        Code::ReadError,
        format!(
            "{}:{line}:{column}: not valid UTF-8 (byte 0x{byte:02x})",
            path.display()
        ),
    )
    .with_help("desired files are UTF-8 text; re-save this one as UTF-8")
}

/// Reads and lowers the desired state from (path, text) pairs; the path names the file in
/// reports and anchors its relative paths.
pub fn load_texts(texts: Vec<(PathBuf, String)>) -> Lowered {
    let mut sources = Sources::default();
    let mut diagnostics = Vec::new();
    let mut deployments: Vec<(Deployment, Span)> = Vec::new();
    let mut sites = Vec::new();
    let mut scenarios = Vec::new();
    let mut restore_sequence = Vec::new();
    let mut sequence_span: Option<Span> = None;
    let mut state = None;
    let mut state_span: Option<Span> = None;
    let mut incomplete = Vec::new();
    let mut deployment_failed = false;

    for (path, text) in texts {
        let dir = base_dir(&path);
        let file = sources.add(SourceFile::new(path.display().to_string(), text));
        let text = sources.get(file).text.clone();
        if let Some(offset) = super::parse::too_deep(&text) {
            diagnostics.push(
                Diagnostic::error(
                    Code::KdlSyntax,
                    format!(
                        "blocks nested deeper than {} levels",
                        super::parse::MAX_DEPTH
                    ),
                )
                .at(
                    Span {
                        file,
                        offset,
                        len: 1,
                    },
                    "this block is too deep",
                )
                .with_help("a desired file nests a few levels deep; close the blocks left open"),
            );
            continue;
        }
        let document = match super::parse::parse(&text) {
            Ok(document) => document,
            Err(error) => {
                diagnostics.extend(syntax_errors(file, &text, &error));
                continue;
            }
        };
        let mut cx = Cx {
            file,
            text: text.clone(),
            dir,
            diags: &mut diagnostics,
            incomplete: &mut incomplete,
        };
        for node in document.nodes() {
            let span = cx.span(node.name().span());
            match node.name().value() {
                "deployment" => {
                    let lowered = lower::deployment(&mut cx, node);
                    if lowered.is_none() {
                        deployment_failed = true;
                    }
                    deployments.extend(lowered.map(|d| (d, span)));
                }
                "site" => {
                    let lowered = lower::site(&mut cx, node);
                    sites.extend(cx.lowered(node, "site", lowered));
                }
                "scenario" => scenarios.extend(lower::scenario(&mut cx, node)),
                "restore-sequence" => {
                    let sequence = lower::restore_sequence(&mut cx, node);
                    if let Some(first) = sequence_span {
                        cx.push(
                            Diagnostic::error(
                                Code::DuplicateNode,
                                "`restore-sequence` may appear once",
                            )
                            .at(span, "again here")
                            .with_related(first, "first here")
                            .with_help(
                                "list every functionality in one restore-sequence, in order",
                            ),
                        );
                    } else {
                        sequence_span = Some(span);
                        restore_sequence = sequence;
                    }
                }
                "state" => {
                    let decl = lower::state(&mut cx, node);
                    if let Some(first) = state_span {
                        cx.push(
                            Diagnostic::error(Code::DuplicateNode, "`state` may appear once")
                                .at(span, "again here")
                                .with_related(first, "first here")
                                .with_help("standby keeps its state in one place"),
                        );
                    } else {
                        state_span = Some(span);
                        state = decl;
                    }
                }
                _ => lower::unknown_node(
                    &mut cx,
                    node,
                    "the top level",
                    &[
                        "deployment",
                        "site",
                        "scenario",
                        "restore-sequence",
                        "state",
                    ],
                ),
            }
        }
    }

    let syntax_failed = diagnostics.iter().any(|d| d.code == Code::KdlSyntax);
    let deployment = match deployments.len() {
        // With a syntax error the deployment may be in the file that failed to parse.
        0 if syntax_failed || deployment_failed => None,
        0 => {
            diagnostics.push(
                Diagnostic::error(Code::DeploymentMissing, "no `deployment` node in the desired state")
                    .with_help("declare one: deployment \"contoso\" product=\"ocs-2007-r2\" domain=\"contoso.com\""),
            );
            None
        }
        _ => {
            let mut all = deployments.into_iter();
            let first = all.next();
            let first_span = first.as_ref().map(|(_, s)| *s);
            for (_, span) in all {
                diagnostics.push(
                    Diagnostic::error(Code::DeploymentDuplicate, "more than one `deployment` node")
                        .at(span, "second deployment")
                        .with_related(first_span.unwrap_or(span), "first deployment")
                        .with_help("one desired directory describes one deployment; merge them or split the directory"),
                );
            }
            first.map(|(d, _)| d)
        }
    };

    let desired = deployment.map(|deployment| {
        let mut desired = Desired {
            sources: sources.clone(),
            deployment,
            sites,
            scenarios,
            restore_sequence,
            state,
            incomplete,
        };
        let rpo = desired.deployment.objectives.rpo.as_ref().map(|r| r.value);
        for site in &mut desired.sites {
            for db in &mut site.databases {
                db.backups.iter_mut().for_each(|b| b.policy.apply_rpo(rpo));
            }
            site.settings
                .iter_mut()
                .for_each(|s| s.policy.apply_rpo(rpo));
            site.filesets
                .iter_mut()
                .for_each(|f| f.policy.apply_rpo(rpo));
        }
        desired
    });
    Lowered {
        sources,
        desired,
        diagnostics,
        unread: Vec::new(),
    }
}

/// Turns kdl's parse error into one diagnostic per problem, with our file attached.
fn syntax_errors(file: FileId, text: &str, error: &kdl::KdlError) -> Vec<Diagnostic> {
    let mut out: Vec<Diagnostic> = error
        .diagnostics
        .iter()
        .map(|d| {
            let (offset, len) = syntax_span(text, d.span.offset(), d.span.len());
            let span = Span { file, offset, len };
            let message = d.message.clone().unwrap_or_else(|| "invalid KDL".into());
            let mut diagnostic =
                Diagnostic::error(Code::KdlSyntax, format!("KDL syntax: {message}"))
                    .at(span, d.label.clone().unwrap_or_else(|| "here".into()));
            diagnostic.help = Some(syntax_help(
                &text[span.offset..span.offset + span.len],
                d.help.as_deref(),
            ));
            diagnostic
        })
        .collect();
    if out.is_empty() {
        out.push(
            Diagnostic::error(Code::KdlSyntax, "KDL syntax: the file is not valid KDL v2").at(
                Span {
                    file,
                    offset: 0,
                    len: 0,
                },
                "in this file",
            ),
        );
    }
    out
}

/// The help line for a syntax error: the two mistakes people make most with KDL v2 get a
/// precise hint; otherwise kdl's own, or a reminder of the basics.
fn syntax_help(token: &str, kdl_help: Option<&str>) -> String {
    let value = token.rsplit('=').next().unwrap_or(token);
    if matches!(value, "true" | "false" | "null") {
        return format!("KDL v2 writes booleans and null with a #: #{value}");
    }
    let bare = !value.is_empty() && !value.starts_with(['"', '#']) && value.parse::<f64>().is_err();
    if bare && value.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.') {
        return format!("quote it: \"{value}\" (a bare word cannot start with a digit)");
    }
    kdl_help.map_or_else(
        || "desired files are KDL v2: strings in \"quotes\", booleans #true/#false, children in { }".into(),
        str::to_owned,
    )
}

/// kdl reports some errors with a span from the start of the enclosing node to the point
/// where parsing stopped, across lines. Point at the token where it stopped instead: that is
/// where the mistake is (`rpo=24h` rather than the whole `deployment` node).
fn syntax_span(text: &str, offset: usize, len: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let end = (offset + len).min(text.len());
    let Some(covered) = text.get(offset..end) else {
        return (offset, end - offset);
    };
    if !covered.contains('\n') {
        return (offset, end - offset);
    }
    let token_start = text[..end]
        .char_indices()
        .rfind(|(_, c)| c.is_whitespace())
        .map_or(offset, |(i, c)| i + c.len_utf8());
    let token_end = text[end..]
        .find(|c: char| c.is_whitespace() || c == ';' || c == '}')
        .map_or(text.len(), |i| end + i);
    (token_start, token_end.max(token_start) - token_start)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_syntax_error_spanning_lines_points_at_the_token_where_parsing_stopped() {
        let text = "deployment \"x\" {\n  objectives rpo=24h\n}\n";
        let stop = text.find("h\n").unwrap_or_default();
        let (offset, len) = syntax_span(text, 0, stop);
        assert_eq!(&text[offset..offset + len], "rpo=24h");
        assert_eq!(syntax_span(text, 3, 2), (3, 2));
    }

    #[test]
    fn a_syntax_span_after_a_multi_byte_space_starts_on_a_char_boundary() {
        let text = "deployment \"x\" {\n  objectives\u{2028}rpo=24h\n}\n";
        let stop = text.find("h\n").unwrap_or_default();
        let (offset, len) = syntax_span(text, 0, stop);
        assert_eq!(text.get(offset..offset + len), Some("rpo=24h"));
    }
}
