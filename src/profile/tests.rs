//! The profile's implied components, lints and templates on small desired states.

use crate::desired::{Code, Desired, Diagnostic, load_texts};

/// An Enterprise pool with everything the profile implies: lints clean.
const CLEAN: &str = r#"
deployment "t" product="ocs-2007-r2" domain="t.com" {
    objectives rpo="24h" rto="4h" restore-test="30d"
    backup-window start="01:00" end="05:00"
    owner "ops"
}
site "p" role="primary" region="east" owner="ops" {
    store "local" path="/b/p" sql-path="\\\\bk\\p"
    store "offsite" path="/b/off" located-at="s"
    pool "pool01.t.com" edition="enterprise" {
        server "fe01.t.com" role="front-end" owner="ops"
        server "sql01.t.com" role="back-end" owner="ops"
    }
    sql-instance "rtc" host="sql01.t.com" port=1433 user="u" password-env="P"
    database "rtc" instance="rtc" recovery-model="full" separate-log-volume=#true {
        backup "full" every="24h" keep=7 store="local" copy-to="offsite"
        backup "log" every="1h" keep=48 store="local" copy-to="offsite"
    }
    database "rtcconfig" instance="rtc" recovery-model="simple" separate-log-volume=#true {
        backup "full" every="24h" keep=7 store="local" copy-to="offsite"
    }
    database "rtcab" instance="rtc" recovery-model="simple" separate-log-volume=#true {
        backup "full" every="24h" keep=7 store="local" copy-to="offsite"
    }
    settings "pool01" level="pool" pool="pool01.t.com" every="24h" keep=7 store="local" copy-to="offsite" pattern="x/pool/*.xml"
    settings "fe01" level="computer" server="fe01.t.com" every="24h" keep=7 store="local" copy-to="offsite" pattern="x/fe01/*.xml"
    settings "sql01" level="computer" server="sql01.t.com" every="24h" keep=7 store="local" copy-to="offsite" pattern="x/sql01/*.xml"
    fileset "meeting-content" path="/f/mc" every="24h" keep=7 store="local" copy-to="offsite"
    fileset "meeting-compliance" path="/f/mcl" every="24h" keep=7 store="local" copy-to="offsite"
    fileset "client-updates" path="/f/cu" every="24h" keep=7 store="local" copy-to="offsite"
    fileset "device-updates" path="/f/du" every="24h" keep=7 store="local" copy-to="offsite"
}
site "s" role="standby" standby-for="p" region="west" owner="ops" {
    store "local" path="/b/s"
}
scenario "pool" template="enterprise-pool-server-loss" owner="ops"
"#;

fn load(text: &str) -> (Option<Desired>, Vec<Diagnostic>) {
    let loaded = crate::profile::apply(load_texts(vec![("/d/t.kdl".into(), text.to_owned())]));
    (loaded.desired, loaded.diagnostics)
}

/// `CLEAN` with `from` replaced by `to` (which must be there).
fn edit(from: &str, to: &str) -> String {
    assert!(CLEAN.contains(from), "{from:?} is not in the fixture");
    CLEAN.replacen(from, to, 1)
}

fn codes(text: &str) -> Vec<&'static str> {
    let (_, diagnostics) = load(text);
    diagnostics.iter().map(|d| d.code.as_str()).collect()
}

fn messages(text: &str) -> Vec<String> {
    let (_, diagnostics) = load(text);
    diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect()
}

#[test]
fn the_fixture_lints_clean() {
    assert_eq!(messages(CLEAN), Vec::<String>::new());
}

#[test]
fn other_products_are_not_linted() {
    let generic = edit("product=\"ocs-2007-r2\"", "product=\"generic\"")
        .replace(
            "scenario \"pool\" template=\"enterprise-pool-server-loss\" owner=\"ops\"",
            "",
        )
        .replace("restore-test=\"30d\"", "");
    assert_eq!(messages(&generic), Vec::<String>::new());
}

#[test]
fn a_back_end_implies_the_pool_databases_and_pool_settings() {
    for (name, from, to) in [
        ("rtcab", "database \"rtcab\"", "database \"other\""),
        ("rtcconfig", "database \"rtcconfig\"", "database \"cfg\""),
        (
            "rtc",
            "database \"rtc\" instance",
            "database \"rtc2\" instance",
        ),
    ] {
        let text = edit(from, to);
        let found = messages(&text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with(&format!(
                "implied-component-missing: sql01.t.com (back-end) implies the database `{name}`"
            )),
            "{found:?}"
        );
    }
    let (_, diagnostics) = load(&edit(
        "settings \"pool01\" level=\"pool\" pool=\"pool01.t.com\"",
        "settings \"pool01\" level=\"global\"",
    ));
    let missing: Vec<_> = diagnostics
        .iter()
        .filter(|d| d.code == Code::ImpliedComponentMissing)
        .collect();
    assert_eq!(missing.len(), 1);
    assert!(
        missing[0]
            .message
            .contains("the pool-level settings of `pool01.t.com`")
    );
    // The help names the declared scenario of the template that would fail.
    let help = missing[0].help.as_deref().unwrap_or_default();
    assert!(
        help.contains("scenario `pool` (enterprise-pool-server-loss)"),
        "{help}"
    );
}

#[test]
fn a_front_end_implies_its_files_and_every_server_its_computer_settings() {
    for fileset in [
        "meeting-content",
        "meeting-compliance",
        "client-updates",
        "device-updates",
    ] {
        let text = edit(&format!("fileset \"{fileset}\""), "fileset \"other\"");
        let found = messages(&text);
        assert_eq!(
            found,
            [format!(
                "implied-component-missing: fe01.t.com (front-end) implies the `{fileset}` files, which site `p` does not declare"
            )]
        );
    }
    let found = messages(&edit(
        "settings \"fe01\" level=\"computer\" server=\"fe01.t.com\"",
        "settings \"fe01\" level=\"computer\" server=\"sql01.t.com\"",
    ));
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("fe01.t.com (front-end) implies its computer-level settings"));
}

/// Adds a server of `role` to the primary site, with its own computer-level settings when
/// `settings` is true, and returns what the profile says is missing.
fn with_server(role: &str, settings: bool) -> Vec<String> {
    let mut extra = format!("    server \"x01.t.com\" role=\"{role}\" owner=\"ops\"\n");
    if settings {
        extra.push_str("    settings \"x01\" level=\"computer\" server=\"x01.t.com\" every=\"24h\" keep=7 store=\"local\" copy-to=\"offsite\" pattern=\"x/x01/*.xml\"\n");
    }
    messages(&edit(
        "    fileset \"meeting-content\"",
        &format!("{extra}    fileset \"meeting-content\""),
    ))
}

#[test]
fn each_role_implies_its_components() {
    let implied = |role: &str, settings: bool| -> Vec<String> {
        with_server(role, settings)
            .into_iter()
            .filter(|m| m.starts_with("implied-component-missing"))
            .map(|m| {
                let m = m.trim_start_matches("implied-component-missing: ");
                let start = m.find("implies ").map_or(0, |i| i + "implies ".len());
                let end = m.find(", which").unwrap_or(m.len());
                m[start..end].to_owned()
            })
            .collect()
    };
    let computer = "its computer-level settings (LCSCmd.exe /Level:Machine)";
    assert_eq!(implied("archiving", true), ["the database `lcslog`"]);
    assert_eq!(
        implied("monitoring", true),
        ["the database `lcscdr`", "the database `qoemetrics`"]
    );
    assert_eq!(
        implied("group-chat", true),
        [
            "the database `groupchat`",
            "the Group Chat server settings file"
        ]
    );
    assert_eq!(
        implied("communicator-web-access", true),
        ["its virtual-server configuration export"]
    );
    for role in [
        "group-chat-compliance",
        "mediation",
        "edge",
        "forward-proxy",
        "director",
        "front-end",
        "back-end",
    ] {
        assert_eq!(implied(role, false), [computer], "{role}");
        assert_eq!(implied(role, true), Vec::<String>::new(), "{role}");
    }
    // A Standard Edition server needs what a back end and a front end need; the fixture's
    // site has all of it but the server's own settings.
    assert_eq!(implied("standard-edition", false), [computer]);
}

#[test]
fn group_chat_databases_are_recognised_by_name() {
    let text = edit(
        "    fileset \"meeting-content\"",
        "    server \"gc01.t.com\" role=\"group-chat\" owner=\"ops\"
    settings \"gc01\" level=\"computer\" server=\"gc01.t.com\" every=\"24h\" keep=7 store=\"local\" copy-to=\"offsite\" pattern=\"x/gc/*.xml\"
    settings \"gc01-file\" level=\"computer\" server=\"gc01.t.com\" every=\"24h\" keep=7 store=\"local\" copy-to=\"offsite\" pattern=\"x/gcf/*.xml\"
    database \"GroupChat_DB\" instance=\"rtc\" recovery-model=\"simple\" separate-log-volume=#true {
        backup \"full\" every=\"24h\" keep=7 store=\"local\" copy-to=\"offsite\"
    }
    fileset \"meeting-content\"",
    );
    assert_eq!(messages(&text), Vec::<String>::new());
}

#[test]
fn standby_sites_are_left_to_audit() {
    let text = edit(
        "    store \"local\" path=\"/b/s\"",
        "    store \"local\" path=\"/b/s\"\n    server \"arch11.t.com\" role=\"archiving\" owner=\"ops\"",
    );
    assert_eq!(messages(&text), Vec::<String>::new());
}

#[test]
fn each_lint_has_its_code() {
    let cases: [(&str, String); 14] = [
        (
            "full-backup-infrequent",
            edit(
                "database \"rtcab\" instance=\"rtc\" recovery-model=\"simple\" separate-log-volume=#true {\n        backup \"full\" every=\"24h\"",
                "database \"rtcab\" instance=\"rtc\" recovery-model=\"simple\" separate-log-volume=#true {\n        backup \"full\" every=\"2d\"",
            ),
        ),
        (
            "full-backup-infrequent",
            edit(
                "database \"rtcab\" instance=\"rtc\" recovery-model=\"simple\" separate-log-volume=#true {\n        backup \"full\"",
                "database \"rtcab\" instance=\"rtc\" recovery-model=\"simple\" separate-log-volume=#true {\n        backup \"diff\"",
            ),
        ),
        (
            "schedule-outside-window",
            edit(
                "settings \"fe01\" level=\"computer\" server=\"fe01.t.com\" every=\"24h\"",
                "settings \"fe01\" level=\"computer\" server=\"fe01.t.com\" every=\"12h\"",
            ),
        ),
        ("restore-test-missing", edit(" restore-test=\"30d\"", "")),
        (
            "standby-site-missing",
            edit(
                "role=\"standby\" standby-for=\"p\"",
                "role=\"standby\" standby-for=\"q\"",
            )
            .replace(
                "site \"s\"",
                "site \"q\" role=\"primary\" region=\"north\" owner=\"ops\" {\n}\nsite \"s\"",
            ),
        ),
        (
            "standby-same-region",
            edit("region=\"west\"", "region=\"EAST\""),
        ),
        (
            "owner-missing",
            edit(
                "role=\"primary\" region=\"east\" owner=\"ops\"",
                "role=\"primary\" region=\"east\"",
            )
            .replace(
                "server \"fe01.t.com\" role=\"front-end\" owner=\"ops\"",
                "server \"fe01.t.com\" role=\"front-end\"",
            ),
        ),
        (
            "scenario-incomplete",
            format!(
                "{CLEAN}\nscenario \"x\" owner=\"ops\" {{\n    affects \"p/database/rtc\"\n}}\n"
            ),
        ),
        (
            "scenario-incomplete",
            format!(
                "{CLEAN}\nscenario \"x\" estimate=\"1h\" {{\n    step \"restore\" minutes=60\n}}\n"
            ),
        ),
        (
            "scenario-exceeds-rto",
            edit(
                "scenario \"pool\" template=\"enterprise-pool-server-loss\" owner=\"ops\"",
                "scenario \"pool\" template=\"enterprise-pool-server-loss\" owner=\"ops\" {\n    override \"validate\" minutes=60\n}",
            ),
        ),
        (
            "scenario-exceeds-rto",
            format!(
                "{CLEAN}\nscenario \"x\" owner=\"ops\" estimate=\"5h\" {{\n    step \"restore\" minutes=300\n}}\n"
            ),
        ),
        (
            "restore-sequence-exceeds-rto",
            format!(
                "{CLEAN}\nscenario \"x\" owner=\"ops\" estimate=\"1h\" {{\n    step \"restore\" minutes=60\n}}\nrestore-sequence \"pool\" \"im\" \"x\"\n"
            ),
        ),
        (
            "log-volume-not-separate",
            edit(
                "database \"rtcab\" instance=\"rtc\" recovery-model=\"simple\" separate-log-volume=#true",
                "database \"rtcab\" instance=\"rtc\" recovery-model=\"simple\"",
            ),
        ),
        (
            "copy-only-local",
            edit(
                "store=\"local\" copy-to=\"offsite\" pattern=\"x/fe01/*.xml\"",
                "store=\"local\" pattern=\"x/fe01/*.xml\"",
            ),
        ),
    ];
    for (code, text) in &cases {
        assert_eq!(codes(text), [*code], "{}", messages(text).join("\n"));
    }
    // Every lint code is covered above.
    for code in [
        Code::FullBackupInfrequent,
        Code::ScheduleOutsideWindow,
        Code::RestoreTestMissing,
        Code::StandbySiteMissing,
        Code::StandbySameRegion,
        Code::OwnerMissing,
        Code::ScenarioIncomplete,
        Code::ScenarioExceedsRto,
        Code::RestoreSequenceExceedsRto,
        Code::LogVolumeNotSeparate,
        Code::CopyOnlyLocal,
    ] {
        assert!(cases.iter().any(|(c, _)| *c == code.as_str()), "{code}");
    }
}

#[test]
fn log_backups_are_exempt_from_the_window_but_diffs_are_not() {
    let text = edit(
        "backup \"log\" every=\"1h\"",
        "backup \"diff\" every=\"6h\" keep=4 store=\"local\" copy-to=\"offsite\"\n        backup \"log\" every=\"1h\"",
    );
    let found = messages(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].starts_with(
        "schedule-outside-window: p/database/rtc/diff is due every 6h and critical after 9h"
    ));
}

/// A site with a server of every role, for the templates.
const EVERY_ROLE: &str = r#"
deployment "t" product="ocs-2007-r2" domain="t.com" {
    objectives rpo="24h" rto="8h" restore-test="30d"
    owner "o"
}
site "p" role="primary" {
    store "local" path="/b/p"
    store "off" path="/b/off" located-at="s"
    pool "se.t.com" edition="standard" {
        server "se.t.com" role="standard-edition"
    }
    pool "pool01.t.com" edition="enterprise" {
        server "fe01.t.com" role="front-end"
        server "sql01.t.com" role="back-end"
    }
    server "arch01.t.com" role="archiving"
    server "mon01.t.com" role="monitoring"
    server "gc01.t.com" role="group-chat"
    server "gcc01.t.com" role="group-chat-compliance"
    server "edge01.t.com" role="edge"
    server "med01.t.com" role="mediation"
    sql-instance "rtc" host="sql01.t.com" instance="RTC"
    database "rtc" instance="rtc" {
        backup "full" every="24h" keep=7 store="local" copy-to="off"
        backup "log" every="1h" keep=7 store="local"
    }
    database "rtcab" instance="rtc" {
        backup "full" every="24h" keep=7 store="local"
    }
    database "lcslog" instance="rtc" {
        backup "full" every="24h" keep=7 store="local"
    }
    database "groupchat" instance="rtc" {
        backup "full" every="24h" keep=7 store="local"
        backup "diff" every="6h" keep=7 store="local"
    }
    settings "global" level="global" every="24h" keep=7 store="local" pattern="g/*"
    settings "edge01" level="computer" server="edge01.t.com" every="24h" keep=7 store="local" pattern="e/*"
    fileset "meeting-content" path="/f/mc" every="24h" keep=7 store="local"
    dns "_sip._tls.t.com" type="SRV" target="edge01.t.com" port=443
}
site "s" role="standby" standby-for="p" {
    store "local" path="/b/s"
    pool "pool02.t.com" edition="enterprise" {
        server "sql11.t.com" role="back-end"
    }
    sql-instance "rtc" host="sql11.t.com" instance="RTC"
    database "rtc" instance="rtc" {
        backup "full" every="24h" keep=7 store="local"
    }
    dns "_sipinternaltls._tcp.t.com" type="SRV" target="pool02.t.com" port=5061
}
"#;

fn expanded(scenarios: &str) -> (Option<Desired>, Vec<Diagnostic>) {
    let (desired, diagnostics) = load(&format!("{EVERY_ROLE}{scenarios}"));
    let errors = diagnostics
        .into_iter()
        .filter(Diagnostic::is_error)
        .collect();
    (desired, errors)
}

fn steps(desired: &Desired, scenario: &str) -> Vec<(String, u32)> {
    desired
        .scenarios
        .iter()
        .find(|s| s.name.value == scenario)
        .map(|s| {
            s.steps
                .iter()
                .map(|step| {
                    (
                        step.id.clone().unwrap_or_else(|| step.text.value.clone()),
                        step.minutes.as_ref().map_or(0, |m| m.value),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_template_expands_for_the_declared_topology() {
    use crate::desired::{Choice, ScenarioTemplate};
    let scenarios: String = ScenarioTemplate::ALL
        .iter()
        .map(|(name, _)| format!("scenario \"{name}\" template=\"{name}\" owner=\"o\"\n"))
        .collect::<Vec<_>>()
        .concat();
    let (desired, errors) = expanded(&scenarios);
    assert!(errors.is_empty(), "{errors:?}");
    let desired = desired.expect("valid");
    let ids = |name: &str| -> Vec<String> {
        steps(&desired, name)
            .into_iter()
            .map(|(id, _)| id)
            .collect()
    };
    assert_eq!(
        ids("database-loss"),
        [
            "stop-services",
            "restore/rtc",
            "restore/rtcab",
            "restore/lcslog",
            "restore/groupchat",
            "validate"
        ]
    );
    assert_eq!(
        ids("standard-edition-server-loss"),
        [
            "rebuild/se.t.com",
            "restore/rtc",
            "restore/rtcab",
            "import-settings",
            "import-settings/se.t.com",
            "restore-files",
            "validate"
        ]
    );
    assert_eq!(
        ids("enterprise-pool-server-loss"),
        [
            "rebuild/sql01.t.com",
            "restore/rtc",
            "restore/rtcab",
            "rebuild-front-ends",
            "import-settings",
            "import-settings/sql01.t.com",
            "import-settings/fe01.t.com",
            "restore-files",
            "validate"
        ]
    );
    assert_eq!(
        ids("ad-ds-loss"),
        ["restore-ad-ds", "import-settings/global", "validate"]
    );
    assert_eq!(
        ids("archiving-server-loss"),
        [
            "rebuild/arch01.t.com",
            "restore/lcslog",
            "import-settings/arch01.t.com",
            "validate"
        ]
    );
    assert_eq!(
        ids("monitoring-server-loss"),
        [
            "rebuild/mon01.t.com",
            "import-settings/mon01.t.com",
            "validate"
        ],
        "lcscdr and qoemetrics are not declared: nothing to restore (validate warns instead)"
    );
    assert_eq!(
        ids("group-chat-server-loss"),
        [
            "rebuild/gc01.t.com",
            "restore/groupchat",
            "import-settings/gc01.t.com",
            "validate"
        ]
    );
    assert_eq!(
        ids("group-chat-compliance-server-loss"),
        [
            "rebuild/gcc01.t.com",
            "import-settings/gcc01.t.com",
            "validate"
        ]
    );
    assert_eq!(
        ids("edge-mediation-proxy-loss"),
        [
            "rebuild/edge01.t.com",
            "import-settings/edge01.t.com",
            "rebuild/med01.t.com",
            "import-settings/med01.t.com",
            "validate"
        ]
    );
    assert_eq!(
        ids("site-loss"),
        [
            "declare-loss",
            "restore/rtc",
            "restore/rtcab",
            "import-settings",
            "reassign-users",
            "update-dns",
            "restore-files",
            "validate"
        ]
    );
    let text = |name: &str, id: &str| -> String {
        desired
            .scenarios
            .iter()
            .find(|s| s.name.value == name)
            .and_then(|s| s.steps.iter().find(|step| step.id.as_deref() == Some(id)))
            .map(|s| s.text.value.clone())
            .unwrap_or_default()
    };
    // Restores name the instance and the chain the policy keeps.
    assert_eq!(
        text("database-loss", "restore/groupchat"),
        "Restore groupchat on sql01.t.com\\RTC from its last full backup, then its latest differential backup, WITH MOVE if its volumes changed"
    );
    // A site loss restores at the standby, from the store located there, and re-homes users.
    assert_eq!(
        text("site-loss", "restore/rtc"),
        "Restore rtc on sql11.t.com\\RTC from its last backups in store off"
    );
    assert_eq!(
        text("site-loss", "reassign-users"),
        "Move users' home pool from se.t.com and pool01.t.com to pool02.t.com"
    );
    assert_eq!(
        text("edge-mediation-proxy-loss", "validate"),
        "Check the DNS records _sip._tls.t.com and test remote access, federation and calls"
    );
    // Without an estimate, a templated scenario takes the sum of its steps' minutes.
    for scenario in &desired.scenarios {
        let minutes: u64 = steps(&desired, &scenario.name)
            .iter()
            .map(|(_, m)| u64::from(*m))
            .sum();
        let estimate = scenario.estimate.as_ref().map(|e| e.value.as_secs());
        assert_eq!(estimate, Some(minutes * 60), "{}", scenario.name.value);
        assert!(!scenario.affects.is_empty(), "{}", scenario.name.value);
    }
}

#[test]
fn affects_narrows_a_template_and_override_changes_minutes() {
    let (desired, errors) = expanded(
        r#"scenario "rtc" template="database-loss" owner="o" estimate="1h" {
    affects "p/database/rtc"
    override "restore/rtc" minutes=45
    step "Tell the help desk" minutes=5
}
"#,
    );
    assert!(errors.is_empty(), "{errors:?}");
    let desired = desired.expect("valid");
    assert_eq!(
        steps(&desired, "rtc"),
        [
            ("stop-services".to_owned(), 10),
            ("restore/rtc".to_owned(), 45),
            ("validate".to_owned(), 20),
            ("Tell the help desk".to_owned(), 5),
        ]
    );
    let scenario = &desired.scenarios[0];
    assert_eq!(
        scenario.estimate.as_ref().map(|e| e.value.as_secs()),
        Some(3600),
        "declared estimates stay"
    );
    assert_eq!(scenario.affects.len(), 1);
}

#[test]
fn templates_that_do_not_fit_are_errors() {
    let (_, errors) = expanded(
        "scenario \"x\" template=\"database-loss\" owner=\"o\" {\n    override \"restore/rcab\" minutes=1\n}\n",
    );
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].code, Code::UnknownTemplateStep);
    assert_eq!(
        errors[0].help.as_deref(),
        Some("did you mean `restore/rtcab`?")
    );

    let (_, errors) = expanded("scenario \"x\" template=\"ad-ds-los\" owner=\"o\"\n");
    assert_eq!(errors[0].code, Code::BadValue, "{errors:?}");

    let text = CLEAN.replace(
        "scenario \"pool\" template=\"enterprise-pool-server-loss\"",
        "scenario \"pool\" template=\"standard-edition-server-loss\"",
    );
    let (_, diagnostics) = load(&text);
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].code, Code::TemplateNotApplicable);
    assert!(
        diagnostics[0]
            .message
            .contains("declares no standard-edition server")
    );

    let text = CLEAN.replace("product=\"ocs-2007-r2\"", "product=\"generic\"");
    let (_, diagnostics) = load(&text);
    assert_eq!(diagnostics.len(), 1);
    assert_eq!(diagnostics[0].code, Code::TemplateNotApplicable);
    assert!(diagnostics[0].message.contains("needs the OCS profile"));
}
