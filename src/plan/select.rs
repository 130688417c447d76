//! Choosing what a run looks at: `--target GLOB` and `desired/.standbyignore`.

use globset::{Glob, GlobMatcher};

use super::finding::{Finding, FindingCode};
use crate::address::Address;

/// The `--target` globs; none selects everything. A target also selects everything below
/// it: `redmond/database/rtc` selects `redmond/database/rtc/full`.
#[derive(Debug, Default)]
pub struct Targets {
    globs: Vec<(String, GlobMatcher)>,
}

impl Targets {
    pub fn new(patterns: &[String]) -> Result<Self, String> {
        let globs = patterns
            .iter()
            .map(|p| {
                Glob::new(p)
                    .map(|g| (p.trim_end_matches('/').to_owned(), g.compile_matcher()))
                    .map_err(|e| format!("--target {p:?} is not a valid glob: {}", e.kind()))
            })
            .collect::<Result<_, _>>()?;
        Ok(Self { globs })
    }

    /// Refuses a target that selects none of `declared`, naming the declared address that
    /// reads closest to it: a typo must not pass for "nothing wrong there".
    pub fn check_against(&self, declared: &[Address]) -> Result<(), String> {
        for (text, glob) in &self.globs {
            let one = Self {
                globs: vec![(text.clone(), glob.clone())],
            };
            if declared.iter().any(|a| one.selects(a)) {
                continue;
            }
            let closest = declared.iter().map(Address::as_str).min_by(|a, b| {
                strsim::jaro_winkler(text, b).total_cmp(&strsim::jaro_winkler(text, a))
            });
            return Err(match closest {
                Some(closest) => format!(
                    "--target {text:?} selects nothing the desired state declares; did you mean {closest:?}?"
                ),
                None => {
                    format!("--target {text:?} selects nothing: the desired state declares nothing")
                }
            });
        }
        Ok(())
    }

    pub fn selects(&self, address: &Address) -> bool {
        let address = address.as_str();
        self.globs.is_empty()
            || self.globs.iter().any(|(text, glob)| {
                glob.is_match(address)
                    || address
                        .strip_prefix(text.as_str())
                        .is_some_and(|rest| rest.starts_with('/'))
            })
    }
}

/// One line of the ignore file.
#[derive(Debug)]
struct Rule {
    negated: bool,
    address: GlobMatcher,
    code: GlobMatcher,
}

/// `desired/.standbyignore`: globs over `ADDRESS:CODE`, one per line, `#` comments, `!`
/// negates; the last matching line decides, as in `.gitignore`.
#[derive(Debug, Default)]
pub struct IgnoreRules {
    rules: Vec<Rule>,
}

#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct IgnoreError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl IgnoreRules {
    /// Parses the ignore file's text; `file` names it in errors.
    pub fn parse(file: &str, text: &str) -> Result<Self, IgnoreError> {
        let mut rules = Vec::new();
        for (index, raw) in text.lines().enumerate() {
            let indent = raw.len() - raw.trim_start().len();
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (negated, body, column) = match line.strip_prefix('!') {
                Some(rest) => (true, rest, indent + 2),
                None => (false, line, indent + 1),
            };
            // ADDRESS:CODE — codes never contain ':', so split at the last one.
            let (address, code) = body.rsplit_once(':').unwrap_or((body, "*"));
            let compile = |glob: &str, offset: usize| {
                Glob::new(glob)
                    .map(|g| g.compile_matcher())
                    .map_err(|e| IgnoreError {
                        file: file.to_owned(),
                        line: index + 1,
                        column: column + offset,
                        message: format!("{glob:?} is not a valid glob: {}", e.kind()),
                    })
            };
            rules.push(Rule {
                negated,
                address: compile(address, 0)?,
                code: compile(code, address.len() + 1)?,
            });
        }
        Ok(Self { rules })
    }

    pub fn ignores(&self, address: &Address, code: FindingCode) -> bool {
        self.rules
            .iter()
            .rev()
            .find(|r| r.address.is_match(address.as_str()) && r.code.is_match(code.as_str()))
            .is_some_and(|r| !r.negated)
    }
}

/// Keeps the findings `targets` select, and moves those `ignore` matches to `ignored`
/// (counted, not hidden). What `targets` do not select is dropped.
pub fn select(
    findings: Vec<Finding>,
    targets: &Targets,
    ignore: &IgnoreRules,
    ignored: &mut Vec<Finding>,
) -> Vec<Finding> {
    let mut kept = Vec::new();
    for finding in findings {
        if !targets.selects(&finding.address) {
            continue;
        }
        if ignore.ignores(&finding.address, finding.code) {
            ignored.push(finding);
        } else {
            kept.push(finding);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> Address {
        Address::parse(text).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn targets_select_globs_and_everything_below() -> Result<(), String> {
        let t = Targets::new(&["redmond/database/rtc".into(), "dallas/*".into()])?;
        assert!(t.selects(&addr("redmond/database/rtc/full")));
        assert!(t.selects(&addr("redmond/database/rtc")));
        assert!(!t.selects(&addr("redmond/database/rtcab")));
        assert!(t.selects(&addr("dallas/fileset/x")));
        assert!(Targets::new(&[]).map(|t| t.selects(&addr("a/store/b")))?);
        assert!(Targets::new(&["[".into()]).is_err());
        Ok(())
    }

    #[test]
    fn the_last_matching_line_decides() -> Result<(), IgnoreError> {
        let rules = IgnoreRules::parse(
            ".standbyignore",
            "# unmanaged files are expected in the local stores\n*/store/*:unmanaged\n!redmond/store/offsite:unmanaged\nredmond/fileset/*\n",
        )?;
        assert!(rules.ignores(&addr("dallas/store/local"), FindingCode::Unmanaged));
        assert!(!rules.ignores(&addr("redmond/store/offsite"), FindingCode::Unmanaged));
        assert!(!rules.ignores(&addr("redmond/store/local"), FindingCode::CopyMissing));
        assert!(rules.ignores(&addr("redmond/fileset/x"), FindingCode::BackupStale));
        Ok(())
    }

    #[test]
    fn a_bad_glob_names_the_file_line_and_column() {
        let error = IgnoreRules::parse(".standbyignore", "# ok\n  redmond/[x:unmanaged\n").err();
        assert_eq!(error.map(|e| (e.line, e.column)), Some((2, 3)));
        let error = IgnoreRules::parse(".standbyignore", "a/store/b:[\n").err();
        assert_eq!(error.map(|e| (e.line, e.column)), Some((1, 11)));
    }
}
