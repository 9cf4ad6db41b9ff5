//! `nashir user add EMAIL --role …`: the password is read from the terminal (or one line of
//! stdin when it is not a terminal), never from argv where `ps` and shell history see it.
//! `nashir user disable EMAIL` takes access away at once (sessions end, API tokens are
//! revoked); `nashir user enable EMAIL` lets the person sign in again.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::{Args, Subcommand};

use crate::accounts::{check_password_strength, hash_password, parse_email};
use crate::config::Config;
use crate::domain::Role;
use crate::store::StoreError;

#[derive(Args, Debug)]
pub struct UserArgs {
    #[command(subcommand)]
    pub command: UserCommand,
}

#[derive(Subcommand, Debug)]
pub enum UserCommand {
    /// Create an account; the password is asked for on the terminal or read from stdin.
    Add {
        email: String,
        /// owner, editor or writer.
        #[arg(long)]
        role: String,
        /// Display name (default: the part of the email before @).
        #[arg(long)]
        name: Option<String>,
    },
    /// Take access away: the person cannot sign in, their sessions end and their API tokens
    /// are revoked, at once.
    Disable { email: String },
    /// Let a disabled person sign in again (their old API tokens stay revoked).
    Enable { email: String },
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("كلمة المرور: ")?;
        let second = rpassword::prompt_password("أعد كتابة كلمة المرور: ")?;
        if first != second {
            anyhow::bail!("كلمتا المرور غير متطابقتين");
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\n', '\r']).to_string())
    }
}

pub async fn run(config: Config, args: &UserArgs) -> anyhow::Result<ExitCode> {
    match &args.command {
        UserCommand::Add { email, role, name } => {
            let email = parse_email(email).map_err(anyhow::Error::msg)?;
            let role = Role::parse(role).ok_or_else(|| anyhow::anyhow!("الدور «{role}» غير معروف: owner أو editor أو writer"))?;
            let password = read_password()?;
            check_password_strength(&password).map_err(anyhow::Error::msg)?;
            let name = name.clone().unwrap_or_else(|| email.split('@').next().unwrap_or_default().to_string());
            let hash = hash_password(&password)?;
            let store = super::open_store(&config).await?;
            match store.create_user(&email, name.trim(), role, &hash).await {
                Ok(id) => {
                    println!("أُنشئ الحساب #{id} {email} ({})", role.label());
                    Ok(ExitCode::SUCCESS)
                }
                Err(StoreError::Conflict(_)) => anyhow::bail!("يوجد حساب بالبريد {email}"),
                Err(e) => Err(e.into()),
            }
        }
        UserCommand::Disable { email } => set_disabled(&config, email, true).await,
        UserCommand::Enable { email } => set_disabled(&config, email, false).await,
    }
}

async fn set_disabled(config: &Config, email: &str, disabled: bool) -> anyhow::Result<ExitCode> {
    let email = parse_email(email).map_err(anyhow::Error::msg)?;
    let store = super::open_store(config).await?;
    let Some(id) = store.user_id_by_email(&email).await? else { anyhow::bail!("لا يوجد حساب بالبريد {email}") };
    store.set_user_disabled(id, disabled).await?;
    if disabled {
        println!("أوقف الحساب #{id} {email}: انتهت جلساته وأُلغيت رموز API الخاصة به");
    } else {
        println!("أعيد تفعيل الحساب #{id} {email}");
    }
    Ok(ExitCode::SUCCESS)
}
