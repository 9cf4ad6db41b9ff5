//! Dates as readers see them: in the newsroom's time zone, with its month names and digits.

use chrono::{DateTime, Datelike, Utc};

use crate::config::Config;

/// How dates are written for this site.
#[derive(Debug, Clone, Copy)]
pub struct DateStyle {
    pub tz: chrono_tz::Tz,
    pub names: arabic::MonthNames,
    pub digits: arabic::Digits,
}

impl DateStyle {
    /// «الجمعة 3 كانون الأول/ ديسمبر 2021» in the newsroom's time zone.
    pub fn long(&self, t: DateTime<Utc>) -> String {
        let local = t.with_timezone(&self.tz);
        arabic::format_date(local.year(), local.month(), local.day(), self.names, self.digits, true)
    }

    /// The style the configuration asks for (time zone, month names, digits).
    pub fn from_config(config: &Config) -> DateStyle {
        DateStyle {
            tz: config.timezone(),
            names: config.month_names(),
            digits: if config.site.arabic_indic_digits { arabic::Digits::ArabicIndic } else { arabic::Digits::Western },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_follow_the_newsroom_zone() {
        let style = DateStyle { tz: chrono_tz::Asia::Damascus, names: arabic::MonthNames::Both, digits: arabic::Digits::Western };
        let t = DateTime::parse_from_rfc3339("2021-12-02T23:30:00Z").unwrap().with_timezone(&Utc);
        assert_eq!(style.long(t), "الجمعة 3 كانون الأول/ ديسمبر 2021");
    }
}
