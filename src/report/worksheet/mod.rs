//! Renders a [`Worksheet`] as Markdown or as one self-contained, printable HTML file.
//!
//! What the worksheets say is decided once, here, as a small [`Document`] of sections,
//! fact lists, tables and numbered lists of plain text; `markdown` and `html` only differ in
//! markup and escaping, so the two formats cannot drift apart.

mod html;
mod markdown;

use std::collections::HashSet;

use jiff::Timestamp;

use crate::desired::Duration;
use crate::units::age;
use crate::worksheet::{
    Contact, ItemSheet, Location, RestoreTest, ScenarioSheet, Seen, ServerSheet, SiteSheet,
    Worksheet,
};

/// The worksheets as Markdown (GitHub-flavoured tables).
pub fn markdown(sheet: &Worksheet) -> String {
    markdown::render(&document(sheet))
}

/// The worksheets as one HTML file: inline CSS, no scripts, no external resources, a table
/// of contents, and page breaks between sections when printed.
pub fn html(sheet: &Worksheet) -> String {
    html::render(&document(sheet))
}

struct Document {
    title: String,
    preamble: Vec<Block>,
    sections: Vec<Section>,
}

/// A top-level section (a page when printed), with optional parts listed in the contents.
struct Section {
    id: String,
    title: String,
    blocks: Vec<Block>,
    parts: Vec<Part>,
}

struct Part {
    id: String,
    title: String,
    blocks: Vec<Block>,
}

enum Block {
    Paragraph(Text),
    /// Spans of time on one axis: a chart where the format can draw one.
    Timeline(Timeline),
    /// Label–value pairs: the facts about one server or scenario.
    Facts(Vec<(&'static str, Text)>),
    Table(Table),
    Numbered(Vec<Text>),
}

struct Timeline {
    from: Timestamp,
    to: Timestamp,
    rows: Vec<TimelineRow>,
}

struct TimelineRow {
    label: String,
    severity: String,
    start: Timestamp,
    /// `None`: still open at `to`.
    end: Option<Timestamp>,
}

struct Table {
    caption: Option<&'static str>,
    headers: Vec<&'static str>,
    rows: Vec<Vec<Text>>,
}

/// A run of inline pieces; each renderer escapes every piece itself.
#[derive(Default, Clone)]
struct Text(Vec<Inline>);

#[derive(Clone)]
enum Inline {
    Plain(String),
    /// Names, addresses and paths, shown literally.
    Code(String),
    /// What is not known or did not happen: "never", "unknown", "not measured".
    Missing(String),
    /// A date and time, kept on one line.
    Time(String),
    /// A link to a section or part of the same document.
    Link {
        text: String,
        id: String,
    },
}

impl Text {
    fn plain(text: impl Into<String>) -> Self {
        Self::default().and(text)
    }

    fn code(text: impl Into<String>) -> Self {
        Self::default().and_code(text)
    }

    fn missing(text: impl Into<String>) -> Self {
        Self(vec![Inline::Missing(text.into())])
    }

    #[must_use]
    fn and(mut self, text: impl Into<String>) -> Self {
        self.0.push(Inline::Plain(text.into()));
        self
    }

    #[must_use]
    fn and_code(mut self, text: impl Into<String>) -> Self {
        self.0.push(Inline::Code(text.into()));
        self
    }

    #[must_use]
    fn and_text(mut self, other: Self) -> Self {
        self.0.extend(other.0);
        self
    }

    /// `parts` joined by `separator`.
    fn join(parts: impl IntoIterator<Item = Self>, separator: &str) -> Self {
        let mut out = Self::default();
        for (i, part) in parts.into_iter().enumerate() {
            if i > 0 {
                out = out.and(separator);
            }
            out = out.and_text(part);
        }
        out
    }
}

/// Unique, safe anchors: lowercase ASCII letters, digits and `-` only, whatever a name holds.
#[derive(Default)]
struct Anchors(HashSet<String>);

impl Anchors {
    fn make(&mut self, prefix: &str, name: &str) -> String {
        let mut slug = String::from(prefix);
        for c in name.chars() {
            let c = c.to_ascii_lowercase();
            if c.is_ascii_alphanumeric() {
                slug.push(c);
            } else if !slug.ends_with('-') {
                slug.push('-');
            }
        }
        let mut slug = slug.trim_end_matches('-').to_owned();
        if slug.is_empty() {
            slug.push_str("part");
        }
        let mut id = slug.clone();
        let mut n = 2;
        while !self.0.insert(id.clone()) {
            id = format!("{slug}-{n}");
            n += 1;
        }
        id
    }
}

fn time(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M").to_string()
}

/// `2026-11-22 01:00 (5h30m ago)`.
fn time_ago(t: Timestamp, now: Timestamp) -> Text {
    let seconds = now.as_second() - t.as_second();
    let relative = if seconds < 0 {
        format!(" ({} ahead of now)", age(-seconds))
    } else {
        format!(" ({} ago)", age(seconds))
    };
    Text(vec![Inline::Time(time(t))]).and(relative)
}

fn took(duration_ms: u64) -> String {
    age(i64::try_from(duration_ms.saturating_add(500) / 1000).unwrap_or(i64::MAX))
}

fn seen(value: &Seen, now: Timestamp) -> Text {
    match value {
        Seen::At(t) => time_ago(*t, now),
        Seen::Never => Text::missing("never"),
        Seen::Unknown(reason) => Text::missing("unknown").and(format!(": {reason}")),
    }
}

/// When the newest backup was made, and whether it is whole.
fn last_backup(item: &ItemSheet, now: Timestamp) -> Text {
    let text = seen(&item.last_backup, now);
    match &item.incomplete {
        None => text,
        Some(why) => text
            .and(", ")
            .and_text(Text::missing("incomplete"))
            .and(format!(": {why}")),
    }
}

fn restore_test(value: &RestoreTest, now: Timestamp) -> Text {
    match value {
        RestoreTest::NotApplicable => Text::plain("—"),
        RestoreTest::NoneRecorded => Text::missing("none recorded"),
        RestoreTest::Passed { at, duration_ms } => {
            let text = time_ago(*at, now);
            match duration_ms {
                Some(ms) => text.and(format!(", took {}", took(*ms))),
                None => text,
            }
        }
    }
}

/// `OCS operations (ocs-ops), ocs-ops@contoso.com`
fn contact(owner: Option<&Contact>) -> Text {
    let Some(owner) = owner else {
        return Text::missing("none declared");
    };
    let mut text = match &owner.name {
        Some(name) => Text::plain(format!("{name} ("))
            .and_code(&owner.id)
            .and(")"),
        None => Text::code(&owner.id),
    };
    if let Some(contact) = &owner.contact {
        text = text.and(format!(", {contact}"));
    }
    text
}

/// `` `offsite` at dallas ``: the store's path is in the stores table, once.
fn location(location: &Location) -> Text {
    Text::code(&location.store).and(format!(" at {}", location.located_at))
}

fn schedule(item: &ItemSheet) -> Text {
    Text::plain(format!("every {}, keep {}", item.every, item.keep))
}

fn copy_to(item: &ItemSheet) -> Text {
    item.copy_to
        .as_ref()
        .map_or_else(|| Text::missing("no copy"), location)
}

fn document(sheet: &Worksheet) -> Document {
    let mut anchors = Anchors::default();
    let now = sheet.now;
    let observation = match sheet.observed_at {
        Some(at) => Text::plain("observation taken ").and_text(time_ago(at, now)),
        None => Text::missing("no observation")
            .and(": run ")
            .and_code("standby discover")
            .and(" first; everything observed is unknown"),
    };
    let preamble = vec![
        Block::Paragraph(
            Text::plain("Deployment ")
                .and_code(&sheet.deployment)
                .and(format!(" as of {} UTC; ", time(now)))
                .and_text(observation)
                .and("."),
        ),
        Block::Paragraph(
            Text::plain("Times are UTC. ")
                .and_text(Text::missing("never"))
                .and(": observed, and it has not happened. ")
                .and_text(Text::missing("unknown"))
                .and(": not observed, so not known. ")
                .and_text(Text::missing("none recorded"))
                .and(" and ")
                .and_text(Text::missing("not measured"))
                .and(": standby's journal has no passed test restore (one done by hand is not in it)."),
        ),
    ];
    let mut sections = vec![
        deployment_section(sheet, &mut anchors),
        servers_section(sheet, &mut anchors),
        items_section(sheet, &mut anchors),
        scenarios_section(sheet, &mut anchors),
        recovery_section(sheet, &mut anchors),
        sequence_section(sheet, &mut anchors),
    ];
    if !sheet.history.is_empty() {
        sections.push(history_section(sheet, &mut anchors));
    }
    Document {
        title: format!("Backup and restoration worksheets: {}", sheet.deployment),
        preamble,
        sections,
    }
}

fn deployment_section(sheet: &Worksheet, anchors: &mut Anchors) -> Section {
    let or_none =
        |value: Option<String>| value.map_or_else(|| Text::missing("not declared"), Text::plain);
    let objectives = [
        sheet.rpo.map(|d| format!("RPO {d}")),
        sheet.rto.map(|d| format!("RTO {d}")),
        sheet
            .restore_test
            .map(|d| format!("a test restore of every database every {d}")),
    ];
    let objectives: Vec<String> = objectives.into_iter().flatten().collect();
    let facts = vec![
        ("Deployment", Text::code(&sheet.deployment)),
        ("Product", or_none(sheet.product.clone())),
        ("Domain", or_none(sheet.domain.clone())),
        (
            "Objectives",
            or_none((!objectives.is_empty()).then(|| objectives.join(", "))),
        ),
        (
            "Backup window",
            or_none(
                sheet
                    .backup_window
                    .as_ref()
                    .map(|(start, end)| format!("{start}–{end} UTC")),
            ),
        ),
        (
            "Observation",
            sheet
                .observed_at
                .map_or_else(|| Text::missing("none"), |at| time_ago(at, sheet.now)),
        ),
    ];
    let owners = Table {
        caption: Some("Owners"),
        headers: vec!["Owner", "Name", "Contact"],
        rows: sheet
            .owners
            .iter()
            .map(|o| {
                vec![
                    Text::code(&o.id),
                    o.name.clone().map_or_else(|| Text::plain("—"), Text::plain),
                    o.contact
                        .clone()
                        .map_or_else(|| Text::missing("none declared"), Text::plain),
                ]
            })
            .collect(),
    };
    let sites = Table {
        caption: Some("Sites"),
        headers: vec!["Site", "Role", "Stands in for", "Region", "Owner"],
        rows: sheet
            .sites
            .iter()
            .map(|s| {
                vec![
                    Text::code(&s.name),
                    Text::plain(s.role.to_string()),
                    s.standby_for
                        .as_ref()
                        .map_or_else(|| Text::plain("—"), Text::code),
                    or_none(s.region.clone()),
                    contact(s.owner.as_ref()),
                ]
            })
            .collect(),
    };
    let stores = Table {
        caption: Some(
            "Stores: where backups and their copies live (an item's backups are in \
             SITE/KIND/NAME/TYPE/ below the path, unless a pattern adopts them)",
        ),
        headers: vec![
            "Site",
            "Store",
            "Path",
            "As SQL Server sees it",
            "Located at",
        ],
        rows: sheet
            .sites
            .iter()
            .flat_map(|s| {
                s.stores.iter().map(|store| {
                    vec![
                        Text::code(&s.name),
                        Text::code(&store.store),
                        Text::code(&store.path),
                        store
                            .sql_path
                            .as_ref()
                            .map_or_else(|| Text::plain("—"), Text::code),
                        Text::plain(&store.located_at),
                    ]
                })
            })
            .collect(),
    };
    Section {
        id: anchors.make("", "deployment"),
        title: "Deployment".to_owned(),
        blocks: vec![
            Block::Facts(facts),
            Block::Table(owners),
            Block::Table(sites),
            Block::Table(stores),
        ],
        parts: Vec::new(),
    }
}

/// The table of a server's (or a site's) items: everything but the server column.
fn server_items(sheet: &Worksheet, indices: &[usize]) -> Block {
    Block::Table(Table {
        caption: None,
        headers: vec![
            "Item",
            "What",
            "Schedule",
            "Store",
            "Copy to",
            "Last backup",
            "Last verified",
        ],
        rows: indices
            .iter()
            .map(|i| {
                let item = &sheet.items[*i];
                vec![
                    Text::code(item.address.as_str()),
                    Text::plain(&item.what),
                    schedule(item),
                    location(&item.store),
                    copy_to(item),
                    last_backup(item, sheet.now),
                    seen(&item.last_verified, sheet.now),
                ]
            })
            .collect(),
    })
}

fn server_part(
    sheet: &Worksheet,
    site: &SiteSheet,
    server: &ServerSheet,
    anchors: &mut Anchors,
) -> Part {
    let mut owner = contact(server.owner.as_ref());
    if server.owner_from_site {
        owner = owner.and(" (the site's owner)");
    }
    let facts = vec![
        ("Owner", owner),
        ("Role", Text::plain(server.role.to_string())),
        ("Site", Text::code(&site.name)),
        (
            "Pool",
            server
                .pool
                .as_ref()
                .map_or_else(|| Text::plain("none"), Text::code),
        ),
    ];
    let items =
        if server.items.is_empty() {
            Block::Paragraph(Text::missing("Nothing is backed up for this server").and(
                ": no database on it and no computer or pool settings export of it is declared.",
            ))
        } else {
            server_items(sheet, &server.items)
        };
    Part {
        id: anchors.make("server-", &format!("{}-{}", site.name, server.fqdn)),
        title: format!("{} ({}, {})", server.fqdn, server.role, site.name),
        blocks: vec![Block::Facts(facts), items],
    }
}

fn servers_section(sheet: &Worksheet, anchors: &mut Anchors) -> Section {
    let mut parts = Vec::new();
    for site in &sheet.sites {
        for server in &site.servers {
            parts.push(server_part(sheet, site, server, anchors));
        }
        if !site.site_items.is_empty() {
            parts.push(Part {
                id: anchors.make("site-items-", &site.name),
                title: format!("{}: not tied to one server", site.name),
                blocks: vec![
                    Block::Facts(vec![
                        (
                            "Owner",
                            contact(site.owner.as_ref()).and(" (the site's owner)"),
                        ),
                        ("Site", Text::code(&site.name)),
                    ]),
                    server_items(sheet, &site.site_items),
                ],
            });
        }
    }
    Section {
        id: anchors.make("", "servers"),
        title: "Backup worksheet: servers".to_owned(),
        blocks: vec![Block::Paragraph(Text::plain(
            "What is backed up for each server: the databases of the SQL Server instance it \
             hosts, its computer-level settings export, and the pool-level settings export of \
             its pool. Global settings, filesets and databases on a host that is not a declared \
             server belong to the whole site and are listed after its servers.",
        ))],
        parts,
    }
}

fn items_section(sheet: &Worksheet, anchors: &mut Anchors) -> Section {
    let rows = sheet
        .items
        .iter()
        .map(|item| {
            vec![
                Text::code(item.address.as_str()),
                Text::plain(&item.what),
                if item.servers.is_empty() {
                    Text::plain(format!("site {}", item.site))
                } else {
                    Text::join(item.servers.iter().map(Text::code), ", ")
                },
                schedule(item),
                location(&item.store),
                copy_to(item),
                last_backup(item, sheet.now),
                seen(&item.last_verified, sheet.now),
                restore_test(&item.restore_test, sheet.now),
            ]
        })
        .collect();
    Section {
        id: anchors.make("", "items"),
        title: "Backup worksheet: items".to_owned(),
        blocks: vec![
            Block::Paragraph(Text::plain(
                "Every backed-up item. Last verified: the newest time one of its backups was \
                 read back and matched the hash recorded when it was made. Last test restore: \
                 the newest passed restore-test of its database in the journal.",
            )),
            Block::Table(Table {
                caption: None,
                headers: vec![
                    "Item",
                    "What",
                    "Servers",
                    "Schedule",
                    "Store",
                    "Copy to",
                    "Last backup",
                    "Last verified",
                    "Last test restore",
                ],
                rows,
            }),
        ],
        parts: Vec::new(),
    }
}

fn estimate(scenario: &ScenarioSheet, sheet: &Worksheet) -> Text {
    let Some(estimate) = scenario.estimate else {
        return Text::missing("none declared");
    };
    match sheet.rto {
        Some(rto) if estimate > rto => {
            Text::plain(format!("{estimate} (more than the RTO, {rto})"))
        }
        Some(rto) => Text::plain(format!("{estimate} (RTO {rto})")),
        None => Text::plain(estimate.to_string()),
    }
}

/// The steps' minutes added up, and whether they fit the estimate.
fn steps_total(scenario: &ScenarioSheet) -> Text {
    let total = Duration::from_secs(u64::from(scenario.step_minutes) * 60);
    match scenario.estimate {
        Some(estimate) if total > estimate => {
            Text::plain(format!("{total} (more than the estimate)"))
        }
        _ => Text::plain(total.to_string()),
    }
}

fn measured(scenario: &ScenarioSheet, now: Timestamp) -> Text {
    let Some(measured) = &scenario.measured else {
        return Text::missing("not measured");
    };
    let mut text = Text::plain(format!("{}, test restore of ", took(measured.duration_ms)))
        .and_code(&measured.address)
        .and(" on ")
        .and_text(time_ago(measured.at, now));
    if scenario
        .estimate
        .is_some_and(|e| measured.duration_ms / 1000 > e.as_secs())
    {
        text = text.and(": longer than the estimate");
    }
    text
}

fn scenarios_section(sheet: &Worksheet, anchors: &mut Anchors) -> Section {
    let parts: Vec<Part> = sheet
        .scenarios
        .iter()
        .map(|scenario| {
            let facts = vec![
                ("Owner", contact(scenario.owner.as_ref())),
                ("Estimate", estimate(scenario, sheet)),
                ("Steps total", steps_total(scenario)),
                (
                    "Affects",
                    if scenario.affects.is_empty() {
                        Text::missing("nothing declared")
                    } else {
                        Text::join(scenario.affects.iter().map(Text::code), ", ")
                    },
                ),
                ("Measured restore time", measured(scenario, sheet.now)),
            ];
            let steps = Block::Table(Table {
                caption: None,
                headers: vec!["#", "Step", "Minutes"],
                rows: scenario
                    .steps
                    .iter()
                    .enumerate()
                    .map(|(i, step)| {
                        vec![
                            Text::plain((i + 1).to_string()),
                            Text::plain(&step.text),
                            step.minutes
                                .map_or_else(|| Text::plain("—"), |m| Text::plain(m.to_string())),
                        ]
                    })
                    .collect(),
            });
            Part {
                id: anchors.make("scenario-", &scenario.name),
                title: scenario.name.clone(),
                blocks: vec![Block::Facts(facts), steps],
            }
        })
        .collect();
    let overview = Table {
        caption: None,
        headers: vec![
            "Scenario",
            "Owner",
            "Estimate",
            "Steps total",
            "Measured restore time",
        ],
        rows: sheet
            .scenarios
            .iter()
            .zip(&parts)
            .map(|(scenario, part)| {
                vec![
                    Text(vec![Inline::Link {
                        text: scenario.name.clone(),
                        id: part.id.clone(),
                    }]),
                    scenario
                        .owner
                        .as_ref()
                        .map_or_else(|| Text::missing("none declared"), |o| Text::code(&o.id)),
                    estimate(scenario, sheet),
                    steps_total(scenario),
                    measured(scenario, sheet.now),
                ]
            })
            .collect(),
    };
    let blocks = if sheet.scenarios.is_empty() {
        vec![Block::Paragraph(Text::missing("No scenario is declared."))]
    } else {
        vec![
            Block::Paragraph(Text::plain(
                "Each restoration scenario with its steps in order. The measured restore time \
                 is the newest passed test restore (standby's journal) of a database the \
                 scenario affects.",
            )),
            Block::Table(overview),
        ]
    };
    Section {
        id: anchors.make("", "scenarios"),
        title: "Restoration worksheet: scenarios".to_owned(),
        blocks,
        parts,
    }
}

fn recovery_section(sheet: &Worksheet, anchors: &mut Anchors) -> Section {
    let blocks = if sheet.recovery.is_empty() {
        vec![Block::Paragraph(Text::missing(
            "Not known: no observation of the databases' backup history.",
        ))]
    } else {
        let rpo = sheet
            .rpo
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        let rows = sheet
            .recovery
            .iter()
            .map(|row| {
                let behind = row.reaches.map(|t| sheet.now.as_second() - t.as_second());
                let verdict = match (behind, rpo) {
                    (None, _) => Text::missing("nothing restorable"),
                    (Some(b), Some(rpo)) if b > rpo => Text::missing("older than the RPO"),
                    (Some(_), Some(_)) => Text::plain("within the RPO"),
                    (Some(_), None) => Text::missing("no RPO declared"),
                };
                vec![
                    Text::code(&row.database),
                    Text::plain(&row.site),
                    row.reaches.map_or_else(
                        || Text::missing("nothing restorable"),
                        |t| time_ago(t, sheet.now),
                    ),
                    Text::plain(row.sets.to_string()),
                    verdict,
                ]
            })
            .collect();
        vec![
            Block::Paragraph(Text::plain(
                "The newest point each site can restore each database to, from the backup files \
                 really in its stores, hashed and unchanged, through the restore chain rules \
                 (docs/restoring.md).",
            )),
            Block::Table(Table {
                caption: None,
                headers: vec!["Database", "Site", "Restorable to", "Backup sets", "RPO"],
                rows,
            }),
        ]
    };
    Section {
        id: anchors.make("", "recovery-point-by-site"),
        title: "Recovery point by site".to_owned(),
        blocks,
        parts: Vec::new(),
    }
}

fn sequence_section(sheet: &Worksheet, anchors: &mut Anchors) -> Section {
    let blocks = if sheet.restore_sequence.is_empty() {
        vec![Block::Paragraph(Text::missing(
            "No restore-sequence is declared.",
        ))]
    } else {
        vec![
            Block::Paragraph(Text::plain(
                "The order in which functionality is restored when everything has to be.",
            )),
            Block::Numbered(sheet.restore_sequence.iter().map(Text::plain).collect()),
        ]
    };
    Section {
        id: anchors.make("", "restore-sequence"),
        title: "Restore sequence".to_owned(),
        blocks,
        parts: Vec::new(),
    }
}

/// When each finding recorded in the state appeared and was resolved: a chart (HTML) and a
/// table.
fn history_section(sheet: &Worksheet, anchors: &mut Anchors) -> Section {
    let spans = &sheet.history;
    let open = spans.iter().filter(|s| s.resolved.is_none()).count();
    let chart = Timeline {
        from: sheet.history_since,
        to: sheet.now,
        rows: spans
            .iter()
            .map(|s| TimelineRow {
                label: format!("{} {}", s.address, s.code),
                severity: s.severity.clone(),
                start: s.appeared,
                end: s.resolved,
            })
            .collect(),
    };
    let table = Table {
        caption: None,
        headers: vec![
            "Address", "Finding", "Severity", "Appeared", "Resolved", "Open for",
        ],
        rows: spans
            .iter()
            .map(|s| {
                vec![
                    Text::code(&s.address),
                    Text::code(&s.code),
                    Text::plain(&s.severity),
                    Text(vec![Inline::Time(time(s.appeared))]),
                    s.resolved.map_or_else(
                        || Text::missing("open"),
                        |r| Text(vec![Inline::Time(time(r))]),
                    ),
                    Text::plain(age(
                        s.resolved.unwrap_or(sheet.now).as_second() - s.appeared.as_second()
                    )),
                ]
            })
            .collect(),
    };
    Section {
        id: anchors.make("", "findings-history"),
        title: "Findings history".to_owned(),
        blocks: vec![
            Block::Paragraph(
                Text::plain(format!("{} findings recorded since ", spans.len()))
                    .and_text(Text(vec![Inline::Time(time(sheet.history_since))]))
                    .and(format!(
                        " by standby's check, plan, apply and audit runs; {open} still open. \
                     `standby history` lists them too."
                    )),
            ),
            Block::Timeline(chart),
            Block::Table(table),
        ],
        parts: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anchors_are_safe_and_unique() {
        let mut anchors = Anchors::default();
        assert_eq!(
            anchors.make("server-", "s-FE01.contoso.com"),
            "server-s-fe01-contoso-com"
        );
        assert_eq!(
            anchors.make("server-", "s-fe01.contoso.com"),
            "server-s-fe01-contoso-com-2"
        );
        assert_eq!(
            anchors.make("scenario-", "<script>\"x\" & 'y'</script>"),
            "scenario-script-x-y-script"
        );
        assert_eq!(anchors.make("", "∅"), "part");
        assert_eq!(anchors.make("", "∅"), "part-2");
    }
}
