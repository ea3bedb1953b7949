# Sourced by scripts/contract and scripts/browser. `serve_embedded NAME OUT [VAR=value ...]`
# builds the bundled plugins and the kernel, then starts `hearth serve` on the embedded default
# (config/hearth.toml) with a throwaway SQLite database on a free loopback port and the extra
# `HEARTH_*` settings given, and waits until it is ready. It sets `base` (the server's URL),
# `work` (a temporary folder holding `server.log`, removed on exit) and `server_pid`; on exit the
# server is stopped and its log copied to OUT/server.log. NAME prefixes its messages.
serve_embedded() {
  local name="$1"
  serve_out="$2"
  shift 2
  scripts/build-plugins
  cargo build --locked -p hearth
  local hearth="${CARGO_TARGET_DIR:-target}/debug/hearth"
  mkdir -p "$serve_out"
  work="$(mktemp -d)"
  server_pid=""
  trap stop_embedded EXIT
  local port
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  base="http://127.0.0.1:$port"
  env "$@" \
    HEARTH_SERVER__BIND="127.0.0.1:$port" \
    HEARTH_DATABASE__URL="sqlite://$work/hearth.db" \
    HEARTH_TELEMETRY__LOG_LEVEL=warn \
    "$hearth" serve --config config/hearth.toml >"$work/server.log" 2>&1 &
  server_pid=$!
  # The first start compiles the plugins (cached on disk afterwards): allow it a few minutes.
  for _ in $(seq 1 600); do
    if curl -fs "$base/readyz" >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
      echo "$name: hearth serve exited:" >&2
      cat "$work/server.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  echo "$name: hearth serve did not become ready" >&2
  exit 1
}

stop_embedded() {
  if [[ -n "${server_pid:-}" ]]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  cp "$work/server.log" "$serve_out/server.log" 2>/dev/null || true
  rm -rf "$work"
}
