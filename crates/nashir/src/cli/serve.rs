use std::process::ExitCode;

use crate::config::{redact_url, Config};
use crate::web::Application;

pub async fn run(config: Config) -> anyhow::Result<ExitCode> {
    let store = super::open_store(&config).await?;
    serve(config, store, None).await
}

/// The demo owner's sign-in, printed once the address is known.
pub struct DemoLogin {
    pub email: String,
    pub password: String,
}

/// Serves until Ctrl-C or SIGTERM, then finishes in-flight requests.
pub async fn serve(config: Config, store: crate::store::Store, demo_login: Option<DemoLogin>) -> anyhow::Result<ExitCode> {
    let database = redact_url(&config.effective_database_url());
    let app = Application::build(config, store).await?;
    tracing::info!(addr = %app.local_addr(), %database, "serving");
    println!("ناشر يعمل على {}/", app.base_url());
    if let Some(code) = app.setup_code() {
        // Printed and logged on purpose: the operator needs it once to create the owner.
        tracing::warn!(setup_code = code, url = %format!("{}/admin/setup", app.base_url()), "no account yet: create the owner with this one-time code");
        println!("لا حساب بعد: أنشئ حساب المالك من {}/admin/setup برمز الإعداد {code} (صالح 24 ساعة)", app.base_url());
    }
    if let Some(login) = &demo_login {
        println!("ادخل إلى التحرير: {}/admin/login — البريد {} وكلمة المرور {}", app.base_url(), login.email, login.password);
    }
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
