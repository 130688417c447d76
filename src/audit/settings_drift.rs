//! `settings-drift`: the standby's latest settings export differs from the primary's beyond
//! what its `settings-compare` allows. The primary's text is rewritten (`rewrite from= to=`,
//! in order), lines containing any `ignore-line` text are dropped on both sides, and what
//! still differs is reported with a unified diff. The texts come from the observation
//! (`settings_exports`); an export that could not be read is `source-unreachable`.

use similar::TextDiff;

use super::parity::{NOTHING, ParityKind, Status};
use super::{Out, Pair};
use crate::desired::SettingsCompare;
use crate::observe::{Observed, SettingsExport};
use crate::plan::{Finding, FindingCode, Severity};

pub(super) fn check(observed: &Observed, pair: &Pair<'_>, out: &mut Out) {
    for compare in &pair.standby.settings_compares {
        compare_one(observed, pair, compare, out);
    }
}

fn export<'o>(observed: &'o Observed, site: &str, settings: &str) -> Option<&'o SettingsExport> {
    observed
        .settings_exports
        .iter()
        .find(|e| e.site == site && e.settings == settings)
}

/// The text of one side as compared: `rewrites` applied, ignored lines dropped, line
/// endings made `\n`.
pub(super) fn comparable(text: &str, rewrites: &[(&str, &str)], ignored: &[&str]) -> String {
    let mut text = text.to_owned();
    for (from, to) in rewrites {
        text = text.replace(from, to);
    }
    text.lines()
        .filter(|line| !ignored.iter().any(|i| line.contains(i)))
        .flat_map(|line| [line, "\n"])
        .collect()
}

fn compare_one(observed: &Observed, pair: &Pair<'_>, compare: &SettingsCompare, out: &mut Out) {
    let name = &compare.name.value;
    let (primary_site, standby_site) = (&pair.primary.name.value, &pair.standby.name.value);
    let address = pair.standby.address("settings-compare", name);
    if !pair.standby.settings.iter().any(|s| s.name.value == *name) {
        out.finding(
            Finding::new(
                &address,
                FindingCode::StandbyMissing,
                Severity::Warning,
                format!(
                    "settings-compare `{name}`: standby site `{standby_site}` declares no settings `{name}` to compare with the primary's"
                ),
            )
            .hint(format!(
                "declare settings \"{name}\" in site \"{standby_site}\" (its export is compared), or remove the settings-compare"
            )),
        );
        out.row(
            pair,
            ParityKind::SettingsExport,
            address,
            (
                format!("{primary_site}/settings/{name}"),
                NOTHING.to_owned(),
            ),
            Status::Missing,
        );
        return;
    }
    let sides = [
        export(observed, primary_site, name),
        export(observed, standby_site, name),
    ];
    let label = |site: &str, e: Option<&SettingsExport>| {
        e.and_then(|e| e.path.as_deref())
            .and_then(|p| p.rsplit('/').next())
            .map_or_else(|| format!("{site}/settings/{name}"), str::to_owned)
    };
    let columns = (label(primary_site, sides[0]), label(standby_site, sides[1]));
    let mut texts = Vec::new();
    for (site, side) in [primary_site, standby_site].into_iter().zip(sides) {
        let problem = match side {
            None => format!(
                "the observation has no export of `{site}/settings/{name}` (it predates the settings-compare; run `standby discover`)"
            ),
            Some(e) => match (&e.content, &e.error) {
                (Some(text), None) => {
                    texts.push((e, text));
                    continue;
                }
                (_, Some(error)) => format!("export of `{site}/settings/{name}`: {error}"),
                (None, None) => format!("export of `{site}/settings/{name}` was not read"),
            },
        };
        out.finding(
            Finding::new(
                &address,
                FindingCode::SourceUnreachable,
                Severity::Warning,
                format!("cannot compare settings `{name}`: {problem}"),
            )
            .hint("export the settings on both sites (standby apply), then run `standby discover` again"),
        );
        out.row(
            pair,
            ParityKind::SettingsExport,
            address,
            columns,
            Status::Unknown,
        )
        .note = Some(problem);
        return;
    }
    let [(primary, primary_text), (standby, standby_text)] = texts[..] else {
        return;
    };
    let rewrites: Vec<(&str, &str)> = compare
        .rewrites
        .iter()
        .map(|r| (r.from.value.as_str(), r.to.value.as_str()))
        .collect();
    let ignored: Vec<&str> = compare
        .ignore_lines
        .iter()
        .map(|l| l.value.as_str())
        .collect();
    let old = comparable(primary_text, &rewrites, &ignored);
    let new = comparable(standby_text, &[], &ignored);
    if old == new {
        out.row(
            pair,
            ParityKind::SettingsExport,
            address,
            columns,
            Status::Ok,
        );
        return;
    }
    // Store-relative paths start with the site's name (SPEC §3).
    let path = |e: &SettingsExport| {
        e.path
            .clone()
            .unwrap_or_else(|| format!("{}/settings/{}", e.site, e.settings))
    };
    let diff = TextDiff::from_lines(&old, &new);
    let count = |tag| diff.iter_all_changes().filter(|c| c.tag() == tag).count();
    let (removed, added) = (
        count(similar::ChangeTag::Delete),
        count(similar::ChangeTag::Insert),
    );
    let changed = format!("-{removed} +{added} line(s)");
    let unified = diff
        .unified_diff()
        .context_radius(3)
        .header(&format!("{} (rewritten)", path(primary)), &path(standby))
        .to_string();
    let message = format!(
        "settings `{name}` at `{standby_site}` differ from `{primary_site}`'s beyond settings-compare: {changed}"
    );
    out.finding(
        Finding::new(&address, FindingCode::SettingsDrift, Severity::Warning, message.clone())
            .desired(format!(
                "{} after {} rewrite(s), ignoring lines with {}",
                path(primary),
                rewrites.len(),
                if ignored.is_empty() {
                    "nothing".to_owned()
                } else {
                    ignored
                        .iter()
                        .map(|i| format!("{i:?}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ))
            .observed(path(standby))
            .hint("make the standby's settings match (or add a rewrite/ignore-line for a legitimate difference), export again and rediscover")
            .diff(unified),
    );
    out.row(
        pair,
        ParityKind::SettingsExport,
        address,
        columns,
        Status::Drift,
    )
    .note = Some(changed);
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{audit_with, codes, observed, rows};

    fn observed_nothing() -> crate::observe::Observed {
        observed(Vec::new())
    }
    use super::comparable;
    use crate::audit::{ParityKind, Status};
    use crate::observe::SettingsExport;

    const SITES: &str = r#"
site "p" role="primary" region="west" {
    store "local" path="/b/p"
    settings "global" level="global" every="24h" keep=2 store="local" { export "x.exe" "{file}" }
}
site "s" role="standby" standby-for="p" region="east" {
    store "local" path="/b/s"
    settings "global" level="global" every="24h" keep=2 store="local" { export "x.exe" "{file}" }
    settings-compare "global" {
        rewrite from="pool01.example" to="pool02.example"
        ignore-line "LastModified=" "Exported="
    }
}
"#;

    const PRIMARY: &str = "<Settings>\r\n  <Pool fqdn=\"pool01.example\"/>\r\n  <LastModified=\"2026-11-21\"/>\r\n  <Federation enabled=\"true\"/>\r\n</Settings>\r\n";

    fn exports(standby: &str) -> Vec<SettingsExport> {
        let export = |site: &str, content: &str| SettingsExport {
            site: site.into(),
            settings: "global".into(),
            store: "local".into(),
            path: Some(format!(
                "{site}/settings/global/export/global_export_20261122T010000Z.xml"
            )),
            content: Some(content.into()),
            error: None,
        };
        vec![export("p", PRIMARY), export("s", standby)]
    }

    /// The audit, keeping only what concerns the settings-compare (the primary's settings
    /// have no copy at the standby here: that is another rule's finding).
    fn compared(mut audit: crate::audit::Audit) -> crate::audit::Audit {
        audit
            .findings
            .retain(|f| f.address.as_str() == "s/settings-compare/global");
        audit
    }

    fn audit(standby: &str) -> crate::audit::Audit {
        let mut observed = observed(Vec::new());
        observed.settings_exports = exports(standby);
        compared(audit_with(SITES, &observed))
    }

    #[test]
    fn rewrites_and_ignored_lines_are_legitimate_differences() {
        let audit = audit(
            "<Settings>\n  <Pool fqdn=\"pool02.example\"/>\n  <LastModified=\"2026-11-22\"/>\n  <Federation enabled=\"true\"/>\n</Settings>\n",
        );
        assert!(audit.findings.is_empty(), "{:#?}", audit.findings);
        assert_eq!(
            rows(&audit, ParityKind::SettingsExport)[0].status,
            Status::Ok
        );
    }

    #[test]
    fn a_real_difference_is_drift_with_a_unified_diff() {
        let audit = audit(
            "<Settings>\n  <Pool fqdn=\"pool02.example\"/>\n  <Federation enabled=\"false\"/>\n</Settings>\n",
        );
        assert_eq!(
            codes(&audit),
            [(
                "s/settings-compare/global".to_owned(),
                "settings-drift".to_owned()
            )]
        );
        let finding = &audit.findings[0];
        assert_eq!(finding.severity, crate::plan::Severity::Warning);
        assert_eq!(
            finding.diff.as_deref(),
            Some(
                "--- p/settings/global/export/global_export_20261122T010000Z.xml (rewritten)\n\
                 +++ s/settings/global/export/global_export_20261122T010000Z.xml\n\
                 @@ -1,4 +1,4 @@\n \
                 <Settings>\n   \
                 <Pool fqdn=\"pool02.example\"/>\n\
                 -  <Federation enabled=\"true\"/>\n\
                 +  <Federation enabled=\"false\"/>\n \
                 </Settings>\n"
            )
        );
        assert_eq!(
            rows(&audit, ParityKind::SettingsExport)[0].status,
            Status::Drift
        );
    }

    #[test]
    fn an_unreadable_export_is_unknown_not_equal() {
        let mut observed = observed(Vec::new());
        observed.settings_exports = exports("");
        observed.settings_exports[1].content = None;
        observed.settings_exports[1].error = Some("no export in store `local`".into());
        let audit = compared(audit_with(SITES, &observed));
        assert_eq!(
            codes(&audit),
            [(
                "s/settings-compare/global".to_owned(),
                "source-unreachable".to_owned()
            )]
        );
        assert!(
            audit.findings[0]
                .message
                .contains("no export in store `local`")
        );
        let none = compared(audit_with(SITES, &observed_nothing()));
        assert!(none.findings[0].message.contains("run `standby discover`"));
    }

    #[test]
    fn comparing_applies_rewrites_in_order_to_one_side() {
        assert_eq!(
            comparable(
                "a=pool01\nWhen=1\r\nb\n",
                &[("pool01", "x"), ("x", "pool02")],
                &["When="]
            ),
            "a=pool02\nb\n"
        );
    }
}
