//! One typed configuration, layered: built-in defaults → `nashir.toml` → `NASHIR_*` environment
//! variables → command-line flags. Every other module reads settings from here only.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

mod api;
mod editor;
mod import;
mod metrics;
mod newsletter;
mod server;
mod site;
mod types;

pub use api::{ApiConfig, MIN_ADMIN_TOKEN_CHARS};
pub use editor::EditorConfig;
pub use import::ImportConfig;
pub use metrics::MetricsConfig;
pub use newsletter::{NewsletterConfig, SmtpConfig};
pub use server::{ServerConfig, TrustedProxy};
pub use site::SiteConfig;
pub use types::{ClockTime, Day, DkimAlgorithm, MonthStyle, TimeZone};

/// Declares a settings struct whose field doc comments are also the comments of the generated
/// `nashir.example.toml` (`nashir config default`): the settings are documented in one place.
macro_rules! documented {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[doc = $doc:literal])* pub $field:ident: $ty:ty,)* }) => {
        $(#[$meta])*
        pub struct $name { $($(#[doc = $doc])* pub $field: $ty,)* }
        impl $crate::config::Documented for $name {
            fn docs() -> &'static [(&'static str, &'static str)] {
                &[$((stringify!($field), concat!($($doc, "\n",)* ""))),*]
            }
        }
    };
}
pub(crate) use documented;

/// Settings whose fields carry their documentation: `(field, doc comment)` in declaration order.
pub trait Documented {
    fn docs() -> &'static [(&'static str, &'static str)];
}

documented! {
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    pub struct Config {
        /// Directory holding the SQLite file, media (uploaded images) and the search index.
        /// Also `NASHIR_DATA` or `--data`.
        pub data_dir: PathBuf,
        /// `sqlite://…` or `postgres://user:password@host/db`; empty means the SQLite file
        /// `nashir.db` inside `data_dir`. Also `NASHIR_DATABASE_URL` or `--database`.
        pub database_url: String,
        /// The HTTP server.
        pub server: ServerConfig,
        /// What readers see: name, address, dates.
        pub site: SiteConfig,
        /// The newsroom's editor: sessions, login limits, scheduling and uploads.
        pub editor: EditorConfig,
        /// The JSON API.
        pub api: ApiConfig,
        /// Outgoing mail (newsletter confirmations and issues).
        pub smtp: SmtpConfig,
        /// The newsletter: sender, digest schedule, delivery pace, sign-up limits.
        pub newsletter: NewsletterConfig,
        /// Prometheus metrics at `/metrics`.
        pub metrics: MetricsConfig,
        /// Limits on `nashir import`.
        pub import: ImportConfig,
    }
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
            metrics: MetricsConfig::default(),
            import: ImportConfig::default(),
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
        if let Some(v) = env("NASHIR_METRICS_TOKEN") {
            config.metrics.token = v;
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
        if !self.database_url.is_empty()
            && !self.database_url.starts_with("sqlite:")
            && !self.database_url.starts_with("postgres://")
            && !self.database_url.starts_with("postgresql://")
        {
            bail!("database URL must start with sqlite:// or postgres:// (got {:?})", redact_url(&self.database_url));
        }
        if !self.site.external_link_rel.split_whitespace().all(|t| t.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')) {
            bail!("site.external_link_rel must be lowercase words separated by spaces, e.g. \"nofollow noopener\"");
        }
        if self.site.page_size == 0 || self.site.page_size > 200 {
            bail!("site.page_size must be between 1 and 200");
        }
        let token_chars = self.api.admin_token.chars().count();
        if token_chars > 0 && token_chars < MIN_ADMIN_TOKEN_CHARS {
            bail!(
                "api.admin_token is {token_chars} characters; it must be at least {MIN_ADMIN_TOKEN_CHARS} (make one with \
                 `openssl rand -hex 32`), or empty to turn admin-token calls off"
            );
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

    /// The newsroom's time zone (`site.timezone`, parsed when the configuration was read).
    pub fn timezone(&self) -> chrono_tz::Tz {
        self.site.timezone.0
    }

    /// How dates write month names (`site.month_names`).
    pub fn month_names(&self) -> arabic::MonthNames {
        self.site.month_names.names()
    }

    pub fn index_dir(&self) -> PathBuf {
        self.data_dir.join("index")
    }
}

/// The first lines of the generated example file.
const EXAMPLE_HEADER: &str = "\
# nashir.toml: every setting with its default value and what it does.
# Generated by `nashir config default` from the settings' doc comments in src/config/;
# a test fails when this file is stale. Copy it, keep the lines you
# change, delete the rest. Layers: built-in defaults, then this file (`--config FILE`,
# `NASHIR_CONFIG` or ./nashir.toml), then NASHIR_* environment variables, then flags.
";

impl Config {
    /// Every setting with its default and its documentation, as TOML that parses back to
    /// `Config::default()`: the output of `nashir config default` and `nashir.example.toml`.
    pub fn example_toml() -> String {
        let defaults = toml::Value::try_from(Config::default()).expect("the default config serializes to TOML");
        let table = defaults.as_table().expect("the config is a table");
        let mut out = String::from(EXAMPLE_HEADER);
        let mut sections = String::new();
        for (key, doc) in Config::docs() {
            let value = table.get(*key).unwrap_or_else(|| panic!("setting {key} has no default value"));
            match value.as_table() {
                None => {
                    out.push('\n');
                    write_setting(&mut out, key, doc, value);
                }
                Some(section) => {
                    sections.push('\n');
                    write_comment(&mut sections, doc);
                    sections.push_str(&format!("[{key}]\n"));
                    let docs = section_docs(key).unwrap_or_else(|| panic!("section [{key}] is not declared with documented!"));
                    assert_eq!(docs.len(), section.len(), "section [{key}]: every setting needs a doc comment");
                    for (i, (name, doc)) in docs.iter().enumerate() {
                        let value = section.get(*name).unwrap_or_else(|| panic!("setting {key}.{name} has no default value"));
                        if i > 0 {
                            sections.push('\n');
                        }
                        write_setting(&mut sections, name, doc, value);
                    }
                }
            }
        }
        out.push_str(&sections);
        out
    }
}

/// The documentation of each `[section]` of the config file.
fn section_docs(section: &str) -> Option<&'static [(&'static str, &'static str)]> {
    Some(match section {
        "server" => ServerConfig::docs(),
        "site" => SiteConfig::docs(),
        "editor" => EditorConfig::docs(),
        "api" => ApiConfig::docs(),
        "smtp" => SmtpConfig::docs(),
        "newsletter" => NewsletterConfig::docs(),
        "metrics" => MetricsConfig::docs(),
        "import" => ImportConfig::docs(),
        _ => return None,
    })
}

fn write_comment(out: &mut String, doc: &str) {
    assert!(!doc.trim().is_empty(), "every setting needs a doc comment");
    for line in doc.lines() {
        let line = line.strip_prefix(' ').unwrap_or(line).trim_end();
        out.push_str(if line.is_empty() { "#" } else { "# " });
        out.push_str(line);
        out.push('\n');
    }
}

fn write_setting(out: &mut String, key: &str, doc: &str, value: &toml::Value) {
    write_comment(out, doc);
    out.push_str(&format!("{key} = {value}\n"));
}

/// Hides the password of a connection URL (in the user info, or a `password=` query
/// parameter as libpq accepts it) so it can be logged or shown.
pub fn redact_url(url: &str) -> String {
    let url = match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let userinfo = &url[scheme_end + 3..at];
            match userinfo.find(':') {
                Some(colon) => format!("{}{}:***{}", &url[..scheme_end + 3], &userinfo[..colon], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    };
    match url.split_once('?') {
        Some((base, query)) if query.split('&').any(|p| p.to_ascii_lowercase().starts_with("password=")) => {
            let query: Vec<String> = query
                .split('&')
                .map(|p| if p.to_ascii_lowercase().starts_with("password=") { format!("{}***", &p[..9]) } else { p.to_string() })
                .collect();
            format!("{base}?{}", query.join("&"))
        }
        _ => url,
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
        assert_eq!(
            redact_url("postgres://h/db?user=u&password=secret&sslmode=require"),
            "postgres://h/db?user=u&password=***&sslmode=require"
        );
    }

    #[test]
    fn default_config_is_valid() {
        Config::default().validate().unwrap();
    }

    #[test]
    fn short_admin_tokens_are_refused() {
        let mut c = Config::default();
        c.api.admin_token = "x".repeat(MIN_ADMIN_TOKEN_CHARS - 1);
        let err = c.validate().unwrap_err().to_string();
        assert!(err.contains("api.admin_token") && err.contains("at least 32") && !err.contains("xxxx"), "{err}");
        c.api.admin_token = "x".repeat(MIN_ADMIN_TOKEN_CHARS);
        c.validate().unwrap();
    }

    #[test]
    fn trusted_proxies_are_addresses_or_networks() {
        let c: Config = toml::from_str("[server]\ntrusted_proxies = [\"127.0.0.1\", \"10.0.0.0/8\", \"::1\"]").unwrap();
        let has = |ip: &str| c.server.trusted_proxies.iter().any(|p| p.contains(&ip.parse().unwrap()));
        assert!(has("127.0.0.1") && has("10.9.8.7") && has("::1") && has("::ffff:127.0.0.1"));
        assert!(!has("127.0.0.2") && !has("11.0.0.1"));
        let back = toml::to_string(&c.server).unwrap();
        assert!(back.contains("\"127.0.0.1\"") && back.contains("\"10.0.0.0/8\""), "{back}");
        let err = toml::from_str::<Config>("[server]\ntrusted_proxies = [\"nginx\"]").unwrap_err().to_string();
        assert!(err.contains("neither an IP address"), "{err}");
    }

    #[test]
    fn rejects_unknown_keys() {
        assert!(toml::from_str::<Config>("nope = 1").is_err());
        let c: Config = toml::from_str("[site]\ntimezone = \"Asia/Beirut\"").unwrap();
        assert_eq!(c.timezone(), chrono_tz::Asia::Beirut);
    }
}
