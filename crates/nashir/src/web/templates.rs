//! The default theme, embedded in the binary so one file is the whole product.

use anyhow::Context;
use minijinja::Environment;
use serde::Serialize;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../templates/base.html")),
    ("home.html", include_str!("../../templates/home.html")),
    ("article.html", include_str!("../../templates/article.html")),
    ("list.html", include_str!("../../templates/list.html")),
];

pub const CSS: &str = include_str!("../../templates/style.css");

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn new() -> anyhow::Result<Templates> {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source).with_context(|| format!("template {name}"))?;
        }
        env.add_global("css", minijinja::Value::from_safe_string(CSS.to_string()));
        Ok(Templates { env })
    }

    pub fn render(&self, name: &str, context: impl Serialize) -> anyhow::Result<String> {
        let template = self.env.get_template(name)?;
        template.render(context).with_context(|| format!("rendering {name}"))
    }
}
