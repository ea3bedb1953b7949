//! Startup: build the kernel from configuration, bind the listener, serve until stopped, and
//! drain requests in flight within the grace period.

use std::future::{Future, IntoFuture};
use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::auth::Auth;
use crate::bus::{Bus, Subscriber};
use crate::cache::Cache;
use crate::config::{Config, ConfigError};
use crate::data::{in_background, Database};
use crate::domain::bookings::{Bookings, CompleteStays, ExpireBookings, ReconcilePayments};
use crate::domain::idempotency::Idempotency;
use crate::domain::listings::Listings;
use crate::domain::notifications::Notifications;
use crate::domain::payments::Payments;
use crate::domain::quotes::{PurgeExpiredQuotes, Quotes};
use crate::domain::reviews::{RevealReviews, Reviews};
use crate::domain::updates::Updates;
use crate::http::{self, AppState};
use crate::jobs::{JobHandler, Jobs, PruneHistory, Scheduler, Workers};
use crate::mail::{Mailer, SendMail};
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
    /// Bookings and their payments.
    pub bookings: Bookings,
    /// `Idempotency-Key`s of booking and money-moving requests.
    pub idempotency: Idempotency,
    /// Reviews and their policy.
    pub reviews: Reviews,
    /// The durable job queue.
    pub jobs: Jobs,
    /// The event outbox relay and subscribers.
    pub bus: Bus,
    /// Inboxes, and the delivery of what notifier plugins render.
    pub notifications: Notifications,
    /// What happens to an account, as it happens (subscriptions).
    pub updates: Updates,
    /// Outgoing email.
    pub mailer: Mailer,
    extra_job_handlers: Extensions,
}

impl std::fmt::Debug for Extensions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Extensions")
            .field("subscribers", &self.subscribers.len())
            .field("job_handlers", &self.job_handlers.len())
            .finish()
    }
}

/// Code run beside the kernel's own: extra bus subscribers and job handlers, for programs that
/// embed the kernel as a library (and for tests).
#[derive(Default, Clone)]
pub struct Extensions {
    /// Subscriber groups added to the kernel's.
    pub subscribers: Vec<Arc<dyn Subscriber>>,
    /// Job handlers added to the kernel's.
    pub job_handlers: Vec<Arc<dyn JobHandler>>,
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
        Self::build_with(config, Extensions::default()).await
    }

    /// [`Kernel::build`] with `extensions` running beside the kernel's own code.
    pub async fn build_with(config: Config, extensions: Extensions) -> anyhow::Result<Self> {
        let db = Database::connect(&config.database)
            .await
            .context("cannot open the database (database.url)")?;
        db.migrate().await.context("cannot apply migrations")?;
        let metrics = Metrics::new();
        let cache =
            Cache::new(&config.cache, metrics.clone()).context("cannot set up the cache")?;
        let auth = Auth::new(
            db.clone(),
            &cache,
            &config.auth,
            &config.limits,
            metrics.clone(),
        );
        let jobs = Jobs::new(db.clone(), &config.jobs);
        let mailer = Mailer::new(&config.mail).context("cannot set up mail ([mail])")?;
        let mut plugins = PluginHost::new(
            &config.plugin_host,
            &config.resolve(&config.plugin_host.cache_dir),
            cache.clone(),
            metrics.clone(),
        )?;
        plugins.attach_jobs(jobs.clone());
        plugins.attach_outbound(&config.outbound)?;
        let set = plugins
            .load_set(&config.plugins, &config.base_dir())
            .await
            .map_err(|e| anyhow::anyhow!("cannot load plugins:\n{e}"))?;
        tracing::info!(plugins = set.len(), "plugins loaded");
        plugins.install(set);
        let plugins = Arc::new(plugins);
        let listings = Listings::new(db.clone(), &cache, config.bookings.date_window());
        let quotes = Quotes::new(
            db.clone(),
            listings.clone(),
            plugins.clone(),
            chrono::Duration::minutes(i64::try_from(config.quotes.ttl_minutes.get()).unwrap_or(15)),
        );
        let payments = Payments::new(plugins.clone(), &config.payments);
        let bookings = Bookings::new(
            db.clone(),
            listings.clone(),
            quotes.clone(),
            payments,
            &config.bookings,
        );
        let idempotency = Idempotency::new(db.clone());
        let reviews = Reviews::new(db.clone(), listings.clone(), plugins.clone());
        let notifications = Notifications::new(
            db.clone(),
            jobs.clone(),
            plugins.clone(),
            mailer.clone(),
            &config.notifications,
            &config.outbound,
        )
        .context("cannot set up notifications ([notifications])")?;
        let bus = Bus::new(
            db.clone(),
            jobs.clone(),
            &config.bus,
            &config.cache,
            metrics.clone(),
            [vec![notifications.subscriber()], extensions.subscribers].concat(),
        )?;
        let updates = Updates::new(bus.clone(), auth.clone());
        Ok(Self {
            config,
            db,
            cache,
            auth,
            metrics,
            plugins,
            listings,
            quotes,
            bookings,
            idempotency,
            reviews,
            jobs,
            bus,
            notifications,
            updates,
            mailer,
            extra_job_handlers: Extensions {
                subscribers: Vec::new(),
                job_handlers: extensions.job_handlers,
            },
        })
    }

    /// Every job handler of the kernel.
    pub fn job_handlers(&self) -> Vec<Arc<dyn JobHandler>> {
        let mut handlers = self.notifications.job_handlers();
        handlers.push(Arc::new(SendMail(self.mailer.clone())));
        handlers.push(self.bus.redelivery());
        handlers.push(Arc::new(PurgeExpiredQuotes(self.db.clone())));
        handlers.push(Arc::new(ExpireBookings(self.bookings.clone())));
        handlers.push(Arc::new(CompleteStays(self.bookings.clone())));
        handlers.push(Arc::new(ReconcilePayments(self.bookings.clone())));
        handlers.push(Arc::new(RevealReviews(self.reviews.clone())));
        handlers.push(Arc::new(PruneHistory::new(
            self.db.clone(),
            self.config.jobs.retention_days.get(),
        )));
        handlers.extend(self.extra_job_handlers.job_handlers.iter().cloned());
        handlers
    }

    /// Starts the background side: the outbox relay and bus consumers, the job workers and the
    /// scheduler, whose SQLite writes wait behind requests' (`data::in_background`). They stop, and running jobs drain, when `stop` is cancelled; await the handles.
    pub async fn start_background(&self, stop: CancellationToken) -> Vec<JoinHandle<()>> {
        let mut tasks = self.bus.start(stop.clone()).await;
        let workers = Workers::new(self.jobs.clone(), self.job_handlers(), self.metrics.clone());
        tasks.push(tokio::spawn(in_background(workers.run(stop.clone()))));
        let scheduler = Scheduler::new(self.jobs.clone(), &self.config.jobs);
        tasks.push(tokio::spawn(in_background(scheduler.run(stop))));
        tasks
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
        Self::build_with(config, Extensions::default()).await
    }

    /// [`Application::build`] with `extensions` running beside the kernel's own code.
    pub async fn build_with(config: Config, extensions: Extensions) -> anyhow::Result<Self> {
        let bind = config.server.bind;
        let kernel = Arc::new(Kernel::build_with(config, extensions).await?);
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
        let stop_background = CancellationToken::new();
        let background = self.kernel.start_background(stop_background.clone()).await;
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
        // Jobs finish or are released within `jobs.shutdown_grace_secs`; events not yet
        // handed on stay in the outbox for the next start.
        stop_background.cancel();
        for task in background {
            let _ = task.await;
        }
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
