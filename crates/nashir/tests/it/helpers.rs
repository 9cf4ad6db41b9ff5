//! `spawn_app()`: the real application on port 0, over a fresh SQLite file or a fresh
//! PostgreSQL database, with one method per endpoint the tests use.

use std::path::{Path, PathBuf};

use nashir::config::Config;
use nashir::{Application, Store};
use sqlx::Connection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub search: std::sync::Arc<nashir::search::SearchIndex>,
    pub store: Store,
    pub client: reqwest::Client,
    pub config: Config,
    /// The first-run setup code the server printed (there is no account when it starts).
    pub setup_code: Option<String>,
    _dir: tempfile::TempDir,
}

/// Runs a storage test on SQLite and on PostgreSQL: `storage_test!(name)` expects
/// `async fn name(app: TestApp)` in scope and makes `name::sqlite` and `name::postgres`.
#[macro_export]
macro_rules! storage_test {
    // `storage_test!(name(Backend))`: for `async fn name(backend: Backend)` that builds its own app.
    ($name:ident (Backend)) => {
        $crate::storage_test!(@tests $name, backend => super::$name(backend));
    };
    ($name:ident) => {
        $crate::storage_test!(@tests $name, backend => $crate::helpers::with_app(backend, |_| {}, super::$name));
    };
    // `storage_test!(name, adjust)`: the same, with `fn adjust(&mut Config)` applied first.
    ($name:ident, $adjust:ident) => {
        $crate::storage_test!(@tests $name, backend => $crate::helpers::with_app(backend, super::$adjust, super::$name));
    };
    (@tests $name:ident, $backend:ident => $test:expr) => {
        mod $name {
            #[test]
            fn sqlite() {
                let $backend = $crate::helpers::Backend::Sqlite;
                $crate::helpers::run_test(concat!(module_path!(), "::sqlite"), $test);
            }
            #[test]
            fn postgres() {
                let $backend = $crate::helpers::Backend::Postgres;
                $crate::helpers::run_test(concat!(module_path!(), "::postgres"), $test);
            }
        }
    };
}

/// Runs `test` on a fresh app over `backend`; without a PostgreSQL server the PostgreSQL run is
/// skipped, loudly (see [`postgres_admin_url`]).
pub async fn with_app<F: std::future::Future<Output = ()>>(
    backend: Backend,
    adjust: impl FnOnce(&mut Config),
    test: impl FnOnce(TestApp) -> F,
) {
    match spawn_app_with(backend, adjust).await {
        Some(app) => test(app).await,
        None => assert_eq!(backend, Backend::Postgres, "sqlite always available"),
    }
}

/// How long one test may take, its runtime's shutdown included, before the whole run is
/// aborted: a hung test then fails CI within minutes, with its name, instead of at CI's limit.
const TEST_LIMIT: std::time::Duration = std::time::Duration::from_secs(900);

/// Runs an async test on its own two-worker runtime, as `#[tokio::test(flavor =
/// "multi_thread")]` would, under a watchdog that also covers the runtime's shutdown (which
/// waits for every blocking task, and is where a stuck background task shows).
pub fn run_test(name: &'static str, test: impl std::future::Future<Output = ()>) {
    let _watchdog = Watchdog::start(name, TEST_LIMIT);
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("test runtime");
    runtime.block_on(test);
    drop(runtime);
}

/// Aborts the process if dropped later than its limit (a panicking test drops it too).
struct Watchdog {
    done: std::sync::Arc<(std::sync::Mutex<bool>, std::sync::Condvar)>,
}

impl Watchdog {
    fn start(name: &'static str, limit: std::time::Duration) -> Self {
        let done = std::sync::Arc::new((std::sync::Mutex::new(false), std::sync::Condvar::new()));
        let seen = done.clone();
        std::thread::spawn(move || {
            let (lock, wake) = &*seen;
            let finished = lock.lock().unwrap_or_else(|e| e.into_inner());
            let (finished, _) = wake.wait_timeout_while(finished, limit, |finished| !*finished).unwrap_or_else(|e| e.into_inner());
            if !*finished {
                eprintln!(
                    "\n!!! {name} still running after {} s (its runtime's shutdown included): aborting the run !!!\n",
                    limit.as_secs()
                );
                std::process::abort();
            }
        });
        Self { done }
    }
}

impl Drop for Watchdog {
    fn drop(&mut self) {
        let (lock, wake) = &*self.done;
        *lock.lock().unwrap_or_else(|e| e.into_inner()) = true;
        wake.notify_one();
    }
}

/// The admin URL of the test PostgreSQL server, or None (with a loud message) when the
/// environment has none. `NASHIR_REQUIRE_POSTGRES=1` (set by CI) turns the skip into a failure.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("NASHIR_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var("NASHIR_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                panic!("NASHIR_REQUIRE_POSTGRES=1 but NASHIR_TEST_POSTGRES_URL is not set");
            }
            eprintln!("\n!!! SKIPPED on PostgreSQL: set NASHIR_TEST_POSTGRES_URL (scripts/pg-test-server prints one) !!!\n");
            None
        }
    }
}

/// Creates an empty database for one test and returns its URL.
pub async fn fresh_database(backend: Backend, dir: &Path) -> Option<String> {
    match backend {
        Backend::Sqlite => Some(format!("sqlite://{}?mode=rwc", dir.join("test.db").display())),
        Backend::Postgres => {
            let admin = postgres_admin_url()?;
            let name = format!("nashir_test_{}", uuid_like());
            let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect to the test PostgreSQL server");
            sqlx::query(&format!("CREATE DATABASE {name} ENCODING 'UTF8' TEMPLATE template0"))
                .execute(&mut conn)
                .await
                .expect("create test database");
            conn.close().await.ok();
            let (prefix, _) = admin.rsplit_once('/').expect("admin URL has a database path");
            Some(format!("{prefix}/{name}"))
        }
    }
}

fn uuid_like() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{}_{}_{}", std::process::id(), nanos % 1_000_000_000, COUNTER.fetch_add(1, Ordering::Relaxed))
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Config)) -> Option<TestApp> {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_test_writer().try_init();
    let dir = tempfile::tempdir().expect("temp dir");
    let database_url = fresh_database(backend, dir.path()).await?;
    let mut config = Config { data_dir: dir.path().join("data"), database_url: database_url.clone(), ..Config::default() };
    config.server.addr = "127.0.0.1:0".parse().unwrap();
    adjust(&mut config);
    std::fs::create_dir_all(&config.data_dir).unwrap();
    let store = Store::connect(&database_url).await.expect("connect store");
    let app = Application::build(config.clone(), store.clone()).await.expect("build app");
    let base = app.base_url().to_string();
    let search = app.state().search.clone();
    let setup_code = app.setup_code().map(str::to_string);
    tokio::spawn(app.run_until(std::future::pending()));
    // The server answers while its index is built in the background; tests search at once.
    index_built(&search).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    Some(TestApp { base, search, store, client, config, setup_code, _dir: dir })
}

/// Waits until a started server's search index is no longer being built in the background
/// (`Application::build` marks it due when it is new or far behind; the search follower,
/// started by `run_until`, builds it). Fails after a minute.
pub async fn index_built(search: &nashir::search::SearchIndex) {
    let start = std::time::Instant::now();
    while search.is_building() {
        assert!(start.elapsed() < std::time::Duration::from_secs(60), "the search index was not built within a minute");
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}

/// The seed article, read from the shared folder beside the repository, or None with one loud
/// line when that folder is missing (see [`shared_file`]). Its rules are also checked on
/// [`fixture_path`]`("seed-shaped.txt")`, written for these tests, so a clone alone covers them.
pub fn seed_path() -> Option<PathBuf> {
    shared_file("seeds/000_dcfa9bcd65d3d126.txt")
}

/// A file under `../shared` (the seed, the corpus): never copied into the repository. Missing,
/// the calling test skips with one loud line, unless `CI` or `NASHIR_REQUIRE_SHARED=1` is set
/// (CI requires `../shared` as it requires PostgreSQL): then it fails.
pub fn shared_file(relative: &str) -> Option<PathBuf> {
    let path = shared_dir().join(relative);
    if path.exists() {
        return Some(path);
    }
    let required = std::env::var("NASHIR_REQUIRE_SHARED").is_ok_and(|v| v == "1")
        || std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0");
    assert!(!required, "{} is missing and CI or NASHIR_REQUIRE_SHARED=1 requires ../shared", path.display());
    eprintln!("\n!!! SKIPPED (no ../shared): {} is missing (NASHIR_SHARED_DIR names another folder) !!!\n", path.display());
    None
}

/// The shared folder: `NASHIR_SHARED_DIR`, or `shared` beside the repository.
pub fn shared_dir() -> PathBuf {
    std::env::var_os("NASHIR_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

/// A file written for these tests, in `crates/nashir/tests/data/`.
pub fn fixture_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(name)
}

impl TestApp {
    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).send().await.expect("request")
    }

    pub async fn get_text(&self, path: &str) -> (u16, String) {
        let resp = self.get(path).await;
        let status = resp.status().as_u16();
        (status, resp.text().await.unwrap())
    }

    pub async fn get_json(&self, path: &str) -> (u16, serde_json::Value) {
        let resp = self.get(path).await;
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("json body"))
    }

    /// Brings the search index up to date with the store, as the background follower would.
    pub async fn sync_search(&self) {
        self.search.catch_up(&self.store).await.expect("search index catches up");
    }

    pub fn data_dir(&self) -> &Path {
        &self.config.data_dir
    }

    /// Runs the `nashir` binary against this app's database and data dir.
    pub fn nashir(&self, args: &[&str]) -> std::process::Output {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_nashir"));
        cmd.arg("--data").arg(self.data_dir()).arg("--database").arg(&self.config.database_url).args(args);
        cmd.env_remove("NASHIR_CONFIG").env("RUST_LOG", "warn");
        cmd.output().expect("run nashir")
    }
}
