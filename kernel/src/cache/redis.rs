//! The Redis backend. Every call is bounded by the configured timeout; after any failure the
//! connection is dropped and Redis is left alone for a cool-down before reconnecting, so a dead
//! or hung server costs requests at most one timeout per cool-down, not one per call.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use redis::aio::MultiplexedConnection;
use redis::{AsyncConnectionConfig, Client};

use super::CacheError;

/// How long Redis is left alone after a failure.
const COOL_DOWN: Duration = Duration::from_millis(500);

#[derive(Debug)]
pub(super) struct RedisCache {
    client: Client,
    prefix: String,
    timeout: Duration,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    conn: Option<MultiplexedConnection>,
    failed_at: Option<Instant>,
    connecting: bool,
}

impl RedisCache {
    pub(super) fn new(url: &str, prefix: &str, timeout: Duration) -> Result<Self, CacheError> {
        let client = Client::open(url).map_err(|e| CacheError::Backend(e.to_string()))?;
        Ok(Self {
            client,
            prefix: prefix.to_owned(),
            timeout,
            state: Mutex::new(State::default()),
        })
    }

    fn key(&self, key: &str) -> String {
        format!("{}:{key}", self.prefix)
    }

    /// A live connection, connecting if needed, unless Redis is cooling down after a failure or
    /// another call is already connecting (callers never queue behind a slow connect).
    async fn connection(&self) -> Result<MultiplexedConnection, CacheError> {
        {
            let mut state = self.lock();
            if let Some(conn) = &state.conn {
                return Ok(conn.clone());
            }
            if state.connecting || state.failed_at.is_some_and(|t| t.elapsed() < COOL_DOWN) {
                return Err(CacheError::CoolingDown);
            }
            state.connecting = true;
        }
        // Responses are bounded by `run`'s own timeout, which reports itself as a timeout.
        let config = AsyncConnectionConfig::new().set_connection_timeout(self.timeout);
        let connect = self
            .client
            .get_multiplexed_async_connection_with_config(&config);
        let result = match tokio::time::timeout(self.timeout, connect).await {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(e)) => Err(CacheError::Backend(e.to_string())),
            Err(_) => Err(CacheError::Timeout),
        };
        let mut state = self.lock();
        state.connecting = false;
        match &result {
            Ok(conn) => {
                state.conn = Some(conn.clone());
                state.failed_at = None;
            }
            Err(_) => state.failed_at = Some(Instant::now()),
        }
        result
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state is a pair of plain fields; a panic elsewhere cannot leave it inconsistent.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn failed(&self) {
        let mut state = self.lock();
        state.conn = None;
        state.failed_at = Some(Instant::now());
    }

    /// Runs one command with the timeout, dropping the connection on failure.
    async fn run<T: redis::FromRedisValue>(&self, cmd: &mut redis::Cmd) -> Result<T, CacheError> {
        let mut conn = self.connection().await?;
        let result = match tokio::time::timeout(self.timeout, cmd.query_async::<T>(&mut conn)).await
        {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => Err(CacheError::Backend(e.to_string())),
            Err(_) => Err(CacheError::Timeout),
        };
        if result.is_err() {
            self.failed();
        }
        result
    }

    pub(super) async fn ping(&self) -> Result<(), CacheError> {
        self.run::<String>(&mut redis::cmd("PING"))
            .await
            .map(|_| ())
    }

    pub(super) async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        self.run(redis::cmd("GET").arg(self.key(key))).await
    }

    /// One round trip for many keys (`MGET`), in the keys' order.
    pub(super) async fn get_many(
        &self,
        keys: &[String],
    ) -> Result<Vec<Option<Vec<u8>>>, CacheError> {
        let mut cmd = redis::cmd("MGET");
        for key in keys {
            cmd.arg(self.key(key));
        }
        self.run(&mut cmd).await
    }

    pub(super) async fn set(
        &self,
        key: &str,
        bytes: Vec<u8>,
        ttl: Duration,
    ) -> Result<(), CacheError> {
        let millis = ttl.as_millis().max(1) as u64;
        self.run(
            redis::cmd("SET")
                .arg(self.key(key))
                .arg(bytes)
                .arg("PX")
                .arg(millis),
        )
        .await
    }

    pub(super) async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.run::<i64>(redis::cmd("DEL").arg(self.key(key)))
            .await
            .map(|_| ())
    }

    /// INCR and, on the first increment, PEXPIRE, atomically in one round trip.
    pub(super) async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, CacheError> {
        let millis = ttl.as_millis().max(1) as u64;
        let script = "local n = redis.call('INCR', KEYS[1]) \
                      if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end \
                      return n";
        self.run(
            redis::cmd("EVAL")
                .arg(script)
                .arg(1)
                .arg(self.key(key))
                .arg(millis),
        )
        .await
    }

    /// DECR unless the counter is absent or zero, atomically.
    pub(super) async fn decr(&self, key: &str) -> Result<(), CacheError> {
        let script = "local n = tonumber(redis.call('GET', KEYS[1]) or 0) \
                      if n > 0 then redis.call('DECR', KEYS[1]) end \
                      return 0";
        self.run::<i64>(redis::cmd("EVAL").arg(script).arg(1).arg(self.key(key)))
            .await
            .map(|_| ())
    }

    pub(super) async fn count(&self, key: &str) -> Result<u64, CacheError> {
        let value: Option<u64> = self.run(redis::cmd("GET").arg(self.key(key))).await?;
        Ok(value.unwrap_or(0))
    }
}

/// GCRA in one atomic script, on Redis's own clock (so nodes with skewed clocks agree). The key
/// holds the theoretical arrival time in microseconds and lives until it has passed.
const GCRA: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local emission = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local new_tat = tat + emission
local allow_at = new_tat - emission * burst
if now < allow_at then
  return {0, 0, allow_at - now}
end
redis.call('SET', KEYS[1], string.format('%d', new_tat), 'PX', math.ceil((new_tat - now) / 1000))
return {1, math.floor((now - allow_at) / emission), new_tat - now}
";

impl RedisCache {
    /// One GCRA decision: `(allowed, remaining, wait_us)` where `wait_us` is, when refused, the
    /// time until one request is allowed and, when allowed, until the budget is whole again.
    pub(super) async fn gcra(
        &self,
        key: &str,
        emission: Duration,
        burst: u32,
    ) -> Result<(bool, u64, u64), CacheError> {
        let emission_us = u64::try_from(emission.as_micros())
            .unwrap_or(u64::MAX)
            .max(1);
        let reply: Vec<i64> = self
            .run(
                redis::cmd("EVAL")
                    .arg(GCRA)
                    .arg(1)
                    .arg(self.key(key))
                    .arg(emission_us)
                    .arg(burst),
            )
            .await?;
        match reply.as_slice() {
            [allowed, remaining, wait] => Ok((
                *allowed == 1,
                u64::try_from(*remaining).unwrap_or(0),
                u64::try_from(*wait).unwrap_or(0),
            )),
            _ => Err(CacheError::Backend("unexpected GCRA reply".into())),
        }
    }
}
