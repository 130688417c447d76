//! The failures a test asks the server for, and their command-line form
//! (`--faults reject-logins,stall:backup:30`).

use std::time::Duration;

use crate::StatementKind;

/// Failures to inject. Set at start and changeable at run time with `TdsServer::set_faults`.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Every login fails with 18456, even with the right password.
    pub reject_logins: bool,
    /// Every BACKUP fails with 3201 (OS error 3) + 3013 and writes nothing.
    pub fail_backups: bool,
    /// For this kind of statement, send COLMETADATA and `after_rows` rows, then close the socket.
    pub drop_mid_result: Option<DropMidResult>,
    /// For this kind of statement, send nothing for `duration` (an attention ends the stall).
    pub stall: Option<Stall>,
    /// For this kind of statement, spread its `STATS` messages ("5 percent processed.") over
    /// `duration`, each sent as it comes, like a long BACKUP on a real server.
    pub pace: Option<Stall>,
}

#[derive(Debug, Clone, Copy)]
pub struct DropMidResult {
    pub kind: StatementKind,
    pub after_rows: usize,
}

#[derive(Debug, Clone, Copy)]
pub struct Stall {
    pub kind: StatementKind,
    pub duration: Duration,
}

impl std::str::FromStr for Faults {
    type Err = String;

    /// Comma-separated: `reject-logins`, `fail-backups`, `drop:KIND:ROWS` (send ROWS rows of
    /// KIND's result, then close the socket), `stall:KIND:SECONDS` (say nothing for SECONDS),
    /// `pace:KIND:SECONDS` (spread the statement's STATS messages over SECONDS).
    /// KIND is a statement kind in kebab case (`backup-history`, `verify-only`, ...).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut faults = Faults::default();
        for item in text.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let mut parts = item.split(':');
            match (parts.next(), parts.next(), parts.next(), parts.next()) {
                (Some("reject-logins"), None, None, None) => faults.reject_logins = true,
                (Some("fail-backups"), None, None, None) => faults.fail_backups = true,
                (Some("drop"), Some(kind), Some(rows), None) => {
                    faults.drop_mid_result = Some(DropMidResult {
                        kind: kind.parse()?,
                        after_rows: rows
                            .parse()
                            .map_err(|_| format!("`{item}`: {rows} is not a row count"))?,
                    });
                }
                (Some(which @ ("stall" | "pace")), Some(kind), Some(seconds), None) => {
                    let slot = if which == "stall" {
                        &mut faults.stall
                    } else {
                        &mut faults.pace
                    };
                    *slot = Some(Stall {
                        kind: kind.parse()?,
                        duration: Duration::from_secs(
                            seconds
                                .parse()
                                .map_err(|_| format!("`{item}`: {seconds} is not seconds"))?,
                        ),
                    });
                }
                _ => {
                    return Err(format!(
                        "unknown fault `{item}` (expected reject-logins, fail-backups, \
                         drop:KIND:ROWS, stall:KIND:SECONDS or pace:KIND:SECONDS)"
                    ));
                }
            }
        }
        Ok(faults)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_read_from_the_command_line() {
        let faults: Faults = "reject-logins, drop:backup-history:3,stall:verify-only:30"
            .parse()
            .expect("valid faults");
        assert!(faults.reject_logins && !faults.fail_backups);
        let drop = faults.drop_mid_result.expect("a drop");
        assert_eq!(
            (drop.kind, drop.after_rows),
            (StatementKind::BackupHistory, 3)
        );
        let stall = faults.stall.expect("a stall");
        assert_eq!(
            (stall.kind, stall.duration),
            (StatementKind::VerifyOnly, Duration::from_secs(30))
        );
        let pace = "pace:backup:3".parse::<Faults>().expect("a pace");
        assert!(pace.pace.is_some_and(|p| p.kind == StatementKind::Backup));
        assert!("stall:backup".parse::<Faults>().is_err());
        assert!("drop:nothing:1".parse::<Faults>().is_err());
    }
}
