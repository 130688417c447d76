//! The RESTORE statements of a chain, rendered once: what `standby restore` prints for an
//! operator and what `apply` sends for a test restore are the same text.

use super::action::RestoreFile;

/// A name inside `[...]`.
fn name(name: &str) -> String {
    name.replace(']', "]]")
}

/// Text inside `N'...'`.
fn text(text: &str) -> String {
    text.replace('\'', "''")
}

/// How the chain is restored.
#[derive(Debug, Clone, Default)]
pub struct RestoreOptions<'a> {
    /// Where each file of the database goes: (logical name, new physical name).
    pub moves: &'a [(String, String)],
    /// Overwrite a database of that name (a test restore's own leftover).
    pub replace: bool,
    /// Stop the log restores at this time, in the server's local time
    /// (`2026-11-22T10:15:00`).
    pub stop_at: Option<&'a str>,
}

/// `RESTORE DATABASE`/`LOG … WITH NORECOVERY` for each file of `chain` in order, then
/// `RESTORE DATABASE … WITH RECOVERY`.
pub fn restore_statements(
    database: &str,
    chain: &[RestoreFile],
    options: &RestoreOptions<'_>,
) -> Vec<String> {
    let mut statements = Vec::with_capacity(chain.len() + 1);
    for (i, file) in chain.iter().enumerate() {
        let verb = if file.backup_type == "log" {
            "LOG"
        } else {
            "DATABASE"
        };
        let devices: Vec<String> = std::iter::once(&file.disk)
            .chain(&file.stripes)
            .map(|d| format!("DISK = N'{}'", text(d)))
            .collect();
        let mut with: Vec<String> = Vec::new();
        if file.position > 1 {
            with.push(format!("FILE = {}", file.position));
        }
        if i == 0 {
            with.extend(options.moves.iter().map(|(logical, physical)| {
                format!("MOVE N'{}' TO N'{}'", text(logical), text(physical))
            }));
            if options.replace {
                with.push("REPLACE".into());
            }
        }
        with.push("NORECOVERY".into());
        with.push("CHECKSUM".into());
        if let (Some(at), "log") = (options.stop_at, file.backup_type.as_str()) {
            with.push(format!("STOPAT = N'{}'", text(at)));
        }
        statements.push(format!(
            "RESTORE {verb} [{}] FROM {} WITH {}",
            name(database),
            devices.join(", "),
            with.join(", ")
        ));
    }
    statements.push(format!(
        "RESTORE DATABASE [{}] WITH RECOVERY",
        name(database)
    ));
    statements
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(disk: &str, kind: &str) -> RestoreFile {
        RestoreFile {
            disk: disk.into(),
            backup_type: kind.into(),
            stripes: Vec::new(),
            position: 1,
        }
    }

    #[test]
    fn a_chain_restores_with_norecovery_and_recovers_at_the_end() {
        let chain = [file("f.bak", "full"), file("l.trn", "log")];
        let moves = [("rtc".to_owned(), r"D:\t_rtc.mdf".to_owned())];
        let options = RestoreOptions {
            moves: &moves,
            replace: true,
            stop_at: None,
        };
        assert_eq!(
            restore_statements("standby-restoretest-rtc", &chain, &options),
            vec![
                r"RESTORE DATABASE [standby-restoretest-rtc] FROM DISK = N'f.bak' WITH MOVE N'rtc' TO N'D:\t_rtc.mdf', REPLACE, NORECOVERY, CHECKSUM".to_owned(),
                "RESTORE LOG [standby-restoretest-rtc] FROM DISK = N'l.trn' WITH NORECOVERY, CHECKSUM".to_owned(),
                "RESTORE DATABASE [standby-restoretest-rtc] WITH RECOVERY".to_owned(),
            ]
        );
    }

    #[test]
    fn striped_sets_name_every_device_and_logs_stop_at_the_time() {
        let mut full = file(r"\\bk\a_1.bak", "full");
        full.stripes = vec![r"\\bk\a_2.bak".into()];
        full.position = 2;
        let chain = [full, file("it's.trn", "log")];
        let options = RestoreOptions {
            moves: &[],
            replace: false,
            stop_at: Some("2026-11-22T10:15:00"),
        };
        assert_eq!(
            restore_statements("o]dd", &chain, &options),
            vec![
                r"RESTORE DATABASE [o]]dd] FROM DISK = N'\\bk\a_1.bak', DISK = N'\\bk\a_2.bak' WITH FILE = 2, NORECOVERY, CHECKSUM".to_owned(),
                "RESTORE LOG [o]]dd] FROM DISK = N'it''s.trn' WITH NORECOVERY, CHECKSUM, STOPAT = N'2026-11-22T10:15:00'".to_owned(),
                "RESTORE DATABASE [o]]dd] WITH RECOVERY".to_owned(),
            ]
        );
    }
}
