//! Renders desired-state diagnostics: miette's graphical report for people, JSON for
//! editors and CI annotations. Each report names the file, line and column.

use std::fmt::{self, Write as _};
use std::sync::Arc;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource};
use serde::Serialize;

use crate::desired::{Diagnostic, Label, Severity, Sources, Span};

/// A diagnostic with its source text attached, in the shape miette renders.
#[derive(Debug)]
struct Rendered {
    message: String,
    code: &'static str,
    severity: miette::Severity,
    help: Option<String>,
    source: Option<NamedSource<Arc<String>>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Rendered>,
}

impl fmt::Display for Rendered {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Rendered {}

impl miette::Diagnostic for Rendered {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        (!self.code.is_empty()).then(|| Box::new(self.code) as Box<dyn fmt::Display>)
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        (!self.labels.is_empty())
            .then(|| Box::new(self.labels.iter().cloned()) as Box<dyn Iterator<Item = _>>)
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        (!self.related.is_empty()).then(|| {
            Box::new(self.related.iter().map(|r| r as &dyn miette::Diagnostic))
                as Box<dyn Iterator<Item = _>>
        })
    }
}

fn named_source(sources: &Sources, span: Span) -> NamedSource<Arc<String>> {
    let file = sources.get(span.file);
    NamedSource::new(file.name.clone(), file.text.clone()).with_language("kdl")
}

fn labeled(label: &Label, primary: bool) -> LabeledSpan {
    let span = (label.span.offset, label.span.len);
    if primary {
        LabeledSpan::new_primary_with_span(Some(label.text.clone()), span)
    } else {
        LabeledSpan::new_with_span(Some(label.text.clone()), span)
    }
}

fn rendered(sources: &Sources, diagnostic: &Diagnostic) -> Rendered {
    let mut labels = Vec::new();
    let mut related = Vec::new();
    let mut source = None;
    if let Some(primary) = &diagnostic.primary {
        source = Some(named_source(sources, primary.span));
        labels.push(labeled(primary, true));
    }
    for label in &diagnostic.related {
        let same_file = diagnostic
            .primary
            .as_ref()
            .is_some_and(|p| p.span.file == label.span.file);
        if same_file {
            labels.push(labeled(label, false));
        } else {
            // miette draws one source per diagnostic: a label in another file becomes a note.
            related.push(Rendered {
                message: label.text.clone(),
                code: "",
                severity: miette::Severity::Advice,
                help: None,
                source: Some(named_source(sources, label.span)),
                labels: vec![labeled(label, true)],
                related: Vec::new(),
            });
        }
    }
    Rendered {
        message: diagnostic.message.clone(),
        code: diagnostic.code.as_str(),
        severity: match diagnostic.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        },
        help: diagnostic.help.clone(),
        source,
        labels,
        related,
    }
}

/// The graphical report of every diagnostic, as shown on stderr.
pub fn render_human(sources: &Sources, diagnostics: &[Diagnostic], color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    for diagnostic in diagnostics {
        let rendered = rendered(sources, diagnostic);
        if handler.render_report(&mut out, &rendered).is_err() {
            let _ = writeln!(out, "{}: {}", diagnostic.code, diagnostic.message);
        }
        out.push('\n');
    }
    out
}

/// One place in a file, 1-based.
#[derive(Debug, Serialize)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
}

impl Location {
    fn of(sources: &Sources, span: Span) -> Self {
        let file = sources.get(span.file);
        let (line, column) = file.line_column(span.offset);
        let (end_line, end_column) = file.line_column(span.offset + span.len);
        Self {
            file: file.name.clone(),
            line,
            column,
            end_line,
            end_column,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct JsonLabel {
    #[serde(flatten)]
    pub location: Location,
    pub text: String,
}

/// A diagnostic as `validate --format json` prints it.
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic {
    pub file: Option<String>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub end_line: Option<usize>,
    pub end_column: Option<usize>,
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub help: Option<String>,
    /// The other places the diagnostic points at (the definition, the first duplicate…).
    pub related: Vec<JsonLabel>,
}

pub fn to_json(sources: &Sources, diagnostic: &Diagnostic) -> JsonDiagnostic {
    let location = diagnostic
        .primary
        .as_ref()
        .map(|p| Location::of(sources, p.span));
    JsonDiagnostic {
        file: location.as_ref().map(|l| l.file.clone()),
        line: location.as_ref().map(|l| l.line),
        column: location.as_ref().map(|l| l.column),
        end_line: location.as_ref().map(|l| l.end_line),
        end_column: location.as_ref().map(|l| l.end_column),
        code: diagnostic.code.as_str(),
        severity: diagnostic.severity,
        message: diagnostic.message.clone(),
        help: diagnostic.help.clone(),
        related: diagnostic
            .related
            .iter()
            .map(|l| JsonLabel {
                location: Location::of(sources, l.span),
                text: l.text.clone(),
            })
            .collect(),
    }
}
