//! Problems found while reading the desired state, with the spans they point at.
//!
//! Loading never stops at the first problem: every step pushes [`Diagnostic`]s and keeps
//! going, so an operator sees every mistake in one run. Rendering (miette or JSON) lives in
//! `report::diagnostics`; this module only describes what went wrong and where.

use serde::Serialize;

use super::source::Span;

/// A stable identifier for one kind of mistake. Shown in reports and in `--format json`;
/// editors and CI annotations key on it, so existing codes never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Code {
    /// The directory or a file could not be read.
    ReadError,
    /// The desired directory holds no `*.kdl` file.
    NoDesiredFiles,
    /// The text is not valid KDL v2.
    KdlSyntax,
    /// A node name that is not part of the schema at this place.
    UnknownNode,
    /// A property name the node does not take.
    UnknownProperty,
    /// The same property given twice on one node.
    DuplicateProperty,
    /// A node given more arguments than it takes.
    UnexpectedArgument,
    /// A node lacks an argument it needs (usually its name).
    MissingArgument,
    /// A node that takes no children has a `{ … }` block.
    UnexpectedChildren,
    /// A value of the wrong KDL type (a number where a string belongs, …).
    WrongType,
    /// A value outside the allowed set or range.
    BadValue,
    /// A duration that is not like `90m`, `24h`, `7d`, `4w`.
    BadDuration,
    /// A time of day that is not `HH:MM`.
    BadTime,
    /// A glob that does not compile.
    BadGlob,
    /// An address that is not `SITE/KIND/NAME[/DETAIL]`.
    BadAddress,
    /// A required property is missing.
    MissingProperty,
    /// A node lacks a child it needs (a settings item without `export` or `pattern`).
    MissingChild,
    /// A node that may appear once appears again.
    DuplicateNode,
    /// Two things of one kind share a name.
    DuplicateName,
    /// A reference to something that is not declared.
    DanglingReference,
    /// `copy-to` names the item's own `store`.
    CopyToSameStore,
    /// A `warn` threshold beyond the item's `crit` threshold.
    WarnBeyondCrit,
    /// A `crit` threshold beyond the deployment's `rpo`.
    CritBeyondRpo,
    /// A standby site's pool has the same FQDN as one of the primary's.
    StandbyPoolSameName,
    /// `standby-for` names a site that is not a primary site.
    StandbyForNotPrimary,
    /// `standby-for` on a primary site.
    StandbyForOnPrimary,
    /// No `deployment` node in the whole desired state.
    DeploymentMissing,
    /// More than one `deployment` node.
    DeploymentDuplicate,
    /// A plain-text `password` property; passwords only come from `password-env`.
    PasswordProperty,
    /// `omit` or `settings-compare` on a site that is not a standby site.
    StandbyOnly,
    /// A `log` backup of a database declared `recovery-model="simple"`.
    LogBackupOnSimple,
    /// A scenario `template` that does not fit the deployment: not an OCS deployment, or
    /// nothing of the kind the template restores is declared.
    TemplateNotApplicable,
    /// `override` names no step of the scenario's template.
    UnknownTemplateStep,

    // Lints of the OCS 2007 R2 profile: warnings unless `validate --strict`.
    /// A role implies a component (database, settings export, fileset) nothing declares.
    ImpliedComponentMissing,
    /// A database without a full backup at least every 24 hours.
    FullBackupInfrequent,
    /// A backup that `apply` only runs in the backup window, yet due more often than the
    /// window comes round.
    ScheduleOutsideWindow,
    /// No `restore-test` objective.
    RestoreTestMissing,
    /// A primary site that no standby site stands in for.
    StandbySiteMissing,
    /// A standby site in the same region as its primary.
    StandbySameRegion,
    /// A server (or a site) with no owner.
    OwnerMissing,
    /// A scenario without an owner, an estimate or steps.
    ScenarioIncomplete,
    /// A scenario whose estimate is beyond the RTO.
    ScenarioExceedsRto,
    /// The scenarios of the restore sequence together take longer than the RTO.
    RestoreSequenceExceedsRto,
    /// A database not declared `separate-log-volume=#true`.
    LogVolumeNotSeparate,
    /// An item whose every copy is at its own site.
    CopyOnlyLocal,
}

impl Code {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReadError => "read-error",
            Self::NoDesiredFiles => "no-desired-files",
            Self::KdlSyntax => "kdl-syntax",
            Self::UnknownNode => "unknown-node",
            Self::UnknownProperty => "unknown-property",
            Self::DuplicateProperty => "duplicate-property",
            Self::UnexpectedArgument => "unexpected-argument",
            Self::MissingArgument => "missing-argument",
            Self::UnexpectedChildren => "unexpected-children",
            Self::WrongType => "wrong-type",
            Self::BadValue => "bad-value",
            Self::BadDuration => "bad-duration",
            Self::BadTime => "bad-time",
            Self::BadGlob => "bad-glob",
            Self::BadAddress => "bad-address",
            Self::MissingProperty => "missing-property",
            Self::MissingChild => "missing-child",
            Self::DuplicateNode => "duplicate-node",
            Self::DuplicateName => "duplicate-name",
            Self::DanglingReference => "dangling-reference",
            Self::CopyToSameStore => "copy-to-same-store",
            Self::WarnBeyondCrit => "warn-beyond-crit",
            Self::CritBeyondRpo => "crit-beyond-rpo",
            Self::StandbyPoolSameName => "standby-pool-same-name",
            Self::StandbyForNotPrimary => "standby-for-not-primary",
            Self::StandbyForOnPrimary => "standby-for-on-primary",
            Self::DeploymentMissing => "deployment-missing",
            Self::DeploymentDuplicate => "deployment-duplicate",
            Self::PasswordProperty => "password-property",
            Self::StandbyOnly => "standby-only",
            Self::LogBackupOnSimple => "log-backup-on-simple",
            Self::TemplateNotApplicable => "template-not-applicable",
            Self::UnknownTemplateStep => "unknown-template-step",
            Self::ImpliedComponentMissing => "implied-component-missing",
            Self::FullBackupInfrequent => "full-backup-infrequent",
            Self::ScheduleOutsideWindow => "schedule-outside-window",
            Self::RestoreTestMissing => "restore-test-missing",
            Self::StandbySiteMissing => "standby-site-missing",
            Self::StandbySameRegion => "standby-same-region",
            Self::OwnerMissing => "owner-missing",
            Self::ScenarioIncomplete => "scenario-incomplete",
            Self::ScenarioExceedsRto => "scenario-exceeds-rto",
            Self::RestoreSequenceExceedsRto => "restore-sequence-exceeds-rto",
            Self::LogVolumeNotSeparate => "log-volume-not-separate",
            Self::CopyOnlyLocal => "copy-only-local",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A span with the text shown next to it.
#[derive(Debug, Clone)]
pub struct Label {
    pub span: Span,
    pub text: String,
}

/// One problem in the desired state.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub message: String,
    /// Where the problem is; `None` only for problems of the whole directory.
    pub primary: Option<Label>,
    /// Other places that explain it: the definition a reference missed, the first of two
    /// duplicates, the candidates a dangling reference could have meant.
    pub related: Vec<Label>,
    pub help: Option<String>,
}

impl Diagnostic {
    pub fn error(code: Code, message: impl Into<String>) -> Self {
        Self {
            code,
            severity: Severity::Error,
            message: message.into(),
            primary: None,
            related: Vec::new(),
            help: None,
        }
    }

    /// A lint: the desired state is valid but falls short of best practice.
    pub fn warning(code: Code, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, message)
        }
    }

    #[must_use]
    pub fn at(mut self, span: Span, text: impl Into<String>) -> Self {
        self.primary = Some(Label {
            span,
            text: text.into(),
        });
        self
    }

    #[must_use]
    pub fn with_related(mut self, span: Span, text: impl Into<String>) -> Self {
        self.related.push(Label {
            span,
            text: text.into(),
        });
        self
    }

    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// "did you mean `x`?" for the closest candidate, if one is close enough to be a typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|candidate| (strsim::jaro_winkler(word, candidate), candidate))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, candidate)| candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let props = ["every", "keep", "store", "copy-to"];
        assert_eq!(did_you_mean("stor", props), Some("store"));
        assert_eq!(did_you_mean("copy_to", props), Some("copy-to"));
        assert_eq!(did_you_mean("zzz", props), None);
    }
}
