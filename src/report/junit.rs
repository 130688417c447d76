//! Renders a check as `JUnit` XML, the test-report format CI systems (Jenkins, GitLab, GitHub
//! Actions reporters) display: a test suite per site, a test case per address, a `<failure>`
//! per warning or critical finding. Info findings pass and go to `<system-out>`.
//!
//! Never coloured. `tests/junit.xsd` is the schema the integration tests hold it to.

use std::collections::HashMap;
use std::fmt::Write as _;

use jiff::Timestamp;

use crate::plan::{Finding, Plan, Severity};

/// One site's test cases: each address with the findings about it.
struct Suite<'a> {
    name: &'a str,
    cases: Vec<(&'a str, Vec<&'a Finding>)>,
    ignored: usize,
}

impl Suite<'_> {
    fn failures(&self) -> usize {
        self.cases
            .iter()
            .filter(|(_, findings)| findings.iter().any(|f| fails(f)))
            .count()
    }
}

/// Warnings and criticals fail a test case; info findings are reported, not failed.
fn fails(finding: &Finding) -> bool {
    finding.severity != Severity::Info
}

/// Sites in the order the plan first names them (primary first, as declared); in each, every
/// item address, then every other address a finding names.
fn suites(plan: &Plan) -> Vec<Suite<'_>> {
    let mut suites: Vec<Suite<'_>> = Vec::new();
    let mut site_index: HashMap<&str, usize> = HashMap::new();
    let mut case_index: HashMap<&str, (usize, usize)> = HashMap::new();
    let addresses = plan
        .items
        .iter()
        .map(|i| &i.address)
        .chain(plan.findings.iter().map(|f| &f.address));
    for address in addresses {
        let site = address.site();
        let s = *site_index.entry(site).or_insert_with(|| {
            suites.push(Suite {
                name: site,
                cases: Vec::new(),
                ignored: 0,
            });
            suites.len() - 1
        });
        case_index.entry(address.as_str()).or_insert_with(|| {
            suites[s].cases.push((address.as_str(), Vec::new()));
            (s, suites[s].cases.len() - 1)
        });
    }
    for finding in &plan.findings {
        if let Some(&(s, c)) = case_index.get(finding.address.as_str()) {
            suites[s].cases[c].1.push(finding);
        }
    }
    for finding in &plan.ignored {
        if let Some(&s) = site_index.get(finding.address.site()) {
            suites[s].ignored += 1;
        }
    }
    suites
}

/// `redmond/database/rtc/full` → `redmond.database`: CI views group test cases by the
/// classname's package (the site) and class (the kind).
fn classname(address: &str) -> String {
    address.split('/').take(2).collect::<Vec<_>>().join(".")
}

/// The failure body: what a CI view shows when the failure is opened.
fn details(finding: &Finding) -> String {
    let mut body = format!("{} {}", finding.severity.as_str(), finding.code);
    for (label, value) in [
        ("desired", &finding.desired),
        ("observed", &finding.observed),
        ("hint", &finding.hint),
    ] {
        if let Some(value) = value {
            let _ = write!(body, "\n{label}: {value}");
        }
    }
    body
}

/// `JUnit` XML of a check: one `<testsuite>` per site.
pub fn junit(plan: &Plan, now: Timestamp, observed_at: Timestamp) -> String {
    let suites = suites(plan);
    let tests: usize = suites.iter().map(|s| s.cases.len()).sum();
    let failures: usize = suites.iter().map(Suite::failures).sum();
    let mut out = head(tests, failures, 0, now);
    for (id, suite) in suites.iter().enumerate() {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" time=\"0\" timestamp=\"{now}\" id=\"{id}\" package=\"standby\">",
            escape(suite.name),
            suite.cases.len(),
            suite.failures(),
        );
        out.push_str("    <properties>\n");
        for (name, value) in [
            ("observed_at", observed_at.to_string()),
            ("ignored", suite.ignored.to_string()),
        ] {
            let _ = writeln!(
                out,
                "      <property name=\"{name}\" value=\"{}\"/>",
                escape(&value)
            );
        }
        out.push_str("    </properties>\n");
        for (address, findings) in &suite.cases {
            case(&mut out, address, findings);
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

fn case(out: &mut String, address: &str, findings: &[&Finding]) {
    let _ = write!(
        out,
        "    <testcase name=\"{}\" classname=\"{}\" time=\"0\"",
        escape(address),
        escape(&classname(address))
    );
    if findings.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    for finding in findings.iter().filter(|f| fails(f)) {
        let _ = writeln!(
            out,
            "      <failure message=\"{}\" type=\"{}\">{}</failure>",
            escape(&finding.message),
            finding.code,
            escape(&details(finding))
        );
    }
    let info: Vec<String> = findings
        .iter()
        .filter(|f| !fails(f))
        .map(|f| {
            let mut line = format!("{} {}: {}", f.severity.as_str(), f.code, f.message);
            if let Some(hint) = &f.hint {
                let _ = write!(line, " (hint: {hint})");
            }
            line
        })
        .collect();
    if !info.is_empty() {
        let _ = writeln!(
            out,
            "      <system-out>{}</system-out>",
            escape(&info.join("\n"))
        );
    }
    out.push_str("    </testcase>\n");
}

fn head(tests: usize, failures: usize, errors: usize, now: Timestamp) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"standby check\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\" time=\"0\" timestamp=\"{now}\">\n"
    )
}

/// The report when standby could not check at all: one test case in error, so the CI view
/// shows why instead of an empty or missing report.
pub fn junit_error(reason: &str, now: Timestamp) -> String {
    let mut out = head(1, 0, 1, now);
    let _ = writeln!(
        out,
        "  <testsuite name=\"standby\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"0\" timestamp=\"{now}\" id=\"0\" package=\"standby\">"
    );
    let _ = writeln!(
        out,
        "    <testcase name=\"check\" classname=\"standby\" time=\"0\">\n      <error message=\"{}\" type=\"error\">{}</error>\n    </testcase>",
        escape(reason),
        escape(reason)
    );
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// Escapes text for an XML 1.0 attribute or element. Line breaks and tabs become character
/// references so attribute values keep them; characters XML 1.0 cannot carry at all (most
/// C0 controls) become U+FFFD rather than making the document invalid.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            '\u{0}'..='\u{1f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::address::Address;
    use crate::plan::{FindingCode, ItemStatus};

    fn item(address: &str) -> ItemStatus {
        let parts: Vec<&str> = address.split('/').collect();
        ItemStatus {
            address: Address::parse(address).expect("address"),
            site: parts[0].to_owned(),
            kind: "database",
            item: parts[2].to_owned(),
            backup_type: crate::layout::BackupType::Full,
            known: true,
            backups: 1,
            newest: None,
            age_seconds: None,
            warn_seconds: 60,
            crit_seconds: 120,
        }
    }

    fn finding(address: &str, code: FindingCode, severity: Severity, message: &str) -> Finding {
        Finding::new(
            &Address::parse(address).expect("address"),
            code,
            severity,
            message,
        )
    }

    fn now() -> Timestamp {
        "2026-11-22T06:30:00Z".parse().expect("timestamp")
    }

    #[test]
    fn a_suite_per_site_a_case_per_address_a_failure_per_problem() {
        let plan = Plan {
            findings: vec![
                finding(
                    "a/database/db/full",
                    FindingCode::BackupStale,
                    Severity::Critical,
                    "old",
                )
                .hint("run it"),
                finding(
                    "a/database/db/full",
                    FindingCode::CopyMissing,
                    Severity::Warning,
                    "no copy",
                ),
                finding(
                    "a/database/db/full",
                    FindingCode::RetentionExcess,
                    Severity::Info,
                    "too many",
                ),
                finding("a/store/local", FindingCode::Unmanaged, Severity::Info, "x"),
            ],
            items: vec![item("a/database/db/full"), item("b/database/db/full")],
            ..Plan::default()
        };
        let xml = junit(&plan, now(), now());
        assert!(
            xml.contains(
                "<testsuites name=\"standby check\" tests=\"3\" failures=\"1\" errors=\"0\""
            ),
            "{xml}"
        );
        assert!(
            xml.contains("<testsuite name=\"a\" tests=\"2\" failures=\"1\""),
            "{xml}"
        );
        assert!(
            xml.contains("<testsuite name=\"b\" tests=\"1\" failures=\"0\""),
            "{xml}"
        );
        assert!(xml.contains(
            "<failure message=\"old\" type=\"backup-stale\">critical backup-stale&#10;hint: run it</failure>"
        ));
        assert!(xml.contains("<failure message=\"no copy\" type=\"copy-missing\">"));
        assert!(
            xml.contains("<system-out>info retention-excess: too many</system-out>"),
            "{xml}"
        );
        assert!(xml.contains(
            "<testcase name=\"a/store/local\" classname=\"a.store\" time=\"0\">\n      <system-out>"
        ));
        assert!(xml.contains(
            "<testcase name=\"b/database/db/full\" classname=\"b.database\" time=\"0\"/>"
        ));
        assert_eq!(xml.matches("<failure ").count(), 2);
    }

    #[test]
    fn escapes_everything_it_did_not_write_itself() {
        assert_eq!(
            escape("a<b> & \"c\" 'd'\nE\u{7}"),
            "a&lt;b&gt; &amp; &quot;c&quot; &apos;d&apos;&#10;E\u{fffd}"
        );
        let plan = Plan {
            findings: vec![finding(
                "a/database/db/full",
                FindingCode::BackupStale,
                Severity::Warning,
                "<![CDATA[ ]]> & \"",
            )],
            ..Plan::default()
        };
        let xml = junit(&plan, now(), now());
        assert!(
            xml.contains("message=\"&lt;![CDATA[ ]]&gt; &amp; &quot;\""),
            "{xml}"
        );
    }

    #[test]
    fn an_error_report_says_why() {
        let xml = junit_error("cannot read x: <gone>", now());
        assert!(xml.contains("errors=\"1\""));
        assert!(xml.contains("<error message=\"cannot read x: &lt;gone&gt;\" type=\"error\">"));
    }
}
