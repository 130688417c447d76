//! `standby audit` on real directories and against a real DNS server (dnsmasq, started
//! here on a free port of 127.0.0.1): every parity rule, the JSON and table output, exit
//! codes, the ignore file and targets. scripts/test installs dnsmasq; no test skips without.

use std::collections::BTreeSet;
use std::fs;
use std::net::UdpSocket;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::{Output, pairs, repo, standby};

const NOW: &str = "2026-11-22T12:00:00Z";

const DEPLOYMENT: &str = r#"
deployment "t" product="generic" domain="example.test" {
    objectives rpo="24h"
    RESOLVER
}
"#;

struct Estate {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Estate {
    /// A scratch deployment: `sites` after a deployment header (with `resolver` when given).
    fn new(sites: &str, resolver: Option<&str>) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().to_path_buf();
        let estate = Self { _dir: dir, root };
        estate.desired(sites, resolver);
        for store in ["p-local", "s-offsite", "p-near", "s-local"] {
            fs::create_dir_all(estate.root.join(store)).expect("mkdir");
        }
        estate
    }

    fn desired(&self, sites: &str, resolver: Option<&str>) {
        let resolver = resolver.map_or(String::new(), |r| format!("resolver {r:?}"));
        fs::create_dir_all(self.root.join("desired")).expect("mkdir");
        fs::write(
            self.root.join("desired/d.kdl"),
            format!("{}{sites}", DEPLOYMENT.replace("RESOLVER", &resolver)),
        )
        .expect("write desired");
    }

    fn write(&self, store: &str, path: &str, content: &[u8]) {
        let file = self.root.join(store).join(path);
        fs::create_dir_all(file.parent().expect("parent")).expect("mkdir");
        fs::write(&file, content).expect("write");
    }

    /// A backup in the primary's local store and its copy in the offsite store.
    fn backup_and_copy(&self, path: &str, content: &str) {
        self.write("p-local", path, content.as_bytes());
        self.write("s-offsite", path, content.as_bytes());
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut all = args.to_vec();
        all.extend(["--now", NOW]);
        standby(&self.root, &all)
    }

    /// `audit --format json` (live unless `extra` says otherwise): the exit status, the
    /// JSON, and (address, code) of every finding.
    fn audit(&self, extra: &[&str]) -> (i32, serde_json::Value, BTreeSet<(String, String)>) {
        let mut args = vec!["audit", "--format", "json"];
        args.extend(extra);
        let out = self.run(&args);
        assert!(out.status != 1, "audit failed: {}", out.stderr);
        let json = out.json();
        let found = json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .map(|f| {
                let field = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
                (field("address"), field("code"))
            })
            .collect();
        (out.status, json, found)
    }
}

/// The parity row of `kind` for `address`.
fn row<'a>(json: &'a serde_json::Value, kind: &str, address: &str) -> &'a serde_json::Value {
    json["parity"]
        .as_array()
        .expect("parity rows")
        .iter()
        .find(|r| r["kind"] == kind && r["address"] == address)
        .unwrap_or_else(|| panic!("no {kind} row for {address} in {json:#}"))
}

const PRIMARY: &str = r#"
site "p" role="primary" region="west" {
    store "local" path="../p-local"
    store "offsite" path="../s-offsite" located-at="s"
    pool "pool01.example.test" edition="enterprise" {
        server "fe01.example.test" role="front-end"
        server "sql01.example.test" role="back-end"
    }
    server "arch01.example.test" role="archiving"
    sql-instance "rtc" host="sql01.example.test"
    sql-instance "arch" host="arch01.example.test"
    database "rtc" instance="rtc" {
        backup "full" every="24h" keep=2 store="local" copy-to="offsite"
    }
    database "lcslog" instance="arch" {
        backup "full" every="24h" keep=2 store="local" copy-to="offsite"
    }
    settings "global" level="global" every="24h" keep=2 store="local" copy-to="offsite" {
        export "LCSCmd.exe" "/Config" "/Action:Export" "/Level:Global" "/ConfigFile:{file}"
    }
    fileset "content" path="../src" every="24h" keep=2 store="local"
}
"#;

/// The primary's backups, each with an equal copy at the standby site.
fn backed_up(estate: &Estate) {
    for stamp in ["20261122T010000Z", "20261121T010000Z"] {
        for db in ["rtc", "lcslog"] {
            estate.backup_and_copy(
                &format!("p/database/{db}/full/{db}_full_{stamp}.bak"),
                &format!("{db} {stamp}"),
            );
        }
        estate.backup_and_copy(
            &format!("p/settings/global/export/global_export_{stamp}.xml"),
            &format!("<settings at=\"{stamp}\"/>"),
        );
    }
}

#[test]
fn every_primary_component_needs_a_counterpart_or_an_omit() {
    let bare = format!(
        "{PRIMARY}\nsite \"s\" role=\"standby\" standby-for=\"p\" region=\"east\" {{\n    store \"local\" path=\"../s-local\"\n}}\n"
    );
    let estate = Estate::new(&bare, None);
    backed_up(&estate);
    let (status, json, found) = estate.audit(&[]);
    assert_eq!(status, 2);
    assert_eq!(
        found,
        pairs(&[
            ("p/server/fe01.example.test", "standby-missing"),
            ("p/server/sql01.example.test", "standby-missing"),
            ("p/server/arch01.example.test", "standby-missing"),
            ("p/database/rtc", "standby-missing"),
            ("p/database/lcslog", "standby-missing"),
            ("p/settings/global", "standby-missing"),
            ("p/fileset/content", "standby-missing"),
        ])
    );
    let messages: Vec<&str> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .filter_map(|f| f["message"].as_str())
        .collect();
    assert!(messages.contains(
        &"role `archiving` (arch01.example.test) has no counterpart at standby site `s` and no `omit` says why"
    ));
    // The fileset has no copy-to, so nothing of it reaches the standby either.
    assert!(
        messages.contains(&"no copy at the standby site: `p/fileset/content` has no `copy-to`")
    );
    assert_eq!(
        row(&json, "database", "p/database/rtc")["status"],
        "missing"
    );

    // Counterparts (a settings item of the same level counts) and reasoned omits.
    estate.desired(
        &format!(
            "{PRIMARY}{}",
            r#"
site "s" role="standby" standby-for="p" region="east" {
    store "local" path="../s-local"
    pool "pool02.example.test" edition="enterprise" {
        server "fe11.example.test" role="front-end"
        server "sql11.example.test" role="back-end"
    }
    sql-instance "rtc" host="sql11.example.test"
    database "rtc" instance="rtc" {
        backup "full" every="24h" keep=2 store="local"
    }
    settings "s-global" level="global" every="24h" keep=2 store="local" {
        export "LCSCmd.exe" "/Config" "/Action:Export" "/Level:Global" "/ConfigFile:{file}"
    }
    omit "archiving" reason="the archive is rebuilt from tape"
    omit "fileset/content" reason="restored from tape"
}
"#
        ),
        None,
    );
    let (status, json, found) = estate.audit(&[]);
    assert_eq!(found, BTreeSet::new());
    assert_eq!(status, 0);
    assert_eq!(json["summary"]["in_sync"], true);
    let lcslog = row(&json, "database", "p/database/lcslog");
    assert_eq!(lcslog["status"], "omitted");
    assert_eq!(
        lcslog["note"],
        "via `archiving`: the archive is rebuilt from tape"
    );
    assert_eq!(
        row(&json, "settings", "p/settings/global")["standby"],
        "s-global (global)"
    );
    assert_eq!(
        row(&json, "role", "p/server/fe01.example.test")["standby"],
        "front-end: fe11.example.test"
    );
}

const SMALL: &str = r#"
site "p" role="primary" REGION_P {
    store "local" path="../p-local"
}
site "s" role="standby" standby-for="p" REGION_S {
}
"#;

#[test]
fn the_standby_must_be_in_another_region_and_domain_and_pools_are_reported() {
    let sites = |p: &str, s: &str| SMALL.replace("REGION_P", p).replace("REGION_S", s);
    let estate = Estate::new(&sites(r#"region="west""#, r#"region="east""#), None);
    let (status, json, found) = estate.audit(&[]);
    assert_eq!((status, found), (0, BTreeSet::new()));
    let site_rows: Vec<&serde_json::Value> = json["parity"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["kind"] == "site")
        .collect();
    assert_eq!(site_rows.len(), 3);
    assert_eq!(site_rows[0]["primary"], "region west");
    assert_eq!(site_rows[1]["standby"], "domain example.test");
    assert!(site_rows.iter().all(|r| r["status"] == "ok"));

    estate.desired(&sites(r#"region="west""#, r#"region="west""#), None);
    let (status, json, found) = estate.audit(&[]);
    assert_eq!(status, 2);
    assert_eq!(found, pairs(&[("s/site/s", "standby-missing")]));
    assert_eq!(
        json["findings"][0]["message"],
        "standby site `s` is in the same region as primary `p` (west): one regional outage takes both"
    );

    estate.desired(&sites(r#"region="west""#, ""), None);
    let (status, json, _) = estate.audit(&[]);
    assert_eq!(status, 2);
    assert_eq!(
        json["findings"][0]["message"],
        "cannot check that the standby is in another region: no `region` on site `s`"
    );
    assert_eq!(json["parity"][0]["status"], "unknown");
}

const COPIES: &str = r#"
site "p" role="primary" region="west" {
    store "local" path="../p-local"
    store "offsite" path="../s-offsite" located-at="s"
    store "near" path="../p-near"
    sql-instance "i" host="sql01.example.test"
    database "db" instance="i" {
        backup "full" every="24h" keep=3 store="local" copy-to="offsite"
        backup "log" every="1h" keep=3 store="local"
    }
    database "cfg" instance="i" {
        backup "full" every="24h" keep=3 store="local" copy-to="near"
    }
}
site "s" role="standby" standby-for="p" region="east" {
    store "local" path="../s-local"
    sql-instance "i" host="sql11.example.test"
    database "db" instance="i" {
        backup "full" every="24h" keep=3 store="local"
    }
    database "cfg" instance="i" {
        backup "full" every="24h" keep=3 store="local"
    }
}
"#;

fn db_full(stamp: &str) -> String {
    format!("p/database/db/full/db_full_{stamp}.bak")
}

#[test]
fn copies_at_the_standby_site_match_and_report_the_newest_common_backup() {
    let estate = Estate::new(COPIES, None);
    for stamp in ["20261122T010000Z", "20261121T010000Z", "20261120T010000Z"] {
        estate.backup_and_copy(&db_full(stamp), &format!("full {stamp}"));
    }
    estate.write(
        "p-local",
        "p/database/db/log/db_log_20261122T110000Z.trn",
        b"log",
    );
    estate.write(
        "p-local",
        "p/database/cfg/full/cfg_full_20261122T010000Z.bak",
        b"cfg",
    );
    estate.write(
        "p-near",
        "p/database/cfg/full/cfg_full_20261122T010000Z.bak",
        b"cfg",
    );
    let (status, json, found) = estate.audit(&[]);
    assert_eq!(status, 2);
    // Declared: the log has no copy-to, and cfg's copy store is in the primary's own site.
    assert_eq!(
        found,
        pairs(&[
            ("p/database/db/log", "standby-missing"),
            ("p/database/cfg/full", "standby-missing"),
        ])
    );
    let cfg = row(&json, "copy", "p/database/cfg/full");
    assert_eq!(cfg["status"], "missing");
    assert_eq!(cfg["standby"], "near (not at s)");
    let full = row(&json, "copy", "p/database/db/full");
    assert_eq!(full["status"], "ok");
    assert_eq!(full["copies"]["copied"], 3);
    assert_eq!(full["copies"]["lag_seconds"], 0);

    // The newest copy goes missing and an older one is damaged (same size, other bytes):
    // the plan's copy rules report both, and the newest backup in common is a day old.
    fs::remove_file(
        estate
            .root
            .join("s-offsite")
            .join(db_full("20261122T010000Z")),
    )
    .expect("rm");
    estate.write(
        "s-offsite",
        &db_full("20261120T010000Z"),
        b"full 20261120T01000X",
    );
    let (_, json, found) = estate.audit(&["--target", "p/database/db/full"]);
    assert_eq!(
        found,
        pairs(&[
            ("p/database/db/full", "copy-missing"),
            ("p/database/db/full", "copy-mismatch"),
        ])
    );
    let full = row(&json, "copy", "p/database/db/full");
    assert_eq!(full["status"], "drift");
    assert_eq!(full["copies"]["kept"], 3);
    assert_eq!(full["copies"]["copied"], 1);
    assert_eq!(
        full["copies"]["newest_common"],
        "p/database/db/full/db_full_20261121T010000Z.bak"
    );
    assert_eq!(full["copies"]["newest_common_at"], "2026-11-21T01:00:00Z");
    assert_eq!(full["copies"]["lag_seconds"], 86_400);
    assert_eq!(json["parity"].as_array().map(Vec::len), Some(1), "--target");

    // The table says the same for people.
    let table = estate.run(&["audit", "--target", "p/database/db/full"]);
    assert_eq!(table.status, 2);
    assert!(
        table
            .stdout
            .contains("offsite: 1/3 copied, common db_full_20261121T010000Z.bak, lag 1d"),
        "{}",
        table.stdout
    );
}

#[test]
fn the_ignore_file_sets_findings_aside_and_counts_them() {
    let estate = Estate::new(COPIES, None);
    estate.write(
        "desired",
        ".standbyignore",
        b"# cfg's copies are made by another team\np/database/cfg/*:standby-missing\np/database/db/log:*\n",
    );
    let (status, json, found) = estate.audit(&[]);
    assert_eq!((status, found), (0, BTreeSet::new()));
    assert_eq!(json["summary"]["ignored"], 2);
    assert_eq!(json["ignored"].as_array().map(Vec::len), Some(2));
}

const SETTINGS: &str = r#"
site "p" role="primary" region="west" {
    store "local" path="../p-local"
    store "offsite" path="../s-offsite" located-at="s"
    settings "global" level="global" every="24h" keep=2 store="local" copy-to="offsite" {
        export "LCSCmd.exe" "/Config" "/Action:Export" "/Level:Global" "/ConfigFile:{file}"
    }
}
site "s" role="standby" standby-for="p" region="east" {
    store "local" path="../s-local"
    settings "global" level="global" every="24h" keep=2 store="local" {
        export "LCSCmd.exe" "/Config" "/Action:Export" "/Level:Global" "/ConfigFile:{file}"
    }
    settings-compare "global" {
        rewrite from="pool01.example.test" to="pool02.example.test"
        ignore-line "LastModified="
    }
}
"#;

fn export(site: &str, stamp: &str) -> String {
    format!("{site}/settings/global/export/global_export_{stamp}.xml")
}

fn global(pool: &str, modified: &str, federation: &str) -> String {
    format!(
        "<OCSConfiguration Level=\"Global\">\r\n  <Metadata LastModified=\"{modified}\"/>\r\n  <Property Name=\"DefaultRoutingPool\" Value=\"{pool}\"/>\r\n  <Property Name=\"Federation\" Value=\"{federation}\"/>\r\n</OCSConfiguration>\r\n"
    )
}

#[test]
fn settings_exports_are_compared_after_rewrites_and_ignored_lines() {
    let estate = Estate::new(SETTINGS, None);
    for stamp in ["20261122T010000Z", "20261121T010000Z"] {
        estate.backup_and_copy(
            &export("p", stamp),
            &global("pool01.example.test", stamp, "True"),
        );
    }
    // An older standby export that differs: only the newest is compared.
    estate.write(
        "s-local",
        &export("s", "20261121T010000Z"),
        global("pool02.example.test", "x", "False").as_bytes(),
    );
    estate.write(
        "s-local",
        &export("s", "20261122T020000Z"),
        global("pool02.example.test", "2026-11-22", "True")
            .replace("\r\n", "\n")
            .as_bytes(),
    );
    let discover = estate.run(&["discover", "--out", "state/observed.json"]);
    assert_eq!(discover.status, 0, "{}", discover.stderr);
    // The export texts travel in the observation: audit reads no store itself.
    let observed: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(estate.root.join("state/observed.json")).expect("observed.json"),
    )
    .expect("JSON");
    let exports = observed["settings_exports"]
        .as_array()
        .expect("settings_exports");
    assert_eq!(exports.len(), 2);
    assert_eq!(exports[1]["path"], export("s", "20261122T020000Z"));
    assert!(
        exports[0]["content"]
            .as_str()
            .is_some_and(|c| c.contains("pool01.example.test"))
    );
    let saved = ["--observed", "state/observed.json"];
    let (status, json, found) = estate.audit(&saved);
    assert_eq!((status, found), (0, BTreeSet::new()), "{json:#}");
    assert_eq!(
        row(&json, "settings-export", "s/settings-compare/global")["status"],
        "ok"
    );

    // Federation is switched off at the standby: a warning with a unified diff.
    estate.write(
        "s-local",
        &export("s", "20261122T030000Z"),
        global("pool02.example.test", "2026-11-22", "False").as_bytes(),
    );
    assert_eq!(
        estate
            .run(&["discover", "--out", "state/observed.json"])
            .status,
        0
    );
    let (status, json, found) = estate.audit(&saved);
    assert_eq!(status, 2);
    assert_eq!(
        found,
        pairs(&[("s/settings-compare/global", "settings-drift")])
    );
    let finding = &json["findings"][0];
    assert_eq!(finding["severity"], "warning");
    assert_eq!(
        finding["diff"],
        "--- p/settings/global/export/global_export_20261122T010000Z.xml (rewritten)\n\
         +++ s/settings/global/export/global_export_20261122T030000Z.xml\n\
         @@ -1,4 +1,4 @@\n \
         <OCSConfiguration Level=\"Global\">\n   \
         <Property Name=\"DefaultRoutingPool\" Value=\"pool02.example.test\"/>\n\
         -  <Property Name=\"Federation\" Value=\"True\"/>\n\
         +  <Property Name=\"Federation\" Value=\"False\"/>\n \
         </OCSConfiguration>\n"
    );

    // The table colours the diff only when asked (the test environment sets NO_COLOR).
    let plain = estate.run(&["audit", "--observed", "state/observed.json"]);
    assert!(!plain.stdout.contains('\u{1b}'), "{}", plain.stdout);
    assert!(
        plain
            .stdout
            .contains("-  <Property Name=\"Federation\" Value=\"True\"/>\n")
    );
    let coloured = estate.run(&[
        "audit",
        "--observed",
        "state/observed.json",
        "--color",
        "always",
    ]);
    assert!(
        coloured
            .stdout
            .contains("\u{1b}[31m-  <Property Name=\"Federation\" Value=\"True\"/>\u{1b}[39m"),
        "{}",
        coloured.stdout
    );
    assert!(
        coloured
            .stdout
            .contains("\u{1b}[32m+  <Property Name=\"Federation\" Value=\"False\"/>\u{1b}[39m")
    );
    let markdown = estate.run(&[
        "audit",
        "--observed",
        "state/observed.json",
        "--format",
        "markdown",
    ]);
    assert!(
        markdown
            .stdout
            .starts_with("### ⚠️ standby audit: 0 critical, 1 warning, 0 info"),
        "{}",
        markdown.stdout
    );
    assert!(markdown.stdout.contains("```diff\n--- p/settings/global"));

    // An export too large to be a settings export is not read: the comparison is unknown.
    estate.write(
        "s-local",
        &export("s", "20261122T040000Z"),
        &vec![b'x'; (1 << 20) + 1],
    );
    assert_eq!(
        estate
            .run(&["discover", "--out", "state/observed.json"])
            .status,
        0
    );
    let (status, json, found) = estate.audit(&saved);
    assert_eq!(status, 2);
    assert_eq!(
        found,
        pairs(&[("s/settings-compare/global", "source-unreachable")])
    );
    assert!(
        json["findings"][0]["message"]
            .as_str()
            .is_some_and(|m| m.ends_with("is larger than 1 MiB: not compared")),
        "{json:#}"
    );
}

/// A dnsmasq serving `records` on a free port of 127.0.0.1; killed when dropped.
struct Dnsmasq {
    child: Child,
    port: u16,
}

impl Dnsmasq {
    fn start(records: &[&str]) -> Self {
        let port = free_udp_port();
        // /usr/sbin is not on every user's PATH.
        let program = ["/usr/sbin/dnsmasq", "/usr/local/sbin/dnsmasq"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .unwrap_or("dnsmasq");
        let mut command = Command::new(program);
        command.args([
            "--no-daemon",
            "--conf-file=/dev/null",
            "--no-resolv",
            "--no-hosts",
            "--listen-address=127.0.0.1",
            &format!("--port={port}"),
            "--bind-interfaces",
            "--pid-file=",
            // Names of the zone that are not declared here do not exist (NXDOMAIN), rather
            // than being refused for want of an upstream server.
            "--local=/example.test/",
        ]);
        command.args(records);
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("dnsmasq runs (scripts/test installs it)");
        let mut server = Self { child, port };
        server.wait_until_it_answers();
        server
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn wait_until_it_answers(&mut self) {
        let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .expect("timeout");
        // A query for `example.test` A, id 0x5342.
        let mut query = vec![0x53, 0x42, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for label in ["example", "test"] {
            query.push(u8::try_from(label.len()).expect("short label"));
            query.extend_from_slice(label.as_bytes());
        }
        query.extend_from_slice(&[0, 0, 1, 0, 1]);
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut buffer = [0; 512];
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = self.child.stderr.take() {
                    let _ = std::io::Read::read_to_string(&mut pipe, &mut stderr);
                }
                panic!("dnsmasq exited with {status}: {stderr}");
            }
            let _ = socket.send_to(&query, ("127.0.0.1", self.port));
            if matches!(socket.recv_from(&mut buffer), Ok((n, _)) if n >= 12 && buffer[..2] == [0x53, 0x42])
            {
                return;
            }
        }
        panic!("dnsmasq did not answer on port {} within 10 s", self.port);
    }
}

impl Drop for Dnsmasq {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .expect("a free UDP port")
}

const DNS: &str = r#"
site "p" role="primary" region="west" {
    dns "_sipinternaltls._tcp.example.test" type="SRV" target="POOL01.example.test." port=5061
    dns "_sip._tls.example.test" type="SRV" target="edge01.example.test" port=443
    dns "sip.example.test" type="CNAME" target="pool01.example.test"
    dns "pool01.example.test" type="A" target="10.0.1.10"
    dns "gone.example.test" type="A" target="10.0.1.99"
}
site "s" role="standby" standby-for="p" region="east" {
    // Failover values: what the names point at after a failover, not now.
    dns "_sipinternaltls._tcp.example.test" type="SRV" target="pool02.example.test" port=5061
    dns "_sip._tls.example.test" type="SRV" target="edge11.example.test" port=443
    dns "sip.example.test" type="CNAME" target="pool02.example.test"
    dns "pool02.example.test" type="A" target="10.1.1.10"
    omit "dns/pool01.example.test" reason="a pool's name does not move"
    omit "dns/gone.example.test" reason="retired"
}
"#;

#[test]
fn dns_records_are_resolved_by_a_real_server_and_compared() {
    let server = Dnsmasq::start(&[
        "--srv-host=_sipinternaltls._tcp.example.test,pool01.example.test,5061,0,0",
        // Edge's SRV record has the wrong port.
        "--srv-host=_sip._tls.example.test,edge01.example.test,5062,0,0",
        "--cname=sip.example.test,pool01.example.test",
        "--host-record=pool01.example.test,10.0.1.10",
        "--host-record=edge01.example.test,10.0.2.10",
        // The standby's own pool has moved to another address than declared.
        "--host-record=pool02.example.test,10.1.1.11",
    ]);
    let estate = Estate::new(DNS, Some(&server.address()));

    // Discovery records the answers, and decides nothing.
    let discover = estate.run(&["discover", "--out", "state/observed.json"]);
    assert_eq!(discover.status, 0, "{}", discover.stderr);
    let observed: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(estate.root.join("state/observed.json")).expect("observed.json"),
    )
    .expect("JSON");
    let answers = |site: &str, name: &str| {
        observed["dns"]
            .as_array()
            .expect("dns")
            .iter()
            .find(|d| d["site"] == site && d["name"] == name)
            .map_or_else(
                || panic!("{name} not observed: {observed:#}"),
                |d| {
                    (
                        d["type"].clone(),
                        d["answers"].clone(),
                        d.get("error").cloned(),
                    )
                },
            )
    };
    assert_eq!(
        answers("p", "_sipinternaltls._tcp.example.test"),
        (
            "SRV".into(),
            serde_json::json!(["0 0 5061 pool01.example.test."]),
            None
        )
    );
    assert_eq!(
        answers("p", "sip.example.test").1,
        serde_json::json!(["pool01.example.test."])
    );
    assert_eq!(answers("p", "gone.example.test").1, serde_json::json!([]));
    assert_eq!(
        answers("s", "pool02.example.test").1,
        serde_json::json!(["10.1.1.11"])
    );

    let (status, json, found) = estate.audit(&["--observed", "state/observed.json"]);
    assert_eq!(status, 2);
    assert_eq!(
        found,
        pairs(&[
            ("p/dns/_sip._tls.example.test", "dns-mismatch"),
            ("p/dns/gone.example.test", "dns-mismatch"),
            ("s/dns/pool02.example.test", "dns-mismatch"),
        ])
    );
    let message = |address: &str| {
        json["findings"]
            .as_array()
            .expect("findings")
            .iter()
            .find(|f| f["address"] == address)
            .map(|f| (f["severity"].clone(), f["message"].clone()))
            .expect("a finding")
    };
    assert_eq!(
        message("p/dns/_sip._tls.example.test"),
        (
            "critical".into(),
            "`_sip._tls.example.test` (SRV) resolves to 0 0 5062 edge01.example.test.; declared edge01.example.test:443".into()
        )
    );
    assert_eq!(
        message("p/dns/gone.example.test").1,
        "`gone.example.test` has no A record; declared 10.0.1.99"
    );
    assert_eq!(
        message("s/dns/pool02.example.test").1,
        "`pool02.example.test` (A) resolves to 10.1.1.11; declared 10.1.1.10"
    );
    // Declared by both sites: checked against the primary's value (trailing dot and case
    // do not matter), not the standby's failover value.
    let srv = row(
        &json,
        "dns-answer",
        "p/dns/_sipinternaltls._tcp.example.test",
    );
    assert_eq!(srv["status"], "ok");
    assert_eq!(srv["note"], "resolves to 0 0 5061 pool01.example.test.");
    assert_eq!(
        row(&json, "dns-answer", "p/dns/sip.example.test")["status"],
        "ok"
    );
    assert_eq!(
        row(&json, "dns-answer", "p/dns/pool01.example.test")["status"],
        "ok"
    );
    assert!(
        json["parity"]
            .as_array()
            .expect("rows")
            .iter()
            .all(|r| r["address"] != "s/dns/_sip._tls.example.test"),
        "the standby's failover values are not resolved against"
    );

    // A live audit resolves too.
    let (status, _, live) = estate.audit(&[]);
    assert_eq!((status, live), (2, found));
}

#[test]
fn a_resolver_that_does_not_answer_is_unreachable_within_seconds() {
    // Bound and silent: queries are received and never answered.
    let silent = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let address = silent.local_addr().expect("address").to_string();
    let estate = Estate::new(
        r#"
site "p" role="primary" region="west" {
    dns "pool01.example.test" type="A" target="10.0.1.10"
    dns "sip.example.test" type="CNAME" target="pool01.example.test"
}
site "s" role="standby" standby-for="p" region="east" {
    omit "dns/pool01.example.test" reason="a pool's name does not move"
    omit "dns/sip.example.test" reason="moved by hand"
}
"#,
        Some(&address),
    );
    let started = Instant::now();
    let (status, json, found) = estate.audit(&[]);
    let took = started.elapsed();
    assert_eq!(status, 2);
    assert_eq!(
        found,
        pairs(&[
            ("p/dns/pool01.example.test", "source-unreachable"),
            ("p/dns/sip.example.test", "source-unreachable"),
        ])
    );
    assert_eq!(json["findings"][0]["severity"], "critical");
    assert!(
        json["findings"][0]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("cannot resolve `pool01.example.test` (A): ")),
        "{json:#}"
    );
    // One try of two seconds, all queries at once.
    assert!(took < Duration::from_secs(8), "took {took:?}");
    drop(silent);
}

#[test]
fn audit_fails_with_exit_1_on_bad_input() {
    let estate = Estate::new(
        SMALL
            .replace("REGION_P", "")
            .replace("REGION_S", "")
            .as_str(),
        None,
    );
    let out = estate.run(&["audit", "--observed", "missing.json"]);
    assert_eq!(out.status, 1);
    assert!(
        out.stderr.contains("cannot read missing.json"),
        "{}",
        out.stderr
    );
    fs::write(
        estate.root.join("desired/d.kdl"),
        "site \"x\" role=\"nope\"",
    )
    .expect("write");
    assert_eq!(estate.run(&["audit"]).status, 1);
}

/// The shipped example: audit-clean except its deliberate demonstrations (a missing
/// pool-level export at Dallas, federation switched off there, pool01's stale A record,
/// lcscdr's copies that have not been made).
#[test]
fn the_shipped_example_audit() {
    let args = [
        "audit",
        "--observed",
        "state/observed.json",
        "--now",
        "2026-11-22T06:30:00Z",
    ];
    let out = standby(&repo(), &args);
    assert_eq!(out.status, 2, "{}", out.stderr);
    insta::assert_snapshot!(out.stdout);
    let json = standby(&repo(), &[&args[..], &["--format", "json"]].concat()).json();
    assert_eq!(json["format_version"], "1");
    assert_eq!(json["command"], "audit");
    let found: BTreeSet<(String, String)> = json["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            (
                f["address"].as_str().unwrap_or_default().to_owned(),
                f["code"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        found,
        pairs(&[
            ("redmond/settings/pool01", "standby-missing"),
            ("dallas/settings-compare/global", "settings-drift"),
            ("redmond/dns/pool01.contoso.com", "dns-mismatch"),
            ("redmond/database/lcscdr/full", "copy-missing"),
        ])
    );
    assert_eq!(
        json["summary"]["findings"],
        serde_json::json!({"critical": 1, "warning": 3, "info": 0})
    );
}
