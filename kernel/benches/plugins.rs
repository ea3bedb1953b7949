//! Plugin call cost. Run `scripts/build-plugins` first, then
//! `cargo bench -p hearth --bench plugins`.
//!
//! - `native`: the service-fee plugin's own Rust code called natively (same logic, same JSON
//!   config parsing, no WebAssembly).
//! - `kernel_adapter`: the same plugin as a component, through the kernel's pricing adapter:
//!   a fresh store and instance per call, fuel, limits, output checks, counters.
//! - `instantiate_only`: a fresh store + instantiation, no call: what the per-call isolation
//!   costs.
//! - `reused_instance`: the raw call on one long-lived instance (what an instance pool would
//!   cost per call), measured with wasmtime directly.
//! - `chain_of_5`: five pricing plugins through `run_chain`.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};
use hearth::cache::Cache;
use hearth::config::{CacheConfig, Config, PluginHostConfig};
use hearth::metrics::Metrics;
use hearth::model::Currency;
use hearth::plugins::kinds::pricing::{self, LineItem, Stay};
use hearth::plugins::kinds::Money;
use hearth::plugins::{PluginHost, PluginSet};

fn dist() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/dist")
}

fn entry(id: &str, file: &str, order: i32, extra: &str, config: &str) -> String {
    format!(
        "[[plugins]]\nid = \"{id}\"\nkind = \"pricing\"\npath = \"{}\"\nsha256_from = \"{}\"\norder = {order}\n{extra}\n[plugins.config]\n{config}\n\n",
        dist().join(format!("{file}.wasm")).display(),
        dist().join("SHA256SUMS").display()
    )
}

fn eur() -> Currency {
    Currency::parse("EUR").expect("ISO 4217")
}

fn stay() -> Stay {
    let check_in = NaiveDate::from_ymd_opt(2026, 7, 1).expect("date");
    Stay {
        listing_id: "l1".into(),
        check_in,
        check_out: check_in + chrono::Duration::days(3),
        guests: 2,
        country: "FR".into(),
        city: "Paris".into(),
        currency: eur(),
    }
}

fn items() -> Vec<LineItem> {
    (0..3)
        .map(|_| LineItem {
            code: "nightly".into(),
            description: "Night".into(),
            amount: Money {
                minor: 10_000,
                currency: eur(),
            },
            night: None,
            source: "kernel".into(),
        })
        .collect()
}

fn load(rt: &tokio::runtime::Runtime, plugins: &str) -> (PluginHost, PluginSet) {
    let config = Config::from_toml_str(
        "bench.toml",
        &format!("[database]\nurl = \"sqlite::memory:\"\n{plugins}"),
    )
    .expect("bench config");
    let cache_dir = std::env::temp_dir().join("hearth-bench-plugin-cache");
    let metrics = Metrics::new();
    let host = PluginHost::new(
        &PluginHostConfig {
            max_instances: std::num::NonZeroU32::new(16).expect("16 is not zero"),
            ..PluginHostConfig::default()
        },
        &cache_dir,
        Cache::new(&CacheConfig::default(), metrics.clone()).expect("cache"),
        metrics,
    )
    .expect("host");
    let set = rt
        .block_on(host.load_set(&config.plugins, Path::new(".")))
        .expect("plugins built by scripts/build-plugins load");
    (host, set)
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let one = entry(
        "service-fee",
        "hearth_plugin_pricing_service_fee",
        1,
        "",
        "percent_bp = 1400",
    );
    let (_host, set) = load(&rt, &one);
    let plugin = set.get("service-fee").expect("loaded").clone();
    let (s, its) = (stay(), items());

    // Native: the plugin's own code with SDK types.
    let native_stay = hearth_sdk::types::Stay {
        listing_id: "l1".into(),
        check_in: hearth_sdk::types::Date::new(2026, 7, 1),
        check_out: hearth_sdk::types::Date::new(2026, 7, 4),
        nights: 3,
        guests: 2,
        country: "FR".into(),
        city: "Paris".into(),
        currency: "EUR".into(),
    };
    let native_items: Vec<_> = (0..3)
        .map(|_| {
            hearth_sdk::types::LineItem::new(
                "nightly",
                "Night",
                hearth_sdk::types::Money::new(10_000, "EUR"),
            )
        })
        .collect();
    let config = serde_json::json!({ "percent_bp": 1400 });
    let mut group = c.benchmark_group("pricing_call");
    group.bench_function("native", |b| {
        b.iter(|| {
            hearth_sdk::pricing::run::<hearth_plugin_pricing_service_fee::ServiceFee>(
                config.clone(),
                &native_stay,
                &native_items,
            )
            .expect("priced")
        })
    });
    group.bench_function("kernel_adapter", |b| {
        b.to_async(&rt)
            .iter(|| async { pricing::price(&plugin, &s, &its).await.expect("priced") })
    });
    group.finish();

    let five = entry(
        "cleaning-1",
        "hearth_plugin_pricing_cleaning_fee",
        1,
        "",
        "amount_minor = 5000",
    ) + &entry(
        "service-1",
        "hearth_plugin_pricing_service_fee",
        2,
        "",
        "percent_bp = 1400",
    ) + &entry(
        "early-bird",
        "pricing_early_bird",
        3,
        "capabilities = [\"clock\", \"log\"]",
        "min_days_ahead = 30\npercent_bp = 1000",
    ) + &entry(
        "cleaning-2",
        "hearth_plugin_pricing_cleaning_fee",
        4,
        "",
        "amount_minor = 2500",
    ) + &entry(
        "service-2",
        "hearth_plugin_pricing_service_fee",
        5,
        "",
        "percent_bp = 300",
    );
    let (_host5, set5) = load(&rt, &five);
    c.bench_function("chain_of_5", |b| {
        b.to_async(&rt).iter(|| async {
            pricing::run_chain(&set5, &s, its.clone())
                .await
                .expect("priced")
        })
    });

    raw::bench(c, &rt);
}

/// Wasmtime used directly, to separate instantiation from the call itself.
mod raw {
    use super::*;
    use wasmtime::component::{Component, HasSelf, Linker};
    use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
    use wasmtime_wasi::{ResourceTable, WasiCtx, WasiCtxView, WasiView};

    wasmtime::component::bindgen!({
        path: "../sdk/wit",
        world: "hearth:plugins/pricing",
        imports: { default: async | trappable },
        exports: { default: async },
    });

    struct State {
        wasi: WasiCtx,
        table: ResourceTable,
    }

    impl WasiView for State {
        fn ctx(&mut self) -> WasiCtxView<'_> {
            WasiCtxView {
                ctx: &mut self.wasi,
                table: &mut self.table,
            }
        }
    }

    // The service-fee plugin imports none of these; they only satisfy the linker.
    impl hearth::plugins::types::Host for State {}
    impl hearth::plugins::log::Host for State {
        async fn log(&mut self, _: hearth::plugins::log::Level, _: String) -> wasmtime::Result<()> {
            Ok(())
        }
    }
    impl hearth::plugins::clock::Host for State {
        async fn now_ms(&mut self) -> wasmtime::Result<u64> {
            Ok(0)
        }
    }
    impl hearth::plugins::cache::Host for State {
        async fn get(&mut self, _: String) -> wasmtime::Result<Option<Vec<u8>>> {
            Ok(None)
        }
        async fn set(&mut self, _: String, _: Vec<u8>, _: u64) -> wasmtime::Result<()> {
            Ok(())
        }
        async fn delete(&mut self, _: String) -> wasmtime::Result<()> {
            Ok(())
        }
    }
    impl hearth::plugins::events::Host for State {
        async fn publish(&mut self, _: String, _: String) -> wasmtime::Result<Result<(), String>> {
            Ok(Ok(()))
        }
    }
    impl hearth::plugins::http::Host for State {
        async fn send(
            &mut self,
            _: hearth::plugins::http::Request,
        ) -> wasmtime::Result<Result<hearth::plugins::http::Response, String>> {
            Ok(Err("no".into()))
        }
    }
    impl hearth::plugins::mail::Host for State {
        async fn send(
            &mut self,
            _: hearth::plugins::mail::Message,
        ) -> wasmtime::Result<Result<(), String>> {
            Ok(Err("no".into()))
        }
    }

    fn store(engine: &Engine) -> Store<State> {
        let mut store = Store::new(
            engine,
            State {
                wasi: WasiCtx::builder().build(),
                table: ResourceTable::new(),
            },
        );
        store.set_fuel(u64::MAX / 2).expect("fuel");
        store
    }

    pub(super) fn bench(c: &mut Criterion, rt: &tokio::runtime::Runtime) {
        let mut config = Config::new();
        config
            .consume_fuel(true)
            .allocation_strategy(InstanceAllocationStrategy::Pooling(
                PoolingAllocationConfig::default(),
            ));
        let engine = Engine::new(&config).expect("engine");
        let component = Component::from_file(
            &engine,
            dist().join("hearth_plugin_pricing_service_fee.wasm"),
        )
        .expect("component");
        let mut linker = Linker::new(&engine);
        wasmtime_wasi::p2::add_to_linker_async(&mut linker).expect("wasi");
        Pricing::add_to_linker::<State, HasSelf<State>>(&mut linker, |s| s).expect("imports");
        let pre =
            PricingPre::new(linker.instantiate_pre(&component).expect("pre")).expect("typed pre");
        let s = stay();
        let wit_stay = hearth::plugins::types::Stay {
            listing_id: s.listing_id.clone(),
            check_in: hearth::plugins::types::Date {
                year: 2026,
                month: 7,
                day: 1,
            },
            check_out: hearth::plugins::types::Date {
                year: 2026,
                month: 7,
                day: 4,
            },
            nights: 3,
            guests: 2,
            country: "FR".into(),
            city: "Paris".into(),
            currency: "EUR".into(),
        };
        let wit_items: Vec<_> = (0..3)
            .map(|_| hearth::plugins::types::LineItem {
                code: "nightly".into(),
                description: "Night".into(),
                amount: hearth::plugins::types::Money {
                    minor: 10_000,
                    currency: "EUR".into(),
                },
                night: None,
                source: "kernel".into(),
            })
            .collect();
        let config = r#"{"percent_bp":1400}"#;

        let mut group = c.benchmark_group("pricing_call");
        group.bench_function("instantiate_only", |b| {
            b.to_async(rt).iter(|| async {
                let mut store = store(&engine);
                pre.instantiate_async(&mut store).await.expect("instance")
            })
        });
        let (mut reused_store, reused) = rt.block_on(async {
            let mut store = store(&engine);
            let instance = pre.instantiate_async(&mut store).await.expect("instance");
            (store, instance)
        });
        group.bench_function("reused_instance", |b| {
            // One runtime entry per sample, not per call, so only the call itself is timed.
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let started = std::time::Instant::now();
                    for _ in 0..iters {
                        let priced = reused
                            .hearth_plugins_pricing_plugin()
                            .call_price(&mut reused_store, config, &wit_stay, &wit_items)
                            .await
                            .expect("call")
                            .expect("priced");
                        std::hint::black_box(priced);
                    }
                    started.elapsed()
                })
            })
        });
        group.finish();
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
