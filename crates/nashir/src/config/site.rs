//! `[site]`: what readers see: name, address, dates.

use serde::{Deserialize, Serialize};

use super::documented;
use super::types::{MonthStyle, TimeZone};

documented! {
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    pub struct SiteConfig {
        /// Public base URL, used for canonical links and absolute URLs in the API and mail;
        /// empty means `http://` + `server.addr`. Also `NASHIR_SITE_URL` or `serve --site-url`.
        pub url: String,
        /// Name of the newsroom, shown in every page title, feed and mail.
        pub title: String,
        /// One-line description for the home page, feeds and search engines.
        pub description: String,
        /// IANA time zone of the newsroom, e.g. `Asia/Damascus`; dates are shown in it.
        pub timezone: TimeZone,
        /// `both` («كانون الأول/ ديسمبر»), `levantine` or `standard`.
        pub month_names: MonthStyle,
        /// Write digits as ٠١٢٣ instead of 0123 in dates.
        pub arabic_indic_digits: bool,
        /// Articles per page on section pages (1 to 200).
        pub page_size: u32,
        /// Feeds carry whole articles (true) or only their leads.
        pub feed_full_text: bool,
        /// URL of the newsroom's logo for structured data (defaults to the favicon).
        pub logo_url: String,
        /// `rel` of links in article text that lead to other sites, e.g.
        /// `"nofollow noopener"`; empty for none. Lowercase tokens separated by spaces.
        pub external_link_rel: String,
    }
}

impl Default for SiteConfig {
    fn default() -> Self {
        SiteConfig {
            url: String::new(),
            title: "ناشر".into(),
            description: "أخبار ومقالات بالعربية".into(),
            timezone: TimeZone(chrono_tz::Asia::Damascus),
            month_names: MonthStyle::Both,
            arabic_indic_digits: false,
            page_size: 20,
            feed_full_text: true,
            logo_url: String::new(),
            external_link_rel: "noopener".into(),
        }
    }
}
