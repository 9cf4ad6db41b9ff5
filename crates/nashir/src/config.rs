//! One typed configuration, layered: built-in defaults → `nashir.toml` → `NASHIR_*` environment
//! variables → command-line flags. Every other module reads settings from here only.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Directory holding the SQLite file, media and search indexes.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; empty means the SQLite file inside `data_dir`.
    pub database_url: String,
    pub server: ServerConfig,
    pub site: SiteConfig,
    pub editor: EditorConfig,
    pub api: ApiConfig,
    pub smtp: crate::newsletter::SmtpConfig,
    pub newsletter: crate::newsletter::NewsletterConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    pub addr: SocketAddr,
    /// Largest accepted request body, in bytes; larger requests get 413.
    pub max_body_bytes: usize,
    /// Seconds a request may take before the server answers 408.
    pub request_timeout_secs: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SiteConfig {
    /// Public base URL, used for canonical links and absolute URLs in the API and mail.
    pub url: String,
    pub title: String,
    pub description: String,
    /// IANA time zone of the newsroom, e.g. `Asia/Damascus`; dates are shown in it.
    pub timezone: String,
    /// `both` («كانون الأول/ ديسمبر»), `levantine` or `standard`.
    pub month_names: String,
    /// Write digits as ٠١٢٣ instead of 0123 in dates.
    pub arabic_indic_digits: bool,
    /// Articles per page on section pages.
    pub page_size: u32,
    /// Feeds carry whole articles (true) or only their leads.
    pub feed_full_text: bool,
    /// URL of the newsroom's logo for structured data (defaults to the favicon).
    pub logo_url: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// Bearer token for editor-only API calls (pinning/removing related articles) until
    /// editor accounts exist; empty disables those calls (403). Also `NASHIR_API_ADMIN_TOKEN`.
    pub admin_token: String,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("nashir-data"),
            database_url: String::new(),
            server: ServerConfig::default(),
            site: SiteConfig::default(),
            editor: EditorConfig::default(),
            api: ApiConfig::default(),
            smtp: Default::default(),
            newsletter: Default::default(),
        }
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: "127.0.0.1:8080".parse().expect("valid default address"),
            max_body_bytes: 2 * 1024 * 1024,
            request_timeout_secs: 30,
        }
    }
}

impl Default for SiteConfig {
    fn default() -> Self {
        SiteConfig {
            url: String::new(),
            title: "ناشر".into(),
            description: "أخبار ومقالات بالعربية".into(),
            timezone: "Asia/Damascus".into(),
            month_names: "both".into(),
            arabic_indic_digits: false,
            page_size: 20,
            feed_full_text: true,
            logo_url: String::new(),
        }
    }
}

/// The newsroom's editor: sessions, login limits, scheduling and uploads.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EditorConfig {
    /// Hours a login lasts.
    pub session_hours: u64,
    /// Failed logins allowed per client address and email within `login_window_secs`.
    pub login_max_failures: u32,
    pub login_window_secs: u64,
    /// How often the server looks for scheduled articles that are due.
    pub schedule_interval_secs: u64,
    /// Largest accepted image upload, in bytes (also bounded by `server.max_body_bytes`).
    pub max_upload_bytes: usize,
}

impl Default for EditorConfig {
    fn default() -> Self {
        EditorConfig {
            session_hours: 12,
            login_max_failures: 5,
            login_window_secs: 900,
            schedule_interval_secs: 20,
            max_upload_bytes: 1536 * 1024,
        }
    }
}

/// Values given on the command line; `None` leaves the lower layers in force.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config_file: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub addr: Option<SocketAddr>,
    pub site_url: Option<String>,
}

impl Config {
    /// Builds the configuration from all layers. A config file named explicitly must exist;
    /// `./nashir.toml` is read only when present.
    pub fn load(overrides: &Overrides) -> anyhow::Result<Config> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let file = overrides.config_file.clone().or_else(|| env("NASHIR_CONFIG").map(PathBuf::from));
        let mut config = match file {
            Some(path) => Self::from_file(&path)?,
            None if Path::new("nashir.toml").exists() => Self::from_file(Path::new("nashir.toml"))?,
            None => Config::default(),
        };
        if let Some(v) = env("NASHIR_DATA") {
            config.data_dir = v.into();
        }
        if let Some(v) = env("NASHIR_DATABASE_URL") {
            config.database_url = v;
        }
        if let Some(v) = env("NASHIR_ADDR") {
            config.server.addr = v.parse().with_context(|| format!("NASHIR_ADDR={v} is not an address like 127.0.0.1:8080"))?;
        }
        if let Some(v) = env("NASHIR_API_ADMIN_TOKEN") {
            config.api.admin_token = v;
        }
        if let Some(v) = env("NASHIR_SITE_URL") {
            config.site.url = v;
        }
        if let Some(v) = env("NASHIR_SMTP_URL") {
            config.smtp.url = v;
        }
        if let Some(v) = &overrides.data_dir {
            config.data_dir = v.clone();
        }
        if let Some(v) = &overrides.database_url {
            config.database_url = v.clone();
        }
        if let Some(v) = overrides.addr {
            config.server.addr = v;
        }
        if let Some(v) = &overrides.site_url {
            config.site.url = v.clone();
        }
        config.validate()?;
        Ok(config)
    }

    pub fn from_file(path: &Path) -> anyhow::Result<Config> {
        let text = std::fs::read_to_string(path).with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
    }

    pub fn validate(&self) -> anyhow::Result<()> {
        self.timezone()?;
        self.month_names()?;
        if !self.database_url.is_empty()
            && !self.database_url.starts_with("sqlite:")
            && !self.database_url.starts_with("postgres://")
            && !self.database_url.starts_with("postgresql://")
        {
            bail!("database URL must start with sqlite:// or postgres:// (got {:?})", redact_url(&self.database_url));
        }
        if self.site.page_size == 0 || self.site.page_size > 200 {
            bail!("site.page_size must be between 1 and 200");
        }
        self.newsletter.validate()?;
        self.smtp.validate()?;
        Ok(())
    }

    /// The database URL to connect to: the configured one, or the SQLite file in the data dir.
    pub fn effective_database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}?mode=rwc", self.data_dir.join("nashir.db").display())
        } else {
            self.database_url.clone()
        }
    }

    pub fn timezone(&self) -> anyhow::Result<chrono_tz::Tz> {
        self.site
            .timezone
            .parse()
            .map_err(|_| anyhow::anyhow!("unknown time zone {:?} (expected an IANA name like Asia/Damascus)", self.site.timezone))
    }

    pub fn month_names(&self) -> anyhow::Result<arabic::MonthNames> {
        Ok(match self.site.month_names.as_str() {
            "both" => arabic::MonthNames::Both,
            "levantine" => arabic::MonthNames::Levantine,
            "standard" => arabic::MonthNames::Standard,
            other => bail!("site.month_names must be both, levantine or standard (got {other:?})"),
        })
    }

    pub fn index_dir(&self) -> PathBuf {
        self.data_dir.join("index")
    }
}

/// Hides the password of a connection URL so it can be logged or shown.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme_end + 3], &userinfo[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_password() {
        assert_eq!(redact_url("postgres://u:secret@h/db"), "postgres://u:***@h/db");
        assert_eq!(redact_url("postgres://u@h/db"), "postgres://u@h/db");
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }

    #[test]
    fn default_config_is_valid() {
        Config::default().validate().unwrap();
    }

    #[test]
    fn rejects_unknown_keys() {
        assert!(toml::from_str::<Config>("nope = 1").is_err());
        let c: Config = toml::from_str("[site]\ntimezone = \"Asia/Beirut\"").unwrap();
        assert_eq!(c.site.timezone, "Asia/Beirut");
    }
}
