//! Durations as operators write them in KDL (`"90m"`, `"24h"`, `"7d"`, `"4w"`, `"1h30m"`).

use std::fmt;

/// A whole number of seconds. Kept separate from `std::time::Duration` because it prints the
/// way it is written and compares cheaply in thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Duration(u64);

const UNITS: [(char, u64); 5] = [
    ('w', 7 * 86_400),
    ('d', 86_400),
    ('h', 3_600),
    ('m', 60),
    ('s', 1),
];

impl Duration {
    pub const fn from_secs(secs: u64) -> Self {
        Self(secs)
    }

    pub const fn as_secs(self) -> u64 {
        self.0
    }

    /// `self × num / den`, rounded down to whole seconds.
    #[must_use]
    pub fn scale(self, num: u64, den: u64) -> Self {
        Self(self.0.saturating_mul(num) / den)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("a duration is a number and a unit (s, m, h, d, w), largest unit first")]
    Syntax,
    #[error("a duration must be longer than zero")]
    Zero,
    #[error("that duration is too long")]
    Overflow,
}

impl std::str::FromStr for Duration {
    type Err = DurationError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut total: u64 = 0;
        let mut digits = String::new();
        let mut any_part = false;
        // "1h30m", never "30m1h" or "1h1h": each unit once, largest first.
        let mut last_unit = u64::MAX;
        for c in text.trim().chars() {
            if c.is_ascii_digit() {
                digits.push(c);
                continue;
            }
            let (_, unit) = UNITS
                .iter()
                .find(|(u, _)| *u == c)
                .ok_or(DurationError::Syntax)?;
            if digits.is_empty() || *unit >= last_unit {
                return Err(DurationError::Syntax);
            }
            last_unit = *unit;
            let n: u64 = digits.parse().map_err(|_| DurationError::Overflow)?;
            total = n
                .checked_mul(*unit)
                .and_then(|v| total.checked_add(v))
                .ok_or(DurationError::Overflow)?;
            digits.clear();
            any_part = true;
        }
        if !digits.is_empty() || !any_part {
            return Err(DurationError::Syntax);
        }
        if total == 0 {
            return Err(DurationError::Zero);
        }
        Ok(Self(total))
    }
}

impl fmt::Display for Duration {
    /// The largest unit that divides the value exactly: `30h`, `1d`, `90m`, `2w`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (unit, secs) = UNITS
            .iter()
            .find(|(_, secs)| self.0 >= *secs && self.0.is_multiple_of(*secs))
            .copied()
            .unwrap_or(('s', 1));
        write!(f, "{}{unit}", self.0 / secs)
    }
}

impl serde::Serialize for Duration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Duration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// A time of day in UTC, minutes since midnight (`"01:00"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct TimeOfDay(u16);

impl TimeOfDay {
    pub fn minutes(self) -> u16 {
        self.0
    }
}

impl std::str::FromStr for TimeOfDay {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let (h, m) = text.split_once(':').ok_or(())?;
        if h.len() != 2 || m.len() != 2 {
            return Err(());
        }
        let h: u16 = h.parse().map_err(|_| ())?;
        let m: u16 = m.parse().map_err(|_| ())?;
        if h > 23 || m > 59 {
            return Err(());
        }
        Ok(Self(h * 60 + m))
    }
}

impl serde::Serialize for TimeOfDay {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl fmt::Display for TimeOfDay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0 / 60, self.0 % 60)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Result<Duration, DurationError> {
        text.parse()
    }

    #[test]
    fn parses_every_unit_and_compounds() {
        assert_eq!(d("90m").map(Duration::as_secs), Ok(5400));
        assert_eq!(d("1h").map(Duration::as_secs), Ok(3600));
        assert_eq!(d("24h").map(Duration::as_secs), Ok(86_400));
        assert_eq!(d("7d").map(Duration::as_secs), Ok(604_800));
        assert_eq!(d("4w").map(Duration::as_secs), Ok(2_419_200));
        assert_eq!(d("1h30m").map(Duration::as_secs), Ok(5400));
        assert_eq!(d("45s").map(Duration::as_secs), Ok(45));
    }

    #[test]
    fn rejects_what_is_not_a_duration() {
        for bad in [
            "", "24", "h", "24x", "1.5h", "-1h", "h24", "24 h", "30m1h", "1h1h",
        ] {
            assert_eq!(d(bad), Err(DurationError::Syntax), "{bad:?}");
        }
        assert_eq!(d("0h"), Err(DurationError::Zero));
        assert_eq!(d("99999999999999999999w"), Err(DurationError::Overflow));
    }

    #[test]
    fn prints_as_an_operator_would_write_it() {
        assert_eq!(Duration::from_secs(5400).to_string(), "90m");
        assert_eq!(Duration::from_secs(108_000).to_string(), "30h");
        assert_eq!(Duration::from_secs(86_400).to_string(), "1d");
        assert_eq!(Duration::from_secs(1_209_600).to_string(), "2w");
        assert_eq!(Duration::from_secs(691_200).to_string(), "8d");
        assert_eq!(Duration::from_secs(0).to_string(), "0s");
        assert_eq!(Duration::from_secs(61).to_string(), "61s");
    }

    #[test]
    fn times_of_day() {
        assert_eq!("01:00".parse::<TimeOfDay>().map(TimeOfDay::minutes), Ok(60));
        assert_eq!(
            "23:59".parse::<TimeOfDay>().map(|t| t.to_string()),
            Ok("23:59".into())
        );
        for bad in ["24:00", "1:00", "01:60", "0100", "aa:bb"] {
            assert!(bad.parse::<TimeOfDay>().is_err(), "{bad}");
        }
    }
}
