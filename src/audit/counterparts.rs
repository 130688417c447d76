//! `standby-missing` for declarations: every component of the primary (server role,
//! database, settings item, fileset, DNS record) has a counterpart at its standby site, or
//! an `omit` there that says why not.

use super::omits::Omitted;
use super::parity::{NOTHING, ParityKind, Status};
use super::{Out, Pair};
use crate::address::Address;
use crate::desired::{Choice, DnsRecord, RecordType, ServerRole, Settings, SettingsLevel, Site};
use crate::plan::{Finding, FindingCode, Severity};

pub(super) fn check(pair: &Pair<'_>, out: &mut Out) {
    roles(pair, out);
    databases(pair, out);
    settings(pair, out);
    filesets(pair, out);
    dns(pair, out);
}

/// What to write at the standby site to settle a missing counterpart.
struct Missing<'a> {
    kind: ParityKind,
    address: Address,
    primary: String,
    /// What lacks a counterpart, for the message: "role `archiving` (arch01…)".
    what: String,
    /// The counterpart to declare, as a KDL hint.
    declare: String,
    /// The `omit` component that would accept the gap.
    omit: &'a str,
}

/// A row for a component, with its counterpart, its omit, or a finding when it has neither.
fn settle(
    pair: &Pair<'_>,
    out: &mut Out,
    missing: Missing<'_>,
    counterpart: Option<String>,
    omitted: Option<Omitted<'_>>,
) {
    let standby = &pair.standby.name.value;
    if let Some(counterpart) = counterpart {
        out.row(
            pair,
            missing.kind,
            missing.address,
            (missing.primary, counterpart),
            Status::Ok,
        );
    } else if let Some(omitted) = omitted {
        out.row(
            pair,
            missing.kind,
            missing.address,
            (missing.primary, NOTHING.to_owned()),
            Status::Omitted,
        )
        .note = Some(omitted.note());
    } else {
        out.finding(
            Finding::new(
                &missing.address,
                FindingCode::StandbyMissing,
                Severity::Warning,
                format!(
                    "{} has no counterpart at standby site `{standby}` and no `omit` says why",
                    missing.what
                ),
            )
            .desired(format!(
                "a counterpart at `{standby}`, or an omit with a reason"
            ))
            .observed("neither")
            .hint(format!(
                "declare {} in site \"{standby}\", or `omit \"{}\" reason=\"…\"` there",
                missing.declare, missing.omit
            )),
        );
        out.row(
            pair,
            missing.kind,
            missing.address,
            (missing.primary, NOTHING.to_owned()),
            Status::Missing,
        );
    }
}

fn servers_with(site: &Site, role: ServerRole) -> Vec<&str> {
    site.servers
        .iter()
        .filter(|s| s.role.value == role)
        .map(|s| s.fqdn.value.as_str())
        .collect()
}

/// Each role of the primary's servers needs a standby server with that role, or `omit
/// "ROLE"` (or every primary server of the role omitted by `server/FQDN`). The finding is
/// addressed to the primary's first server of the role.
fn roles(pair: &Pair<'_>, out: &mut Out) {
    let mut seen = Vec::new();
    for server in &pair.primary.servers {
        let role = server.role.value;
        if seen.contains(&role) {
            continue;
        }
        seen.push(role);
        let primary = servers_with(pair.primary, role);
        let standby = servers_with(pair.standby, role);
        let omitted = pair.omits.role(role).or_else(|| {
            let each: Option<Vec<_>> = primary.iter().map(|s| pair.omits.server(s)).collect();
            each.and_then(|each| each.first().copied())
        });
        settle(
            pair,
            out,
            Missing {
                kind: ParityKind::Role,
                address: pair.primary.address("server", &server.fqdn),
                primary: format!("{role}: {}", primary.join(", ")),
                what: format!("role `{role}` ({})", primary.join(", ")),
                declare: format!("a server with role=\"{role}\""),
                omit: role.name(),
            },
            (!standby.is_empty()).then(|| format!("{role}: {}", standby.join(", "))),
            omitted,
        );
    }
}

/// Each primary database needs one of the same name at the standby, or an omit of it, its
/// instance, or the server (or role) hosting the instance.
fn databases(pair: &Pair<'_>, out: &mut Out) {
    for database in &pair.primary.databases {
        let name = &database.name.value;
        let counterpart = pair
            .standby
            .databases
            .iter()
            .find(|d| d.name.value == *name)
            .map(|d| d.name.value.clone());
        let omit = format!("database/{name}");
        settle(
            pair,
            out,
            Missing {
                kind: ParityKind::Database,
                address: pair.primary.address("database", name),
                primary: name.clone(),
                what: format!("database `{name}`"),
                declare: format!("database \"{name}\""),
                omit: &omit,
            },
            counterpart,
            pair.omits.database(database),
        );
    }
}

/// The standby's counterpart of a primary settings item: the same name; for global and
/// pool settings any of the same level (the standby's own pool has its own name); for
/// computer settings those of a standby server with the same role.
fn settings_counterpart<'a>(pair: &Pair<'a>, settings: &Settings) -> Option<&'a Settings> {
    let standby = &pair.standby.settings;
    if let Some(same) = standby.iter().find(|s| s.name.value == settings.name.value) {
        return Some(same);
    }
    match settings.level.value {
        SettingsLevel::Global | SettingsLevel::Pool => standby
            .iter()
            .find(|s| s.level.value == settings.level.value),
        SettingsLevel::Computer => {
            let role_of = |site: &Site, fqdn: &str| {
                site.servers
                    .iter()
                    .find(|s| s.fqdn.value == fqdn)
                    .map(|s| s.role.value)
            };
            let role = settings
                .server
                .as_ref()
                .and_then(|s| role_of(pair.primary, &s.value))?;
            standby.iter().find(|s| {
                s.level.value == SettingsLevel::Computer
                    && s.server
                        .as_ref()
                        .and_then(|server| role_of(pair.standby, &server.value))
                        == Some(role)
            })
        }
    }
}

fn settings(pair: &Pair<'_>, out: &mut Out) {
    for settings in &pair.primary.settings {
        let name = &settings.name.value;
        let level = settings.level.value;
        let omit = format!("settings/{name}");
        let counterpart = settings_counterpart(pair, settings)
            .map(|s| format!("{} ({})", s.name.value, s.level.value));
        settle(
            pair,
            out,
            Missing {
                kind: ParityKind::Settings,
                address: pair.primary.address("settings", name),
                primary: format!("{name} ({level})"),
                what: format!("settings `{name}` ({level} level)"),
                declare: format!("settings with level=\"{level}\""),
                omit: &omit,
            },
            counterpart,
            pair.omits.settings(settings),
        );
    }
}

fn filesets(pair: &Pair<'_>, out: &mut Out) {
    for fileset in &pair.primary.filesets {
        let name = &fileset.name.value;
        let omit = format!("fileset/{name}");
        let counterpart = pair
            .standby
            .filesets
            .iter()
            .find(|f| f.name.value == *name)
            .map(|f| f.name.value.clone());
        settle(
            pair,
            out,
            Missing {
                kind: ParityKind::Fileset,
                address: pair.primary.address("fileset", name),
                primary: name.clone(),
                what: format!("fileset `{name}`"),
                declare: format!("fileset \"{name}\""),
                omit: &omit,
            },
            counterpart,
            pair.omits.named_component("fileset", name),
        );
    }
}

/// `NAME TYPE VALUE`, e.g. `_sip._tls.contoso.com SRV edge01.contoso.com:443`.
pub(super) fn describe(record: &DnsRecord) -> String {
    let value = match (record.record_type.value, &record.port) {
        (RecordType::Srv, Some(port)) => format!("{}:{}", record.target.value, port.value),
        _ => record.target.value.clone(),
    };
    format!("{} {} {value}", record.name.value, record.record_type.value)
}

/// Each primary record needs the standby's failover value (a record of the same name and
/// type) or `omit "dns/NAME"`.
fn dns(pair: &Pair<'_>, out: &mut Out) {
    for record in &pair.primary.dns {
        let name = &record.name.value;
        let omit = format!("dns/{name}");
        let counterpart = pair
            .standby
            .dns
            .iter()
            .find(|d| d.name.value == *name && d.record_type.value == record.record_type.value)
            .map(describe);
        settle(
            pair,
            out,
            Missing {
                kind: ParityKind::Dns,
                address: pair.primary.address("dns", name),
                primary: describe(record),
                what: format!("DNS record `{name}` ({})", record.record_type.value),
                declare: format!(
                    "its failover value, dns \"{name}\" type=\"{}\" target=…",
                    record.record_type.value
                ),
                omit: &omit,
            },
            counterpart,
            pair.omits.named_component("dns", name),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixture::{audit_of, codes, rows};
    use crate::audit::{ParityKind, Status};

    const PRIMARY: &str = r#"
site "p" role="primary" region="west" {
    store "local" path="/b/p"
    store "offsite" path="/b/offsite" located-at="s"
    pool "pool01.example" edition="enterprise" {
        server "fe01.example" role="front-end"
        server "fe02.example" role="front-end"
        server "sql01.example" role="back-end"
    }
    server "arch01.example" role="archiving"
    server "med01.example" role="mediation"
    sql-instance "rtc" host="sql01.example"
    sql-instance "arch" host="arch01.example"
    database "rtc" instance="rtc" {
        backup "full" every="24h" keep=2 store="local" copy-to="offsite"
    }
    database "lcslog" instance="arch" {
        backup "full" every="24h" keep=2 store="local" copy-to="offsite"
    }
    settings "global" level="global" every="24h" keep=2 store="local" copy-to="offsite" { export "x.exe" "{file}" }
    settings "pool01" level="pool" pool="pool01.example" every="24h" keep=2 store="local" copy-to="offsite" { export "x.exe" "{file}" }
    settings "fe01" level="computer" server="fe01.example" every="24h" keep=2 store="local" copy-to="offsite" { export "x.exe" "{file}" }
    settings "arch01" level="computer" server="arch01.example" every="24h" keep=2 store="local" copy-to="offsite" { export "x.exe" "{file}" }
    fileset "content" path="/src/content" every="24h" keep=2 store="local" copy-to="offsite"
    fileset "updates" path="/src/updates" every="24h" keep=2 store="local" copy-to="offsite"
    dns "_sip._tls.example" type="SRV" target="edge.example" port=443
    dns "sip.example" type="CNAME" target="pool01.example"
    dns "pool01.example" type="A" target="10.0.0.10"
}
"#;

    fn standby(body: &str) -> String {
        format!(
            "{PRIMARY}\nsite \"s\" role=\"standby\" standby-for=\"p\" region=\"east\" {{\n    store \"local\" path=\"/b/s\"\n{body}\n}}\n"
        )
    }

    #[test]
    fn every_component_without_counterpart_or_omit_is_standby_missing() {
        let audit = audit_of(&standby(""));
        let missing: Vec<String> = codes(&audit)
            .into_iter()
            .filter(|(_, code)| code == "standby-missing")
            .map(|(address, _)| address)
            .collect();
        for expected in [
            "p/server/fe01.example",
            "p/server/sql01.example",
            "p/server/arch01.example",
            "p/server/med01.example",
            "p/database/rtc",
            "p/database/lcslog",
            "p/settings/global",
            "p/settings/pool01",
            "p/settings/fe01",
            "p/settings/arch01",
            "p/fileset/content",
            "p/fileset/updates",
            "p/dns/_sip._tls.example",
            "p/dns/sip.example",
            "p/dns/pool01.example",
        ] {
            assert!(
                missing.iter().any(|m| m == expected),
                "{expected}: {missing:?}"
            );
        }
        let role = audit
            .findings
            .iter()
            .find(|f| f.address.as_str() == "p/server/fe01.example")
            .map(|f| f.message.clone())
            .unwrap_or_default();
        assert_eq!(
            role,
            "role `front-end` (fe01.example, fe02.example) has no counterpart at standby site `s` and no `omit` says why"
        );
    }

    #[test]
    fn counterparts_and_omits_settle_every_component() {
        let audit = audit_of(&standby(
            r#"
    pool "pool02.example" edition="enterprise" {
        server "fe11.example" role="front-end"
        server "sql11.example" role="back-end"
    }
    sql-instance "rtc" host="sql11.example"
    database "rtc" instance="rtc" {
        backup "full" every="24h" keep=2 store="local"
    }
    settings "global-s" level="global" every="24h" keep=2 store="local" { export "x.exe" "{file}" }
    settings "pool02" level="pool" pool="pool02.example" every="24h" keep=2 store="local" { export "x.exe" "{file}" }
    settings "fe11" level="computer" server="fe11.example" every="24h" keep=2 store="local" { export "x.exe" "{file}" }
    fileset "content" path="/src/content" every="24h" keep=2 store="local"
    dns "_sip._tls.example" type="SRV" target="edge11.example" port=443
    dns "sip.example" type="CNAME" target="pool02.example"
    omit "archiving" reason="rebuilt from tape"
    omit "server/med01.example" reason="no voice at s"
    omit "fileset/updates" reason="downloaded again"
    omit "dns/pool01.example" reason="the pool name does not move"
"#,
        ));
        let declarations = [
            ParityKind::Role,
            ParityKind::Database,
            ParityKind::Settings,
            ParityKind::Fileset,
            ParityKind::Dns,
        ];
        let found: Vec<_> = audit
            .findings
            .iter()
            .filter(|f| f.code == crate::plan::FindingCode::StandbyMissing)
            .filter(|f| {
                declarations
                    .iter()
                    .any(|k| rows(&audit, *k).iter().any(|r| r.address == f.address))
            })
            .collect();
        assert!(found.is_empty(), "{found:#?}");
        let status = |kind, address: &str| {
            rows(&audit, kind)
                .iter()
                .find(|r| r.address.as_str() == address)
                .map(|r| (r.status, r.standby.clone(), r.note.clone()))
        };
        assert_eq!(
            status(ParityKind::Role, "p/server/fe01.example"),
            Some((Status::Ok, "front-end: fe11.example".into(), None))
        );
        assert_eq!(
            status(ParityKind::Role, "p/server/med01.example"),
            Some((Status::Omitted, "—".into(), Some("no voice at s".into())))
        );
        // lcslog lives on arch01, whose role is omitted.
        assert_eq!(
            status(ParityKind::Database, "p/database/lcslog"),
            Some((
                Status::Omitted,
                "—".into(),
                Some("via `archiving`: rebuilt from tape".into())
            ))
        );
        assert_eq!(
            status(ParityKind::Settings, "p/settings/global").map(|s| s.1),
            Some("global-s (global)".into())
        );
        assert_eq!(
            status(ParityKind::Settings, "p/settings/pool01").map(|s| s.1),
            Some("pool02 (pool)".into())
        );
        assert_eq!(
            status(ParityKind::Settings, "p/settings/fe01").map(|s| s.1),
            Some("fe11 (computer)".into())
        );
        assert_eq!(
            status(ParityKind::Settings, "p/settings/arch01").map(|s| s.0),
            Some(Status::Omitted)
        );
        assert_eq!(
            status(ParityKind::Dns, "p/dns/sip.example").map(|s| s.1),
            Some("sip.example CNAME pool02.example".into())
        );
        assert_eq!(
            status(ParityKind::Fileset, "p/fileset/updates").map(|s| s.0),
            Some(Status::Omitted)
        );
    }

    #[test]
    fn a_record_of_another_type_is_no_counterpart() {
        let audit = audit_of(&standby(
            r#"    dns "sip.example" type="A" target="10.1.0.10""#,
        ));
        assert!(
            codes(&audit).contains(&("p/dns/sip.example".to_owned(), "standby-missing".to_owned()))
        );
    }
}
