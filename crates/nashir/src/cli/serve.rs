use std::process::ExitCode;

use crate::config::{redact_url, Config};
use crate::web::Application;

pub async fn run(config: Config) -> anyhow::Result<ExitCode> {
    let store = super::open_store(&config).await?;
    serve(config, store).await
}

/// Serves until Ctrl-C or SIGTERM, then finishes in-flight requests.
pub async fn serve(config: Config, store: crate::store::Store) -> anyhow::Result<ExitCode> {
    let database = redact_url(&config.effective_database_url());
    let app = Application::build(config, store).await?;
    tracing::info!(addr = %app.local_addr(), %database, "serving");
    println!("ناشر يعمل على {}/", app.base_url());
    app.run_until(shutdown_signal()).await?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
}
