use std::process::ExitCode;

use super::serve::DemoLogin;
use crate::config::Config;

/// Populates an empty newsroom with the demo articles, then serves it. A data dir that
/// already holds articles is served as it is.
pub async fn run(mut config: Config) -> anyhow::Result<ExitCode> {
    let store = super::open_store(&config).await?;
    if store.all_article_ids().await?.is_empty() {
        let count = crate::demo::populate(&store).await?;
        tracing::info!(count, "demo newsroom created");
        println!("أُنشئت غرفة أخبار تجريبية من {count} مقالاً في {}", config.data_dir.display());
    }
    let defaults = crate::config::SiteConfig::default();
    if config.site.title == defaults.title {
        let site = crate::demo::site()?;
        config.site.title = site.title;
        config.site.description = site.description;
    }
    let login = demo_owner(&store).await?;
    super::serve::serve(config, store, login).await
}

const DEMO_OWNER_EMAIL: &str = "owner@demo.nashir.invalid";

/// A newcomer is in the editor in one step: the first demo run makes an owner with a fresh
/// random password and prints it (a password is never stored in clear, so later runs cannot
/// print it again: they name the account and `nashir user add`).
async fn demo_owner(store: &crate::store::Store) -> anyhow::Result<Option<DemoLogin>> {
    if store.has_users().await? {
        if store.user_id_by_email(DEMO_OWNER_EMAIL).await?.is_some() {
            println!("حساب المالك التجريبي: {DEMO_OWNER_EMAIL} (كلمة مروره طُبعت في أول تشغيل؛ `nashir user add` يضيف حساباً آخر)");
        }
        return Ok(None);
    }
    let password = crate::accounts::random_token()[..20].to_string();
    let hash = crate::accounts::hash_password(&password)?;
    store.create_user(DEMO_OWNER_EMAIL, "مالك التجربة", crate::domain::Role::Owner, &hash).await?;
    Ok(Some(DemoLogin { email: DEMO_OWNER_EMAIL.to_string(), password }))
}
