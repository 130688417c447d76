//! The starting desired state `standby init --profile ocs-2007-r2` writes: one deployment, a
//! primary site with its pool, every component the profile implies, a standby site when one
//! is named, and the guide's scenarios from templates. Commented, so the operator can see
//! what to change; it validates and lints clean as written (without a standby site it warns
//! `standby-site-missing`, on purpose).

use std::fmt::Write;

use crate::desired::Edition;

/// What `init` was asked for.
#[derive(Debug, Clone)]
pub struct InitOptions {
    pub site: String,
    pub pool: String,
    pub edition: Edition,
    pub standby: Option<String>,
    /// Which computer's paths to write: `standby init` uses the one it runs on.
    pub paths: PathStyle,
}

/// The paths a starting desired state names: mount points on a Unix host, or the drive
/// letters and UNC shares of the OCS administrative computer on Windows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathStyle {
    Unix,
    Windows,
}

impl PathStyle {
    /// The style of the computer standby runs on.
    pub fn native() -> Self {
        if cfg!(windows) {
            Self::Windows
        } else {
            Self::Unix
        }
    }

    /// A site's local backup store: its `path` and its `sql-path`, both KDL literals. On
    /// Windows both are the share, as the administrative computer and SQL Server both
    /// reach it.
    fn local_store(self, site: &str, domain: &str) -> (String, String) {
        let share = q(&format!("\\\\backup01.{domain}\\{site}"));
        match self {
            Self::Unix => (q(&format!("/srv/backup/{site}")), share),
            Self::Windows => (share.clone(), share),
        }
    }

    /// The offsite store of `site`, physically at `holder`.
    fn offsite_store(self, holder: &str, site: &str, domain: &str) -> String {
        match self {
            Self::Unix => q(&format!("/mnt/{holder}-backup/{site}")),
            Self::Windows => q(&format!("\\\\backup01.{domain}\\{holder}-offsite\\{site}")),
        }
    }

    /// Where a front end's files of `kind` are read from.
    fn fileset(self, kind: &str) -> String {
        match self {
            Self::Unix => q(&format!("/srv/ocs/{kind}")),
            Self::Windows => q(&format!("D:\\OCS\\{kind}")),
        }
    }
}

/// One file to write: its name in the desired directory and its text.
#[derive(Debug, Clone)]
pub struct InitFile {
    pub name: String,
    pub text: String,
}

/// The DNS domain of a pool FQDN: `pool01.contoso.com` → `contoso.com`.
fn domain_of(pool: &str) -> &str {
    pool.split_once('.').map_or(pool, |(_, rest)| rest)
}

/// `redmond` → `STANDBY_REDMOND_SQL_PASSWORD`.
fn password_env(site: &str) -> String {
    let upper: String = site
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_uppercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("STANDBY_{upper}_SQL_PASSWORD")
}

/// A KDL string literal.
fn q(text: &str) -> String {
    let mut out = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The servers of one site's pool, as (FQDN, role) pairs.
fn servers(edition: Edition, pool: &str, prefix: &str) -> Vec<(String, &'static str)> {
    let domain = domain_of(pool);
    match edition {
        // A Standard Edition server is its own pool: same FQDN.
        Edition::Standard => vec![(pool.to_owned(), "standard-edition")],
        Edition::Enterprise => vec![
            (format!("{prefix}fe01.{domain}"), "front-end"),
            (format!("{prefix}fe02.{domain}"), "front-end"),
            (format!("{prefix}sql01.{domain}"), "back-end"),
        ],
    }
}

/// The `server` nodes of a pool: back ends belong to the database administrators.
fn server_lines(text: &mut String, servers: &[(String, &'static str)]) {
    for (fqdn, role) in servers {
        let owner = if *role == "back-end" {
            "dba"
        } else {
            "ocs-ops"
        };
        let _ = writeln!(
            text,
            "        server {} role={} owner={}",
            q(fqdn),
            q(role),
            q(owner)
        );
    }
}

/// Validates the arguments; the message names the argument.
pub fn check(options: &InitOptions) -> Result<(), String> {
    let name_ok = |name: &str| {
        !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    };
    if !name_ok(&options.site) {
        return Err(format!(
            "--site {:?}: a site name is letters, digits, `-` and `_`",
            options.site
        ));
    }
    if let Some(standby) = &options.standby {
        if !name_ok(standby) {
            return Err(format!(
                "--standby {standby:?}: a site name is letters, digits, `-` and `_`"
            ));
        }
        if standby == &options.site {
            return Err("--standby must name another site than --site".into());
        }
    }
    let labels: Vec<&str> = options.pool.split('.').collect();
    let fqdn_ok = labels.len() >= 3
        && labels
            .iter()
            .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'));
    if !fqdn_ok {
        return Err(format!(
            "--pool {:?}: the pool's fully qualified domain name, like pool01.contoso.com",
            options.pool
        ));
    }
    Ok(())
}

/// The files of the starting desired state.
pub fn render(options: &InitOptions) -> Vec<InitFile> {
    let mut files = vec![
        InitFile {
            name: "deployment.kdl".into(),
            text: deployment(options),
        },
        InitFile {
            name: format!("{}.kdl", options.site),
            text: primary(options),
        },
    ];
    if let Some(standby) = &options.standby {
        files.push(InitFile {
            name: format!("{standby}.kdl"),
            text: standby_site(options, standby),
        });
    }
    files.push(InitFile {
        name: "scenarios.kdl".into(),
        text: scenarios(options),
    });
    files
}

fn deployment(options: &InitOptions) -> String {
    let domain = domain_of(&options.pool);
    let name = domain.split('.').next().unwrap_or(domain);
    format!(
        r#"// The deployment: written by `standby init --profile ocs-2007-r2`. Edit freely; run
// `standby validate` after every change. Every node is described in docs/desired-state.md.

deployment {name} product="ocs-2007-r2" domain={domain} {{
    // rpo: the most data a loss may cost; rto: the longest a restoration may take;
    // restore-test: how often every database must pass a test restore.
    objectives rpo="24h" rto="4h" restore-test="30d"
    // Low-usage hours (UTC): `apply` runs backups, copies and exports only then (log backups
    // run at any hour).
    backup-window start="01:00" end="05:00"
    // The DNS servers `standby audit` asks; remove to use this machine's resolvers.
    // resolver "10.0.0.53:53"

    // Who restores what: servers, sites and scenarios name these owners.
    owner "dba" name="Database administrators"
    owner "ocs-ops" name="OCS operations"
    owner "ad" name="Directory services"
}}
"#,
        name = q(name),
        domain = q(domain),
    )
}

fn primary(options: &InitOptions) -> String {
    let site = &options.site;
    let domain = domain_of(&options.pool);
    let servers = servers(options.edition, &options.pool, "");
    let sql_host = servers
        .iter()
        .find(|(_, role)| matches!(*role, "back-end" | "standard-edition"))
        .map_or(options.pool.as_str(), |(fqdn, _)| fqdn.as_str());
    let paths = options.paths;
    let offsite = match &options.standby {
        Some(standby) => format!(
            "    // Physically at {standby}: the copies that survive the loss of {site}.\n    store \"offsite\" path={} located-at={}\n",
            paths.offsite_store(standby, site, domain),
            q(standby)
        ),
        None => format!(
            "    // Physically elsewhere: the copies that survive the loss of {site}. Name the site\n    // that holds it with located-at=\"SITE\" once it is declared.\n    store \"offsite\" path={}\n",
            paths.offsite_store("offsite", site, domain)
        ),
    };
    let (local_path, sql_path) = paths.local_store(site, domain);
    let copy = if options.standby.is_some() {
        " copy-to=\"offsite\""
    } else {
        ""
    };
    let mut text = format!(
        r#"// The primary site. Replace the server names, paths and hosts with yours.

site {site_q} role="primary" owner="ocs-ops" {{
    // The backup share as this machine mounts it, and as SQL Server writes to it.
    store "local" path={local_path} sql-path={sql_path}
{offsite}
    pool {pool} edition={edition} {{
"#,
        site_q = q(site),
        pool = q(&options.pool),
        edition = q(&options.edition.to_string()),
    );
    server_lines(&mut text, &servers);
    text.push_str("    }\n\n");
    let _ = write!(
        text,
        "    // The password comes only from this environment variable.\n    sql-instance \"rtc\" host={} instance=\"RTC\" user=\"standby\" password-env={}\n\n",
        q(sql_host),
        q(&password_env(site))
    );
    // Without a standby site the only copies are the offsite store's: copy there anyway.
    let copy_all = if copy.is_empty() {
        " copy-to=\"offsite\""
    } else {
        copy
    };
    let _ = write!(
        text,
        r#"    // The pool's databases: users, contacts and conferences (rtc), pool settings (rtcconfig)
    // and the Address Book Server's (rtcab). Logs on their own volume, as the guide asks.
    database "rtc" instance="rtc" recovery-model="full" separate-log-volume=#true {{
        backup "full" every="24h" keep=7 store="local"{copy_all}
        backup "log" every="1h" keep=48 store="local"{copy_all}
    }}
    database "rtcconfig" instance="rtc" recovery-model="simple" separate-log-volume=#true {{
        backup "full" every="24h" keep=7 store="local"{copy_all}
    }}
    database "rtcab" instance="rtc" recovery-model="simple" separate-log-volume=#true {{
        backup "full" every="24h" keep=7 store="local"{copy_all}
    }}

    // Settings outside the databases, exported with LCSCmd.exe: global, pool, and each
    // server's computer-level settings.
    settings "global" level="global" every="24h" keep=14 store="local"{copy_all} {{
        export "LCSCmd.exe" "/Config" "/Action:Export" "/Level:Global" "/ConfigFile:{{file}}"
    }}
    settings {pool_name} level="pool" pool={pool} every="24h" keep=14 store="local"{copy_all} {{
        export "LCSCmd.exe" "/Config" "/Action:Export" "/Level:Pool" {pool_arg} "/ConfigFile:{{file}}"
    }}
"#,
        pool = q(&options.pool),
        pool_name = q(&pool_short(&options.pool)),
        pool_arg = q(&format!("/PoolName:{}", pool_short(&options.pool))),
    );
    for (fqdn, _) in &servers {
        let name = computer_settings_name(fqdn, &options.pool);
        let _ = write!(
            text,
            "    settings {} level=\"computer\" server={} every=\"24h\" keep=7 store=\"local\"{copy_all} {{\n        export \"LCSCmd.exe\" \"/Config\" \"/Action:Export\" \"/Level:Machine\" {} \"/ConfigFile:{{file}}\"\n    }}\n",
            q(&name),
            q(fqdn),
            q(&format!("/FQDN:{fqdn}")),
        );
    }
    let _ = write!(
        text,
        r#"
    // Files the front ends serve: meeting content and its compliance log, and the update
    // files for Communicator clients and devices. Point `path` at the shares.
    fileset "meeting-content" path={meeting_content} every="24h" keep=7 store="local"{copy_all}
    fileset "meeting-compliance" path={meeting_compliance} every="24h" keep=14 store="local"{copy_all}
    fileset "client-updates" path={client_updates} every="24h" keep=7 store="local"{copy_all}
    fileset "device-updates" path={device_updates} every="24h" keep=7 store="local"{copy_all}

    // How clients find the pool; `standby audit` resolves it.
    dns {srv} type="SRV" target={pool} port=5061
}}
"#,
        srv = q(&format!("_sipinternaltls._tcp.{domain}")),
        meeting_content = paths.fileset("meeting-content"),
        meeting_compliance = paths.fileset("meeting-compliance"),
        client_updates = paths.fileset("client-updates"),
        device_updates = paths.fileset("device-updates"),
        pool = q(&options.pool),
    );
    text
}

fn standby_site(options: &InitOptions, standby: &str) -> String {
    let domain = domain_of(&options.pool);
    let pool = format!("{standby}-pool.{domain}");
    let servers = servers(options.edition, &pool, &format!("{standby}-"));
    let sql_host = servers
        .iter()
        .find(|(_, role)| matches!(*role, "back-end" | "standard-edition"))
        .map_or(pool.as_str(), |(fqdn, _)| fqdn.as_str());
    let (local_path, sql_path) = options.paths.local_store(standby, domain);
    let mut text = format!(
        r#"// The standby site: takes over when {site} is lost. `standby audit` checks that it holds a
// counterpart of every {site} component, or an `omit` saying why not.

site {standby_q} role="standby" standby-for={site_q} owner="ocs-ops" {{
    store "local" path={local_path} sql-path={sql_path}

    // Its own pool: a standby pool never has the primary's name.
    pool {pool_q} edition={edition} {{
"#,
        site = options.site,
        site_q = q(&options.site),
        standby_q = q(standby),
        local_path = local_path,
        sql_path = sql_path,
        pool_q = q(&pool),
        edition = q(&options.edition.to_string()),
    );
    server_lines(&mut text, &servers);
    let mut computer_omits = String::new();
    for (fqdn, _) in self::servers(options.edition, &options.pool, "") {
        let _ = writeln!(
            computer_omits,
            "    omit {} reason=\"{standby}'s servers are built with their own machine settings\"",
            q(&format!(
                "settings/{}",
                computer_settings_name(&fqdn, &options.pool)
            ))
        );
    }
    let _ = write!(
        text,
        r#"    }}

    sql-instance "rtc" host={sql_host} instance="RTC" user="standby" password-env={env}

    database "rtc" instance="rtc" recovery-model="full" separate-log-volume=#true {{
        backup "full" every="24h" keep=7 store="local"
        backup "log" every="1h" keep=48 store="local"
    }}
    database "rtcconfig" instance="rtc" recovery-model="simple" separate-log-volume=#true {{
        backup "full" every="24h" keep=7 store="local"
    }}
    database "rtcab" instance="rtc" recovery-model="simple" separate-log-volume=#true {{
        backup "full" every="24h" keep=7 store="local"
    }}
    settings "global" level="global" every="24h" keep=14 store="local" {{
        export "LCSCmd.exe" "/Config" "/Action:Export" "/Level:Global" "/ConfigFile:{{file}}"
    }}
    settings {pool_name} level="pool" pool={to} every="24h" keep=14 store="local" {{
        export "LCSCmd.exe" "/Config" "/Action:Export" "/Level:Pool" {pool_arg} "/ConfigFile:{{file}}"
    }}

    // What {standby} deliberately lacks, and why (the worksheet prints these reasons).
    omit "fileset/meeting-content" reason="restored from the offsite snapshots at failover"
    omit "fileset/meeting-compliance" reason="restored from the offsite snapshots when needed"
    omit "fileset/client-updates" reason="restored from the offsite snapshots at failover"
    omit "fileset/device-updates" reason="restored from the offsite snapshots at failover"
{computer_omits}
    // The standby's global settings export must equal the primary's but for the pool name.
    settings-compare "global" {{
        rewrite from={from} to={to}
    }}

    // Where clients must be sent once {standby} has taken over.
    dns {srv} type="SRV" target={to} port=5061
}}
"#,
        sql_host = q(sql_host),
        env = q(&password_env(standby)),
        from = q(&options.pool),
        to = q(&pool),
        srv = q(&format!("_sipinternaltls._tcp.{domain}")),
        pool_name = q(&pool_short(&pool)),
        pool_arg = q(&format!("/PoolName:{}", pool_short(&pool))),
        computer_omits = computer_omits,
    );
    text
}

fn pool_short(pool: &str) -> String {
    pool.split('.').next().unwrap_or("pool").to_owned()
}

/// The name of a server's computer-level settings item.
fn computer_settings_name(fqdn: &str, pool: &str) -> String {
    let short = fqdn.split('.').next().unwrap_or(fqdn);
    if fqdn == pool {
        format!("{short}-computer")
    } else {
        short.to_owned()
    }
}

fn scenarios(options: &InitOptions) -> String {
    let server_loss = match options.edition {
        Edition::Standard => "standard-edition-server-loss",
        Edition::Enterprise => "enterprise-pool-server-loss",
    };
    let mut text = format!(
        r#"// Restoration scenarios from the OCS 2007 R2 guide's templates: each expands to ordered
// steps for the topology above. `standby worksheet` prints them; `override "STEP" minutes=N`
// replaces a step's default minutes (`standby validate` names the steps if an id is wrong).

scenario "database-loss" template="database-loss" owner="dba" {{
    affects {rtc}
}}

scenario {server_loss_q} template={server_loss_q} owner="ocs-ops"

scenario "ad-ds-loss" template="ad-ds-loss" owner="ad"
"#,
        rtc = q(&format!("{}/database/rtc", options.site)),
        server_loss_q = q(server_loss),
    );
    if options.standby.is_some() {
        text.push_str("\nscenario \"site-loss\" template=\"site-loss\" owner=\"ocs-ops\"\n");
    }
    text.push_str(
        "\n// What comes back first when everything has to.\nrestore-sequence \"sign-in\" \"im\" \"conferencing\"\n",
    );
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn on_windows_the_stores_are_shares_seen_alike_by_standby_and_sql_server() {
        let options = InitOptions {
            site: "redmond".into(),
            pool: "pool01.contoso.com".into(),
            edition: Edition::Enterprise,
            standby: Some("dallas".into()),
            paths: PathStyle::Windows,
        };
        let files = render(&options);
        let texts: Vec<_> = files
            .iter()
            .map(|f| (std::path::PathBuf::from(&f.name), f.text.clone()))
            .collect();
        let loaded = crate::desired::load_texts(texts);
        let severities: Vec<_> = loaded.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert!(severities.is_empty(), "{severities:?}");
        let all: String = files.iter().map(|f| f.text.as_str()).collect();
        assert!(
            all.contains(r#"store "local" path="\\\\backup01.contoso.com\\redmond" sql-path="\\\\backup01.contoso.com\\redmond""#),
            "{all}"
        );
        assert!(all.contains(r#"path="\\\\backup01.contoso.com\\dallas-offsite\\redmond""#));
        assert!(all.contains(r#"path="D:\\OCS\\meeting-content""#));
        assert!(!all.contains("/srv/") && !all.contains("/mnt/"), "{all}");
    }
}
