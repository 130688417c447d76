//! The ten restoration scenarios of the OCS 2007 R2 backup and restoration guide, expanded
//! for the declared topology.
//!
//! `scenario NAME template="…"` gets the template's ordered steps: which databases to restore
//! from which backups, which settings to import, which users to re-home, which DNS records to
//! change, what to validate. Each step has a stable id (`restore/rtc`) and default minutes
//! that `override "restore/rtc" minutes=45` replaces; declared `step`s follow the template's.
//! `affects` narrows the scope (the servers or databases it names); without it the scenario
//! covers every matching component of the first primary site, and `affects` is filled in.
//! Without an `estimate`, the estimate is the sum of the steps' minutes.

use globset::{Glob, GlobMatcher};

use crate::address::Address;
use crate::desired::{
    Code, Database, DatabaseBackupKind, Desired, Diagnostic, Duration, Scenario, ScenarioTemplate,
    Server, ServerRole, SettingsLevel, Site, SiteRole, Span, Spanned, SqlInstance, Step,
    did_you_mean,
};

use super::implied::{computer_settings, is_database};

/// Expands every templated scenario in place; returns the problems found.
pub(crate) fn expand(desired: &mut Desired) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let is_ocs = super::is_ocs(desired);
    let mut expanded = Vec::new();
    for (index, scenario) in desired.scenarios.iter().enumerate() {
        let Some(template) = &scenario.template else {
            continue;
        };
        if !is_ocs {
            out.push(
                Diagnostic::error(
                    Code::TemplateNotApplicable,
                    format!(
                        "scenario template `{}` needs the OCS profile",
                        template.value
                    ),
                )
                .at(template.span, "an OCS 2007 R2 template")
                .with_help("declare deployment … product=\"ocs-2007-r2\", or write the steps out"),
            );
            continue;
        }
        match Expansion::of(desired, scenario, template) {
            Ok(expansion) => expanded.push((index, expansion)),
            Err(diagnostic) => out.push(*diagnostic),
        }
    }
    for (index, expansion) in expanded {
        let scenario = &mut desired.scenarios[index];
        let mut steps = expansion.steps;
        for o in &scenario.overrides {
            if let Some(step) = steps
                .iter_mut()
                .find(|s| s.id.as_deref() == Some(o.step.value.as_str()))
            {
                step.minutes = Some(o.minutes.clone());
            } else {
                {
                    let ids: Vec<&str> = steps.iter().filter_map(|s| s.id.as_deref()).collect();
                    let help = match did_you_mean(&o.step.value, ids.iter().copied()) {
                        Some(close) => format!("did you mean `{close}`?"),
                        None => format!("its steps are {}", ids.join(", ")),
                    };
                    out.push(
                        Diagnostic::error(
                            Code::UnknownTemplateStep,
                            format!(
                                "scenario `{}` has no template step `{}`",
                                scenario.name.value, o.step.value
                            ),
                        )
                        .at(o.step.span, "no such step")
                        .with_help(help),
                    );
                }
            }
        }
        steps.append(&mut scenario.steps);
        scenario.steps = steps;
        if scenario.affects.is_empty() {
            scenario.affects = expansion.affects;
        }
        if scenario.estimate.is_none() {
            let minutes: u64 = scenario
                .steps
                .iter()
                .filter_map(|s| s.minutes.as_ref())
                .map(|m| u64::from(m.value))
                .sum();
            scenario.estimate = Some(Spanned::new(
                Duration::from_secs(minutes * 60),
                expansion.span,
            ));
        }
    }
    out
}

/// The steps and affected addresses a template expands to.
struct Expansion {
    steps: Vec<Step>,
    affects: Vec<Spanned<String>>,
    span: Span,
}

/// What the scenario is about: its site and the components its `affects` names.
struct Scope<'a> {
    desired: &'a Desired,
    site: &'a Site,
    patterns: Vec<(String, Option<GlobMatcher>)>,
    span: Span,
    steps: Vec<Step>,
    affects: Vec<Spanned<String>>,
}

impl<'a> Scope<'a> {
    /// Whether `affects` names `address`, something below it or something it is below.
    fn names(&self, address: &Address) -> bool {
        let a = address.as_str();
        self.patterns.iter().any(|(text, glob)| {
            glob.as_ref().is_some_and(|g| g.is_match(a))
                || a.starts_with(&format!("{text}/"))
                || text.starts_with(&format!("{a}/"))
        })
    }

    /// The items `affects` names, or all of them when it names none of this kind.
    fn pick<T: Copy>(&self, items: impl IntoIterator<Item = (Address, T)>) -> Vec<T> {
        let items: Vec<(Address, T)> = items.into_iter().collect();
        let named: Vec<T> = items
            .iter()
            .filter(|(a, _)| self.names(a))
            .map(|(_, t)| *t)
            .collect();
        if named.is_empty() {
            items.into_iter().map(|(_, t)| t).collect()
        } else {
            named
        }
    }

    fn servers(&self, roles: &[ServerRole]) -> Vec<&'a Server> {
        let site = self.site;
        self.pick(
            site.servers
                .iter()
                .filter(|s| roles.contains(&s.role.value))
                .map(|s| (site.address("server", &s.fqdn), s)),
        )
    }

    fn databases(&self, names: &[&str]) -> Vec<&'a Database> {
        let site = self.site;
        self.pick(
            site.databases
                .iter()
                .filter(|d| names.is_empty() || names.iter().any(|n| is_database(&d.name, n)))
                .map(|d| (site.address("database", &d.name), d)),
        )
    }

    fn step(&mut self, id: impl Into<String>, text: impl Into<String>, minutes: u32) {
        self.steps.push(Step {
            text: Spanned::new(text.into(), self.span),
            minutes: Some(Spanned::new(minutes, self.span)),
            id: Some(id.into()),
        });
    }

    fn affects(&mut self, site: &Site, kind: &str, name: &str) {
        let address = site.address(kind, name).as_str().to_owned();
        if !self.affects.iter().any(|a| a.value == address) {
            self.affects.push(Spanned::new(address, self.span));
        }
    }

    /// A `rebuild/FQDN` step per server; the servers are affected.
    fn rebuild(
        &mut self,
        site: &Site,
        servers: &[&Server],
        minutes: u32,
        text: impl Fn(&str, ServerRole) -> String,
    ) {
        for server in servers {
            let fqdn = &server.fqdn.value;
            self.affects(site, "server", fqdn);
            self.step(
                format!("rebuild/{fqdn}"),
                text(fqdn, server.role.value),
                minutes,
            );
        }
    }

    fn affects_each(&mut self, site: &Site, kind: &str, names: &[String]) {
        for name in names {
            self.affects(site, kind, name);
        }
    }

    /// One restore step per database, from the backups its policy keeps.
    fn restore_databases(&mut self, site: &Site, databases: &[&Database], from: &str) {
        for db in databases {
            let kinds: Vec<DatabaseBackupKind> = db.backups.iter().map(|b| b.kind.value).collect();
            let mut chain = "its last full backup".to_owned();
            if kinds.contains(&DatabaseBackupKind::Diff) {
                chain.push_str(", then its latest differential backup");
            }
            if kinds.contains(&DatabaseBackupKind::Log) {
                chain.push_str(", then every later log backup");
            }
            let minutes = if kinds.len() > 1 { 30 } else { 20 };
            let instance = instance_label(site, &db.instance);
            self.step(
                format!("restore/{}", db.name.value),
                format!(
                    "Restore {} on {instance} from {chain}{from}, WITH MOVE if its volumes changed",
                    db.name.value
                ),
                minutes,
            );
            self.affects(site, "database", &db.name);
        }
    }

    /// Settings items of the given level (and pool or server), as `name` list.
    fn settings(&mut self, site: &Site, level: SettingsLevel, of: Option<&str>) -> Vec<String> {
        let names: Vec<String> = site
            .settings
            .iter()
            .filter(|s| *s.level == level)
            .filter(|s| {
                of.is_none_or(|of| {
                    s.pool
                        .as_ref()
                        .or(s.server.as_ref())
                        .is_some_and(|p| p.value.eq_ignore_ascii_case(of))
                })
            })
            .map(|s| s.name.value.clone())
            .collect();
        self.affects_each(site, "settings", &names);
        names
    }

    fn import_computer_settings(&mut self, site: &Site, server: &Server, minutes: u32) {
        let names: Vec<String> = computer_settings(site, &server.fqdn)
            .map(|s| s.name.value.clone())
            .collect();
        self.affects_each(site, "settings", &names);
        self.step(
            format!("import-settings/{}", server.fqdn.value),
            format!(
                "Import the computer settings of {} with LCSCmd.exe{}",
                server.fqdn.value,
                from_items(&names, "settings")
            ),
            minutes,
        );
    }

    fn restore_files(&mut self, site: &Site, from: &str) {
        let names: Vec<String> = site.filesets.iter().map(|f| f.name.value.clone()).collect();
        if names.is_empty() {
            return;
        }
        self.affects_each(site, "fileset", &names);
        self.step(
            "restore-files",
            format!(
                "Restore the file shares {} from their last snapshots{from}",
                quoted(&names)
            ),
            30,
        );
    }
}

/// `sql01.contoso.com\RTC` for the instance a database is on.
fn instance_label(site: &Site, id: &str) -> String {
    site.sql_instance(id)
        .map_or_else(|| format!("instance {id}"), SqlInstance::label)
}

fn quoted(names: &[String]) -> String {
    match names {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn from_items(names: &[String], kind: &str) -> String {
    if names.is_empty() {
        String::new()
    } else {
        format!(" (from the {kind} backups {})", quoted(names))
    }
}

fn fqdns(servers: &[&Server]) -> Vec<String> {
    servers.iter().map(|s| s.fqdn.value.clone()).collect()
}

impl Expansion {
    fn of(
        desired: &Desired,
        scenario: &Scenario,
        template: &Spanned<ScenarioTemplate>,
    ) -> Result<Self, Box<Diagnostic>> {
        let named_site = scenario
            .affects
            .first()
            .and_then(|a| a.value.split('/').next())
            .and_then(|name| desired.site(name));
        let site = named_site
            .or_else(|| desired.sites.iter().find(|s| *s.role == SiteRole::Primary))
            .ok_or_else(|| Box::new(not_applicable(template, "no primary site is declared")))?;
        let patterns = scenario
            .affects
            .iter()
            .map(|a| {
                let glob = Glob::new(&a.value).ok().map(|g| g.compile_matcher());
                (a.value.clone(), glob)
            })
            .collect();
        let mut scope = Scope {
            desired,
            site,
            patterns,
            span: template.span,
            steps: Vec::new(),
            affects: Vec::new(),
        };
        scope.expand(template)?;
        Ok(Self {
            steps: scope.steps,
            affects: scope.affects,
            span: template.span,
        })
    }
}

fn not_applicable(template: &Spanned<ScenarioTemplate>, why: &str) -> Diagnostic {
    Diagnostic::error(
        Code::TemplateNotApplicable,
        format!(
            "template `{}` has nothing to restore: {why}",
            template.value
        ),
    )
    .at(template.span, "this template")
    .with_help("declare what it restores, name it in `affects`, or drop the scenario")
}

impl Scope<'_> {
    fn expand(&mut self, template: &Spanned<ScenarioTemplate>) -> Result<(), Box<Diagnostic>> {
        let site = self.site;
        let none = |what: &str| -> Box<Diagnostic> {
            Box::new(not_applicable(
                template,
                &format!("site `{}` {what}", site.name.value),
            ))
        };
        match template.value {
            ScenarioTemplate::DatabaseLoss => {
                let dbs = self.databases(&[]);
                if dbs.is_empty() {
                    return Err(none("declares no database"));
                }
                let names: Vec<String> = dbs.iter().map(|d| d.name.value.clone()).collect();
                self.step(
                    "stop-services",
                    format!("Stop the OCS services that use {}", quoted(&names)),
                    10,
                );
                self.restore_databases(site, &dbs, "");
                self.step(
                    "validate",
                    "Start the services and validate them with the OCS 2007 R2 administrative snap-in",
                    20,
                );
            }
            ScenarioTemplate::StandardEditionServerLoss => {
                let servers = self.servers(&[ServerRole::StandardEdition]);
                if servers.is_empty() {
                    return Err(none("declares no standard-edition server"));
                }
                self.rebuild(site, &servers, 90, |fqdn, _| {
                    format!(
                        "Rebuild {fqdn} with the same FQDN and install OCS 2007 R2 Standard Edition"
                    )
                });
                let dbs = self.databases(&["rtc", "rtcconfig", "rtcab"]);
                self.restore_databases(site, &dbs, "");
                self.import_pool_and_global(site, servers.iter().filter_map(|s| s.pool.as_deref()));
                for server in &servers {
                    self.import_computer_settings(site, server, 10);
                }
                self.restore_files(site, "");
                self.step("validate", "Validate services and sign in a test user", 15);
            }
            ScenarioTemplate::EnterprisePoolServerLoss => {
                let back_ends = self.servers(&[ServerRole::BackEnd]);
                let front_ends = self.servers(&[ServerRole::FrontEnd]);
                if back_ends.is_empty() && front_ends.is_empty() {
                    return Err(none("declares no front-end or back-end server"));
                }
                self.rebuild(site, &back_ends, 45, |fqdn, _| {
                    format!("Rebuild the back-end SQL Server {fqdn} with the same instance name")
                });
                if !back_ends.is_empty() {
                    let dbs = self.databases(&["rtc", "rtcconfig", "rtcab"]);
                    self.restore_databases(site, &dbs, "");
                }
                if !front_ends.is_empty() {
                    let names = fqdns(&front_ends);
                    self.affects_each(site, "server", &names);
                    self.step(
                        "rebuild-front-ends",
                        format!(
                            "Reinstall the front-end servers {} and activate them in their pool",
                            quoted(&names)
                        ),
                        30,
                    );
                }
                let pools: Vec<&str> = back_ends
                    .iter()
                    .chain(&front_ends)
                    .filter_map(|s| s.pool.as_deref())
                    .collect();
                self.import_pool_and_global(site, pools.into_iter());
                for server in back_ends.iter().chain(&front_ends) {
                    self.import_computer_settings(site, server, 5);
                }
                if !front_ends.is_empty() {
                    self.restore_files(site, "");
                }
                self.step(
                    "validate",
                    "Validate the pool with the OCS 2007 R2 administrative snap-in and sign in a test user",
                    20,
                );
            }
            ScenarioTemplate::AdDsLoss => {
                self.step(
                    "restore-ad-ds",
                    "Restore Active Directory Domain Services from its system-state backup (the directory's owners; not automated)",
                    150,
                );
                let global = self.settings(site, SettingsLevel::Global, None);
                self.step(
                    "import-settings/global",
                    format!(
                        "Import the OCS global settings with LCSCmd.exe{}",
                        from_items(&global, "settings")
                    ),
                    30,
                );
                self.step(
                    "validate",
                    "Check users' OCS attributes, re-home users whose pool no longer exists, and sign in a test user",
                    30,
                );
            }
            ScenarioTemplate::ArchivingServerLoss => {
                self.server_loss(
                    template,
                    &[ServerRole::Archiving],
                    &["lcslog"],
                    "Validate that archiving resumes: send a test IM and find it in lcslog",
                )?;
            }
            ScenarioTemplate::MonitoringServerLoss => {
                self.server_loss(template, &[ServerRole::Monitoring], &["lcscdr", "qoemetrics"], "Re-associate the Monitoring server with its pools and validate that call detail and QoE records arrive")?;
            }
            ScenarioTemplate::GroupChatServerLoss => {
                self.server_loss(
                    template,
                    &[ServerRole::GroupChat],
                    &["groupchat"],
                    "Validate channels with the Group Chat Administration Tool",
                )?;
            }
            ScenarioTemplate::GroupChatComplianceServerLoss => {
                self.server_loss(template, &[ServerRole::GroupChatCompliance], &[], "Point the compliance server at the Group Chat database and validate that compliance records are written")?;
            }
            ScenarioTemplate::EdgeMediationProxyLoss => {
                let roles = [
                    ServerRole::Edge,
                    ServerRole::Mediation,
                    ServerRole::ForwardProxy,
                    ServerRole::CommunicatorWebAccess,
                    ServerRole::Director,
                ];
                let servers = self.servers(&roles);
                if servers.is_empty() {
                    return Err(none(
                        "declares no edge, mediation, forward-proxy, Communicator Web Access or director server",
                    ));
                }
                for server in &servers {
                    let fqdn = &server.fqdn.value;
                    self.affects(site, "server", fqdn);
                    self.step(
                        format!("rebuild/{fqdn}"),
                        format!(
                            "Rebuild {fqdn} ({}) and reinstall its certificates",
                            server.role.value
                        ),
                        45,
                    );
                    self.import_computer_settings(site, server, 15);
                }
                let records: Vec<String> = site
                    .dns
                    .iter()
                    .filter(|d| {
                        servers
                            .iter()
                            .any(|s| d.target.value.eq_ignore_ascii_case(&s.fqdn))
                    })
                    .map(|d| d.name.value.clone())
                    .collect();
                self.step(
                    "validate",
                    if records.is_empty() {
                        "Test remote access, federation and calls through the rebuilt servers"
                            .to_owned()
                    } else {
                        format!(
                            "Check the DNS records {} and test remote access, federation and calls",
                            quoted(&records)
                        )
                    },
                    30,
                );
            }
            ScenarioTemplate::SiteLoss => self.site_loss(template)?,
        }
        Ok(())
    }

    fn import_pool_and_global<'p>(&mut self, site: &Site, pools: impl Iterator<Item = &'p str>) {
        let mut names = self.settings(site, SettingsLevel::Global, None);
        let mut pools: Vec<&str> = pools.collect();
        pools.sort_unstable();
        pools.dedup();
        if pools.is_empty() {
            names.extend(self.settings(site, SettingsLevel::Pool, None));
        }
        for pool in pools {
            names.extend(self.settings(site, SettingsLevel::Pool, Some(pool)));
        }
        self.step(
            "import-settings",
            format!(
                "Import the global and pool settings with LCSCmd.exe{}",
                from_items(&names, "settings")
            ),
            20,
        );
    }

    /// Archiving, Monitoring, Group Chat and its compliance server: rebuild, restore the
    /// role's databases, import its settings, validate.
    fn server_loss(
        &mut self,
        template: &Spanned<ScenarioTemplate>,
        roles: &[ServerRole],
        databases: &[&str],
        validate: &str,
    ) -> Result<(), Box<Diagnostic>> {
        let site = self.site;
        let servers = self.servers(roles);
        if servers.is_empty() {
            return Err(Box::new(not_applicable(
                template,
                &format!("site `{}` declares no {} server", site.name.value, roles[0]),
            )));
        }
        self.rebuild(site, &servers, 60, |fqdn, role| {
            format!("Rebuild {fqdn} and reinstall the {role} role")
        });
        if !databases.is_empty() {
            let dbs = self.databases(databases);
            self.restore_databases(site, &dbs, "");
        }
        for server in &servers {
            self.import_computer_settings(site, server, 15);
        }
        self.step("validate", validate, 15);
        Ok(())
    }

    /// The standby site takes over: the pool's databases from the copies it holds, the
    /// settings, the users, the DNS records, the files.
    fn site_loss(&mut self, template: &Spanned<ScenarioTemplate>) -> Result<(), Box<Diagnostic>> {
        let lost = self.site;
        let Some(standby) = self.desired.sites.iter().find(|s| {
            s.standby_for
                .as_ref()
                .is_some_and(|f| f.value == lost.name.value)
        }) else {
            return Err(Box::new(not_applicable(
                template,
                &format!("no standby site stands in for `{}`", lost.name.value),
            )));
        };
        let (from, to) = (&lost.name.value, &standby.name.value);
        self.affects
            .push(Spanned::new(format!("{from}/*"), self.span));
        self.step(
            "declare-loss",
            format!("Declare site {from} lost and fail over to {to} (the site owner decides)"),
            15,
        );
        // The pool's databases, restored at the standby site from the copies located there.
        let offsite: Vec<&str> = lost
            .stores
            .iter()
            .filter(|s| s.located_at.as_ref().is_some_and(|l| l.value == *to))
            .map(|s| s.name.value.as_str())
            .collect();
        let from_copies = if offsite.is_empty() {
            format!(" copied to {to}")
        } else {
            format!(
                " in store {}",
                quoted(&offsite.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>())
            )
        };
        let dbs = self.databases(&["rtc", "rtcconfig", "rtcab"]);
        for db in dbs {
            let target = standby
                .databases
                .iter()
                .find(|d| d.name.value.eq_ignore_ascii_case(&db.name))
                .map_or_else(
                    || format!("{to}'s back end"),
                    |d| instance_label(standby, &d.instance),
                );
            self.step(
                format!("restore/{}", db.name.value),
                format!(
                    "Restore {} on {target} from its last backups{from_copies}",
                    db.name.value
                ),
                if db.backups.len() > 1 { 30 } else { 20 },
            );
        }
        let pools = |site: &Site| {
            quoted(
                &site
                    .pools
                    .iter()
                    .map(|p| p.fqdn.value.clone())
                    .collect::<Vec<_>>(),
            )
        };
        self.step(
            "import-settings",
            format!(
                "Import the global settings and the pool settings of {} into {} with LCSCmd.exe",
                pools(lost),
                pools(standby)
            ),
            20,
        );
        self.step(
            "reassign-users",
            format!(
                "Move users' home pool from {} to {}",
                pools(lost),
                pools(standby)
            ),
            45,
        );
        let records: Vec<String> = standby
            .dns
            .iter()
            .map(|d| format!("{} → {}", d.name.value, d.target.value))
            .collect();
        if !records.is_empty() {
            self.step(
                "update-dns",
                format!(
                    "Point the DNS records at their failover values: {}",
                    records.join(", ")
                ),
                15,
            );
        }
        self.restore_files(lost, &format!(" at {to}"));
        self.step(
            "validate",
            format!("Validate sign-in, presence, IM and conferencing from {to}"),
            30,
        );
        // The whole site is affected; the components named on the way are part of it.
        self.affects.truncate(1);
        Ok(())
    }
}
