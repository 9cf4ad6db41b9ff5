//! How often a reader receives the newsletter.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Frequency {
    Daily,
    Weekly,
}

impl Frequency {
    pub fn as_str(self) -> &'static str {
        match self {
            Frequency::Daily => "daily",
            Frequency::Weekly => "weekly",
        }
    }

    pub fn parse(s: &str) -> Option<Frequency> {
        match s {
            "daily" => Some(Frequency::Daily),
            "weekly" => Some(Frequency::Weekly),
            _ => None,
        }
    }

    pub fn arabic(self) -> &'static str {
        match self {
            Frequency::Daily => "اليومية",
            Frequency::Weekly => "الأسبوعية",
        }
    }

    pub fn period_secs(self) -> i64 {
        match self {
            Frequency::Daily => 86_400,
            Frequency::Weekly => 7 * 86_400,
        }
    }
}
