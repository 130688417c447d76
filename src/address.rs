//! Stable addresses of protected things: `SITE/KIND/NAME[/DETAIL]`.
//!
//! Addresses are what `--target`, the ignore file, findings and scenarios' `affects` use, so
//! they are built in one place.

use std::fmt;

/// The kinds an address can name, in the spelling addresses use.
pub const KINDS: [&str; 11] = [
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
    "site",
];

#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct Address(String);

impl Address {
    pub fn new(site: &str, kind: &str, name: &str) -> Self {
        Self(format!("{site}/{kind}/{name}"))
    }

    #[must_use]
    pub fn detail(&self, detail: &str) -> Self {
        Self(format!("{}/{detail}", self.0))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `other` is this address or one below it (`s/database/db` covers
    /// `s/database/db/full`).
    pub fn covers(&self, other: &Self) -> bool {
        other.0 == self.0
            || (other.0.starts_with(&self.0) && other.0.as_bytes().get(self.0.len()) == Some(&b'/'))
    }

    pub fn site(&self) -> &str {
        self.0.split('/').next().unwrap_or_default()
    }

    /// Checks the shape `SITE/KIND/NAME[/DETAIL]` of an address an operator typed.
    pub fn parse(text: &str) -> Result<Self, String> {
        let parts: Vec<&str> = text.split('/').collect();
        if parts.len() < 3 || parts.len() > 4 || parts.iter().any(|p| p.is_empty()) {
            return Err("an address is SITE/KIND/NAME or SITE/KIND/NAME/DETAIL".into());
        }
        if !KINDS.contains(&parts[1]) {
            return Err(format!(
                "`{}` is not a kind; kinds are {}",
                parts[1],
                KINDS.join(", ")
            ));
        }
        Ok(Self(text.to_owned()))
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_and_checks_addresses() {
        let a = Address::new("redmond", "database", "rtc").detail("full");
        assert_eq!(a.as_str(), "redmond/database/rtc/full");
        assert_eq!(a.site(), "redmond");
        assert!(Address::parse("redmond/database/rtc").is_ok());
        assert!(Address::parse("redmond/database").is_err());
        assert!(Address::parse("redmond/databse/rtc").is_err());
        assert!(Address::parse("a/database/b/c/d").is_err());
        assert!(Address::parse("a//b").is_err());
    }
}
