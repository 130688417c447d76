//! Lowers parsed KDL nodes into the typed model, one function per node kind.
//!
//! Lowering checks what one node can check on its own (names, types, enum values, required
//! properties). Checks that need the whole document (references, duplicates, thresholds
//! against the RPO) are in `validate`.

use std::path::PathBuf;

use kdl::KdlNode;

use super::diagnostic::{Code, Diagnostic, did_you_mean};
use super::duration::{Duration, TimeOfDay};
use super::model::{
    BackupWindow, Database, DatabaseBackup, DatabaseBackupKind, Deployment, DnsRecord, Fileset,
    Objectives, Omit, Owner, Policy, Pool, RecordType, Rewrite, Scenario, Server, Settings,
    SettingsCompare, SettingsLevel, Site, SqlInstance, StateDecl, StateKind, Step, StepOverride,
    Store,
};
use super::node_reader::{Cx, NodeReader, parse_choice};
use super::source::Spanned;

/// Where each node kind belongs, for the hint on a node written in the wrong place.
const PARENTS: &[(&str, &str)] = &[
    ("deployment", "the top level"),
    ("site", "the top level"),
    ("scenario", "the top level"),
    ("restore-sequence", "the top level"),
    ("state", "the top level"),
    ("objectives", "`deployment`"),
    ("backup-window", "`deployment`"),
    ("resolver", "`deployment`"),
    ("owner", "`deployment`"),
    ("store", "`site`"),
    ("pool", "`site`"),
    ("server", "`pool` or `site`"),
    ("sql-instance", "`site`"),
    ("database", "`site`"),
    ("settings", "`site`"),
    ("fileset", "`site`"),
    ("dns", "`site`"),
    ("omit", "`site`"),
    ("settings-compare", "`site`"),
    ("backup", "`database`"),
    ("export", "`settings`"),
    ("include", "`fileset`"),
    ("exclude", "`fileset`"),
    ("rewrite", "`settings-compare`"),
    ("ignore-line", "`settings-compare`"),
    ("affects", "`scenario`"),
    ("step", "`scenario`"),
];

/// Reports a child node that does not belong under `parent`.
pub(super) fn unknown_node(cx: &mut Cx<'_>, node: &KdlNode, parent: &str, allowed: &[&str]) {
    let name = node.name().value();
    let span = cx.span(node.name().span());
    let help = if let Some((_, home)) = PARENTS.iter().find(|(n, _)| *n == name) {
        format!("`{name}` belongs under {home}")
    } else if let Some(close) = did_you_mean(name, allowed.iter().copied()) {
        // `sites "dallas"` most likely declares site dallas: do not also call every
        // reference to dallas dangling.
        cx.lowered::<()>(node, close, None);
        format!("did you mean `{close}`?")
    } else {
        format!(
            "{parent} may contain {}",
            allowed
                .iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    cx.push(
        Diagnostic::error(
            Code::UnknownNode,
            format!("unknown node `{name}` in {parent}"),
        )
        .at(span, "not expected here")
        .with_help(help),
    );
}

fn no_children(cx: &mut Cx<'_>, node: &KdlNode) {
    if let Some(children) = node.children() {
        cx.push(
            Diagnostic::error(
                Code::UnexpectedChildren,
                format!("`{}` takes no children", node.name().value()),
            )
            .at(
                cx.span(opening_brace(&cx.text, children.span())),
                "unexpected block",
            )
            .with_help("remove the { … } block"),
        );
    }
}

/// kdl's span of a children block starts inside the braces; the `{` is what to point at.
fn opening_brace(text: &str, span: miette::SourceSpan) -> miette::SourceSpan {
    text.get(..span.offset())
        .and_then(|before| before.rfind('{'))
        .map_or(span, |at| (at, 1).into())
}

fn children(node: &KdlNode) -> &[KdlNode] {
    node.children().map_or(&[], kdl::KdlDocument::nodes)
}

fn resolve_path(cx: &Cx<'_>, text: &Spanned<String>) -> Spanned<PathBuf> {
    // `\\?\D:\x` is `D:\x`: store-relative paths are joined with `/`, which a `\\?\` path
    // takes literally, and Rust's standard library adds the prefix itself where a path is
    // longer than Windows' 260 characters.
    let path = if text.value.starts_with(r"\\?\") {
        PathBuf::from(super::windows_path::plain(&text.value).as_ref())
    } else {
        PathBuf::from(&text.value)
    };
    // A Windows path (`D:\Backup`, `\\rdm-bk01\backup`) is absolute on any platform:
    // read elsewhere, it names what it names there, never a folder beside the KDL file.
    let path = if path.is_absolute() || super::windows_path::is_absolute(&text.value) {
        path
    } else {
        cx.dir.join(path)
    };
    let path = super::source::normalize(&path);
    Spanned::new(path, text.span)
}

fn check_glob(cx: &mut Cx<'_>, glob: &Spanned<String>) -> bool {
    match globset::Glob::new(&glob.value) {
        Ok(_) => true,
        Err(e) => {
            cx.push(
                Diagnostic::error(
                    Code::BadGlob,
                    format!("{:?} is not a valid glob", glob.value),
                )
                .at(glob.span, e.kind().to_string())
                .with_help("globs use *, **, ?, [abc] and {a,b}"),
            );
            false
        }
    }
}

pub(super) fn deployment(cx: &mut Cx<'_>, node: &KdlNode) -> Option<Deployment> {
    let mut r = NodeReader::new(cx, node);
    let name = r.name_arg(cx, "a name");
    let product = r.choice(cx, "product");
    let domain = r.string(cx, "domain");
    r.finish(cx);

    let mut objectives: Option<(Objectives, Spanned<()>)> = None;
    let mut backup_window: Option<BackupWindow> = None;
    let mut window_span = None;
    let mut resolvers = Vec::new();
    let mut owners = Vec::new();
    for child in children(node) {
        let child_span = cx.span(child.name().span());
        let once = |cx: &mut Cx<'_>, first: Option<crate::desired::source::Span>| {
            if let Some(first) = first {
                cx.push(
                    Diagnostic::error(
                        Code::DuplicateNode,
                        format!("`{}` may appear once per deployment", child.name().value()),
                    )
                    .at(child_span, "again here")
                    .with_related(first, "first here")
                    .with_help("merge the two into one node"),
                );
                false
            } else {
                true
            }
        };
        match child.name().value() {
            "objectives" => {
                let parsed = self::objectives(cx, child);
                if once(cx, objectives.as_ref().map(|(_, s)| s.span)) {
                    objectives = Some((parsed, Spanned::new((), child_span)));
                }
            }
            "backup-window" => {
                let parsed = self::backup_window(cx, child);
                if once(cx, window_span) {
                    window_span = Some(child_span);
                    backup_window = parsed;
                }
            }
            "resolver" => resolvers.extend(resolver(cx, child)),
            "owner" => {
                let lowered = owner(cx, child);
                owners.extend(cx.lowered(child, "owner", lowered));
            }
            _ => unknown_node(
                cx,
                child,
                "`deployment`",
                &["objectives", "backup-window", "resolver", "owner"],
            ),
        }
    }
    Some(Deployment {
        name: name?,
        product,
        domain,
        objectives: objectives.map(|(o, _)| o).unwrap_or_default(),
        backup_window,
        resolvers,
        owners,
    })
}

fn objectives(cx: &mut Cx<'_>, node: &KdlNode) -> Objectives {
    let mut r = NodeReader::new(cx, node);
    let objectives = Objectives {
        rpo: r.duration(cx, "rpo"),
        rto: r.duration(cx, "rto"),
        restore_test: r.duration(cx, "restore-test"),
    };
    r.finish(cx);
    no_children(cx, node);
    objectives
}

fn backup_window(cx: &mut Cx<'_>, node: &KdlNode) -> Option<BackupWindow> {
    let mut r = NodeReader::new(cx, node);
    let time = |cx: &mut Cx<'_>, r: &mut NodeReader<'_>, key| {
        let text = r.required_string(cx, key, "\"01:00\"")?;
        if let Ok(t) = text.value.parse::<TimeOfDay>() {
            Some(Spanned::new(t, text.span))
        } else {
            cx.push(
                Diagnostic::error(
                    Code::BadTime,
                    format!("`{key}` is not a time: {:?}", text.value),
                )
                .at(text.span, "expected HH:MM")
                .with_help("write a 24-hour UTC time like \"01:00\" or \"23:30\""),
            );
            None
        }
    };
    let start = time(cx, &mut r, "start");
    let end = time(cx, &mut r, "end");
    r.finish(cx);
    no_children(cx, node);
    Some(BackupWindow {
        start: start?,
        end: end?,
    })
}

fn resolver(cx: &mut Cx<'_>, node: &KdlNode) -> Vec<Spanned<String>> {
    let mut r = NodeReader::new(cx, node);
    let first = r.arg(cx, "a DNS server as HOST:PORT");
    let mut all: Vec<_> = first.into_iter().collect();
    all.extend(r.rest_args(cx, "a DNS server"));
    r.finish(cx);
    no_children(cx, node);
    all.into_iter()
        .filter(|server| {
            let ok = server.value.parse::<std::net::SocketAddr>().is_ok()
                || server.value.parse::<std::net::IpAddr>().is_ok();
            if !ok {
                cx.push(
                    Diagnostic::error(
                        Code::BadValue,
                        format!("{:?} is not a DNS server address", server.value),
                    )
                    .at(server.span, "expected IP or IP:PORT")
                    .with_help("write an address like \"10.0.0.53:53\" or \"[fd00::53]:53\""),
                );
            }
            ok
        })
        .collect()
}

fn owner(cx: &mut Cx<'_>, node: &KdlNode) -> Option<Owner> {
    let mut r = NodeReader::new(cx, node);
    let id = r.name_arg(cx, "an ID");
    let name = r.string(cx, "name").map(|s| s.value);
    let contact = r.string(cx, "contact").map(|s| s.value);
    r.finish(cx);
    no_children(cx, node);
    Some(Owner {
        id: id?,
        name,
        contact,
    })
}

pub(super) fn site(cx: &mut Cx<'_>, node: &KdlNode) -> Option<Site> {
    let mut r = NodeReader::new(cx, node);
    let name = r.name_arg(cx, "a name");
    let role = r.required_choice(cx, "role");
    let standby_for = r.string(cx, "standby-for");
    let region = r.string(cx, "region");
    let owner = r.string(cx, "owner");
    r.finish(cx);

    let mut site = Site {
        name: name?,
        role: role?,
        standby_for,
        region,
        owner,
        stores: Vec::new(),
        pools: Vec::new(),
        servers: Vec::new(),
        sql_instances: Vec::new(),
        databases: Vec::new(),
        settings: Vec::new(),
        filesets: Vec::new(),
        dns: Vec::new(),
        omits: Vec::new(),
        settings_compares: Vec::new(),
    };
    for child in children(node) {
        match child.name().value() {
            "store" => site.stores.extend({
                let lowered = store(cx, child);
                cx.lowered(child, "store", lowered)
            }),
            "pool" => {
                let lowered = pool(cx, child);
                if let Some((pool, servers)) = cx.lowered(child, "pool", lowered) {
                    site.pools.push(pool);
                    site.servers.extend(servers);
                }
            }
            "server" => site.servers.extend({
                let lowered = server(cx, child, None);
                cx.lowered(child, "server", lowered)
            }),
            "sql-instance" => site.sql_instances.extend({
                let lowered = sql_instance(cx, child);
                cx.lowered(child, "sql-instance", lowered)
            }),
            "database" => site.databases.extend({
                let lowered = database(cx, child);
                cx.lowered(child, "database", lowered)
            }),
            "settings" => site.settings.extend({
                let lowered = settings(cx, child);
                cx.lowered(child, "settings", lowered)
            }),
            "fileset" => site.filesets.extend({
                let lowered = fileset(cx, child);
                cx.lowered(child, "fileset", lowered)
            }),
            "dns" => site.dns.extend({
                let lowered = dns(cx, child);
                cx.lowered(child, "dns", lowered)
            }),
            "omit" => site.omits.extend(omit(cx, child)),
            "settings-compare" => site.settings_compares.extend(settings_compare(cx, child)),
            _ => unknown_node(
                cx,
                child,
                "`site`",
                &[
                    "store",
                    "pool",
                    "server",
                    "sql-instance",
                    "database",
                    "settings",
                    "fileset",
                    "dns",
                    "omit",
                    "settings-compare",
                ],
            ),
        }
    }
    Some(site)
}

fn store(cx: &mut Cx<'_>, node: &KdlNode) -> Option<Store> {
    let mut r = NodeReader::new(cx, node);
    let name = r.name_arg(cx, "a name");
    let path = r.required_string(cx, "path", "\"/srv/backup\"");
    let sql_path = r.string(cx, "sql-path");
    let located_at = r.string(cx, "located-at");
    r.finish(cx);
    no_children(cx, node);
    Some(Store {
        name: name?,
        path: resolve_path(cx, &path?),
        sql_path,
        located_at,
    })
}

fn pool(cx: &mut Cx<'_>, node: &KdlNode) -> Option<(Pool, Vec<Server>)> {
    let mut r = NodeReader::new(cx, node);
    let fqdn = r.name_arg(cx, "an FQDN");
    let edition = r.required_choice(cx, "edition");
    r.finish(cx);
    let mut servers = Vec::new();
    for child in children(node) {
        if child.name().value() == "server" {
            let lowered = server(cx, child, fqdn.as_ref().map(|f| f.value.clone()));
            servers.extend(cx.lowered(child, "server", lowered));
        } else {
            unknown_node(cx, child, "`pool`", &["server"]);
        }
    }
    Some((
        Pool {
            fqdn: fqdn?,
            edition: edition?,
        },
        servers,
    ))
}

fn server(cx: &mut Cx<'_>, node: &KdlNode, pool: Option<String>) -> Option<Server> {
    let mut r = NodeReader::new(cx, node);
    let fqdn = r.name_arg(cx, "an FQDN");
    let role = r.required_choice(cx, "role");
    let owner = r.string(cx, "owner");
    r.finish(cx);
    no_children(cx, node);
    Some(Server {
        fqdn: fqdn?,
        role: role?,
        owner,
        pool,
    })
}

fn sql_instance(cx: &mut Cx<'_>, node: &KdlNode) -> Option<SqlInstance> {
    let mut r = NodeReader::new(cx, node);
    let id = r.name_arg(cx, "an ID");
    let host = r.required_string(cx, "host", "\"sql01.contoso.com\"");
    let port = r.integer(cx, "port", 1, 65_535);
    let instance = r.string(cx, "instance").map(|s| s.value);
    let user = r.string(cx, "user").map(|s| s.value);
    let password_env = r.string(cx, "password-env");
    let encrypt = r.bool(cx, "encrypt").unwrap_or(true);
    let trust_cert = r.bool(cx, "trust-cert").unwrap_or(false);
    if let Some(span) = r.has("password") {
        r.consume("password");
        cx.push(
            Diagnostic::error(
                Code::PasswordProperty,
                "a password must not be written in the desired state",
            )
            .at(span, "plain-text password")
            .with_help(
                "remove it and name an environment variable instead: \
                 password-env=\"STANDBY_SQL_PASSWORD\"",
            ),
        );
    }
    r.finish(cx);
    no_children(cx, node);
    Some(SqlInstance {
        id: id?,
        host: host?,
        port: port.and_then(|p| u16::try_from(p.value).ok()),
        instance,
        user,
        password_env,
        encrypt,
        trust_cert,
    })
}

/// Reads the schedule, thresholds and placement properties shared by every backed-up item.
/// Thresholds are finished later (`Policy::apply_rpo`), once the deployment's RPO is known.
fn policy(cx: &mut Cx<'_>, r: &mut NodeReader<'_>) -> Option<Policy> {
    let every = r.required_duration(cx, "every");
    let keep = if r.has("keep").is_some() {
        r.u32(cx, "keep", 1)
    } else {
        r.consume("keep");
        cx.push(
            Diagnostic::error(
                Code::MissingProperty,
                format!("`{}` needs `keep`", r.name()),
            )
            .at(r.name_span(), "`keep` missing")
            .with_help("add keep=7: how many backups retention keeps"),
        );
        None
    };
    let min = r.u32(cx, "min", 1).map_or(1, |m| m.value);
    let warn = r.duration(cx, "warn");
    let crit = r.duration(cx, "crit");
    let store = r.required_string(cx, "store", "\"local\"");
    let copy_to = r.string(cx, "copy-to");
    let pattern = r.string(cx, "pattern");
    let pattern = pattern.filter(|p| check_glob(cx, p));
    let every = every?;
    Some(Policy {
        warn: warn.as_ref().map_or(every.value.scale(5, 4), |w| w.value),
        crit: crit.as_ref().map_or(every.value.scale(3, 2), |c| c.value),
        every,
        keep: keep?,
        min,
        warn_declared: warn,
        crit_declared: crit,
        store: store?,
        copy_to,
        pattern,
    })
}

impl Policy {
    /// Caps the default thresholds at the deployment's RPO (SPEC §2), and the default warn
    /// at the crit threshold.
    pub(super) fn apply_rpo(&mut self, rpo: Option<Duration>) {
        if let Some(rpo) = rpo {
            if self.warn_declared.is_none() {
                self.warn = self.warn.min(rpo);
            }
            if self.crit_declared.is_none() {
                self.crit = self.crit.min(rpo);
            }
        }
        // With only `crit` declared, the default `warn` never lands beyond it.
        if self.warn_declared.is_none() {
            self.warn = self.warn.min(self.crit);
        }
    }
}

fn database(cx: &mut Cx<'_>, node: &KdlNode) -> Option<Database> {
    let mut r = NodeReader::new(cx, node);
    let name = r.name_arg(cx, "a name");
    let instance = r.required_string(cx, "instance", "\"rtc\"");
    let recovery_model = r.choice(cx, "recovery-model");
    let separate_log_volume = r.bool(cx, "separate-log-volume").unwrap_or(false);
    r.finish(cx);
    let mut backups = Vec::new();
    for child in children(node) {
        if child.name().value() != "backup" {
            unknown_node(cx, child, "`database`", &["backup"]);
            continue;
        }
        let mut r = NodeReader::new(cx, child);
        let kind = r
            .arg(cx, "a type (\"full\", \"diff\" or \"log\")")
            .and_then(|t| parse_choice::<DatabaseBackupKind>(cx, &t, "a backup type"));
        let policy = policy(cx, &mut r);
        r.finish(cx);
        no_children(cx, child);
        if let (Some(kind), Some(policy)) = (kind, policy) {
            backups.push(DatabaseBackup { kind, policy });
        }
    }
    Some(Database {
        name: name?,
        instance: instance?,
        recovery_model,
        separate_log_volume,
        backups,
    })
}

fn settings(cx: &mut Cx<'_>, node: &KdlNode) -> Option<Settings> {
    let mut r = NodeReader::new(cx, node);
    let name = r.name_arg(cx, "a name");
    let level = r.required_choice::<SettingsLevel>(cx, "level");
    let pool = r.string(cx, "pool");
    let server = r.string(cx, "server");
    let policy = policy(cx, &mut r);
    r.finish(cx);
    if let Some(level) = &level {
        let stray = match level.value {
            SettingsLevel::Global => [
                pool.as_ref().map(|p| ("pool", p)),
                server.as_ref().map(|s| ("server", s)),
            ],
            SettingsLevel::Pool => [None, server.as_ref().map(|s| ("server", s))],
            SettingsLevel::Computer => [pool.as_ref().map(|p| ("pool", p)), None],
        };
        for (key, value) in stray.into_iter().flatten() {
            cx.push(
                Diagnostic::error(
                    Code::BadValue,
                    format!("`{key}` does not apply at level \"{}\"", level.value),
                )
                .at(value.span, format!("ignored at level \"{}\"", level.value))
                .with_related(level.span, "the level")
                .with_help(format!(
                    "remove `{key}`, or use level=\"{}\"",
                    if key == "pool" { "pool" } else { "computer" }
                )),
            );
        }
        let needs = match level.value {
            SettingsLevel::Pool => Some(("pool", pool.is_some(), "\"pool01.contoso.com\"")),
            SettingsLevel::Computer => Some(("server", server.is_some(), "\"fe01.contoso.com\"")),
            SettingsLevel::Global => None,
        };
        if let Some((key, false, example)) = needs {
            cx.push(
                Diagnostic::error(
                    Code::MissingProperty,
                    format!(
                        "a settings export at level \"{}\" needs `{key}`",
                        level.value
                    ),
                )
                .at(level.span, format!("needs `{key}`"))
                .with_help(format!(
                    "add {key}={example}: the {key} whose settings are exported"
                )),
            );
        }
    }
    let mut export = None;
    for child in children(node) {
        if child.name().value() != "export" {
            unknown_node(cx, child, "`settings`", &["export"]);
            continue;
        }
        let mut r = NodeReader::new(cx, child);
        let program = r.arg(cx, "the program to run");
        let mut argv: Vec<_> = program.into_iter().collect();
        argv.extend(r.rest_args(cx, "an export argument"));
        r.finish(cx);
        no_children(cx, child);
        let span = cx.span(child.span());
        if !argv.iter().any(|a| a.value.contains("{file}")) {
            cx.push(
                Diagnostic::error(Code::BadValue, "the export command never mentions {file}")
                    .at(span, "standby cannot tell where this writes")
                    .with_help("pass {file} where the command takes its output file, e.g. \"/ConfigFile:{file}\""),
            );
        }
        if export.is_some() {
            cx.push(
                Diagnostic::error(Code::DuplicateNode, "a settings item has one `export`")
                    .at(span, "second export")
                    .with_help("declare a second settings item for a second export"),
            );
            continue;
        }
        export = Some(Spanned::new(
            argv.into_iter().map(|a| a.value).collect(),
            span,
        ));
    }
    if export.is_none() && policy.as_ref().is_some_and(|p| p.pattern.is_none()) && name.is_some() {
        cx.push(
            Diagnostic::error(
                Code::MissingChild,
                "a settings item needs an `export` command or a `pattern`",
            )
            .at(r_name_span(cx, node), "nothing makes or finds this export")
            .with_help("add a child: export \"LCSCmd.exe\" \"/Config\" \"/Action:Export\" \"/Level:Global\" \"/ConfigFile:{file}\""),
        );
    }
    Some(Settings {
        name: name?,
        level: level?,
        pool,
        server,
        policy: policy?,
        export,
    })
}

fn r_name_span(cx: &Cx<'_>, node: &KdlNode) -> crate::desired::source::Span {
    cx.span(node.name().span())
}

fn fileset(cx: &mut Cx<'_>, node: &KdlNode) -> Option<Fileset> {
    let mut r = NodeReader::new(cx, node);
    let name = r.name_arg(cx, "a name");
    let path = r.required_string(cx, "path", "\"/srv/ocs/meeting-content\"");
    let policy = policy(cx, &mut r);
    r.finish(cx);
    let mut include = Vec::new();
    let mut exclude = Vec::new();
    for child in children(node) {
        let list = match child.name().value() {
            "include" => &mut include,
            "exclude" => &mut exclude,
            _ => {
                unknown_node(cx, child, "`fileset`", &["include", "exclude"]);
                continue;
            }
        };
        let mut r = NodeReader::new(cx, child);
        let first = r.arg(cx, "a glob");
        let mut globs: Vec<_> = first.into_iter().collect();
        globs.extend(r.rest_args(cx, "a glob"));
        r.finish(cx);
        no_children(cx, child);
        list.extend(globs.into_iter().filter(|g| check_glob(cx, g)));
    }
    Some(Fileset {
        name: name?,
        path: resolve_path(cx, &path?),
        policy: policy?,
        include,
        exclude,
    })
}

fn dns(cx: &mut Cx<'_>, node: &KdlNode) -> Option<DnsRecord> {
    let mut r = NodeReader::new(cx, node);
    let name = r.arg(cx, "a record name");
    let record_type = r.required_choice::<RecordType>(cx, "type");
    let target = r.required_string(cx, "target", "\"pool01.contoso.com\"");
    let port = r.integer(cx, "port", 1, 65_535);
    r.finish(cx);
    no_children(cx, node);
    let port = port.map(|p| Spanned::new(u16::try_from(p.value).unwrap_or_default(), p.span));
    if let Some(record_type) = &record_type {
        match (record_type.value, &port) {
            (RecordType::Srv, None) => cx.push(
                Diagnostic::error(Code::MissingProperty, "an SRV record needs `port`")
                    .at(record_type.span, "SRV without a port")
                    .with_help("add port=5061 (or the port the service listens on)"),
            ),
            (RecordType::A | RecordType::Cname, Some(port)) => cx.push(
                Diagnostic::error(
                    Code::BadValue,
                    format!("a {} record has no port", record_type.value),
                )
                .at(port.span, "only SRV records carry a port")
                .with_help("remove `port`, or make the record type=\"SRV\""),
            ),
            _ => {}
        }
    }
    Some(DnsRecord {
        name: name?,
        record_type: record_type?,
        target: target?,
        port,
    })
}

fn omit(cx: &mut Cx<'_>, node: &KdlNode) -> Option<Omit> {
    let mut r = NodeReader::new(cx, node);
    let component = r.arg(cx, "the component it omits");
    let reason = r.required_string(cx, "reason", "\"why the standby site does without it\"");
    r.finish(cx);
    no_children(cx, node);
    if let Some(reason) = &reason
        && reason.value.trim().is_empty()
    {
        cx.push(
            Diagnostic::error(Code::BadValue, "an omit's reason must say why")
                .at(reason.span, "empty reason")
                .with_help("say what the standby site loses and why that is acceptable"),
        );
    }
    Some(Omit {
        component: component?,
        reason: reason?,
    })
}

fn settings_compare(cx: &mut Cx<'_>, node: &KdlNode) -> Option<SettingsCompare> {
    let mut r = NodeReader::new(cx, node);
    let name = r.arg(cx, "the settings name");
    r.finish(cx);
    let mut rewrites = Vec::new();
    let mut ignore_lines = Vec::new();
    for child in children(node) {
        let mut r = NodeReader::new(cx, child);
        match child.name().value() {
            "rewrite" => {
                let from = r.required_string(cx, "from", "\"pool01.contoso.com\"");
                let to = r.required_string(cx, "to", "\"pool02.contoso.com\"");
                r.finish(cx);
                if let (Some(from), Some(to)) = (from, to) {
                    rewrites.push(Rewrite { from, to });
                }
            }
            "ignore-line" => {
                let first = r.arg(cx, "the text of lines to ignore");
                ignore_lines.extend(first);
                ignore_lines.extend(r.rest_args(cx, "the text of lines to ignore"));
                r.finish(cx);
            }
            _ => {
                unknown_node(cx, child, "`settings-compare`", &["rewrite", "ignore-line"]);
                continue;
            }
        }
        no_children(cx, child);
    }
    Some(SettingsCompare {
        name: name?,
        rewrites,
        ignore_lines,
    })
}

pub(super) fn scenario(cx: &mut Cx<'_>, node: &KdlNode) -> Option<Scenario> {
    let mut r = NodeReader::new(cx, node);
    let name = r.name_arg(cx, "a name");
    let owner = r.string(cx, "owner");
    let estimate = r.duration(cx, "estimate");
    let template = r.choice(cx, "template");
    r.finish(cx);
    let mut affects = Vec::new();
    let mut steps = Vec::new();
    let mut overrides = Vec::new();
    for child in children(node) {
        let mut r = NodeReader::new(cx, child);
        match child.name().value() {
            "affects" => {
                let first = r.arg(cx, "an address");
                affects.extend(first);
                affects.extend(r.rest_args(cx, "an address"));
                r.finish(cx);
            }
            "step" => {
                let text = r.arg(cx, "what to do");
                let minutes = r.u32(cx, "minutes", 0);
                r.finish(cx);
                if let Some(text) = text {
                    steps.push(Step {
                        text,
                        minutes,
                        id: None,
                    });
                }
            }
            "override" => {
                let step = r.arg(cx, "the id of a template step");
                let minutes = r.u32(cx, "minutes", 0);
                if minutes.is_none() && r.has("minutes").is_none() {
                    cx.push(
                        Diagnostic::error(Code::MissingProperty, "`override` needs `minutes`")
                            .at(r.name_span(), "no minutes")
                            .with_help("write override \"restore/rtc\" minutes=45"),
                    );
                }
                r.finish(cx);
                if let (Some(step), Some(minutes)) = (step, minutes) {
                    overrides.push(StepOverride { step, minutes });
                }
            }
            _ => {
                unknown_node(cx, child, "`scenario`", &["affects", "step", "override"]);
                continue;
            }
        }
        no_children(cx, child);
    }
    Some(Scenario {
        name: name?,
        owner,
        estimate,
        template,
        affects,
        steps,
        overrides,
    })
}

/// `state "local" path="state"` or `state "postgres" url-env="STANDBY_STATE_URL"`.
pub(super) fn state(cx: &mut Cx<'_>, node: &KdlNode) -> Option<StateDecl> {
    let mut r = NodeReader::new(cx, node);
    let kind = r.arg(cx, "a kind, \"local\" or \"postgres\"");
    let kind = kind.and_then(|k| parse_choice::<StateKind>(cx, &k, "the kind of `state`"));
    let decl = match kind.map(|k| k.value) {
        Some(StateKind::Local) => {
            let path = r.string(cx, "path");
            Some(StateDecl::Local {
                path: path.map_or_else(|| cx.dir.join("state"), |p| resolve_path(cx, &p).value),
            })
        }
        Some(StateKind::Postgres) => r
            .required_string(cx, "url-env", "\"STANDBY_STATE_URL\"")
            .map(|v| StateDecl::Postgres { url_env: v.value }),
        None => None,
    };
    r.finish(cx);
    no_children(cx, node);
    decl
}

pub(super) fn restore_sequence(cx: &mut Cx<'_>, node: &KdlNode) -> Vec<Spanned<String>> {
    let mut r = NodeReader::new(cx, node);
    let first = r.arg(cx, "the first functionality to restore");
    let mut all: Vec<_> = first.into_iter().collect();
    all.extend(r.rest_args(cx, "a functionality"));
    r.finish(cx);
    no_children(cx, node);
    all
}
