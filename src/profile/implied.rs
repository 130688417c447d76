//! What each OCS 2007 R2 server role implies must be protected (SPEC §7), and the warning
//! for an implied component that nothing declares.
//!
//! Components are recognised by name, the way the guide names them: databases `rtc`,
//! `rtcconfig`, `rtcab`, `lcslog`, `lcscdr`, `qoemetrics` and Group Chat's (a name containing
//! `groupchat`); filesets whose names contain `meeting-content`, `meeting-compliance`,
//! `client-updates` or `device-updates`; settings by their `level` and `pool`/`server`.
//! Only primary sites are checked: what a standby site must hold is its primary's
//! components, which `standby audit` checks against the `omit` reasons.

use crate::desired::{
    Code, Desired, Diagnostic, ScenarioTemplate, ServerRole, SettingsLevel, Site, SiteRole,
};

/// One thing a role needs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Need {
    Database(&'static str),
    /// Pool-level settings of this pool (any pool when the server is in none).
    PoolSettings(Option<String>),
    /// The server's computer-level settings; `nth` counts them (the Group Chat settings file
    /// and the Communicator Web Access configuration are a second one).
    ComputerSettings {
        nth: usize,
        what: &'static str,
    },
    Fileset(&'static str),
}

/// The databases the back end of a pool (or a Standard Edition server) holds.
const POOL_DATABASES: [&str; 3] = ["rtc", "rtcconfig", "rtcab"];
/// The files the front ends serve.
const FRONT_END_FILES: [&str; 4] = [
    "meeting-content",
    "meeting-compliance",
    "client-updates",
    "device-updates",
];

/// The guide's scenario that restores a server of this role.
pub(crate) fn scenario_of(role: ServerRole) -> ScenarioTemplate {
    match role {
        ServerRole::StandardEdition => ScenarioTemplate::StandardEditionServerLoss,
        ServerRole::FrontEnd | ServerRole::BackEnd => ScenarioTemplate::EnterprisePoolServerLoss,
        ServerRole::Archiving => ScenarioTemplate::ArchivingServerLoss,
        ServerRole::Monitoring => ScenarioTemplate::MonitoringServerLoss,
        ServerRole::GroupChat => ScenarioTemplate::GroupChatServerLoss,
        ServerRole::GroupChatCompliance => ScenarioTemplate::GroupChatComplianceServerLoss,
        ServerRole::Mediation
        | ServerRole::Edge
        | ServerRole::ForwardProxy
        | ServerRole::CommunicatorWebAccess
        | ServerRole::Director => ScenarioTemplate::EdgeMediationProxyLoss,
    }
}

/// What a server of `role` in `pool` implies.
fn needs(role: ServerRole, pool: Option<&str>) -> Vec<Need> {
    let mut needs = vec![Need::ComputerSettings {
        nth: 1,
        what: "its computer-level settings (LCSCmd.exe /Level:Machine)",
    }];
    if matches!(role, ServerRole::StandardEdition | ServerRole::BackEnd) {
        needs.extend(POOL_DATABASES.map(Need::Database));
        needs.push(Need::PoolSettings(pool.map(str::to_owned)));
    }
    if matches!(role, ServerRole::StandardEdition | ServerRole::FrontEnd) {
        needs.extend(FRONT_END_FILES.map(Need::Fileset));
    }
    match role {
        ServerRole::Archiving => needs.push(Need::Database("lcslog")),
        ServerRole::Monitoring => {
            needs.extend([Need::Database("lcscdr"), Need::Database("qoemetrics")]);
        }
        ServerRole::GroupChat => needs.extend([
            Need::Database("groupchat"),
            Need::ComputerSettings {
                nth: 2,
                what: "the Group Chat server settings file",
            },
        ]),
        ServerRole::CommunicatorWebAccess => needs.push(Need::ComputerSettings {
            nth: 2,
            what: "its virtual-server configuration export",
        }),
        _ => {}
    }
    needs
}

/// Names compared without case, `-` or `_`: `GroupChat`, `group-chat` and `groupchat` agree.
fn squash(name: &str) -> String {
    name.chars()
        .filter(|c| *c != '-' && *c != '_')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether a database called `name` is the guide's `wanted` one (Group Chat's is named by
/// the administrator: any name containing `groupchat`).
pub(crate) fn is_database(name: &str, wanted: &str) -> bool {
    let name = squash(name);
    if wanted == "groupchat" {
        name.contains(wanted)
    } else {
        name == wanted
    }
}

fn is_declared(site: &Site, server: &str, need: &Need) -> bool {
    match need {
        Need::Database(wanted) => site.databases.iter().any(|d| is_database(&d.name, wanted)),
        Need::PoolSettings(pool) => site.settings.iter().any(|s| {
            *s.level == SettingsLevel::Pool
                && pool.as_deref().is_none_or(|pool| {
                    s.pool
                        .as_ref()
                        .is_some_and(|p| p.value.eq_ignore_ascii_case(pool))
                })
        }),
        Need::ComputerSettings { nth, .. } => computer_settings(site, server).count() >= *nth,
        Need::Fileset(keyword) => site
            .filesets
            .iter()
            .any(|f| squash(&f.name).contains(&squash(keyword))),
    }
}

/// The computer-level settings items of one server.
pub(crate) fn computer_settings<'a>(
    site: &'a Site,
    server: &'a str,
) -> impl Iterator<Item = &'a crate::desired::Settings> {
    site.settings.iter().filter(move |s| {
        *s.level == SettingsLevel::Computer
            && s.server
                .as_ref()
                .is_some_and(|f| f.value.eq_ignore_ascii_case(server))
    })
}

fn describe(need: &Need) -> String {
    match need {
        Need::Database(name) => format!("the database `{name}`"),
        Need::PoolSettings(Some(pool)) => format!("the pool-level settings of `{pool}`"),
        Need::PoolSettings(None) => "pool-level settings".to_owned(),
        Need::ComputerSettings { what, .. } => (*what).to_owned(),
        Need::Fileset(keyword) => format!("the `{keyword}` files"),
    }
}

fn example(need: &Need, server: &str) -> String {
    let short = server.split('.').next().unwrap_or(server);
    match need {
        Need::Database(name) => {
            format!("database \"{name}\" instance=\"…\" {{ backup \"full\" every=\"24h\" … }}")
        }
        Need::PoolSettings(pool) => format!(
            "settings \"{0}\" level=\"pool\" pool=\"{0}\" every=\"24h\" …",
            pool.as_deref().unwrap_or("POOL")
        ),
        Need::ComputerSettings { nth: 1, .. } => {
            format!("settings \"{short}\" level=\"computer\" server=\"{server}\" every=\"24h\" …")
        }
        Need::ComputerSettings { .. } => format!(
            "a second settings item level=\"computer\" server=\"{server}\" (an `export` or a `pattern`)"
        ),
        Need::Fileset(keyword) => format!("fileset \"{keyword}\" path=\"…\" every=\"24h\" …"),
    }
}

/// Every implied component of every primary site that is not declared.
pub(super) fn check(desired: &Desired) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for site in desired
        .sites
        .iter()
        .filter(|s| *s.role == SiteRole::Primary)
    {
        let mut reported: Vec<Need> = Vec::new();
        for server in &site.servers {
            for need in needs(*server.role, server.pool.as_deref()) {
                let shared = !matches!(need, Need::ComputerSettings { .. });
                if is_declared(site, &server.fqdn, &need) || (shared && reported.contains(&need)) {
                    continue;
                }
                let template = scenario_of(*server.role);
                let scenario = desired
                    .scenarios
                    .iter()
                    .find(|s| s.template.as_ref().is_some_and(|t| t.value == template))
                    .map_or_else(
                        || format!("the guide's `{template}` scenario"),
                        |s| format!("scenario `{}` ({template})", s.name.value),
                    );
                out.push(
                    Diagnostic::warning(
                        Code::ImpliedComponentMissing,
                        format!(
                            "{} ({}) implies {}, which site `{}` does not declare",
                            server.fqdn.value,
                            server.role.value,
                            describe(&need),
                            site.name.value
                        ),
                    )
                    .at(server.fqdn.span, format!("role {}", server.role.value))
                    .with_help(format!(
                        "without it {scenario} cannot be carried out; declare {}",
                        example(&need, &server.fqdn)
                    )),
                );
                if shared {
                    reported.push(need);
                }
            }
        }
    }
    out
}
