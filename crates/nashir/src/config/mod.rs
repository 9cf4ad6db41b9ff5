//! One typed configuration, layered: built-in defaults → `nashir.toml` → `NASHIR_*` environment
//! variables → command-line flags. Every other module reads settings from here only.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use serde::{Deserialize, Serialize};

mod newsletter;

pub use newsletter::{NewsletterConfig, SmtpConfig};

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

documented! {
    /// Limits on `nashir import`, so a hostile or broken file cannot exhaust memory or disk.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    pub struct ImportConfig {
        /// Largest size a `.gz` file may expand to, in bytes; beyond it the file is refused.
        pub max_gz_expanded_bytes: u64,
        /// Longest line in a JSON Lines file, in bytes; a longer line fails alone (with its number).
        pub max_jsonl_line_bytes: usize,
        /// Largest Ghost JSON export, in bytes (expanded), which is read whole; larger ones are refused.
        pub max_ghost_bytes: u64,
    }
}

impl Default for ImportConfig {
    fn default() -> Self {
        ImportConfig { max_gz_expanded_bytes: 1 << 30, max_jsonl_line_bytes: 8 << 20, max_ghost_bytes: 256 << 20 }
    }
}

documented! {
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    pub struct ServerConfig {
        /// Address and port to listen on. Also `NASHIR_ADDR` or `serve --addr`.
        pub addr: SocketAddr,
        /// Largest accepted request body, in bytes; larger requests get 413.
        pub max_body_bytes: usize,
        /// Seconds a request may take before the server answers 408.
        pub request_timeout_secs: u64,
        /// Reverse proxies (addresses or CIDR networks, e.g. `["127.0.0.1", "::1"]` for nginx
        /// on the same host) whose `X-Forwarded-For` is believed. Login and sign-up limits
        /// count per client address: a request from one of these is counted under the
        /// right-most address of its `X-Forwarded-For` that is not itself a trusted proxy;
        /// from anyone else the header is ignored. Empty: every client is its peer address.
        pub trusted_proxies: Vec<TrustedProxy>,
    }
}

/// An address or network (`10.0.0.0/8`) in `server.trusted_proxies`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrustedProxy(pub ipnet::IpNet);

impl TrustedProxy {
    pub fn contains(&self, ip: &std::net::IpAddr) -> bool {
        self.0.contains(&ip.to_canonical())
    }
}

impl TryFrom<String> for TrustedProxy {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let s = s.trim();
        s.parse::<ipnet::IpNet>()
            .or_else(|_| s.parse::<std::net::IpAddr>().map(|ip| ipnet::IpNet::from(ip.to_canonical())))
            .map(TrustedProxy)
            .map_err(|_| format!("server.trusted_proxies: {s:?} is neither an IP address nor a network like 10.0.0.0/8"))
    }
}

impl From<TrustedProxy> for String {
    fn from(p: TrustedProxy) -> String {
        if p.0.prefix_len() == p.0.max_prefix_len() {
            p.0.addr().to_string()
        } else {
            p.0.to_string()
        }
    }
}

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
        pub timezone: String,
        /// `both` («كانون الأول/ ديسمبر»), `levantine` or `standard`.
        pub month_names: String,
        /// Write digits as ٠١٢٣ instead of 0123 in dates.
        pub arabic_indic_digits: bool,
        /// Articles per page on section pages (1 to 200).
        pub page_size: u32,
        /// Feeds carry whole articles (true) or only their leads.
        pub feed_full_text: bool,
        /// URL of the newsroom's logo for structured data (defaults to the favicon).
        pub logo_url: String,
    }
}

documented! {
    #[derive(Debug, Clone, Default, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    pub struct ApiConfig {
        /// Bearer token for editor-only API calls (pinning/removing related articles) until
        /// editor accounts exist; empty disables those calls (403). At least 32 characters
        /// (e.g. `openssl rand -hex 32`): a shorter one is refused at start. Also
        /// `NASHIR_API_ADMIN_TOKEN`.
        pub admin_token: String,
    }
}

documented! {
    /// Who may read `/metrics`. Off by default, like Gitea's `[metrics]`; when on, scrapers
    /// either send the token or come from the machine itself.
    #[derive(Debug, Clone, Default, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    pub struct MetricsConfig {
        /// Serve Prometheus metrics at `/metrics` (404 when off).
        pub enabled: bool,
        /// When set, scrapers must send `Authorization: Bearer <token>`; when empty, only
        /// loopback clients (127.0.0.1, ::1) may scrape, and not through a proxy (requests
        /// carrying X-Forwarded-For are refused). Also `NASHIR_METRICS_TOKEN`.
        pub token: String,
    }
}

/// The shortest `api.admin_token` accepted: it guards editor-only calls, and anyone can try
/// guesses against it, so it must be too long to guess (32 hex digits are 128 bits).
pub const MIN_ADMIN_TOKEN_CHARS: usize = 32;

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

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: "127.0.0.1:8080".parse().expect("valid default address"),
            max_body_bytes: 2 * 1024 * 1024,
            request_timeout_secs: 30,
            trusted_proxies: Vec::new(),
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

documented! {
    /// The newsroom's editor: sessions, login limits, scheduling and uploads.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(default, deny_unknown_fields)]
    pub struct EditorConfig {
        /// Hours a login lasts.
        pub session_hours: u64,
        /// Login attempts allowed per account (email) within `login_window_secs`, from all
        /// addresses together; more answer 429 until the window ends (a success starts over).
        pub login_max_failures: u32,
        /// Failed logins allowed per client address within `login_window_secs`, whatever the
        /// accounts tried (see `server.trusted_proxies` behind a reverse proxy).
        pub login_max_failures_per_address: u32,
        /// Window, in seconds, over which login attempts are counted.
        pub login_window_secs: u64,
        /// How often the server looks for scheduled articles that are due.
        pub schedule_interval_secs: u64,
        /// Largest accepted image upload, in bytes (also bounded by `server.max_body_bytes`).
        pub max_upload_bytes: usize,
        /// Most characters an article may have (headline, lead and body together) when saved in
        /// the editor or through the API; longer ones are refused (422, API code `article_too_large`).
        pub max_article_chars: usize,
        /// Most blocks (paragraphs, subheadings, quotes, images) in one article's body.
        pub max_article_blocks: usize,
        /// Revision diffs of more lines than this (both versions together) are not computed; the
        /// page says the diff is too large to show.
        pub max_diff_lines: usize,
    }
}

impl Default for EditorConfig {
    fn default() -> Self {
        EditorConfig {
            session_hours: 12,
            login_max_failures: 5,
            login_max_failures_per_address: 30,
            login_window_secs: 900,
            schedule_interval_secs: 20,
            max_upload_bytes: 1536 * 1024,
            max_article_chars: 200_000,
            max_article_blocks: 2_000,
            max_diff_lines: 20_000,
        }
    }
}

impl EditorConfig {
    /// The per-article size limits the editor and the API enforce.
    pub fn article_limits(&self) -> crate::domain::ArticleLimits {
        crate::domain::ArticleLimits { max_chars: self.max_article_chars, max_blocks: self.max_article_blocks }
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
        assert_eq!(c.site.timezone, "Asia/Beirut");
    }
}
