//! Startup: build the kernel from configuration, bind the listener, serve until stopped, and
//! drain requests in flight within the grace period.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::auth::Auth;
use crate::cache::Cache;
use crate::config::{Config, ConfigError};
use crate::data::Database;
use crate::domain::listings::Listings;
use crate::domain::quotes::Quotes;
use crate::http::{self, AppState};
use crate::metrics::Metrics;
use crate::plugins::{LoadErrors, PluginHost, PluginSet};

/// Everything the kernel is made of, built once per process and shared by every request.
#[derive(Debug)]
pub struct Kernel {
    /// The loaded configuration.
    pub config: Config,
    /// The database pool.
    pub db: Database,
    /// The cache.
    pub cache: Cache,
    /// Accounts and sessions.
    pub auth: Auth,
    /// Counters.
    pub metrics: Metrics,
    /// The WebAssembly plugins.
    pub plugins: Arc<PluginHost>,
    /// Listings, search and calendars.
    pub listings: Listings,
    /// Priced quotes.
    pub quotes: Quotes,
}

/// Why a plugin reload changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    /// The kernel was not started from a configuration file, so there is nothing to re-read.
    #[error("the kernel was not started from a configuration file")]
    NoSource,
    /// The configuration file no longer parses.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// One or more plugins failed to load.
    #[error("{0}")]
    Plugins(#[from] LoadErrors),
}

impl Kernel {
    /// Connects to the database (applying pending migrations) and builds every service.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let db = Database::connect(&config.database)
            .await
            .context("cannot open the database (database.url)")?;
        db.migrate().await.context("cannot apply migrations")?;
        let metrics = Metrics::new();
        let cache =
            Cache::new(&config.cache, metrics.clone()).context("cannot set up the cache")?;
        let auth = Auth::new(db.clone(), &cache, &config.auth, metrics.clone());
        let plugins = PluginHost::new(
            &config.plugin_host,
            &config.resolve(&config.plugin_host.cache_dir),
            cache.clone(),
            metrics.clone(),
        )?;
        let set = plugins
            .load_set(&config.plugins, &config.base_dir())
            .await
            .map_err(|e| anyhow::anyhow!("cannot load plugins:\n{e}"))?;
        tracing::info!(plugins = set.len(), "plugins loaded");
        plugins.install(set);
        let plugins = Arc::new(plugins);
        let listings = Listings::new(db.clone(), &cache);
        let quotes = Quotes::new(
            db.clone(),
            listings.clone(),
            plugins.clone(),
            chrono::Duration::minutes(i64::try_from(config.quotes.ttl_minutes).unwrap_or(15)),
        );
        Ok(Self {
            config,
            db,
            cache,
            auth,
            metrics,
            plugins,
            listings,
            quotes,
        })
    }

    /// Re-reads the configuration file and swaps in its `[[plugins]]` set once every plugin in
    /// it has loaded; on any problem the running set stays. Other sections need a restart.
    pub async fn reload_plugins(&self) -> Result<Arc<PluginSet>, ReloadError> {
        let source = self.config.source.as_deref().ok_or(ReloadError::NoSource)?;
        let fresh = Config::load(source)?;
        Ok(self
            .plugins
            .reload(&fresh.plugins, &fresh.base_dir())
            .await?)
    }
}

/// A kernel bound to its listener, ready to serve.
#[derive(Debug)]
pub struct Application {
    listener: TcpListener,
    kernel: Arc<Kernel>,
}

impl Application {
    /// Builds the kernel and binds `server.bind` (port 0 picks a free port).
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        let bind = config.server.bind;
        let kernel = Arc::new(Kernel::build(config).await?);
        let listener = TcpListener::bind(bind)
            .await
            .with_context(|| format!("cannot listen on {bind} (server.bind)"))?;
        Ok(Self { listener, kernel })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.listener.local_addr().map(|a| a.port()).unwrap_or(0)
    }

    /// The kernel, for tests and commands that act beside the server.
    pub fn kernel(&self) -> Arc<Kernel> {
        self.kernel.clone()
    }

    /// Serves until SIGINT or SIGTERM.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `shutdown` completes, then stops accepting and lets requests in flight
    /// finish for up to `server.shutdown_grace_secs`.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let grace = self.kernel.config.server.shutdown_grace();
        let addr = self.listener.local_addr()?;
        let app = http::app(AppState(self.kernel.clone()));
        let (stopping_tx, stopping_rx) = tokio::sync::oneshot::channel::<()>();
        let signal = async move {
            shutdown.await;
            tracing::info!("shutting down: draining requests in flight");
            let _ = stopping_tx.send(());
        };
        tracing::info!(%addr, "serving");
        let server = axum::serve(
            self.listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(signal)
        .into_future();
        let reloader = tokio::spawn(reload_on_sighup(self.kernel.clone()));
        let deadline = async move {
            // Only a signal starts the grace period; a dropped sender means the server ended.
            if stopping_rx.await.is_ok() {
                tokio::time::sleep(grace).await;
            } else {
                std::future::pending::<()>().await;
            }
        };
        tokio::select! {
            served = server => served.context("the HTTP server failed")?,
            () = deadline => tracing::warn!(?grace, "grace period over; abandoning requests still in flight"),
        }
        reloader.abort();
        self.kernel.db.close().await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Reloads the plugins on every SIGHUP.
async fn reload_on_sighup(kernel: Arc<Kernel>) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let Ok(mut hup) = signal(SignalKind::hangup()) else {
            return;
        };
        while hup.recv().await.is_some() {
            match kernel.reload_plugins().await {
                Ok(set) => tracing::info!(plugins = set.len(), "SIGHUP: plugins reloaded"),
                Err(e) => {
                    tracing::error!(error = %e, "SIGHUP: plugin reload failed; keeping the running set")
                }
            }
        }
    }
    #[cfg(not(unix))]
    let _ = kernel;
}

/// Completes on SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
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
        () = ctrl_c => {},
        () = terminate => {},
    }
}
