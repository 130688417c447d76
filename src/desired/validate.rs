//! Checks that need the whole desired state: names are unique, references resolve,
//! thresholds fit the objectives, the standby site is a standby of a primary.

use std::collections::HashMap;

use globset::Glob;

use super::diagnostic::{Code, Diagnostic, did_you_mean};
use super::model::{
    Choice, DatabaseBackupKind, Desired, Policy, RecoveryModel, ServerRole, Site, SiteRole,
};
use super::source::Spanned;

/// Collects diagnostics, leaving out references to declarations that failed to lower.
struct Out<'a> {
    diagnostics: Vec<Diagnostic>,
    incomplete: &'a [(String, String)],
}

impl Out<'_> {
    fn push(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn is_incomplete(&self, kind: &str, name: &str) -> bool {
        self.incomplete.iter().any(|(k, n)| k == kind && n == name)
    }
}

/// Every semantic problem of a lowered desired state.
pub(super) fn validate(desired: &Desired) -> Vec<Diagnostic> {
    let mut out = Out {
        diagnostics: Vec::new(),
        incomplete: &desired.incomplete,
    };
    let out = &mut out;
    let owners: Vec<_> = desired.deployment.owners.iter().map(|o| &o.id).collect();
    let site_names: Vec<_> = desired.sites.iter().map(|s| &s.name).collect();

    unique(out, "owner", owners.iter().copied());
    unique(out, "site", site_names.iter().copied());
    unique(out, "scenario", desired.scenarios.iter().map(|s| &s.name));
    unique(
        out,
        "restore-sequence entry",
        desired.restore_sequence.iter(),
    );

    for site in &desired.sites {
        site_names_unique(out, site);
        site_references(out, desired, site, &owners, &site_names);
    }
    standby_sites(out, desired);
    scenarios(out, desired, &owners);
    std::mem::take(&mut out.diagnostics)
}

/// Reports every name that appears twice among `names`, pointing at both.
fn unique<'a>(out: &mut Out<'_>, kind: &str, names: impl Iterator<Item = &'a Spanned<String>>) {
    let mut seen: HashMap<&str, &Spanned<String>> = HashMap::new();
    for name in names {
        if let Some(first) = seen.get(name.value.as_str()) {
            out.push(
                Diagnostic::error(
                    Code::DuplicateName,
                    format!("{kind} `{}` is declared twice", name.value),
                )
                .at(name.span, "declared again here")
                .with_related(first.span, "first declared here")
                .with_help(format!(
                    "every {kind} needs its own name; rename or remove one"
                )),
            );
        } else {
            seen.insert(&name.value, name);
        }
    }
}

/// A reference to `what` that names nothing; labels the use and the candidates it could mean.
fn dangling<'a>(
    out: &mut Out<'_>,
    what: &str,
    scope: &str,
    reference: &Spanned<String>,
    candidates: impl IntoIterator<Item = &'a Spanned<String>>,
) {
    let kind = if what == "settings item" {
        "settings"
    } else {
        what
    };
    if out.is_incomplete(kind, &reference.value) {
        return;
    }
    let candidates: Vec<&Spanned<String>> = candidates.into_iter().collect();
    let mut diagnostic = Diagnostic::error(
        Code::DanglingReference,
        format!("no {what} `{}` {scope}", reference.value),
    )
    .at(reference.span, format!("unknown {what}"));
    for candidate in candidates.iter().take(6) {
        diagnostic = diagnostic.with_related(
            candidate.span,
            format!("{what} `{}` is declared here", candidate.value),
        );
    }
    let help = match did_you_mean(
        &reference.value,
        candidates.iter().map(|c| c.value.as_str()),
    ) {
        Some(close) => format!("did you mean `{close}`?"),
        None if candidates.is_empty() => {
            let article = if what.starts_with(['a', 'e', 'i', 'o', 'u']) {
                "an"
            } else {
                "a"
            };
            format!(
                "declare {article} {what} `{}` {scope} first",
                reference.value
            )
        }
        None => format!(
            "declared {what}s: {}",
            candidates
                .iter()
                .map(|c| format!("`{}`", c.value))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    out.push(diagnostic.with_help(help));
}

fn check_ref(
    out: &mut Out<'_>,
    what: &str,
    scope: &str,
    reference: Option<&Spanned<String>>,
    candidates: &[&Spanned<String>],
) {
    if let Some(reference) = reference
        && !candidates.iter().any(|c| c.value == reference.value)
    {
        dangling(out, what, scope, reference, candidates.iter().copied());
    }
}

fn site_names_unique(out: &mut Out<'_>, site: &Site) {
    unique(out, "store", site.stores.iter().map(|s| &s.name));
    unique(out, "pool", site.pools.iter().map(|p| &p.fqdn));
    unique(out, "server", site.servers.iter().map(|s| &s.fqdn));
    unique(
        out,
        "sql-instance",
        site.sql_instances.iter().map(|i| &i.id),
    );
    unique(out, "database", site.databases.iter().map(|d| &d.name));
    unique(out, "settings item", site.settings.iter().map(|s| &s.name));
    unique(out, "fileset", site.filesets.iter().map(|f| &f.name));
    unique(out, "dns record", site.dns.iter().map(|d| &d.name));
    unique(out, "omit", site.omits.iter().map(|o| &o.component));
    unique(
        out,
        "settings-compare",
        site.settings_compares.iter().map(|c| &c.name),
    );
    for db in &site.databases {
        let mut seen: HashMap<_, &Spanned<_>> = HashMap::new();
        for backup in &db.backups {
            if let Some(first) = seen.insert(backup.kind.value, &backup.kind) {
                out.push(
                    Diagnostic::error(
                        Code::DuplicateName,
                        format!(
                            "database `{}` has two `{}` backups",
                            db.name.value, backup.kind.value
                        ),
                    )
                    .at(backup.kind.span, "declared again here")
                    .with_related(first.span, "first declared here")
                    .with_help("one backup node per type; merge their properties"),
                );
            }
        }
    }
}

fn site_references(
    out: &mut Out<'_>,
    desired: &Desired,
    site: &Site,
    owners: &[&Spanned<String>],
    site_names: &[&Spanned<String>],
) {
    let scope = format!("in site `{}`", site.name.value);
    let stores: Vec<_> = site.stores.iter().map(|s| &s.name).collect();
    let instances: Vec<_> = site.sql_instances.iter().map(|i| &i.id).collect();
    let pools: Vec<_> = site.pools.iter().map(|p| &p.fqdn).collect();
    let servers: Vec<_> = site.servers.iter().map(|s| &s.fqdn).collect();

    check_ref(
        out,
        "owner",
        "in the deployment",
        site.owner.as_ref(),
        owners,
    );
    for server in &site.servers {
        check_ref(
            out,
            "owner",
            "in the deployment",
            server.owner.as_ref(),
            owners,
        );
    }
    for store in &site.stores {
        check_ref(
            out,
            "site",
            "in the deployment",
            store.located_at.as_ref(),
            site_names,
        );
    }
    for db in &site.databases {
        check_ref(out, "sql-instance", &scope, Some(&db.instance), &instances);
        let simple = db
            .recovery_model
            .as_ref()
            .filter(|m| m.value == RecoveryModel::Simple);
        let log = db
            .backups
            .iter()
            .find(|b| b.kind.value == DatabaseBackupKind::Log);
        if let (Some(simple), Some(log)) = (simple, log) {
            out.push(
                Diagnostic::error(
                    Code::LogBackupOnSimple,
                    format!("database `{}` is declared SIMPLE but has a log backup", db.name.value),
                )
                .at(log.kind.span, "log backup")
                .with_related(simple.span, "simple recovery keeps no log chain")
                .with_help("SQL Server refuses BACKUP LOG under the simple recovery model: remove the log backup or declare recovery-model=\"full\""),
            );
        }
    }
    for item in desired
        .backup_items()
        .filter(|i| std::ptr::eq(i.site, site))
    {
        policy(out, desired, site, &scope, item.policy, &stores);
    }
    for settings in &site.settings {
        check_ref(out, "pool", &scope, settings.pool.as_ref(), &pools);
        check_ref(out, "server", &scope, settings.server.as_ref(), &servers);
    }
}

/// Whether two store roots are one directory: the same path once `.`, `..` and a trailing
/// `/` are gone, the same path once symbolic links are resolved, or (where both exist) the
/// same file (device and inode; volume and file index on Windows).
fn same_directory(a: &std::path::Path, b: &std::path::Path) -> bool {
    if a == b {
        return true;
    }
    if let (Ok(ca), Ok(cb)) = (std::fs::canonicalize(a), std::fs::canonicalize(b))
        && ca == cb
    {
        return true;
    }
    same_file::is_same_file(a, b).unwrap_or(false)
}

fn policy(
    out: &mut Out<'_>,
    desired: &Desired,
    site: &Site,
    scope: &str,
    policy: &Policy,
    stores: &[&Spanned<String>],
) {
    check_ref(out, "store", scope, Some(&policy.store), stores);
    check_ref(out, "store", scope, policy.copy_to.as_ref(), stores);
    if let Some(copy_to) = &policy.copy_to
        && copy_to.value == policy.store.value
    {
        out.push(
            Diagnostic::error(Code::CopyToSameStore, format!("`copy-to` is the item's own store `{}`", copy_to.value))
                .at(copy_to.span, "same store")
                .with_related(policy.store.span, "the item is stored here")
                .with_help("a copy protects against losing the store; name another store, ideally at another site"),
        );
    } else if let Some(copy_to) = &policy.copy_to
        && let (Some(from), Some(to)) =
            (site.store(&policy.store.value), site.store(&copy_to.value))
        && same_directory(&from.path.value, &to.path.value)
    {
        out.push(
            Diagnostic::error(
                Code::CopyToSameStore,
                format!(
                    "`copy-to` store `{}` is the same directory as store `{}`: {}",
                    copy_to.value,
                    policy.store.value,
                    to.path.value.display()
                ),
            )
            .at(to.path.span, "this path")
            .with_related(from.path.span, "is the same directory as this one")
            .with_help("a copy in the same directory is no copy; point the copy-to store elsewhere, ideally at another site"),
        );
    }
    let warn_span = policy.warn_declared.as_ref().map(|w| w.span);
    let crit_span = policy.crit_declared.as_ref().map(|c| c.span);
    if policy.warn > policy.crit
        && let Some(span) = warn_span.or(crit_span)
    {
        let mut diagnostic = Diagnostic::error(
            Code::WarnBeyondCrit,
            format!(
                "`warn` ({}) is beyond `crit` ({})",
                policy.warn, policy.crit
            ),
        )
        .at(
            span,
            if warn_span.is_some() {
                "warn threshold"
            } else {
                "crit threshold"
            },
        )
        .with_help(
            "a backup must turn warning before it turns critical: make warn smaller than crit",
        );
        if let (Some(_), Some(crit)) = (warn_span, crit_span) {
            diagnostic = diagnostic.with_related(crit, "crit threshold");
        }
        out.push(diagnostic);
    }
    if let (Some(crit), Some(rpo)) = (&policy.crit_declared, &desired.deployment.objectives.rpo)
        && crit.value > rpo.value
    {
        out.push(
            Diagnostic::error(
                Code::CritBeyondRpo,
                format!("`crit` ({}) is beyond the deployment's rpo ({})", crit.value, rpo.value),
            )
            .at(crit.span, "later than the RPO allows")
            .with_related(rpo.span, "the recovery point objective")
            .with_help(format!(
                "a backup older than the RPO has already lost too much data; use crit=\"{}\" or less",
                rpo.value
            )),
        );
    }
}

fn standby_sites(out: &mut Out<'_>, desired: &Desired) {
    for site in &desired.sites {
        match (site.role.value, &site.standby_for) {
            (SiteRole::Primary, Some(standby_for)) => out.push(
                Diagnostic::error(
                    Code::StandbyForOnPrimary,
                    "a primary site stands in for no other site",
                )
                .at(standby_for.span, "standby-for on a primary site")
                .with_related(site.role.span, "declared primary here")
                .with_help("remove standby-for, or make this site role=\"standby\""),
            ),
            (SiteRole::Standby, None) => out.push(
                Diagnostic::error(
                    Code::MissingProperty,
                    format!("standby site `{}` needs `standby-for`", site.name.value),
                )
                .at(site.role.span, "which site does it stand in for?")
                .with_help("add standby-for=\"NAME\" naming the primary site"),
            ),
            (SiteRole::Standby, Some(standby_for)) => {
                let Some(primary) = desired.site(&standby_for.value) else {
                    let sites: Vec<_> = desired.sites.iter().map(|s| &s.name).collect();
                    dangling(out, "site", "in the deployment", standby_for, sites);
                    continue;
                };
                if primary.role.value != SiteRole::Primary {
                    out.push(
                        Diagnostic::error(
                            Code::StandbyForNotPrimary,
                            format!(
                                "`standby-for` names `{}`, which is not a primary site",
                                primary.name.value
                            ),
                        )
                        .at(standby_for.span, "not a primary site")
                        .with_related(
                            primary.role.span,
                            format!(
                                "`{}` is declared {} here",
                                primary.name.value, primary.role.value
                            ),
                        )
                        .with_help("a standby site stands in for a primary site"),
                    );
                    continue;
                }
                standby_of(out, site, primary);
            }
            (SiteRole::Primary, None) => {}
        }
        if site.role.value == SiteRole::Primary {
            let misplaced = site.omits.iter().map(|o| ("omit", &o.component)).chain(
                site.settings_compares
                    .iter()
                    .map(|c| ("settings-compare", &c.name)),
            );
            for (node, name) in misplaced {
                out.push(
                    Diagnostic::error(
                        Code::StandbyOnly,
                        format!("`{node}` only applies to a standby site"),
                    )
                    .at(
                        name.span,
                        format!("`{}` is a primary site", site.name.value),
                    )
                    .with_related(site.role.span, "declared primary here")
                    .with_help(format!(
                        "move `{node} \"{}\"` into the standby site that stands in for `{}`",
                        name.value, site.name.value
                    )),
                );
            }
        }
    }
}

/// Checks a standby site against the primary it stands in for.
fn standby_of(out: &mut Out<'_>, standby: &Site, primary: &Site) {
    for pool in &standby.pools {
        if let Some(same) = primary
            .pools
            .iter()
            .find(|p| p.fqdn.value == pool.fqdn.value)
        {
            out.push(
                Diagnostic::error(
                    Code::StandbyPoolSameName,
                    format!("standby pool `{}` has the same FQDN as the primary's", pool.fqdn.value),
                )
                .at(pool.fqdn.span, "standby pool")
                .with_related(same.fqdn.span, "primary pool")
                .with_help("the standby pool must have its own name (the OCS guide: the pool name cannot be reused); e.g. pool02"),
            );
        }
    }
    let primary_settings: Vec<_> = primary.settings.iter().map(|s| &s.name).collect();
    let scope = format!("in primary site `{}`", primary.name.value);
    for compare in &standby.settings_compares {
        check_ref(
            out,
            "settings item",
            &scope,
            Some(&compare.name),
            &primary_settings,
        );
    }
    let components: Vec<Spanned<String>> = primary_components(primary);
    for omit in &standby.omits {
        let is_role = ServerRole::ALL
            .iter()
            .any(|(n, _)| *n == omit.component.value);
        if is_role || components.iter().any(|c| c.value == omit.component.value) {
            continue;
        }
        let roles = ServerRole::ALL.iter().map(|(n, _)| *n);
        let close = did_you_mean(
            &omit.component.value,
            roles.chain(components.iter().map(|c| c.value.as_str())),
        );
        out.push(
            Diagnostic::error(
                Code::DanglingReference,
                format!("omit `{}` names nothing at primary site `{}`", omit.component.value, primary.name.value),
            )
            .at(omit.component.span, "unknown component")
            .with_help(close.map_or_else(
                || "name a server role (\"archiving\") or a primary component as KIND/NAME (\"database/lcslog\")".to_owned(),
                |c| format!("did you mean `{c}`?"),
            )),
        );
    }
}

/// The primary's components as `KIND/NAME`, the spelling `omit` uses.
fn primary_components(site: &Site) -> Vec<Spanned<String>> {
    let mut out = Vec::new();
    let mut add = |kind: &str, name: &Spanned<String>| {
        out.push(Spanned::new(format!("{kind}/{}", name.value), name.span));
    };
    site.pools.iter().for_each(|p| add("pool", &p.fqdn));
    site.servers.iter().for_each(|s| add("server", &s.fqdn));
    site.databases.iter().for_each(|d| add("database", &d.name));
    site.settings.iter().for_each(|s| add("settings", &s.name));
    site.filesets.iter().for_each(|f| add("fileset", &f.name));
    site.dns.iter().for_each(|d| add("dns", &d.name));
    site.sql_instances
        .iter()
        .for_each(|i| add("sql-instance", &i.id));
    site.stores.iter().for_each(|s| add("store", &s.name));
    out
}

fn scenarios(out: &mut Out<'_>, desired: &Desired, owners: &[&Spanned<String>]) {
    let addresses = desired.addresses();
    for scenario in &desired.scenarios {
        check_ref(
            out,
            "owner",
            "in the deployment",
            scenario.owner.as_ref(),
            owners,
        );
        for affected in &scenario.affects {
            // A glob ("redmond/*") is checked by what it matches, not by its shape.
            let is_glob = affected.value.contains(['*', '?', '[', '{']);
            if let (false, Err(message)) =
                (is_glob, crate::address::Address::parse(&affected.value))
            {
                out.push(
                    Diagnostic::error(
                        Code::BadAddress,
                        format!("{:?} is not an address", affected.value),
                    )
                    .at(affected.span, message)
                    .with_help("write SITE/KIND/NAME, e.g. \"redmond/database/rtc\""),
                );
                continue;
            }
            let matches = match Glob::new(&affected.value) {
                Ok(glob) => {
                    let glob = glob.compile_matcher();
                    addresses.iter().any(|(a, _)| glob.is_match(a.as_str()))
                }
                Err(e) => {
                    out.push(
                        Diagnostic::error(
                            Code::BadGlob,
                            format!("{:?} is not a valid glob", affected.value),
                        )
                        .at(affected.span, e.kind().to_string())
                        .with_help("globs use *, **, ?, [abc] and {a,b}"),
                    );
                    continue;
                }
            };
            let mut parts = affected.value.splitn(4, '/').skip(1);
            let declared_broken = matches!((parts.next(), parts.next()), (Some(kind), Some(name)) if out.is_incomplete(kind, name));
            if !matches && !declared_broken {
                let close =
                    did_you_mean(&affected.value, addresses.iter().map(|(a, _)| a.as_str()));
                let mut diagnostic = Diagnostic::error(
                    Code::DanglingReference,
                    format!(
                        "scenario `{}` affects `{}`, which is not declared",
                        scenario.name.value, affected.value
                    ),
                )
                .at(affected.span, "no such address");
                if let Some((_, span)) =
                    close.and_then(|c| addresses.iter().find(|(a, _)| a.as_str() == c))
                {
                    diagnostic = diagnostic.with_related(
                        *span,
                        format!("`{}` is declared here", close.unwrap_or_default()),
                    );
                }
                out.push(diagnostic.with_help(close.map_or_else(
                    || {
                        "affects takes addresses SITE/KIND/NAME of declared things (globs allowed)"
                            .to_owned()
                    },
                    |c| format!("did you mean `{c}`?"),
                )));
            }
        }
    }
}
