//! `standby-missing` for the backup guide's rules about the standby site itself: it is in
//! another region than the primary, and every backup the primary takes is copied to it.
//! The guide's other rules need no observation and are reported as satisfied: the pools'
//! names differ (`validate` rejects a reused FQDN) and both sites share the deployment's
//! one domain.

use super::parity::{NOTHING, ParityKind, Status};
use super::{Out, Pair};
use crate::desired::{Desired, Site};
use crate::plan::{Finding, FindingCode, Severity};

pub(super) fn check(desired: &Desired, pair: &Pair<'_>, out: &mut Out) {
    region(pair, out);
    let domain = desired
        .deployment
        .domain
        .as_ref()
        .map_or(NOTHING, |d| d.value.as_str());
    out.row(
        pair,
        ParityKind::Site,
        site_address(pair.standby),
        (format!("domain {domain}"), format!("domain {domain}")),
        Status::Ok,
    )
    .note = Some("one deployment domain".to_owned());
    let pools = |site: &Site| {
        let names: Vec<&str> = site.pools.iter().map(|p| p.fqdn.value.as_str()).collect();
        if names.is_empty() {
            NOTHING.to_owned()
        } else {
            format!("pools {}", names.join(", "))
        }
    };
    out.row(
        pair,
        ParityKind::Site,
        site_address(pair.standby),
        (pools(pair.primary), pools(pair.standby)),
        Status::Ok,
    )
    .note = Some("pool names differ (checked by validate)".to_owned());
}

fn site_address(site: &Site) -> crate::address::Address {
    site.address("site", &site.name)
}

/// The standby must be in another region: one regional disaster must not take both.
fn region(pair: &Pair<'_>, out: &mut Out) {
    let address = site_address(pair.standby);
    let (primary, standby) = (&pair.primary.region, &pair.standby.region);
    let side = |r: &Option<crate::desired::Spanned<String>>| {
        r.as_ref()
            .map_or(NOTHING.to_owned(), |r| format!("region {}", r.value))
    };
    let sides = (side(primary), side(standby));
    let (status, problem) = match (primary, standby) {
        (Some(p), Some(s)) if p.value != s.value => (Status::Ok, None),
        (Some(p), Some(_)) => (
            Status::Drift,
            Some(format!(
                "standby site `{}` is in the same region as primary `{}` ({}): one regional outage takes both",
                pair.standby.name.value, pair.primary.name.value, p.value
            )),
        ),
        _ => {
            let without: Vec<&str> = [(pair.primary, primary), (pair.standby, standby)]
                .iter()
                .filter(|(_, r)| r.is_none())
                .map(|(site, _)| site.name.value.as_str())
                .collect();
            (
                Status::Unknown,
                Some(format!(
                    "cannot check that the standby is in another region: no `region` on site {}",
                    without
                        .iter()
                        .map(|s| format!("`{s}`"))
                        .collect::<Vec<_>>()
                        .join(" and ")
                )),
            )
        }
    };
    let row = out.row(pair, ParityKind::Site, address.clone(), sides, status);
    row.note.clone_from(&problem);
    if let Some(message) = problem {
        out.finding(
            Finding::new(
                &address,
                FindingCode::StandbyMissing,
                Severity::Warning,
                message,
            )
            .desired("the standby site in another region than its primary")
            .hint("put the standby site in another region, and declare region=\"…\" on both sites"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{audit_of, rows};
    use crate::audit::{ParityKind, Status};

    fn sites(primary_region: &str, standby_region: &str) -> String {
        format!(
            r#"
site "p" role="primary" {primary_region} {{
    store "local" path="/b/p"
    pool "pool01.example" edition="enterprise"
}}
site "s" role="standby" standby-for="p" {standby_region} {{
    pool "pool02.example" edition="enterprise"
}}
"#
        )
    }

    fn region_finding(primary: &str, standby: &str) -> Option<String> {
        let audit = audit_of(&sites(primary, standby));
        audit
            .findings
            .iter()
            .find(|f| f.address.as_str() == "s/site/s")
            .map(|f| format!("{}: {}", f.code, f.message))
    }

    #[test]
    fn the_standby_must_be_in_another_region() {
        assert_eq!(region_finding(r#"region="west""#, r#"region="east""#), None);
        assert_eq!(
            region_finding(r#"region="west""#, r#"region="west""#).as_deref(),
            Some(
                "standby-missing: standby site `s` is in the same region as primary `p` (west): one regional outage takes both"
            )
        );
        assert_eq!(
            region_finding(r#"region="west""#, "").as_deref(),
            Some(
                "standby-missing: cannot check that the standby is in another region: no `region` on site `s`"
            )
        );
        assert_eq!(
            region_finding("", "").as_deref(),
            Some(
                "standby-missing: cannot check that the standby is in another region: no `region` on site `p` and `s`"
            )
        );
    }

    #[test]
    fn domain_and_pool_names_are_reported_satisfied() {
        let audit = audit_of(&sites(r#"region="west""#, r#"region="east""#));
        let site = rows(&audit, ParityKind::Site);
        assert_eq!(site.len(), 3);
        assert!(site.iter().all(|r| r.status == Status::Ok), "{site:#?}");
        assert_eq!(site[1].primary, "domain example.com");
        assert_eq!(
            (site[2].primary.as_str(), site[2].standby.as_str()),
            ("pools pool01.example", "pools pool02.example")
        );
    }

    #[test]
    fn a_primary_without_a_standby_is_reported() {
        let audit = audit_of(
            r#"
site "p" role="primary" region="west" {
    store "local" path="/b/p"
}
"#,
        );
        assert_eq!(audit.findings.len(), 1);
        assert_eq!(audit.findings[0].address.as_str(), "p/site/p");
        assert!(
            audit.findings[0]
                .message
                .starts_with("no standby site stands in for `p`")
        );
    }
}
