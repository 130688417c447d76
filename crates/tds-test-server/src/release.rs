//! The SQL Server releases the server can play (`--version`): what LOGINACK, `@@VERSION` and
//! `SERVERPROPERTY` say, and which TDS version each speaks.

use crate::catalog::ServerInfo;

/// A SQL Server release. OCS 2007 R2's back ends run 2005 SP2, 2008 or 2008 R2; 2019 stands
/// for a current server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Release {
    Sql2005,
    Sql2008,
    Sql2008R2,
    Sql2019,
}

impl Release {
    /// The TDS version of its LOGINACK (MS-TDS 2.2.7.14, big-endian on the wire): 7.2, 7.3A,
    /// 7.3B and 7.4.
    pub fn tds_version(self) -> u32 {
        match self {
            Release::Sql2005 => 0x7209_0002,
            Release::Sql2008 => 0x730A_0003,
            Release::Sql2008R2 => 0x730B_0003,
            Release::Sql2019 => 0x7400_0004,
        }
    }

    /// `SERVERPROPERTY('ProductVersion')` of the last service pack OCS 2007 R2 ran on.
    pub fn product_version(self) -> &'static str {
        match self {
            Release::Sql2005 => "9.00.4035.00",
            Release::Sql2008 => "10.0.5500.0",
            Release::Sql2008R2 => "10.50.6000.34",
            Release::Sql2019 => "15.0.2000.5",
        }
    }

    /// `SERVERPROPERTY('ProductLevel')`.
    pub fn product_level(self) -> &'static str {
        match self {
            Release::Sql2005 | Release::Sql2008 | Release::Sql2008R2 => "SP3",
            Release::Sql2019 => "RTM",
        }
    }

    /// `@@VERSION`, as that release prints it.
    pub fn version_string(self) -> String {
        let (name, version, date, os) = match self {
            Release::Sql2005 => (
                "2005",
                "9.00.4035.00 (X64)",
                "Nov 24 2008 16:17:31",
                "Windows NT 5.2 (Build 3790: Service Pack 2)",
            ),
            Release::Sql2008 => (
                "2008 (SP3)",
                "10.0.5500.0 (X64)",
                "Sep 21 2011 22:45:45",
                "Windows NT 6.1 <X64> (Build 7601: Service Pack 1)",
            ),
            Release::Sql2008R2 => (
                "2008 R2 (SP3)",
                "10.50.6000.34 (X64)",
                "Aug 19 2014 12:21:34",
                "Windows NT 6.1 <X64> (Build 7601: Service Pack 1)",
            ),
            Release::Sql2019 => (
                "2019 (RTM)",
                "15.0.2000.5 (X64)",
                "Sep 24 2019 13:48:23",
                "Windows Server 2019 Standard 10.0 <X64> (Build 17763: )",
            ),
        };
        format!(
            "Microsoft SQL Server {name} - {version} \n\t{date} \n\tCopyright (c) Microsoft Corporation\n\tStandard Edition (64-bit) on {os}\n"
        )
    }

    /// The release a product version belongs to: 9.x is 2005, 10.0 2008, 10.5x 2008 R2,
    /// anything newer is played as 2019.
    pub fn of(server: &ServerInfo) -> Release {
        let mut parts = server.product_version.split('.');
        let major = parts
            .next()
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(10);
        let minor = parts
            .next()
            .and_then(|p| p.parse::<u32>().ok())
            .unwrap_or(0);
        match (major, minor) {
            (..=9, _) => Release::Sql2005,
            (10, 0..=49) => Release::Sql2008,
            (10, _) => Release::Sql2008R2,
            _ => Release::Sql2019,
        }
    }

    /// Makes `server` present itself as this release (its name and clock stay).
    pub fn apply(self, server: &mut ServerInfo) {
        self.product_version()
            .clone_into(&mut server.product_version);
        server.version_string = self.version_string();
    }

    /// The TDS version a server of this release answers a client asking for `requested`:
    /// its own, or the client's when that is older and one the release still speaks.
    pub fn negotiate(self, requested: u32) -> u32 {
        let own = self.tds_version();
        match requested {
            0x7209_0002 | 0x730A_0003 | 0x730B_0003 | 0x7400_0004 if requested < own => requested,
            _ => own,
        }
    }
}

impl std::str::FromStr for Release {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text.to_ascii_lowercase().as_str() {
            "2005" => Ok(Release::Sql2005),
            "2008" => Ok(Release::Sql2008),
            "2008r2" | "2008-r2" => Ok(Release::Sql2008R2),
            "2019" => Ok(Release::Sql2019),
            _ => Err(format!(
                "unknown SQL Server release `{text}` (one of 2005, 2008, 2008r2, 2019)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_release_answers_with_its_own_tds_version() {
        // tiberius asks for 7.4; older servers answer with what they speak.
        assert_eq!(Release::Sql2005.negotiate(0x7400_0004), 0x7209_0002);
        assert_eq!(Release::Sql2008.negotiate(0x7400_0004), 0x730A_0003);
        assert_eq!(Release::Sql2008R2.negotiate(0x7400_0004), 0x730B_0003);
        assert_eq!(Release::Sql2019.negotiate(0x7400_0004), 0x7400_0004);
        // A client asking for less gets what it asked for.
        assert_eq!(Release::Sql2019.negotiate(0x7209_0002), 0x7209_0002);
    }

    #[test]
    fn the_release_follows_the_product_version() {
        for release in [
            Release::Sql2005,
            Release::Sql2008,
            Release::Sql2008R2,
            Release::Sql2019,
        ] {
            let mut server = ServerInfo::default();
            release.apply(&mut server);
            assert_eq!(Release::of(&server), release);
        }
    }
}
