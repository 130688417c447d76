//! `dns-mismatch`: a declared DNS record does not resolve as declared. SRV records are
//! compared by target (trailing dot and case insensitive) and port, A records by address,
//! CNAME records by target. A name declared by both sites (the primary's value and the
//! standby's failover value) is checked against the primary's value: the failover value is
//! what it becomes after a failover, not now. Names only the standby declares are checked
//! against the standby's value. The answers come from the observation; a name that could
//! not be resolved is `source-unreachable`, never assumed fine.

use std::net::IpAddr;

use super::counterparts::describe;
use super::parity::{NOTHING, ParityKind, Status};
use super::{Out, Pair};
use crate::desired::{DnsRecord, RecordType, Site};
use crate::observe::{DnsObservation, Observed};
use crate::plan::{Finding, FindingCode, Severity};

pub(super) fn check(observed: &Observed, pair: &Pair<'_>, out: &mut Out) {
    let standby_only = pair.standby.dns.iter().filter(|d| {
        !pair
            .primary
            .dns
            .iter()
            .any(|p| p.name.value == d.name.value && p.record_type.value == d.record_type.value)
    });
    let checked = pair
        .primary
        .dns
        .iter()
        .map(|d| (pair.primary, d))
        .chain(standby_only.map(|d| (pair.standby, d)));
    for (site, record) in checked {
        check_one(observed, pair, site, record, out);
    }
}

fn same_name(a: &str, b: &str) -> bool {
    a.trim_end_matches('.')
        .eq_ignore_ascii_case(b.trim_end_matches('.'))
}

/// Whether one answer (zone-file form, as the DNS provider records it) is the declared value.
fn matches(record: &DnsRecord, answer: &str) -> bool {
    let target = &record.target.value;
    match record.record_type.value {
        RecordType::Srv => {
            let fields: Vec<&str> = answer.split_whitespace().collect();
            let [_priority, _weight, port, host] = fields[..] else {
                return false;
            };
            record
                .port
                .as_ref()
                .is_some_and(|p| port.parse::<u16>() == Ok(p.value))
                && same_name(host, target)
        }
        RecordType::A => match (answer.parse::<IpAddr>(), target.parse::<IpAddr>()) {
            (Ok(a), Ok(b)) => a == b,
            _ => answer == target,
        },
        RecordType::Cname => same_name(answer, target),
    }
}

fn check_one(observed: &Observed, pair: &Pair<'_>, site: &Site, record: &DnsRecord, out: &mut Out) {
    let name = &record.name.value;
    let kind = record.record_type.value;
    let address = site.address("dns", name);
    let declared = describe(record);
    let columns = if std::ptr::eq(site, pair.primary) {
        (declared.clone(), NOTHING.to_owned())
    } else {
        (NOTHING.to_owned(), declared.clone())
    };
    let seen: Option<&DnsObservation> = observed.dns.iter().find(|d| {
        d.site == site.name.value && d.name == *name && d.record_type == kind.to_string()
    });
    let unreachable = match seen {
        None => Some(format!(
            "`{name}` ({kind}) was not resolved: the observation predates it; run `standby discover`"
        )),
        Some(DnsObservation {
            error: Some(error), ..
        }) => Some(format!("cannot resolve `{name}` ({kind}): {error}")),
        Some(_) => None,
    };
    if let Some(problem) = unreachable {
        out.finding(
            Finding::new(&address, FindingCode::SourceUnreachable, Severity::Critical, problem.clone())
                .hint("check the deployment's `resolver` addresses and that this host can reach them, then run `standby discover` again"),
        );
        out.row(
            pair,
            ParityKind::DnsAnswer,
            address,
            columns,
            Status::Unknown,
        )
        .note = Some(problem);
        return;
    }
    let answers = seen.map(|d| d.answers.as_slice()).unwrap_or_default();
    if answers.iter().any(|a| matches(record, a)) {
        out.row(pair, ParityKind::DnsAnswer, address, columns, Status::Ok)
            .note = Some(format!("resolves to {}", answers.join(", ")));
        return;
    }
    let (message, note) = if answers.is_empty() {
        (
            format!(
                "`{name}` has no {kind} record; declared {}",
                value_of(record)
            ),
            format!("no {kind} record"),
        )
    } else {
        (
            format!(
                "`{name}` ({kind}) resolves to {}; declared {}",
                answers.join(", "),
                value_of(record)
            ),
            format!("resolves to {}", answers.join(", ")),
        )
    };
    out.finding(
        Finding::new(&address, FindingCode::DnsMismatch, Severity::Critical, message)
            .desired(declared)
            .observed(if answers.is_empty() {
                "no record".to_owned()
            } else {
                answers.join(", ")
            })
            .hint("correct the record in DNS (or the declaration, if DNS is right), then run `standby discover` again"),
    );
    out.row(pair, ParityKind::DnsAnswer, address, columns, Status::Drift)
        .note = Some(note);
}

fn value_of(record: &DnsRecord) -> String {
    match &record.port {
        Some(port) => format!("{}:{}", record.target.value, port.value),
        None => record.target.value.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{audit_with, codes, observed, rows};
    use crate::audit::{ParityKind, Status};
    use crate::observe::DnsObservation;

    const SITES: &str = r#"
site "p" role="primary" region="west" {
    store "local" path="/b/p"
    dns "_sip._tls.example" type="SRV" target="edge01.example" port=443
    dns "sip.example" type="CNAME" target="pool01.example"
    dns "pool01.example" type="A" target="10.0.1.10"
}
site "s" role="standby" standby-for="p" region="east" {
    dns "_sip._tls.example" type="SRV" target="edge11.example" port=443
    dns "sip.example" type="CNAME" target="pool02.example"
    dns "pool02.example" type="A" target="10.1.1.10"
    omit "dns/pool01.example" reason="the pool name does not move"
}
"#;

    fn answer(site: &str, name: &str, kind: &str, answers: &[&str]) -> DnsObservation {
        DnsObservation {
            site: site.into(),
            name: name.into(),
            record_type: kind.into(),
            answers: answers.iter().map(|a| (*a).to_owned()).collect(),
            error: None,
        }
    }

    fn resolved(answers: Vec<DnsObservation>) -> crate::audit::Audit {
        let mut observed = observed(Vec::new());
        observed.dns = answers;
        audit_with(SITES, &observed)
    }

    fn all_right() -> Vec<DnsObservation> {
        vec![
            answer(
                "p",
                "_sip._tls.example",
                "SRV",
                &["0 0 443 EDGE01.example."],
            ),
            answer("p", "sip.example", "CNAME", &["pool01.example."]),
            answer("p", "pool01.example", "A", &["10.0.1.10"]),
            // The standby's failover values are not what these names resolve to now.
            answer(
                "s",
                "_sip._tls.example",
                "SRV",
                &["0 0 443 edge01.example."],
            ),
            answer("s", "sip.example", "CNAME", &["pool01.example."]),
            answer("s", "pool02.example", "A", &["10.1.1.10", "10.1.1.11"]),
        ]
    }

    #[test]
    fn records_resolving_as_declared_are_in_sync() {
        let audit = resolved(all_right());
        assert!(audit.findings.is_empty(), "{:#?}", audit.findings);
        let answers = rows(&audit, ParityKind::DnsAnswer);
        assert_eq!(
            answers.len(),
            4,
            "three of the primary, one only the standby has"
        );
        assert!(answers.iter().all(|r| r.status == Status::Ok));
        assert_eq!(answers[3].address.as_str(), "s/dns/pool02.example");
    }

    #[test]
    fn a_wrong_port_target_address_or_missing_record_is_a_mismatch() {
        let mut answers = all_right();
        answers[0].answers = vec!["0 0 5061 edge01.example.".into()];
        answers[1].answers = vec!["pool02.example.".into()];
        answers[2].answers = Vec::new();
        answers[5].answers = vec!["10.1.1.99".into()];
        let audit = resolved(answers);
        let found = codes(&audit);
        assert_eq!(
            found,
            [
                (
                    "p/dns/_sip._tls.example".to_owned(),
                    "dns-mismatch".to_owned()
                ),
                ("p/dns/pool01.example".to_owned(), "dns-mismatch".to_owned()),
                ("p/dns/sip.example".to_owned(), "dns-mismatch".to_owned()),
                ("s/dns/pool02.example".to_owned(), "dns-mismatch".to_owned()),
            ]
        );
        let message = |address: &str| {
            audit
                .findings
                .iter()
                .find(|f| f.address.as_str() == address)
                .map(|f| (f.severity, f.message.clone()))
        };
        assert_eq!(
            message("p/dns/_sip._tls.example"),
            Some((
                crate::plan::Severity::Critical,
                "`_sip._tls.example` (SRV) resolves to 0 0 5061 edge01.example.; declared edge01.example:443".into()
            ))
        );
        assert_eq!(
            message("p/dns/pool01.example").map(|m| m.1),
            Some("`pool01.example` has no A record; declared 10.0.1.10".into())
        );
    }

    #[test]
    fn a_resolution_failure_is_unknown_not_fine() {
        let mut answers = all_right();
        answers[1].answers.clear();
        answers[1].error = Some("request timed out".into());
        answers.remove(2);
        let audit = resolved(answers);
        assert_eq!(
            codes(&audit),
            [
                (
                    "p/dns/pool01.example".to_owned(),
                    "source-unreachable".to_owned()
                ),
                (
                    "p/dns/sip.example".to_owned(),
                    "source-unreachable".to_owned()
                ),
            ]
        );
        assert!(audit.findings[1].message.ends_with("request timed out"));
    }
}
