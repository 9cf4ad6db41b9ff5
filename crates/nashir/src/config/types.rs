//! Typed setting values: parsed once, when the configuration is read, so a wrong value is an
//! error at start naming the setting, and code that uses a setting never parses it again. Each
//! type writes itself back as the same string a person types in `nashir.toml`.

use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An IANA time zone, e.g. `Asia/Damascus`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(pub chrono_tz::Tz);

impl Serialize for TimeZone {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.name())
    }
}

impl<'de> Deserialize<'de> for TimeZone {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse()
            .map(TimeZone)
            .map_err(|_| D::Error::custom(format!("unknown time zone {name:?} (expected an IANA name like Asia/Damascus)")))
    }
}

/// How month names are written in dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MonthStyle {
    /// «كانون الأول/ ديسمبر»
    Both,
    /// «كانون الأول»
    Levantine,
    /// «ديسمبر»
    Standard,
}

impl MonthStyle {
    pub fn names(self) -> arabic::MonthNames {
        match self {
            MonthStyle::Both => arabic::MonthNames::Both,
            MonthStyle::Levantine => arabic::MonthNames::Levantine,
            MonthStyle::Standard => arabic::MonthNames::Standard,
        }
    }
}

/// A time of day written `HH:MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClockTime(pub chrono::NaiveTime);

impl fmt::Display for ClockTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%H:%M"))
    }
}

impl std::str::FromStr for ClockTime {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        chrono::NaiveTime::parse_from_str(s, "%H:%M").map(ClockTime).map_err(|_| format!("expected HH:MM, like 07:00 (got {s:?})"))
    }
}

impl Serialize for ClockTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ClockTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(D::Error::custom)
    }
}

/// A weekday by its English name, written in lower case (`friday`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Day(pub chrono::Weekday);

impl Serialize for Day {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let name = match self.0 {
            chrono::Weekday::Mon => "monday",
            chrono::Weekday::Tue => "tuesday",
            chrono::Weekday::Wed => "wednesday",
            chrono::Weekday::Thu => "thursday",
            chrono::Weekday::Fri => "friday",
            chrono::Weekday::Sat => "saturday",
            chrono::Weekday::Sun => "sunday",
        };
        s.serialize_str(name)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        name.parse().map(Day).map_err(|_| D::Error::custom(format!("expected a weekday like friday (got {name:?})")))
    }
}

/// The DKIM signing algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DkimAlgorithm {
    Rsa,
    Ed25519,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Serialize, Deserialize, PartialEq)]
    struct Sample {
        tz: TimeZone,
        months: MonthStyle,
        at: ClockTime,
        day: Day,
        dkim: DkimAlgorithm,
    }

    #[test]
    fn values_round_trip_as_people_write_them() {
        let text = "tz = \"Asia/Beirut\"\nmonths = \"levantine\"\nat = \"07:30\"\nday = \"friday\"\ndkim = \"ed25519\"\n";
        let sample: Sample = toml::from_str(text).unwrap();
        assert_eq!(sample.tz.0, chrono_tz::Asia::Beirut);
        assert_eq!(sample.at.0, chrono::NaiveTime::from_hms_opt(7, 30, 0).unwrap());
        assert_eq!(sample.day.0, chrono::Weekday::Fri);
        assert_eq!(toml::to_string(&sample).unwrap(), text);
    }

    #[test]
    fn wrong_values_name_what_was_expected() {
        for (text, expected) in [
            ("tz = \"Mars/Olympus\"\nmonths = \"both\"\nat = \"07:00\"\nday = \"friday\"\ndkim = \"rsa\"\n", "IANA"),
            ("tz = \"UTC\"\nmonths = \"hijri\"\nat = \"07:00\"\nday = \"friday\"\ndkim = \"rsa\"\n", "levantine"),
            ("tz = \"UTC\"\nmonths = \"both\"\nat = \"7am\"\nday = \"friday\"\ndkim = \"rsa\"\n", "HH:MM"),
            ("tz = \"UTC\"\nmonths = \"both\"\nat = \"07:00\"\nday = \"jumuah\"\ndkim = \"rsa\"\n", "weekday"),
            ("tz = \"UTC\"\nmonths = \"both\"\nat = \"07:00\"\nday = \"friday\"\ndkim = \"md5\"\n", "ed25519"),
        ] {
            let error = toml::from_str::<Sample>(text).unwrap_err().to_string();
            assert!(error.contains(expected), "{error}");
        }
    }
}
