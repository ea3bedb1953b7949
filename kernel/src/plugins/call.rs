//! One plugin call: a fresh `Store` (so no call can see another's state, and a trap poisons
//! nothing), WASI with nothing granted and stdout/stderr captured (forwarded to the log only
//! with the `log` grant), the plugin's memory cap, fuel, wall-clock timeout and output cap, and
//! the outcome classified into a typed error for that call only and counted.
//!
//! Time and chance inside a call are the kernel's ([`CallEnv`]): WASI's clocks read the call's
//! instant (a fixed one unless `clock` is granted) and its random bytes come from a per-call seed,
//! so the same input with the same instant and seed gives the same output.

use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

use rand_wasi::rngs::ChaCha12Rng;
use rand_wasi::SeedableRng;
use wasmtime::Store;
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{
    HostMonotonicClock, HostWallClock, ResourceTable, WasiCtx, WasiCtxView, WasiView,
};

use super::{Plugin, PluginCallError, PluginFailure};
use crate::cache::Namespace;
use crate::config::{Capability, PluginId};

/// Fuel between async yields, so a busy plugin shares its worker thread (~0.1 ms of work).
const FUEL_YIELD_INTERVAL: u64 = 100_000;
/// How much of a plugin's stdout/stderr is kept per call.
const OUTPUT_PIPE_CAPACITY: usize = 64 * 1024;

/// What a plugin's host imports may reach; shared by its calls.
#[derive(Debug)]
pub(crate) struct PluginContext {
    pub(crate) id: PluginId,
    pub(crate) grants: BTreeSet<Capability>,
    pub(crate) http_allow: Vec<crate::config::HttpOrigin>,
    pub(crate) cache: Namespace,
    pub(crate) services: super::HostServices,
}

/// A host import refused because the capability was not granted. Raised as a trap: the load-time
/// check makes this unreachable for a correctly loaded plugin, so reaching it is a bug or an
/// attack, and it ends the call.
#[derive(Debug, thiserror::Error)]
#[error("capability `{0}` is not granted to this plugin")]
pub(crate) struct CapabilityDenied(pub(crate) &'static str);

/// The instant a plugin without the `clock` grant sees: the Unix epoch.
pub const FIXED_INSTANT_MS: u64 = 0;

/// What a call's guest sees of time and chance, chosen by the kernel for each call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CallEnv {
    /// The call's instant in milliseconds since the Unix epoch, read by the `clock` import and by
    /// `wasi:clocks/wall-clock` alike. It does not advance during the call (the monotonic clock
    /// stands still too), so a call's output cannot depend on how fast it ran.
    pub now_ms: u64,
    /// Seeds every random byte of the call (`wasi:random`, secure and insecure).
    pub seed: u64,
}

/// The kernel's clock and seed for calls made inside [`with_kernel_clock_and_seed`].
#[derive(Debug, Clone, Copy, Default)]
pub struct EnvOverride {
    /// The kernel's clock, in ms since the epoch, instead of the system clock. A plugin without
    /// `clock` still sees [`FIXED_INSTANT_MS`].
    pub now_ms: Option<u64>,
    /// The seed instead of a fresh random one.
    pub seed: Option<u64>,
}

tokio::task_local! {
    static ENV_OVERRIDE: EnvOverride;
}

/// Runs `work` with every plugin call inside it given `over`'s clock and seed (the plugin
/// runner's `--now-ms` / `--seed`; replaying a recorded call).
pub async fn with_kernel_clock_and_seed<F: Future>(over: EnvOverride, work: F) -> F::Output {
    ENV_OVERRIDE.scope(over, work).await
}

impl CallEnv {
    /// The environment of a new call of a plugin with `grants`.
    fn choose(grants: &BTreeSet<Capability>) -> Self {
        let over = ENV_OVERRIDE.try_with(|o| *o).unwrap_or_default();
        let kernel_now = || {
            over.now_ms.unwrap_or_else(|| {
                u64::try_from(chrono::Utc::now().timestamp_millis()).unwrap_or(0)
            })
        };
        Self {
            now_ms: if grants.contains(&Capability::Clock) {
                kernel_now()
            } else {
                FIXED_INSTANT_MS
            },
            seed: over.seed.unwrap_or_else(rand::random),
        }
    }

    /// A WASI context with nothing granted, this environment's clocks and randomness, and the
    /// given output pipes.
    fn wasi(self, stdout: MemoryOutputPipe, stderr: MemoryOutputPipe) -> WasiCtx {
        let mut secure = ChaCha12Rng::seed_from_u64(self.seed);
        // The insecure generator and seed are derived from the same seed, but are not the
        // secure stream itself.
        let insecure_seed = u128::from(rand_wasi::Rng::next_u64(&mut secure)) << 64
            | u128::from(rand_wasi::Rng::next_u64(&mut secure));
        let insecure = ChaCha12Rng::seed_from_u64(rand_wasi::Rng::next_u64(&mut secure));
        WasiCtx::builder()
            .stdout(stdout)
            .stderr(stderr)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .wall_clock(FrozenWallClock(Duration::from_millis(self.now_ms)))
            .monotonic_clock(FrozenMonotonicClock)
            .secure_random(secure)
            .insecure_random(insecure)
            .insecure_random_seed(insecure_seed)
            .build()
    }
}

/// `wasi:clocks/wall-clock` reading the call's instant.
struct FrozenWallClock(Duration);

impl HostWallClock for FrozenWallClock {
    fn resolution(&self) -> Duration {
        Duration::from_millis(1)
    }

    fn now(&self) -> Duration {
        self.0
    }
}

/// `wasi:clocks/monotonic-clock`, standing still for the call.
struct FrozenMonotonicClock;

impl HostMonotonicClock for FrozenMonotonicClock {
    fn resolution(&self) -> u64 {
        1_000_000
    }

    fn now(&self) -> u64 {
        0
    }
}

/// The data of a call's store.
pub(crate) struct CallState {
    wasi: WasiCtx,
    /// The call's instant and seed.
    pub(crate) env: CallEnv,
    table: ResourceTable,
    memory_cap: usize,
    memory_hit: bool,
    pub(crate) plugin: std::sync::Arc<PluginContext>,
}

impl CallState {
    /// Checks a capability at call time (it was also checked at load).
    pub(crate) fn require(&self, capability: Capability) -> wasmtime::Result<()> {
        if self.plugin.grants.contains(&capability) {
            Ok(())
        } else {
            Err(CapabilityDenied(capability.as_str()).into())
        }
    }
}

impl WasiView for CallState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl wasmtime::ResourceLimiter for CallState {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_cap {
            self.memory_hit = true;
            Ok(false)
        } else {
            Ok(true)
        }
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= 100_000)
    }
}

/// A boxed, sendable future borrowing the store.
pub(crate) type CallFuture<'a, R> =
    Pin<Box<dyn Future<Output = wasmtime::Result<Result<R, PluginFailure>>> + Send + 'a>>;

/// What a finished call cost.
#[derive(Debug, Clone, Copy)]
pub struct CallCost {
    /// Fuel consumed.
    pub fuel: u64,
    /// Wall-clock time.
    pub elapsed: Duration,
}

/// Runs `body` against a fresh store of `plugin` under its limits. `size` measures the output
/// for the output cap. When `count` is set the outcome is counted under the plugin's id (the
/// loader's own calls are not).
pub(crate) async fn invoke<R, F>(
    plugin: &Plugin,
    size: impl Fn(&R) -> usize,
    count: bool,
    body: F,
) -> (Result<R, PluginCallError>, CallCost)
where
    F: for<'a> FnOnce(&'a mut Store<CallState>) -> CallFuture<'a, R>,
{
    let limits = plugin.info.limits;
    let stdout = MemoryOutputPipe::new(OUTPUT_PIPE_CAPACITY);
    let stderr = MemoryOutputPipe::new(OUTPUT_PIPE_CAPACITY);
    let env = CallEnv::choose(&plugin.context.grants);
    let id = &plugin.info.id;
    tracing::debug!(plugin.id = %id, call.now_ms = env.now_ms, call.seed = env.seed, "plugin call");
    let state = CallState {
        wasi: env.wasi(stdout.clone(), stderr.clone()),
        env,
        table: ResourceTable::new(),
        memory_cap: usize::try_from(limits.memory_mib.get() * 1024 * 1024).unwrap_or(usize::MAX),
        memory_hit: false,
        plugin: plugin.context.clone(),
    };
    let mut store = Store::new(plugin.engine(), state);
    store.limiter(|s| s);
    let started = Instant::now();
    let setup = store
        .set_fuel(limits.fuel.get())
        .and_then(|()| store.fuel_async_yield_interval(Some(FUEL_YIELD_INTERVAL)));
    let outcome = match setup {
        Err(e) => Ok(Err(e)),
        Ok(()) => {
            tokio::time::timeout(
                Duration::from_millis(limits.timeout_ms.get()),
                body(&mut store),
            )
            .await
        }
    };
    let cost = CallCost {
        fuel: limits
            .fuel
            .get()
            .saturating_sub(store.get_fuel().unwrap_or(0)),
        elapsed: started.elapsed(),
    };
    let memory_hit = store.data().memory_hit;
    drop(store);
    let logs = plugin.context.grants.contains(&Capability::Log);
    let panic_message = forward_output(id, logs, &stdout, &stderr);

    let result = match outcome {
        Err(_) => Err(PluginCallError::Timeout {
            plugin: id.clone(),
            limit_ms: limits.timeout_ms.get(),
        }),
        Ok(Err(error)) => Err(classify(id, &error, memory_hit, limits, panic_message)),
        Ok(Ok(Err(failure))) => Err(PluginCallError::Plugin {
            plugin: id.clone(),
            failure,
        }),
        Ok(Ok(Ok(value))) => {
            let bytes = size(&value);
            let limit = usize::try_from(limits.output_kib.get() * 1024).unwrap_or(usize::MAX);
            if bytes > limit {
                Err(PluginCallError::Output {
                    plugin: id.clone(),
                    size: bytes,
                    limit,
                })
            } else {
                Ok(value)
            }
        }
    };
    if count {
        plugin.record(&result, cost);
    }
    (result, cost)
}

fn classify(
    id: &PluginId,
    error: &wasmtime::Error,
    memory_hit: bool,
    limits: crate::config::PluginLimits,
    panic_message: Option<String>,
) -> PluginCallError {
    if memory_hit {
        return PluginCallError::Memory {
            plugin: id.clone(),
            limit_mib: limits.memory_mib.get(),
        };
    }
    if let Some(wasmtime::Trap::OutOfFuel) = error.downcast_ref::<wasmtime::Trap>() {
        return PluginCallError::Fuel {
            plugin: id.clone(),
            limit: limits.fuel.get(),
        };
    }
    let message = match (error.downcast_ref::<wasmtime::Trap>(), panic_message) {
        (_, Some(panic)) => format!("panicked: {panic}"),
        (Some(trap), None) => trap.to_string(),
        (None, None) => format!("{error:#}"),
    };
    PluginCallError::Trap {
        plugin: id.clone(),
        message,
    }
}

/// Sends what the guest wrote to stdout/stderr to the log, one event per line, if it may write
/// to the log (`logs`: the `log` grant), and returns the panic message if the guest panicked
/// (Rust prints it to stderr before trapping) for the call's error.
fn forward_output(
    id: &PluginId,
    logs: bool,
    stdout: &MemoryOutputPipe,
    stderr: &MemoryOutputPipe,
) -> Option<String> {
    let err = stderr.contents();
    let err = String::from_utf8_lossy(&err);
    if logs {
        for line in String::from_utf8_lossy(&stdout.contents()).lines() {
            tracing::info!(plugin.id = %id, stream = "stdout", "{line}");
        }
        for line in err.lines() {
            tracing::warn!(plugin.id = %id, stream = "stderr", "{line}");
        }
    }
    err.lines()
        .find_map(|l| l.split_once("panicked at ").map(|_| l.to_owned()))
        .map(|first| {
            // The message follows the location line.
            let mut lines = err.lines().skip_while(|l| *l != first).skip(1);
            lines.next().map(str::to_owned).unwrap_or(first)
        })
}
