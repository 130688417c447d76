//! The command line as the user typed it (clap only). `commands` turns it into work.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

/// Keeps a multi-site server deployment recoverable.
///
/// Declare in KDL what must be backed up, how often, where copies live and what the standby
/// site must mirror; standby reads the declaration, compares it with reality and reports what
/// is missing, stale or out of sync.
#[derive(Debug, Parser)]
#[command(
    name = "standby",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

impl GlobalArgs {
    /// The state directory given with `--state`, or the default `state`.
    pub fn state_dir(&self) -> PathBuf {
        self.state.clone().unwrap_or_else(|| PathBuf::from("state"))
    }
}

impl Cli {
    /// Parses the process's arguments, with clap's own help and usage errors coloured as
    /// `--color` says: clap heeds `NO_COLOR` and the terminal by itself, but would read
    /// `--color` only after printing them, so the flag is picked out first.
    pub fn parse_args() -> Self {
        let args: Vec<OsString> = std::env::args_os().collect();
        let color = match early_color(&args) {
            Some(ColorChoice::Always) => clap::ColorChoice::Always,
            Some(ColorChoice::Never) => clap::ColorChoice::Never,
            Some(ColorChoice::Auto) | None => clap::ColorChoice::Auto,
        };
        let matches = Self::command().color(color).get_matches_from(args);
        Self::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

/// The last `--color WHEN` or `--color=WHEN` before `--`, if any.
fn early_color(args: &[OsString]) -> Option<ColorChoice> {
    let mut choice = None;
    let mut args = args.iter().skip(1).filter_map(|a| a.to_str());
    while let Some(arg) = args.next() {
        let value = match arg {
            "--" => break,
            "--color" => args.next(),
            _ => arg.strip_prefix("--color="),
        };
        if let Some(parsed) = value.and_then(|v| ColorChoice::from_str(v, false).ok()) {
            choice = Some(parsed);
        }
    }
    choice
}

#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Directory holding the desired state: every *.kdl file in it, read in name order.
    #[arg(long, global = true, value_name = "DIR", default_value = "desired")]
    pub desired: PathBuf,

    /// Directory of standby's local state (state.db and the apply lock), overriding the
    /// desired state's `state "local" path=`; default `state`. With `state "postgres"` it is
    /// only where an old JSON state directory is imported from.
    #[arg(long, global = true, value_name = "DIR")]
    pub state: Option<PathBuf>,

    /// When to colour output. `auto` colours a terminal unless `NO_COLOR` is set.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Print only problems: no summary line when all is well.
    #[arg(short, long, global = true)]
    pub quiet: bool,

    /// Print more: every action of a plan on its own row instead of alike ones folded.
    #[arg(short, long, global = true)]
    pub verbose: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colour a terminal, unless `NO_COLOR` is set.
    Auto,
    /// Always colour, even into a pipe or file.
    Always,
    /// Never colour.
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse the desired state, check every name and reference in it, and lint it.
    ///
    /// Reports every mistake at once, each with its file, line and column. With
    /// product="ocs-2007-r2" it also warns about components a server role implies that are
    /// not declared, and about what falls short of the OCS guide's best practice (each
    /// warning has a stable code and a help line). Exits 0 when the desired state is valid
    /// (warnings included, unless --strict), 1 when it has errors. Nothing is written.
    Validate(ValidateArgs),

    /// Write a starting desired state for a new deployment.
    ///
    /// Writes deployment.kdl, SITE.kdl, STANDBY.kdl (with --standby) and scenarios.kdl into
    /// the --desired directory (created when missing): a commented OCS 2007 R2 deployment
    /// with the pool's servers, every component the profile implies, and the guide's
    /// restoration scenarios from templates. It validates and lints clean as written. Never
    /// overwrites: refuses when the directory already holds a *.kdl file.
    Init(InitArgs),

    /// Observe the backup stores and filesets and save what was seen.
    ///
    /// Lists every declared store and fileset source, hashes new and changed backup files
    /// (cached in the state's catalog) and saves the snapshot in the state, where `worksheet`
    /// reads it. With --out FILE it writes the snapshot as JSON instead, which `plan
    /// --observed` and `check --observed` can read later without access to the sites.
    #[command(mut_arg("now", |arg| arg.help(
        "Take this time (RFC 3339, e.g. 2026-11-22T06:00:00Z) as the time of the observation \
         instead of now: for reproducing a past run"
    )))]
    Discover(DiscoverArgs),

    /// Show what is wrong and the actions that would fix it.
    ///
    /// Exits 0 unless an error stops it; with --detailed-exitcode, 0 when in sync, 2 when
    /// there are warning or critical findings or planned actions, 1 on error.
    Plan(PlanArgs),

    /// Check that everything is backed up, fresh and copied; for CI and monitoring.
    ///
    /// Exits 0 when in sync (info findings alone are in sync), 2 on warning or critical
    /// findings, 1 on error. With --format nagios it follows the monitoring-plugin
    /// convention instead: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN (could not check).
    Check(CheckArgs),

    /// Check that each standby site could stand in for its primary.
    ///
    /// Every primary component (server role, database, settings, fileset, DNS record) needs a
    /// counterpart at the standby site or an `omit` with a reason; every backup needs equal
    /// copies in a store at the standby site; the latest settings exports must agree under
    /// `settings-compare`; declared DNS records must resolve as declared. Prints a parity
    /// table per kind, then the findings. Exits 0 when in sync, 2 on warning or critical
    /// findings, 1 on error.
    Audit(AuditArgs),

    /// Print the backup and restoration worksheets of the OCS 2007 R2 guide, filled in.
    ///
    /// Per server and per backup item: owner, role, site, pool, what is backed up, the
    /// schedule, where the backups and their copies live, the last backup and the last
    /// verification. Per restoration scenario: its steps with minutes, owner, estimate, what
    /// it affects and the restore time measured by the newest test restore. Then the restore
    /// sequence. Reads the desired state, the last observation `discover` saved and the
    /// journal; observes nothing itself. What the observation does not cover is
    /// shown as unknown, never guessed.
    Worksheet(WorksheetArgs),

    /// Print a shell completion script.
    ///
    /// For example `standby completions bash > ~/.local/share/bash-completion/completions/standby`,
    /// `standby completions zsh > "${fpath[1]}/_standby"` or
    /// `standby completions fish > ~/.config/fish/completions/standby.fish`.
    Completions(CompletionsArgs),

    /// Print the manual page (roff), or write a page per command into a directory.
    ///
    /// `standby man | man -l -` reads it; `standby man --out /usr/local/share/man/man1`
    /// installs standby.1 and standby-COMMAND.1.
    Man(ManArgs),

    /// Carry out a plan: take backups, copy them, snapshot, export, verify and prune.
    ///
    /// Every write goes to a temporary name, is fsynced and hash-checked, then renamed.
    /// Actions are journaled in the state; its lock keeps a second apply out, from any
    /// machine sharing a PostgreSQL state. Ends with what was not done (failed, skipped,
    /// manual actions with their owners) and what a fresh look still finds. Exits 0 when
    /// every action succeeded and the deployment is in sync, 1 when an action failed or the
    /// plan was refused, 2 when nothing failed but the deployment is not in sync (manual
    /// actions left, actions waiting for the backup window, findings that remain).
    Apply(ApplyArgs),

    /// Remove a stale lock left by an apply that died.
    ForceUnlock(ForceUnlockArgs),

    /// Write the T-SQL that restores a database from the backups at one site.
    ///
    /// Takes the chain that reaches furthest (or to --stop-at) from the files really in the
    /// site's stores — the backup's store and its copy-to, by located-at — hashed and
    /// unchanged: the full backup, its differential, the log backups WITH NORECOVERY, the
    /// last one with STOPAT, then WITH RECOVERY; MOVE puts the files in the target
    /// instance's data and log directories. Every file is hashed again before the script is
    /// written. Exits 0 when written, 1 when the database cannot be restored as asked.
    Restore(RestoreArgs),

    /// Show when each finding appeared and when it was resolved.
    ///
    /// Every complete `check`, `plan`, `apply` and `audit` run records its findings in the
    /// state; this answers "how long has the standby site been out of sync?". Lists every
    /// finding open at some time within --since, oldest first, with how long it was (or has
    /// been) open.
    History(HistoryArgs),
}

#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// How far back to look: findings resolved before then are left out (e.g. 24h, 7d, 4w).
    #[arg(long, value_name = "DURATION", default_value = "30d", value_parser = parse_wait)]
    pub since: std::time::Duration,

    /// Only findings whose address matches this glob (e.g. `dallas/**`) or is this address.
    #[arg(value_name = "ADDRESS")]
    pub address: Option<String>,

    /// Output format: `table` or `json`.
    #[arg(long, value_enum, default_value_t = HistoryFormat::Table)]
    pub format: HistoryFormat,

    /// Measure durations up to this time (RFC 3339) instead of now.
    #[arg(long, value_name = "TIME")]
    pub now: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum HistoryFormat {
    /// One row per finding: address, code, appeared, resolved, how long.
    Table,
    /// `format_version`, `since` and the findings with RFC 3339 times.
    Json,
}

#[derive(Debug, Args)]
pub struct ObserveArgs {
    /// How much backup content to re-read: `changed` (new and changed files only), `full`
    /// (everything: finds silent corruption), `N/T` (slice N of T, so T runs cover every
    /// file) or `none` (no reading: unknown files stay unverified).
    #[arg(long, value_name = "MODE", default_value = "changed")]
    pub verify: crate::observe::VerifyMode,

    /// Evaluate freshness as of this time (RFC 3339, e.g. 2026-11-22T06:00:00Z) instead of
    /// now. For reproducing a past run, or planning against a saved snapshot.
    #[arg(long, value_name = "TIME")]
    pub now: Option<jiff::Timestamp>,

    /// How long to wait for a SQL Server instance to accept the connection and the login,
    /// and then for each answer to a discovery query. An instance that does not answer in
    /// time is reported as `source-unreachable`.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_wait)]
    pub sql_timeout: std::time::Duration,
}

#[derive(Debug, Args)]
pub struct DiscoverArgs {
    #[command(flatten)]
    pub observe: ObserveArgs,

    /// Where to write the snapshot (default: observed.json in the state directory).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct SelectArgs {
    /// Read the observation from FILE (written by `discover`) instead of observing now.
    #[arg(long, value_name = "FILE")]
    pub observed: Option<PathBuf>,

    /// Only addresses matching GLOB, and everything below them (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub target: Vec<String>,

    #[command(flatten)]
    pub observe: ObserveArgs,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub select: SelectArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table)]
    pub format: ReportFormat,

    /// Exit 2 when there is drift or anything to do, 0 when in sync.
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// Also save the plan to PLAN (JSON, with fingerprints of the desired state and the
    /// observation) for `standby apply PLAN`.
    #[arg(long, value_name = "PLAN")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved by `plan --out`. Applying it is the approval; it is refused if the
    /// desired state or the stores changed since. Without it, apply plans now and asks.
    #[arg(value_name = "PLAN")]
    pub plan: Option<PathBuf>,

    /// Apply without asking (required when stdin is not a terminal and no PLAN is given).
    #[arg(long)]
    pub auto_approve: bool,

    /// Output format of the run's result: `table` for people, `json` for automation (the
    /// plan to approve then goes to stderr).
    #[arg(long, value_enum, default_value_t = ApplyFormat::Table)]
    pub format: ApplyFormat,

    /// Only actions on addresses matching GLOB, and everything below them (repeatable).
    #[arg(long, value_name = "GLOB")]
    pub target: Vec<String>,

    /// How many actions run at once.
    #[arg(long, value_name = "N", default_value_t = 2)]
    pub parallelism: usize,

    /// Keep scheduling independent actions after one fails.
    #[arg(long)]
    pub continue_on_error: bool,

    /// Run heavy actions (backups, copies, snapshots, exports) outside the deployment's
    /// backup window.
    #[arg(long)]
    pub ignore_window: bool,

    /// How long to wait for another apply's lock before giving up (e.g. 30s, 5m).
    #[arg(long, value_name = "DURATION", default_value = "0s", value_parser = parse_wait)]
    pub lock_timeout: std::time::Duration,

    /// How long an export command may run before it is killed.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_wait)]
    pub export_timeout: std::time::Duration,

    /// How long a BACKUP, RESTORE or DBCC CHECKDB may go without a word from SQL Server
    /// before the action fails. A BACKUP sends nothing until it is done: size this for the
    /// largest database.
    #[arg(long, value_name = "DURATION", default_value = "6h", value_parser = parse_wait)]
    pub sql_command_timeout: std::time::Duration,

    /// When stderr is not a terminal (a CI log, a scheduled task), how often a running
    /// action says it is still running, with how far it got. On a terminal each running
    /// action has a live progress line instead.
    #[arg(long, value_name = "DURATION", default_value = "10m", value_parser = parse_wait)]
    pub progress_every: std::time::Duration,

    #[command(flatten)]
    pub observe: ObserveArgs,
}

/// `0s`, `30s`, `5m`, `1h`: a wait, where zero is allowed.
fn parse_wait(text: &str) -> Result<std::time::Duration, String> {
    if text.trim_end_matches(|c: char| c.is_ascii_alphabetic()) == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    text.parse::<crate::desired::Duration>()
        .map(|d| std::time::Duration::from_secs(d.as_secs()))
        .map_err(|e| e.to_string())
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The database to restore: SITE/database/NAME, as declared.
    #[arg(value_name = "ADDRESS")]
    pub address: String,

    /// The site whose stores the backups are read from.
    #[arg(long, value_name = "SITE")]
    pub site: String,

    /// The SQL Server to restore on: a declared sql-instance, as SITE/ID or an ID of --site.
    #[arg(long, value_name = "INSTANCE")]
    pub to: String,

    /// Restore to this point in time (RFC 3339) instead of the newest the site can reach.
    #[arg(long, value_name = "TIME")]
    pub stop_at: Option<jiff::Timestamp>,

    /// The name of the restored database (default: the database's own).
    #[arg(long = "as", value_name = "NAME")]
    pub as_name: Option<String>,

    /// Write the script to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Read the observation from FILE (written by `discover`) instead of observing now.
    #[arg(long, value_name = "FILE")]
    pub observed: Option<PathBuf>,

    #[command(flatten)]
    pub observe: ObserveArgs,
}

#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    /// The id of the lock to remove, as `apply` reported it.
    #[arg(value_name = "LOCK_ID")]
    pub id: String,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub select: SelectArgs,

    /// Output format.
    #[arg(long, value_enum, default_value_t = CheckFormat::Table)]
    pub format: CheckFormat,

    /// Write the report to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(flatten)]
    pub select: SelectArgs,

    /// Output format: `table` (parity tables, findings, coloured diffs), `json` (with the
    /// `parity` rows) or `markdown`.
    #[arg(long, value_enum, default_value_t = ReportFormat::Table, hide_possible_values = true)]
    pub format: ReportFormat,
}

#[derive(Debug, Args)]
pub struct WorksheetArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = WorksheetFormat::Markdown)]
    pub format: WorksheetFormat,

    /// Write the worksheets to FILE (atomically) instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Read the observation from FILE (written by `discover --out`) instead of the last one
    /// saved in the state. Without either, backups and verifications are shown as unknown.
    #[arg(long, value_name = "FILE")]
    pub observed: Option<PathBuf>,

    /// Describe the deployment as of this time (RFC 3339, e.g. 2026-11-22T06:00:00Z) instead
    /// of now: ages ("5h ago") are measured from it.
    #[arg(long, value_name = "TIME")]
    pub now: Option<jiff::Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApplyFormat {
    /// The plan, each action as it starts and ends (stderr), what was not done, the findings
    /// that remain and a summary line.
    Table,
    /// `format_version`, `in_sync`, `result`, `summary` (done, failed, skipped, manual),
    /// every action's result, and `after` (a fresh plan's summary, findings and actions).
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WorksheetFormat {
    /// Headings, fact lists and tables: for a wiki, a repository or a pull request.
    Markdown,
    /// One self-contained printable page: inline CSS, a table of contents, no scripts and no
    /// external resources.
    Html,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// Summary line, findings grouped by site, then actions.
    Table,
    /// `format_version`, `summary`, `findings`, `ignored` (and `actions` for plan).
    Json,
    /// Summary first, details collapsible: for a pull-request comment.
    Markdown,
}

/// What `check` can report in: the plan formats plus those CI and monitoring systems read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CheckFormat {
    /// Summary line, then findings grouped by site.
    Table,
    /// `format_version`, `summary`, `findings`, `ignored` and `items` (freshness per item).
    Json,
    /// `JUnit` XML for CI test reports: a suite per site, a test case per address, a failure
    /// per warning or critical finding.
    Junit,
    /// Monitoring plugin (Nagios, Icinga): status line with each item's backup age as
    /// perfdata, then one line per problem; exits 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    Nagios,
    /// Prometheus text format for `node_exporter`'s textfile collector (with --out FILE).
    Prometheus,
    /// Summary first, details collapsible: for a pull-request comment.
    Markdown,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shell {
    /// Bash (with the bash-completion package).
    Bash,
    /// Zsh: save as `_standby` in a directory on `$fpath`.
    Zsh,
    /// Fish: save as `standby.fish` in `~/.config/fish/completions`.
    Fish,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write standby.1 and a standby-COMMAND.1 per command into DIR (created) instead of
    /// printing standby.1.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Output format: `table` for people (diagnostics on stderr), `json` for editors and CI.
    #[arg(long, value_enum, default_value_t = ValidateFormat::Table)]
    pub format: ValidateFormat,

    /// Treat warnings (the OCS profile's lints) as errors: exit 1 when there is one.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The profile to start from.
    #[arg(long, value_enum)]
    pub profile: InitProfile,

    /// The primary site's name (letters, digits, `-`, `_`).
    #[arg(long, value_name = "NAME")]
    pub site: String,

    /// The primary pool's FQDN, like pool01.contoso.com; the deployment's domain is the rest.
    #[arg(long, value_name = "FQDN")]
    pub pool: String,

    /// The pool's edition: a Standard Edition server, or an Enterprise pool of front ends and
    /// a back-end SQL Server.
    #[arg(long, value_enum, default_value_t = InitEdition::Enterprise)]
    pub edition: InitEdition,

    /// Also declare a standby site of this name that stands in for --site.
    #[arg(long, value_name = "NAME")]
    pub standby: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InitProfile {
    /// Office Communications Server 2007 R2.
    #[value(name = "ocs-2007-r2")]
    Ocs2007R2,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum InitEdition {
    Standard,
    Enterprise,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ValidateFormat {
    /// Every mistake with its source excerpt, on stderr.
    Table,
    /// The diagnostics as JSON on stdout, with file, line and column.
    Json,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn color_is_picked_out_before_clap_parses() {
        let args = |line: &str| -> Vec<OsString> { line.split(' ').map(OsString::from).collect() };
        assert_eq!(early_color(&args("standby check --help")), None);
        assert_eq!(
            early_color(&args("standby --color never check --help")),
            Some(ColorChoice::Never)
        );
        assert_eq!(
            early_color(&args("standby check --color=always --color auto")),
            Some(ColorChoice::Auto)
        );
        assert_eq!(
            early_color(&args("standby check --color=bogus")),
            None,
            "clap reports the bad value"
        );
        assert_eq!(early_color(&args("standby check -- --color never")), None);
    }
}
