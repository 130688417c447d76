//! Typed access to one KDL node's arguments and properties, recording every mistake.
//!
//! Each getter notes the property name as known, so `finish` can report the rest as unknown
//! with a "did you mean" drawn from exactly the names this node takes.

use kdl::{KdlEntry, KdlNode, KdlValue};

use super::diagnostic::{Code, Diagnostic, did_you_mean};
use super::duration::Duration;
use super::model::Choice;
use super::source::{FileId, Span, Spanned};

/// Where lowering is: the file being read and the diagnostics collected so far.
pub(super) struct Cx<'d> {
    pub(super) file: FileId,
    pub(super) text: std::sync::Arc<String>,
    pub(super) dir: std::path::PathBuf,
    pub(super) diags: &'d mut Vec<Diagnostic>,
    /// Declarations that could not be lowered, as (node kind, name): references to them are
    /// not reported again as dangling.
    pub(super) incomplete: &'d mut Vec<(String, String)>,
}

impl Cx<'_> {
    pub(super) fn span(&self, span: miette::SourceSpan) -> Span {
        Span::new(self.file, span)
    }

    pub(super) fn push(&mut self, diagnostic: Diagnostic) {
        self.diags.push(diagnostic);
    }

    /// Passes a lowered declaration through; when it failed, remembers its kind and name so
    /// one mistake is reported once, not again at every reference to it.
    pub(super) fn lowered<T>(
        &mut self,
        node: &kdl::KdlNode,
        kind: &str,
        lowered: Option<T>,
    ) -> Option<T> {
        if lowered.is_none()
            && let Some(name) = node
                .entries()
                .iter()
                .find(|e| e.name().is_none())
                .and_then(|e| e.value().as_string())
        {
            self.incomplete.push((kind.to_owned(), name.to_owned()));
        }
        lowered
    }
}

pub(super) struct NodeReader<'a> {
    pub(super) node: &'a KdlNode,
    args: Vec<&'a KdlEntry>,
    next_arg: usize,
    props: Vec<(&'a str, &'a KdlEntry)>,
    known: Vec<&'static str>,
    file: FileId,
}

fn type_name(value: &KdlValue) -> &'static str {
    match value {
        KdlValue::String(_) => "a string",
        KdlValue::Integer(_) => "an integer",
        KdlValue::Float(_) => "a number",
        KdlValue::Bool(_) => "a boolean",
        KdlValue::Null => "#null",
    }
}

impl<'a> NodeReader<'a> {
    pub(super) fn new(cx: &mut Cx<'_>, node: &'a KdlNode) -> Self {
        let mut args = Vec::new();
        let mut props: Vec<(&'a str, &'a KdlEntry)> = Vec::new();
        for entry in node.entries() {
            match entry.name() {
                None => args.push(entry),
                Some(key) => {
                    if let Some((_, first)) = props.iter().find(|(k, _)| *k == key.value()) {
                        cx.push(
                            Diagnostic::error(
                                Code::DuplicateProperty,
                                format!("`{}` is given twice", key.value()),
                            )
                            .at(cx.span(entry.span()), "given again here")
                            .with_related(cx.span(first.span()), "first given here")
                            .with_help("keep one of them"),
                        );
                        continue;
                    }
                    props.push((key.value(), entry));
                }
            }
        }
        Self {
            node,
            args,
            next_arg: 0,
            props,
            known: Vec::new(),
            file: cx.file,
        }
    }

    pub(super) fn name(&self) -> &'a str {
        self.node.name().value()
    }

    pub(super) fn name_span(&self) -> Span {
        Span::new(self.file, self.node.name().span())
    }

    fn entry_span(&self, entry: &KdlEntry) -> Span {
        Span::new(self.file, entry.span())
    }

    fn string_of(&self, cx: &mut Cx<'_>, entry: &KdlEntry, what: &str) -> Option<Spanned<String>> {
        if let KdlValue::String(s) = entry.value() {
            Some(Spanned::new(s.clone(), self.entry_span(entry)))
        } else {
            cx.push(
                Diagnostic::error(
                    Code::WrongType,
                    format!("{what} must be a string, not {}", type_name(entry.value())),
                )
                .at(self.entry_span(entry), "expected a string")
                .with_help("quote it: \"…\""),
            );
            None
        }
    }

    /// The next positional argument, which must be a string. `what` names it in errors.
    pub(super) fn arg(&mut self, cx: &mut Cx<'_>, what: &str) -> Option<Spanned<String>> {
        let Some(entry) = self.args.get(self.next_arg).copied() else {
            cx.push(
                Diagnostic::error(
                    Code::MissingArgument,
                    format!("`{}` needs {what}", self.name()),
                )
                .at(self.name_span(), format!("{what} missing"))
                .with_help(format!(
                    "write it after the node name: {} \"…\"",
                    self.name()
                )),
            );
            return None;
        };
        self.next_arg += 1;
        self.string_of(cx, entry, &format!("{what} of `{}`", self.name()))
    }

    /// The node's name argument: a string that can be part of an address and a path
    /// segment in every store (`SITE/KIND/NAME/…`), so neither empty, `.` nor `..`, and
    /// without `/`, `\` or control characters (a newline, a tab).
    pub(super) fn name_arg(&mut self, cx: &mut Cx<'_>, what: &str) -> Option<Spanned<String>> {
        let name = self.arg(cx, what)?;
        let bad = name.value.is_empty()
            || name.value == "."
            || name.value == ".."
            || name
                .value
                .chars()
                .any(|c| c == '/' || c == '\\' || c.is_control());
        if bad {
            cx.push(
                Diagnostic::error(
                    Code::BadValue,
                    format!("{:?} cannot name a `{}`", name.value, self.name()),
                )
                .at(
                    name.span,
                    "names are part of addresses SITE/KIND/NAME and of paths in stores",
                )
                .with_help(
                    "use a non-empty name other than `.` or `..`, without `/`, `\\` or control characters",
                ),
            );
            return None;
        }
        Some(name)
    }

    /// All remaining positional arguments, each a string.
    pub(super) fn rest_args(&mut self, cx: &mut Cx<'_>, what: &str) -> Vec<Spanned<String>> {
        let rest: Vec<&KdlEntry> = self.args.get(self.next_arg..).unwrap_or_default().to_vec();
        self.next_arg = self.args.len();
        rest.into_iter()
            .filter_map(|entry| self.string_of(cx, entry, what))
            .collect()
    }

    fn prop(&mut self, key: &'static str) -> Option<&'a KdlEntry> {
        self.known.push(key);
        self.props.iter().find(|(k, _)| *k == key).map(|(_, e)| *e)
    }

    /// Whether the node has this property, without reading it.
    pub(super) fn has(&self, key: &str) -> Option<Span> {
        self.props
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, e)| self.entry_span(e))
    }

    /// Marks a property as handled elsewhere so `finish` does not call it unknown.
    pub(super) fn consume(&mut self, key: &'static str) {
        self.known.push(key);
    }

    pub(super) fn string(&mut self, cx: &mut Cx<'_>, key: &'static str) -> Option<Spanned<String>> {
        let entry = self.prop(key)?;
        self.string_of(cx, entry, &format!("`{key}`"))
    }

    fn missing(&self, cx: &mut Cx<'_>, key: &str, example: &str) {
        cx.push(
            Diagnostic::error(
                Code::MissingProperty,
                format!("`{}` needs `{key}`", self.name()),
            )
            .at(self.name_span(), format!("`{key}` missing"))
            .with_help(format!("add {key}={example}")),
        );
    }

    pub(super) fn required_string(
        &mut self,
        cx: &mut Cx<'_>,
        key: &'static str,
        example: &str,
    ) -> Option<Spanned<String>> {
        if self.has(key).is_none() {
            self.known.push(key);
            self.missing(cx, key, example);
            return None;
        }
        self.string(cx, key)
    }

    pub(super) fn bool(&mut self, cx: &mut Cx<'_>, key: &'static str) -> Option<bool> {
        let entry = self.prop(key)?;
        if let KdlValue::Bool(b) = entry.value() {
            Some(*b)
        } else {
            cx.push(
                Diagnostic::error(
                    Code::WrongType,
                    format!(
                        "`{key}` must be #true or #false, not {}",
                        type_name(entry.value())
                    ),
                )
                .at(self.entry_span(entry), "expected a boolean")
                .with_help(format!("write {key}=#true or {key}=#false")),
            );
            None
        }
    }

    /// A whole number in `min..=max`.
    pub(super) fn integer(
        &mut self,
        cx: &mut Cx<'_>,
        key: &'static str,
        min: i128,
        max: i128,
    ) -> Option<Spanned<i128>> {
        let entry = self.prop(key)?;
        let KdlValue::Integer(n) = entry.value() else {
            cx.push(
                Diagnostic::error(
                    Code::WrongType,
                    format!(
                        "`{key}` must be a whole number, not {}",
                        type_name(entry.value())
                    ),
                )
                .at(self.entry_span(entry), "expected a whole number")
                .with_help(format!("write {key}={min} or more, without quotes")),
            );
            return None;
        };
        if *n < min || *n > max {
            cx.push(
                Diagnostic::error(
                    Code::BadValue,
                    format!("`{key}` must be between {min} and {max}, not {n}"),
                )
                .at(self.entry_span(entry), "out of range"),
            );
            return None;
        }
        Some(Spanned::new(*n, self.entry_span(entry)))
    }

    pub(super) fn u32(
        &mut self,
        cx: &mut Cx<'_>,
        key: &'static str,
        min: u32,
    ) -> Option<Spanned<u32>> {
        let n = self.integer(cx, key, i128::from(min), i128::from(u32::MAX))?;
        Some(Spanned::new(u32::try_from(n.value).ok()?, n.span))
    }

    pub(super) fn duration(
        &mut self,
        cx: &mut Cx<'_>,
        key: &'static str,
    ) -> Option<Spanned<Duration>> {
        let text = self.string(cx, key)?;
        match text.value.parse::<Duration>() {
            Ok(d) => Some(Spanned::new(d, text.span)),
            Err(e) => {
                cx.push(
                    Diagnostic::error(
                        Code::BadDuration,
                        format!("`{key}` is not a duration: {:?}", text.value),
                    )
                    .at(text.span, e.to_string())
                    .with_help(
                        "write a number and a unit, like \"90m\", \"24h\", \"7d\" or \"4w\"",
                    ),
                );
                None
            }
        }
    }

    pub(super) fn required_duration(
        &mut self,
        cx: &mut Cx<'_>,
        key: &'static str,
    ) -> Option<Spanned<Duration>> {
        if self.has(key).is_none() {
            self.known.push(key);
            self.missing(cx, key, "\"24h\"");
            return None;
        }
        self.duration(cx, key)
    }

    pub(super) fn choice<T: Choice + PartialEq>(
        &mut self,
        cx: &mut Cx<'_>,
        key: &'static str,
    ) -> Option<Spanned<T>> {
        let text = self.string(cx, key)?;
        parse_choice(cx, &text, &format!("`{key}`"))
    }

    pub(super) fn required_choice<T: Choice + PartialEq>(
        &mut self,
        cx: &mut Cx<'_>,
        key: &'static str,
    ) -> Option<Spanned<T>> {
        if self.has(key).is_none() {
            self.known.push(key);
            self.missing(cx, key, &format!("\"{}\"", T::ALL[0].0));
            return None;
        }
        self.choice(cx, key)
    }

    /// Reports unread properties and arguments. Call once every getter has run.
    pub(super) fn finish(self, cx: &mut Cx<'_>) {
        for (key, entry) in &self.props {
            if self.known.contains(key) {
                continue;
            }
            let mut diagnostic = Diagnostic::error(
                Code::UnknownProperty,
                format!("`{}` has no property `{key}`", self.name()),
            )
            .at(self.entry_span(entry), "unknown property");
            let mut known = self.known.clone();
            known.sort_unstable();
            known.dedup();
            diagnostic = match did_you_mean(key, known.iter().copied()) {
                Some(close) => diagnostic.with_help(format!("did you mean `{close}`?")),
                None if known.is_empty() => {
                    diagnostic.with_help(format!("`{}` takes no properties", self.name()))
                }
                None => diagnostic.with_help(format!(
                    "`{}` takes {}",
                    self.name(),
                    known
                        .iter()
                        .map(|k| format!("`{k}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
            cx.push(diagnostic);
        }
        for entry in self.args.iter().skip(self.next_arg) {
            cx.push(
                Diagnostic::error(
                    Code::UnexpectedArgument,
                    format!("`{}` takes no more arguments", self.name()),
                )
                .at(self.entry_span(entry), "unexpected argument")
                .with_help("remove it, or write it as a property: key=value"),
            );
        }
    }
}

/// Parses a keyword of a closed set, suggesting the closest one on a typo.
pub(super) fn parse_choice<T: Choice + PartialEq>(
    cx: &mut Cx<'_>,
    text: &Spanned<String>,
    what: &str,
) -> Option<Spanned<T>> {
    if let Some((_, v)) = T::ALL.iter().find(|(n, _)| *n == text.value) {
        return Some(Spanned::new(*v, text.span));
    }
    let names = T::ALL.iter().map(|(n, _)| *n);
    let help = match did_you_mean(&text.value, names.clone()) {
        Some(close) => format!("did you mean \"{close}\"?"),
        None => format!(
            "one of {}",
            names
                .map(|n| format!("\"{n}\""))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    cx.push(
        Diagnostic::error(Code::BadValue, format!("{what} cannot be {:?}", text.value))
            .at(text.span, "not allowed here")
            .with_help(help),
    );
    None
}
