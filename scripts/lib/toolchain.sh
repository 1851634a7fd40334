# shellcheck shell=bash
# Source this before building Tessera's dashboard:
#
#   source scripts/lib/toolchain.sh
#   cargo leptos build --release $TESSERA_LEPTOS_ARGS
#
# It puts ~/.cargo/bin and the repository's node_modules/.bin (tailwindcss, a modern wasm-opt,
# playwright) first on PATH and, depending on how scripts/setup obtained a wasm32 standard
# library, exports:
#
#   route A (rustup's wasm32-unknown-unknown target): nothing else; TESSERA_LEPTOS_ARGS is empty.
#   route B (Debian's rustc-web, std built from source for the client only):
#     RUSTUP_TOOLCHAIN=debian-web RUSTC_BOOTSTRAP=1
#     CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-22
#     TESSERA_LEPTOS_ARGS=--lib-cargo-args=-Zbuild-std=std,panic_abort
#
# Set TESSERA_WASM_ROUTE=A or B beforehand to force a route. Nothing here touches
# .cargo/config.toml: build-std and the linker must not reach the server build or route A.

_tessera_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

case ":$PATH:" in *":$HOME/.cargo/bin:"*) ;; *) PATH="$HOME/.cargo/bin:$PATH" ;; esac
case ":$PATH:" in
  *":$_tessera_root/node_modules/.bin:"*) ;;
  *) PATH="$_tessera_root/node_modules/.bin:$PATH" ;;
esac
export PATH

# Clear what a previous `source` may have set, so switching routes in one shell works.
unset RUSTC_BOOTSTRAP CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER
if [ "${RUSTUP_TOOLCHAIN:-}" = "debian-web" ]; then unset RUSTUP_TOOLCHAIN; fi
TESSERA_LEPTOS_ARGS=""

_tessera_route="${TESSERA_WASM_ROUTE:-}"
if [ -z "$_tessera_route" ]; then
  if (cd "$_tessera_root" && rustup target list --installed 2>/dev/null) | grep -qx wasm32-unknown-unknown; then
    _tessera_route=A
  elif rustup toolchain list 2>/dev/null | grep -q '^debian-web'; then
    _tessera_route=B
  else
    echo "toolchain.sh: no wasm32 standard library found; run scripts/setup first" >&2
    _tessera_route=none
  fi
fi

if [ "$_tessera_route" = "B" ]; then
  export RUSTUP_TOOLCHAIN=debian-web
  export RUSTC_BOOTSTRAP=1
  export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-22
  TESSERA_LEPTOS_ARGS="--lib-cargo-args=-Zbuild-std=std,panic_abort"
fi
export TESSERA_WASM_ROUTE="$_tessera_route"
export TESSERA_LEPTOS_ARGS

# Debian's binaryen 108 produces a client that fails to hydrate; make sure ours wins.
if ! command -v wasm-opt >/dev/null 2>&1 || [ "$(command -v wasm-opt)" != "$_tessera_root/node_modules/.bin/wasm-opt" ]; then
  echo "toolchain.sh: warning: wasm-opt is not node_modules/.bin/wasm-opt; run scripts/setup (npm install)" >&2
fi

unset _tessera_root _tessera_route
