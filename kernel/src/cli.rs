//! The `hearth` command line: `serve`, `migrate`, `config check`, `admin create`, `seed`,
//! `plugin check`, `plugin run`, `webhook-secret`.

use std::io::BufRead;
use std::path::PathBuf;

use anyhow::{anyhow, bail, Context};
use clap::{Args, Parser, Subcommand};

use crate::auth::{DisplayName, Email, Password};
use crate::cache::Cache;
use crate::config::{CacheBackendKind, CacheConfig, Config, DEFAULT_CONFIG_PATH};
use crate::metrics::Metrics;
use crate::plugins::PluginHost;
use crate::startup::{Application, Kernel};
use crate::telemetry;

/// Hearth: a plugin-extensible home-sharing marketplace backend.
#[derive(Debug, Parser)]
#[command(name = "hearth", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Args)]
struct ConfigArg {
    /// The configuration file; `HEARTH_SECTION__KEY` environment variables override its keys.
    #[arg(long, short, env = "HEARTH_CONFIG", default_value = DEFAULT_CONFIG_PATH)]
    config: PathBuf,
}

impl ConfigArg {
    fn load(&self) -> anyhow::Result<Config> {
        Config::load(&self.config).map_err(|e| anyhow!("invalid configuration:\n{e}"))
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API (applies pending migrations first).
    Serve(ConfigArg),
    /// Apply pending database migrations and exit.
    Migrate(ConfigArg),
    /// Configuration commands.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
    /// Operator commands.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Create demo hosts, listings and calendars (for trying and benchmarking Hearth).
    Seed {
        /// How many listings.
        #[arg(long, default_value_t = 1000)]
        listings: usize,
        /// How many hosts own them.
        #[arg(long, default_value_t = 100)]
        hosts: usize,
        /// Random seed (same seed, same data).
        #[arg(long, default_value_t = 42)]
        seed: u64,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Print the signing secret of one webhook endpoint, to give to its receiver (each endpoint
    /// has its own, derived from `notifications.webhook_secret`).
    WebhookSecret {
        /// The endpoint's URL, exactly as the notifier posts to it.
        url: String,
        #[command(flatten)]
        config: ConfigArg,
    },
    /// Plugin commands: `check` the configured set, `run` one call of a component.
    // `plugins` was the noun of `plugins check` before the group was one; it stays as a hidden
    // alias so operators' scripts keep working.
    #[command(alias = "plugins")]
    Plugin {
        #[command(subcommand)]
        command: PluginCommand,
    },
    /// GraphQL commands.
    Graphql {
        #[command(subcommand)]
        command: GraphqlCommand,
    },
}

#[derive(Debug, Subcommand)]
enum GraphqlCommand {
    /// Print the GraphQL schema (SDL) that `POST /graphql` serves.
    Schema,
}

#[derive(Debug, Subcommand)]
enum PluginCommand {
    /// Load every `[[plugins]]` entry as `serve` would (file, sha256 pin, world, contract
    /// version, capabilities, config schema) and print a table; exit non-zero on any problem.
    Check(ConfigArg),
    /// Run one call of a component on JSON input and print the output, fuel used and time.
    ///
    /// Input documents by kind: pricing `{"stay": {...}, "items": [...]}`; payments
    /// `{"call": "authorize", "request": {...}}` (or capture / refund / cancel /
    /// parse_webhook); review-policy `{"call": "evaluate", "submission": {...}}` or
    /// `{"call": "reveal", "state": {...}}`; notifier `{"event": {...}}`.
    Run(crate::plugins::runner::RunArgs),
}

#[derive(Debug, Subcommand)]
enum ConfigCommand {
    /// Load and validate the configuration, print a summary (no secrets), and exit non-zero on
    /// any problem.
    Check(ConfigArg),
}

#[derive(Debug, Subcommand)]
enum AdminCommand {
    /// Create an admin account, or promote the account that has this email. The password is
    /// read from `HEARTH_ADMIN_PASSWORD`, or else from the first line of standard input.
    Create {
        /// The admin's email.
        #[arg(long)]
        email: String,
        /// The admin's display name.
        #[arg(long, default_value = "Admin")]
        display_name: String,
        #[command(flatten)]
        config: ConfigArg,
    },
}

/// Runs a parsed command line.
pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(arg) => {
            let config = arg.load()?;
            let _log = telemetry::init(&config.telemetry);
            let app = Application::build(config).await?;
            app.run_until_stopped().await
        }
        Command::Migrate(arg) => {
            let config = arg.load()?;
            let _log = telemetry::init(&config.telemetry);
            // Building the kernel applies migrations.
            Kernel::build(config).await?;
            println!("migrations applied");
            Ok(())
        }
        Command::Config {
            command: ConfigCommand::Check(arg),
        } => {
            let config = arg.load()?;
            println!("{}: OK", arg.config.display());
            println!("  server.bind      {}", config.server.bind);
            println!(
                "  database         {}",
                config.database.url.backend().name()
            );
            let cache = match config.cache.backend {
                CacheBackendKind::Memory => "memory",
                CacheBackendKind::Redis => "redis",
            };
            println!("  cache            {cache}");
            println!("  log format       {:?}", config.telemetry.log_format);
            Ok(())
        }
        Command::Seed {
            listings,
            hosts,
            seed,
            config,
        } => {
            let config = config.load()?;
            let _log = telemetry::init(&config.telemetry);
            let db = crate::data::Database::connect(&config.database).await?;
            db.migrate().await?;
            let seeded = crate::seed::seed(&db, listings, hosts, seed).await?;
            println!(
                "seeded {} listings owned by {} hosts (password: {})",
                seeded.listings,
                seeded.hosts,
                crate::seed::SEED_PASSWORD
            );
            Ok(())
        }
        Command::Plugin {
            command: PluginCommand::Check(arg),
        } => check_plugins(&arg).await,
        Command::Plugin {
            command: PluginCommand::Run(args),
        } => crate::plugins::runner::run(args).await,
        Command::Graphql {
            command: GraphqlCommand::Schema,
        } => {
            print!("{}", crate::graphql::sdl());
            Ok(())
        }
        Command::WebhookSecret { url, config } => {
            use secrecy::ExposeSecret as _;
            let config = config.load()?;
            let master = config
                .notifications
                .webhook_secret
                .as_ref()
                .ok_or_else(|| {
                    anyhow!("notifications.webhook_secret is not set: webhooks are not signed")
                })?;
            println!(
                "{}",
                crate::domain::notifications::endpoint_secret(
                    master.expose_secret().as_bytes(),
                    &url
                )
            );
            Ok(())
        }
        Command::Admin {
            command:
                AdminCommand::Create {
                    email,
                    display_name,
                    config,
                },
        } => {
            let config = config.load()?;
            let _log = telemetry::init(&config.telemetry);
            let email = Email::parse(&email).map_err(|e| anyhow!("--email {e}"))?;
            let display_name =
                DisplayName::parse(&display_name).map_err(|e| anyhow!("--display-name {e}"))?;
            let password = read_admin_password()?;
            let kernel = Kernel::build(config).await?;
            let (account, created) = kernel
                .auth
                .create_admin(email, &password, display_name)
                .await
                .context("cannot create the admin account")?;
            if created {
                println!("created admin account {}", account.id);
            } else {
                println!(
                    "an account with this email existed; promoted {} to admin (its password is unchanged)",
                    account.id
                );
            }
            Ok(())
        }
    }
}

async fn check_plugins(arg: &ConfigArg) -> anyhow::Result<()> {
    let config = arg.load()?;
    let host = PluginHost::new(
        &config.plugin_host,
        &config.resolve(&config.plugin_host.cache_dir),
        Cache::new(&CacheConfig::default(), Metrics::new())?,
        Metrics::new(),
    )?;
    let results = host.check(&config.plugins, &config.base_dir()).await;
    println!(
        "{:<24} {:<14} {:<9} {:<14} STATUS",
        "ID", "KIND", "CONTRACT", "SHA256"
    );
    let mut failed = 0;
    for (entry, result) in config.plugins.iter().zip(&results) {
        match result {
            Ok(plugin) => {
                let info = plugin.info();
                println!(
                    "{:<24} {:<14} {:<9} {:<14} OK",
                    info.id,
                    info.kind,
                    info.contract_version,
                    &info.sha256[..12]
                );
            }
            Err(problem) => {
                failed += 1;
                println!(
                    "{:<24} {:<14} {:<9} {:<14} FAILED: {}",
                    entry.id, entry.kind, "-", "-", problem.message
                );
            }
        }
    }
    if failed > 0 {
        bail!("{failed} of {} plugins failed the check", results.len());
    }
    println!("{} plugins OK", results.len());
    Ok(())
}

fn read_admin_password() -> anyhow::Result<Password> {
    let raw = match std::env::var("HEARTH_ADMIN_PASSWORD") {
        Ok(p) => p,
        Err(_) => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .context("cannot read the password from standard input")?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    if raw.is_empty() {
        bail!("no password: set HEARTH_ADMIN_PASSWORD or pipe it on standard input");
    }
    Password::parse(&raw).map_err(|e| anyhow!("password {e}"))
}
