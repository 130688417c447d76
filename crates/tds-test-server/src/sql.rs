//! Statement recognition: a T-SQL tokenizer, batch splitting on `;`, the discovery queries
//! (read from QUERIES.md, so the documentation is what the server answers) and a small parser
//! for the maintenance statements. No general SQL: what is not recognised is a SQL error.

use crate::catalog::{BackupType, RecoveryModel};
use crate::protocol::ParamValue;

/// The documented queries: the `sql` code blocks that start with `/* standby:NAME */`.
const QUERIES_MD: &str = include_str!("../QUERIES.md");

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// Keyword or plain identifier; compared case-insensitively.
    Word(String),
    /// `[bracketed]` or `"quoted"` identifier.
    Ident(String),
    /// `'text'` or `N'text'`.
    Str(String),
    Num(String),
    /// `@name` or `@@name`.
    Var(String),
    Punct(char),
}

impl Tok {
    fn is_word(&self, w: &str) -> bool {
        matches!(self, Tok::Word(x) if x.eq_ignore_ascii_case(w))
    }

    /// How the token would be quoted back in an error message.
    pub(crate) fn text(&self) -> String {
        match self {
            Tok::Word(w) | Tok::Num(w) | Tok::Var(w) => w.clone(),
            Tok::Ident(i) => i.clone(),
            Tok::Str(s) => s.clone(),
            Tok::Punct(c) => c.to_string(),
        }
    }

    fn same(&self, other: &Tok) -> bool {
        match (self, other) {
            (Tok::Word(a), Tok::Word(b))
            | (Tok::Var(a), Tok::Var(b))
            | (Tok::Ident(a), Tok::Ident(b)) => a.eq_ignore_ascii_case(b),
            _ => self == other,
        }
    }
}

/// A SQL Server error raised while compiling or running a statement.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SqlError {
    pub(crate) number: u32,
    pub(crate) state: u8,
    pub(crate) class: u8,
    pub(crate) message: String,
}

impl SqlError {
    pub(crate) fn new(number: u32, state: u8, class: u8, message: impl Into<String>) -> Self {
        Self {
            number,
            state,
            class,
            message: message.into(),
        }
    }

    pub(crate) fn syntax_near(near: &str) -> Self {
        Self::new(102, 1, 15, format!("Incorrect syntax near '{near}'."))
    }

    fn syntax_at(tokens: &[Tok], i: usize) -> Self {
        match tokens.get(i) {
            Some(t) => Self::syntax_near(&t.text()),
            None => Self::new(
                102,
                1,
                15,
                "Incorrect syntax near the end of the statement.".to_string(),
            ),
        }
    }
}

/// Splits a batch into statements of tokens; comments are dropped.
pub(crate) fn tokenize(sql: &str) -> Result<Vec<Vec<Tok>>, SqlError> {
    let chars: Vec<char> = sql.chars().collect();
    let mut statements = vec![Vec::new()];
    let mut i = 0;
    let push = |statements: &mut Vec<Vec<Tok>>, t: Tok| {
        if let Some(last) = statements.last_mut() {
            last.push(t);
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && next == Some('-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            // Block comments nest in T-SQL.
            let mut depth = 0usize;
            loop {
                match (chars.get(i), chars.get(i + 1)) {
                    (Some('/'), Some('*')) => {
                        depth += 1;
                        i += 2;
                    }
                    (Some('*'), Some('/')) => {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    }
                    (Some(_), _) => i += 1,
                    (None, _) => {
                        return Err(SqlError::new(113, 1, 15, "Missing end comment mark '*/'."));
                    }
                }
            }
        } else if c == '\'' || ((c == 'N' || c == 'n') && next == Some('\'')) {
            i += if c == '\'' { 1 } else { 2 };
            let mut text = String::new();
            loop {
                match (chars.get(i), chars.get(i + 1)) {
                    (Some('\''), Some('\'')) => {
                        text.push('\'');
                        i += 2;
                    }
                    (Some('\''), _) => {
                        i += 1;
                        break;
                    }
                    (Some(ch), _) => {
                        text.push(*ch);
                        i += 1;
                    }
                    (None, _) => {
                        let shown: String = text.chars().take(40).collect();
                        return Err(SqlError::new(
                            105,
                            1,
                            15,
                            format!(
                                "Unclosed quotation mark after the character string '{shown}'."
                            ),
                        ));
                    }
                }
            }
            push(&mut statements, Tok::Str(text));
        } else if c == '[' || c == '"' {
            let close = if c == '[' { ']' } else { '"' };
            i += 1;
            let mut text = String::new();
            loop {
                match (chars.get(i), chars.get(i + 1)) {
                    (Some(a), Some(b)) if *a == close && *b == close => {
                        text.push(close);
                        i += 2;
                    }
                    (Some(a), _) if *a == close => {
                        i += 1;
                        break;
                    }
                    (Some(ch), _) => {
                        text.push(*ch);
                        i += 1;
                    }
                    (None, _) => {
                        return Err(SqlError::new(
                            105,
                            1,
                            15,
                            format!("Unclosed quotation mark after the character string '{text}'."),
                        ));
                    }
                }
            }
            push(&mut statements, Tok::Ident(text));
        } else if c == '@' {
            let start = i;
            i += 1;
            while i < chars.len()
                && (chars[i].is_alphanumeric()
                    || chars[i] == '_'
                    || chars[i] == '@'
                    || chars[i] == '#')
            {
                i += 1;
            }
            push(&mut statements, Tok::Var(chars[start..i].iter().collect()));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                i += 1;
            }
            push(&mut statements, Tok::Num(chars[start..i].iter().collect()));
        } else if c.is_alphabetic() || c == '_' || c == '#' {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric()
                    || chars[i] == '_'
                    || chars[i] == '#'
                    || chars[i] == '$')
            {
                i += 1;
            }
            push(&mut statements, Tok::Word(chars[start..i].iter().collect()));
        } else if c == ';' {
            statements.push(Vec::new());
            i += 1;
        } else {
            push(&mut statements, Tok::Punct(c));
            i += 1;
        }
    }
    statements.retain(|s| !s.is_empty());
    Ok(statements)
}

/// The discovery queries the server answers (see QUERIES.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Query {
    Version,
    Databases,
    Files,
    BackupHistory,
    /// The same for SQL Server 2005, which has no `compressed_backup_size`.
    BackupHistory2005,
    RestoreHistory,
}

impl Query {
    fn from_marker(name: &str) -> Option<Self> {
        match name {
            "version" => Some(Query::Version),
            "databases" => Some(Query::Databases),
            "files" => Some(Query::Files),
            "backup_history" => Some(Query::BackupHistory),
            "backup_history_2005" => Some(Query::BackupHistory2005),
            "restore_history" => Some(Query::RestoreHistory),
            _ => None,
        }
    }
}

/// `(query, its SQL text)` for each documented query, in document order.
pub(crate) fn documented_queries() -> Vec<(Query, String)> {
    let mut out = Vec::new();
    let mut rest = QUERIES_MD;
    while let Some(start) = rest.find("```sql\n") {
        let body = &rest[start + 7..];
        let Some(end) = body.find("```") else { break };
        let sql = &body[..end];
        if let Some(marker) = sql.trim_start().strip_prefix("/* standby:")
            && let Some((name, _)) = marker.split_once(" */")
            && let Some(q) = Query::from_marker(name.trim())
        {
            out.push((q, sql.trim().to_string()));
        }
        rest = &body[end + 3..];
    }
    out
}

/// What the fault injection and the query log call a statement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatementKind {
    Version,
    Databases,
    Files,
    BackupHistory,
    RestoreHistory,
    Backup,
    VerifyOnly,
    Restore,
    AlterRecovery,
    CheckDb,
    DropDatabase,
    Session,
}

impl StatementKind {
    const NAMES: [(StatementKind, &'static str); 12] = [
        (StatementKind::Version, "version"),
        (StatementKind::Databases, "databases"),
        (StatementKind::Files, "files"),
        (StatementKind::BackupHistory, "backup-history"),
        (StatementKind::RestoreHistory, "restore-history"),
        (StatementKind::Backup, "backup"),
        (StatementKind::VerifyOnly, "verify-only"),
        (StatementKind::Restore, "restore"),
        (StatementKind::AlterRecovery, "alter-recovery"),
        (StatementKind::CheckDb, "check-db"),
        (StatementKind::DropDatabase, "drop-database"),
        (StatementKind::Session, "session"),
    ];
}

impl std::str::FromStr for StatementKind {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Self::NAMES
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(kind, _)| *kind)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::NAMES.iter().map(|(_, n)| *n).collect();
                format!(
                    "unknown statement kind `{name}` (one of {})",
                    names.join(", ")
                )
            })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Statement {
    Query(Query),
    SelectOne,
    /// `SELECT SERVERPROPERTY('Name') [AS alias], ...`: (property, column name) pairs.
    ServerProperty(Vec<(String, String)>),
    Backup(BackupStatement),
    VerifyOnly {
        disk: String,
        checksum: bool,
    },
    Restore(RestoreStatement),
    AlterRecovery {
        database: String,
        model: RecoveryModel,
    },
    CheckDb {
        database: String,
        no_infomsgs: bool,
    },
    DropDatabase {
        databases: Vec<String>,
    },
    Use {
        database: String,
    },
    SetOption {
        option: String,
        on: bool,
    },
}

impl Statement {
    pub(crate) fn kind(&self) -> StatementKind {
        match self {
            Statement::Query(Query::Version)
            | Statement::SelectOne
            | Statement::ServerProperty(_) => StatementKind::Version,
            Statement::Query(Query::Databases) => StatementKind::Databases,
            Statement::Query(Query::Files) => StatementKind::Files,
            Statement::Query(Query::BackupHistory | Query::BackupHistory2005) => {
                StatementKind::BackupHistory
            }
            Statement::Query(Query::RestoreHistory) => StatementKind::RestoreHistory,
            Statement::Backup(_) => StatementKind::Backup,
            Statement::VerifyOnly { .. } => StatementKind::VerifyOnly,
            Statement::Restore(_) => StatementKind::Restore,
            Statement::AlterRecovery { .. } => StatementKind::AlterRecovery,
            Statement::CheckDb { .. } => StatementKind::CheckDb,
            Statement::DropDatabase { .. } => StatementKind::DropDatabase,
            Statement::Use { .. } | Statement::SetOption { .. } => StatementKind::Session,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BackupStatement {
    pub(crate) backup_type: BackupType,
    pub(crate) database: String,
    pub(crate) disk: String,
    pub(crate) checksum: bool,
    pub(crate) init: bool,
    pub(crate) copy_only: bool,
    pub(crate) compression: bool,
    /// `STATS = N`: a "N percent processed." message every N percent.
    pub(crate) stats: Option<u32>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RestoreStatement {
    pub(crate) log: bool,
    pub(crate) database: String,
    pub(crate) disk: Option<String>,
    pub(crate) moves: Vec<(String, String)>,
    pub(crate) recovery: bool,
    pub(crate) replace: bool,
    pub(crate) checksum: bool,
}

/// Objects a query may name; anything else is `Invalid object name` (208).
const KNOWN_OBJECTS: &[&str] = &[
    "sys.databases",
    "sys.database_recovery_status",
    "sys.master_files",
    "msdb.dbo.backupset",
    "msdb.dbo.backupmediafamily",
    "msdb.dbo.backupmediaset",
    "msdb.dbo.restorehistory",
];

/// Recognises one statement. `params` are the `sp_executesql` parameters (`@P1`...).
pub(crate) fn parse(
    tokens: &[Tok],
    params: &[(String, ParamValue)],
    queries: &[(Query, Vec<Tok>)],
) -> Result<Statement, SqlError> {
    // Declared parameters stand in for literals, as sp_executesql binds them.
    let tokens: Vec<Tok> = tokens.to_vec();
    let first = tokens.first().ok_or_else(|| SqlError::syntax_near(";"))?;

    if first.is_word("SELECT") || first.is_word("WITH") {
        for (query, canonical) in queries {
            if canonical.len() == tokens.len()
                && canonical.iter().zip(&tokens).all(|(a, b)| a.same(b))
            {
                check_variables(&tokens, params)?;
                return Ok(Statement::Query(*query));
            }
        }
        if tokens.len() == 2 && tokens[1] == Tok::Num("1".to_string()) {
            return Ok(Statement::SelectOne);
        }
        if let Some(properties) = server_properties(&tokens[1..]) {
            return Ok(Statement::ServerProperty(properties));
        }
        return Err(unknown_query(&tokens, queries));
    }

    let bound = bind(&tokens, params)?;
    let mut p = Parser { t: &bound, i: 0 };
    let statement = if p.eat("BACKUP") {
        p.backup()?
    } else if p.eat("RESTORE") {
        p.restore()?
    } else if p.eat("ALTER") {
        p.alter()?
    } else if p.eat("DBCC") {
        p.dbcc()?
    } else if p.eat("DROP") {
        p.expect("DATABASE")?;
        let mut databases = vec![p.name()?];
        while p.eat_punct(',') {
            databases.push(p.name()?);
        }
        Statement::DropDatabase { databases }
    } else if p.eat("USE") {
        Statement::Use {
            database: p.name()?,
        }
    } else if p.eat("SET") {
        let option = p.word()?;
        let on = if p.eat("ON") {
            true
        } else if p.eat("OFF") {
            false
        } else {
            p.value()?;
            true
        };
        Statement::SetOption { option, on }
    } else {
        return Err(SqlError::syntax_at(&bound, 0));
    };
    if p.i < bound.len() {
        return Err(SqlError::syntax_at(&bound, p.i));
    }
    Ok(statement)
}

fn check_variables(tokens: &[Tok], params: &[(String, ParamValue)]) -> Result<(), SqlError> {
    for t in tokens {
        if let Tok::Var(v) = t
            && !v.starts_with("@@")
            && !params.iter().any(|(n, _)| n.eq_ignore_ascii_case(v))
        {
            return Err(SqlError::new(
                137,
                2,
                15,
                format!("Must declare the scalar variable \"{v}\"."),
            ));
        }
    }
    Ok(())
}

/// Replaces `@Pn` by the bound value so the maintenance parser sees literals.
fn bind(tokens: &[Tok], params: &[(String, ParamValue)]) -> Result<Vec<Tok>, SqlError> {
    tokens
        .iter()
        .map(|t| match t {
            Tok::Var(v) if !v.starts_with("@@") => {
                let value = params
                    .iter()
                    .find(|(n, _)| n.eq_ignore_ascii_case(v))
                    .map(|(_, value)| value)
                    .ok_or_else(|| {
                        SqlError::new(
                            137,
                            2,
                            15,
                            format!("Must declare the scalar variable \"{v}\"."),
                        )
                    })?;
                Ok(match value {
                    ParamValue::Str(s) => Tok::Str(s.clone()),
                    ParamValue::Int(i) => Tok::Num(i.to_string()),
                    ParamValue::Bit(b) => Tok::Num(u8::from(*b).to_string()),
                    ParamValue::Float(f) => Tok::Num(f.to_string()),
                    ParamValue::Null => Tok::Word("NULL".to_string()),
                })
            }
            other => Ok(other.clone()),
        })
        .collect()
}

/// An unrecognised SELECT: 208 when it names an object this server does not know, else 102
/// at the first token where it leaves the closest documented query.
/// `SERVERPROPERTY('Name') [AS alias]` items separated by commas, and nothing else.
fn server_properties(mut tokens: &[Tok]) -> Option<Vec<(String, String)>> {
    let mut properties = Vec::new();
    loop {
        let [
            function,
            Tok::Punct('('),
            Tok::Str(name),
            Tok::Punct(')'),
            rest @ ..,
        ] = tokens
        else {
            return None;
        };
        if !function.is_word("SERVERPROPERTY") {
            return None;
        }
        tokens = rest;
        let mut column = String::new();
        if let [as_word, alias @ (Tok::Word(_) | Tok::Ident(_)), rest @ ..] = tokens
            && as_word.is_word("AS")
        {
            if let Tok::Word(a) | Tok::Ident(a) = alias {
                column.clone_from(a);
            }
            tokens = rest;
        }
        properties.push((name.clone(), column));
        match tokens {
            [] => return Some(properties),
            [Tok::Punct(','), rest @ ..] => tokens = rest,
            _ => return None,
        }
    }
}

fn unknown_query(tokens: &[Tok], queries: &[(Query, Vec<Tok>)]) -> SqlError {
    let mut i = 0;
    while i < tokens.len() {
        if tokens[i].is_word("FROM") || tokens[i].is_word("JOIN") {
            let mut name = String::new();
            let mut j = i + 1;
            while let Some(Tok::Word(w) | Tok::Ident(w)) = tokens.get(j) {
                name.push_str(w);
                if tokens.get(j + 1) == Some(&Tok::Punct('.')) {
                    name.push('.');
                    j += 2;
                } else {
                    break;
                }
            }
            let is_cte = tokens.first().is_some_and(|t| t.is_word("WITH")) && !name.contains('.');
            if !name.is_empty()
                && !is_cte
                && !KNOWN_OBJECTS.iter().any(|k| k.eq_ignore_ascii_case(&name))
            {
                return SqlError::new(208, 1, 16, format!("Invalid object name '{name}'."));
            }
        }
        i += 1;
    }
    let diverge = queries
        .iter()
        .map(|(_, c)| c.iter().zip(tokens).take_while(|(a, b)| a.same(b)).count())
        .max()
        .unwrap_or(0);
    SqlError::syntax_at(tokens, diverge)
}

struct Parser<'a> {
    t: &'a [Tok],
    i: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i)
    }

    fn err(&self) -> SqlError {
        SqlError::syntax_at(self.t, self.i)
    }

    fn eat(&mut self, word: &str) -> bool {
        if self.peek().is_some_and(|t| t.is_word(word)) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn eat_punct(&mut self, c: char) -> bool {
        if self.peek() == Some(&Tok::Punct(c)) {
            self.i += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, word: &str) -> Result<(), SqlError> {
        if self.eat(word) {
            Ok(())
        } else {
            Err(self.err())
        }
    }

    fn expect_punct(&mut self, c: char) -> Result<(), SqlError> {
        if self.eat_punct(c) {
            Ok(())
        } else {
            Err(self.err())
        }
    }

    fn word(&mut self) -> Result<String, SqlError> {
        match self.peek() {
            Some(Tok::Word(w)) => {
                let w = w.clone();
                self.i += 1;
                Ok(w)
            }
            _ => Err(self.err()),
        }
    }

    /// A database name: identifier, bracketed identifier, or a string/variable value.
    fn name(&mut self) -> Result<String, SqlError> {
        match self.peek() {
            Some(Tok::Word(w) | Tok::Ident(w) | Tok::Str(w)) => {
                let w = w.clone();
                self.i += 1;
                Ok(w)
            }
            _ => Err(self.err()),
        }
    }

    fn string(&mut self) -> Result<String, SqlError> {
        match self.peek() {
            Some(Tok::Str(s)) => {
                let s = s.clone();
                self.i += 1;
                Ok(s)
            }
            _ => Err(self.err()),
        }
    }

    fn value(&mut self) -> Result<Tok, SqlError> {
        match self.peek() {
            Some(t @ (Tok::Str(_) | Tok::Num(_) | Tok::Word(_))) => {
                let t = t.clone();
                self.i += 1;
                Ok(t)
            }
            _ => Err(self.err()),
        }
    }

    fn disk(&mut self) -> Result<String, SqlError> {
        self.expect("DISK")?;
        self.expect_punct('=')?;
        self.string()
    }

    /// `WITH opt [= value] {, opt [= value]}`; `on_option` consumes what it knows.
    fn options(
        &mut self,
        mut on_option: impl FnMut(&str, &mut Self) -> Result<bool, SqlError>,
    ) -> Result<(), SqlError> {
        if !self.eat("WITH") {
            return Ok(());
        }
        loop {
            let at = self.i;
            let option = self.word()?.to_ascii_uppercase();
            if !on_option(&option, self)? {
                self.i = at;
                return Err(self.err());
            }
            if !self.eat_punct(',') {
                return Ok(());
            }
        }
    }

    fn backup(&mut self) -> Result<Statement, SqlError> {
        let log = if self.eat("LOG") {
            true
        } else {
            self.expect("DATABASE")?;
            false
        };
        let database = self.name()?;
        self.expect("TO")?;
        let disk = self.disk()?;
        let mut b = BackupStatement {
            backup_type: if log {
                BackupType::Log
            } else {
                BackupType::Full
            },
            database,
            disk,
            checksum: false,
            init: false,
            copy_only: false,
            compression: false,
            stats: None,
        };
        self.options(|option, p| {
            match option {
                "CHECKSUM" => b.checksum = true,
                "NO_CHECKSUM" => b.checksum = false,
                "INIT" | "FORMAT" => b.init = true,
                "NOINIT"
                | "NOFORMAT"
                | "SKIP"
                | "NOSKIP"
                | "NOUNLOAD"
                | "NOREWIND"
                | "CONTINUE_AFTER_ERROR"
                | "STOP_ON_ERROR" => {}
                "COPY_ONLY" => b.copy_only = true,
                "COMPRESSION" => b.compression = true,
                "NO_COMPRESSION" => b.compression = false,
                "DIFFERENTIAL" if !log => b.backup_type = BackupType::Differential,
                "STATS" => {
                    // SQL Server's default is every 10 percent.
                    let mut every = 10;
                    if p.eat_punct('=') {
                        let at = p.i;
                        every = match p.value()? {
                            Tok::Num(n) => n.parse().ok().filter(|n| (1..=100).contains(n)),
                            _ => None,
                        }
                        .ok_or_else(|| SqlError::syntax_at(p.t, at))?;
                    }
                    b.stats = Some(every);
                }
                "NAME" | "DESCRIPTION" | "MEDIANAME" | "MEDIADESCRIPTION" | "BUFFERCOUNT"
                | "MAXTRANSFERSIZE" | "BLOCKSIZE" => {
                    p.expect_punct('=')?;
                    p.value()?;
                }
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(Statement::Backup(b))
    }

    fn restore(&mut self) -> Result<Statement, SqlError> {
        if self.eat("VERIFYONLY") {
            self.expect("FROM")?;
            let disk = self.disk()?;
            let mut checksum = false;
            self.options(|option, p| {
                match option {
                    "CHECKSUM" => checksum = true,
                    "NO_CHECKSUM"
                    | "NOUNLOAD"
                    | "NOREWIND"
                    | "LOADHISTORY"
                    | "CONTINUE_AFTER_ERROR"
                    | "STOP_ON_ERROR" => {}
                    "FILE" | "STATS" => {
                        if p.eat_punct('=') {
                            p.value()?;
                        }
                    }
                    _ => return Ok(false),
                }
                Ok(true)
            })?;
            return Ok(Statement::VerifyOnly { disk, checksum });
        }
        let log = if self.eat("LOG") {
            true
        } else {
            self.expect("DATABASE")?;
            false
        };
        let database = self.name()?;
        let disk = if self.eat("FROM") {
            Some(self.disk()?)
        } else {
            None
        };
        let mut r = RestoreStatement {
            log,
            database,
            disk,
            moves: Vec::new(),
            recovery: true,
            replace: false,
            checksum: false,
        };
        self.options(|option, p| {
            match option {
                "MOVE" => {
                    let from = p.string()?;
                    p.expect("TO")?;
                    let to = p.string()?;
                    r.moves.push((from, to));
                }
                "RECOVERY" => r.recovery = true,
                "NORECOVERY" => r.recovery = false,
                "REPLACE" => r.replace = true,
                "CHECKSUM" => r.checksum = true,
                "NO_CHECKSUM"
                | "NOUNLOAD"
                | "NOREWIND"
                | "CONTINUE_AFTER_ERROR"
                | "STOP_ON_ERROR"
                | "KEEP_REPLICATION" => {}
                "FILE" | "STATS" => {
                    if p.eat_punct('=') {
                        p.value()?;
                    }
                }
                "STOPAT" => {
                    p.expect_punct('=')?;
                    p.value()?;
                }
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(Statement::Restore(r))
    }

    fn alter(&mut self) -> Result<Statement, SqlError> {
        self.expect("DATABASE")?;
        let database = self.name()?;
        self.expect("SET")?;
        self.expect("RECOVERY")?;
        let at = self.i;
        let model =
            RecoveryModel::parse(&self.word()?).ok_or_else(|| SqlError::syntax_at(self.t, at))?;
        if self.eat("WITH") && !self.eat("NO_WAIT") {
            self.expect("ROLLBACK")?;
            if !self.eat("IMMEDIATE") {
                self.expect("AFTER")?;
                self.value()?;
            }
        }
        Ok(Statement::AlterRecovery { database, model })
    }

    fn dbcc(&mut self) -> Result<Statement, SqlError> {
        self.expect("CHECKDB")?;
        self.expect_punct('(')?;
        let database = self.name()?;
        self.expect_punct(')')?;
        let mut no_infomsgs = false;
        self.options(|option, _| {
            match option {
                "NO_INFOMSGS" => no_infomsgs = true,
                "ALL_ERRORMSGS"
                | "PHYSICAL_ONLY"
                | "DATA_PURITY"
                | "EXTENDED_LOGICAL_CHECKS"
                | "TABLOCK" => {}
                _ => return Ok(false),
            }
            Ok(true)
        })?;
        Ok(Statement::CheckDb {
            database,
            no_infomsgs,
        })
    }
}

/// The documented queries, tokenized once per server.
pub(crate) fn canonical_queries() -> Vec<(Query, Vec<Tok>)> {
    documented_queries()
        .into_iter()
        .filter_map(|(q, sql)| {
            tokenize(&sql)
                .ok()
                .and_then(|mut s| if s.len() == 1 { s.pop() } else { None })
                .map(|t| (q, t))
        })
        .collect()
}
