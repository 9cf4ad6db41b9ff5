use std::process::ExitCode;

use crate::config::Config;

/// Populates an empty newsroom with the demo articles, then serves it. A data dir that
/// already holds articles is served as it is.
pub async fn run(mut config: Config) -> anyhow::Result<ExitCode> {
    let store = super::open_store(&config).await?;
    if store.all_article_ids().await?.is_empty() {
        let count = crate::demo::populate_in(&store, Some(&config.data_dir.join("media"))).await?;
        tracing::info!(count, "demo newsroom created");
        println!("أُنشئت غرفة أخبار تجريبية من {count} مقالاً في {}", config.data_dir.display());
    }
    let defaults = crate::config::SiteConfig::default();
    if config.site.title == defaults.title {
        let site = crate::demo::site()?;
        config.site.title = site.title;
        config.site.description = site.description;
    }
    super::serve::serve(config, store).await
}
