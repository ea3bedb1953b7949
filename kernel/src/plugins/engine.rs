//! The one wasmtime `Engine` per process, and the `Linker` every plugin world is instantiated
//! through (WASI with nothing granted, plus the Hearth host imports).

use std::path::Path;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::call::CallState;
use super::PluginHostError;
use crate::config::{PluginHostConfig, MAX_PLUGIN_MEMORY_MIB};

/// Core instances, memories and tables a component may use: a Rust `wasm32-wasip2` component
/// is one core module plus a few small adapter shims.
const CORE_INSTANCES_PER_COMPONENT: u32 = 8;

/// Bytes at the bottom of each linear memory that stay mapped between calls and are reset in
/// place (with `PAGEMAP_SCAN`, only the pages the last call touched) instead of being dropped by
/// `madvise` and faulted in again by the next call. A Rust guest's stack ends at 1 MiB and its
/// data and heap start there, so 2 MiB covers a pricing call; a slot keeps only the pages its
/// calls touched resident.
const KEEP_RESIDENT: usize = 2 * 1024 * 1024;

/// Builds the engine: fuel metering on (each call gets its own fuel), the pooling allocator
/// with one slot per concurrent call (memories reset in place, see [`KEEP_RESIDENT`]), and the
/// on-disk compiled-code cache.
pub(super) fn engine(
    config: &PluginHostConfig,
    cache_dir: &Path,
) -> Result<Engine, PluginHostError> {
    let slots = config.max_instances.get();
    let mut pool = PoolingAllocationConfig::default();
    pool.total_component_instances(slots)
        .total_core_instances(slots * CORE_INSTANCES_PER_COMPONENT)
        .total_memories(slots * 2)
        .total_tables(slots * CORE_INSTANCES_PER_COMPONENT)
        .max_memories_per_component(CORE_INSTANCES_PER_COMPONENT)
        .max_tables_per_component(CORE_INSTANCES_PER_COMPONENT)
        .max_core_instances_per_component(CORE_INSTANCES_PER_COMPONENT)
        .max_memory_size((MAX_PLUGIN_MEMORY_MIB * 1024 * 1024) as usize)
        .linear_memory_keep_resident(KEEP_RESIDENT)
        .table_keep_resident(64 * 1024)
        .pagemap_scan(wasmtime::Enabled::Auto);

    std::fs::create_dir_all(cache_dir).map_err(|e| {
        PluginHostError::Engine(format!(
            "cannot create plugin_host.cache_dir {}: {e}",
            cache_dir.display()
        ))
    })?;
    // wasmtime wants an absolute cache directory.
    let cache_dir = std::fs::canonicalize(cache_dir)
        .map_err(|e| PluginHostError::Engine(format!("plugin_host.cache_dir: {e}")))?;
    let mut cache_config = wasmtime::CacheConfig::new();
    cache_config.with_directory(cache_dir);
    let cache = wasmtime::Cache::new(cache_config)
        .map_err(|e| PluginHostError::Engine(format!("compiled-code cache: {e:#}")))?;

    let mut wasm = Config::new();
    wasm.wasm_component_model(true)
        .consume_fuel(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        .cache(Some(cache));
    Engine::new(&wasm).map_err(|e| PluginHostError::Engine(format!("{e:#}")))
}

/// The linker shared by every plugin: WASI (the store gives it no files, env or sockets) and
/// every Hearth host import, each checking its grant when called.
pub(super) fn linker(engine: &Engine) -> Result<Linker<CallState>, PluginHostError> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)
        .map_err(|e| PluginHostError::Engine(format!("linking WASI: {e:#}")))?;
    super::bindings::common::Common::add_to_linker::<CallState, HasSelf<CallState>>(
        &mut linker,
        |state| state,
    )
    .map_err(|e| PluginHostError::Engine(format!("linking host imports: {e:#}")))?;
    Ok(linker)
}
