#!/usr/bin/env bash
# Builds and starts the Docker image's contents WITHOUT Docker, to check the packaging on a
# machine (or CI job) that has no Docker engine:
#
#   1. checks that the Dockerfile's instructions are exactly the ones listed below, so a
#      Dockerfile edit without a matching edit here fails (and the other way round);
#   2. in a scratch folder, runs the build stage's steps in order: COPY takes the files git
#      knows (tracked, plus untracked ones that are not ignored), RUN runs the command with the
#      stage's ENV (npm ci, npm run build, npm prune --omit=dev);
#   3. assembles the runtime stage from the COPY --from=build lines only, in a fresh folder;
#   4. starts its CMD with the runtime ENV (state folders in temp folders, a free loopback
#      port), waits for the HEALTHCHECK command to pass, asks for a picture through the frame
#      API (sharp with production dependencies only), sends the STOPSIGNAL and expects exit
#      code 0 within DOCKER_STOP_TIMEOUT seconds (default 10: docker stop's grace period).
#
# Not reproduced: the runtime stage's RUN lines (OS packages, folder ownership) and USER.
#
# Usage: bash scripts/docker-build-steps.sh [--check-only] [--keep]
#   --check-only  only step 1 (no npm, no network; takes a second)
#   --keep        leave the scratch folder in place for inspection
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DOCKERFILE="${DOCKERFILE:-$ROOT/Dockerfile}"   # another file only for testing the check
STOP_TIMEOUT="${DOCKER_STOP_TIMEOUT:-10}"
HEALTH_TIMEOUT=60
PICTURE_TIMEOUT=60

# Quotes of both kinds: kept out of the list below to keep it readable.
HEALTHCHECK_LINE="$(cat <<'EOF'
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8099)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
EOF
)"

# The Dockerfile, one instruction per entry: comments dropped, continuation lines joined,
# runs of whitespace collapsed to one space. Keep in step with ../Dockerfile.
EXPECTED=(
  'FROM node:20-bookworm-slim AS build'
  'ENV ONNXRUNTIME_NODE_INSTALL=skip'
  'WORKDIR /app'
  'COPY package.json package-lock.json .npmrc ./'
  'RUN npm ci --no-audit --no-fund'
  'COPY tsconfig.json tsconfig.build.json ./'
  'COPY bin ./bin'
  'COPY src ./src'
  'COPY web ./web'
  'RUN npm run build'
  'RUN npm prune --omit=dev --no-audit --no-fund'
  'RUN arch="$(node -p process.arch)" && find node_modules/onnxruntime-node/bin -mindepth 2 -maxdepth 2 ! -name linux -exec rm -rf {} + && find node_modules/onnxruntime-node/bin -mindepth 3 -maxdepth 3 ! -name "$arch" -exec rm -rf {} + && node -e "require(process.argv[1])" onnxruntime-node'
  'FROM node:20-bookworm-slim AS runtime'
  'RUN apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends tzdata && rm -rf /var/lib/apt/lists/*'
  'ENV NODE_ENV=production TZ=UTC PORT=8099 DATA_DIR=/data IMAGES_DIR=/images LOG_DIR=/log'
  'WORKDIR /app'
  'COPY --from=build /app/package.json ./'
  'COPY --from=build /app/node_modules ./node_modules'
  'COPY --from=build /app/dist ./dist'
  'COPY --from=build /app/bin ./bin'
  'COPY --from=build /app/web ./web'
  'RUN mkdir -p /data /images /log && chown node:node /data /images /log'
  'USER node'
  'VOLUME ["/data", "/images", "/log"]'
  'EXPOSE 8099'
  'STOPSIGNAL SIGTERM'
  "$HEALTHCHECK_LINE"
  'CMD ["node", "dist/src/main.js"]'
)

# ---------------------------------------------------------------------------------------------
if [[ -t 1 ]]; then BOLD=$'\033[1m' RED=$'\033[31m' PLAIN=$'\033[0m'; else BOLD='' RED='' PLAIN=''; fi
say() { printf '%s==> %s%s\n' "$BOLD" "$*" "$PLAIN"; }
note() { printf '    %s\n' "$*"; }
fail() { printf '%sFAIL: %s%s\n' "$RED" "$*" "$PLAIN" >&2; exit 1; }
now_ms() { date +%s%3N; }
secs_since() { local ms=$(( $(now_ms) - $1 )); printf '%d.%01ds' $((ms / 1000)) $(((ms % 1000) / 100)); }

CHECK_ONLY=0
KEEP=0
for arg in "$@"; do
  case "$arg" in
    --check-only) CHECK_ONLY=1 ;;
    --keep) KEEP=1 ;;
    -h|--help) sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown argument: $arg (try --help)" ;;
  esac
done

command -v node >/dev/null || fail "node is not on PATH"
STARTED_MS=$(now_ms)

# The Dockerfile as the list of normalized instructions (what EXPECTED holds). Docker drops
# comment lines even inside a continued instruction, and joins lines that end with a backslash.
normalized_dockerfile() {
  node -e '
    const text = require("node:fs").readFileSync(process.argv[1], "utf8");
    const out = [];
    let pending = "";
    for (const raw of text.split(/\r?\n/)) {
      if (/^\s*#/.test(raw)) continue;
      if (!pending && raw.trim() === "") continue;
      const continued = /\\\s*$/.test(raw);
      pending += " " + (continued ? raw.replace(/\\\s*$/, "") : raw);
      if (continued) continue;
      const line = pending.trim().replace(/\s+/g, " ");
      pending = "";
      if (line) out.push(line.replace(/^(\S+)/, (word) => word.toUpperCase()));
    }
    if (pending.trim()) out.push(pending.trim().replace(/\s+/g, " "));
    process.stdout.write(out.join("\n") + "\n");
  ' "$1"
}

# ---- 1. the Dockerfile says what this script does --------------------------------------------
say "checking that the Dockerfile and this script agree"
[[ -f "$DOCKERFILE" ]] || fail "no Dockerfile at $DOCKERFILE"
if ! drift="$(diff <(printf '%s\n' "${EXPECTED[@]}") <(normalized_dockerfile "$DOCKERFILE"))"; then
  printf '%s\n' "$drift" | sed -n 's/^< /    only in this script: /p; s/^> /    only in Dockerfile:  /p' >&2
  fail "the Dockerfile's instructions differ from the EXPECTED list in scripts/docker-build-steps.sh; change both together (and make this script reproduce any new build step)"
fi
note "${#EXPECTED[@]} instructions match"
if (( CHECK_ONLY )); then
  say "OK (--check-only) in $(secs_since "$STARTED_MS")"
  exit 0
fi

# ---- scratch space and clean-up ---------------------------------------------------------------
git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1 \
  || fail "$ROOT is not a git checkout: the build context is taken from the files git knows"
SCRATCH="$(mktemp -d "${TMPDIR:-/tmp}/aiframe-docker-steps.XXXXXX")"
APP="$SCRATCH/build/app"         # the build stage's WORKDIR
RUNTIME="$SCRATCH/runtime/app"   # the runtime stage's WORKDIR
STATE="$SCRATCH/state"           # the volumes
SERVER_OUT="$SCRATCH/server.out"
SERVER_PID=""
mkdir -p "$APP" "$RUNTIME" "$STATE"/{data,images,log} "$SCRATCH/home"

cleanup() {
  local status=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  if (( status != 0 )) && [[ -s "$SERVER_OUT" ]]; then
    printf '    --- last lines from the server ---\n' >&2
    tail -n 40 "$SERVER_OUT" | sed 's/^/    | /' >&2
  fi
  if (( KEEP )); then
    note "scratch folder kept: $SCRATCH"
  else
    rm -rf "$SCRATCH"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Module resolution walks up from the runtime folder; in the image nothing is above /app.
dir="$(dirname "$RUNTIME")"
while :; do
  [[ ! -e "$dir/node_modules" ]] || fail "$dir/node_modules exists above the scratch folder and could hide a missing dependency; set TMPDIR elsewhere"
  [[ "$dir" != "/" ]] || break
  dir="$(dirname "$dir")"
done

# Files of the build context: what git knows (on a CI clone: the commit), minus deleted ones.
context_files() {
  git -C "$ROOT" ls-files -z --cached --others --exclude-standard -- "$1" |
    while IFS= read -r -d '' file; do
      [[ -f "$ROOT/$file" ]] && printf '%s\0' "$file"
    done
  return 0
}

# COPY <src>... <dest> (build stage): a file lands in dest (a folder when dest ends with /),
# a folder's content lands under dest, as Docker does it.
copy_from_context() {
  local -a args=("$@")
  local dest="${args[-1]}" src file target found
  for src in "${args[@]:0:${#args[@]}-1}"; do
    found=0
    while IFS= read -r -d '' file; do
      found=1
      if [[ "$file" == "$src" ]]; then
        if [[ "$dest" == */ ]]; then target="$APP/$dest$(basename "$file")"; else target="$APP/$dest"; fi
      else
        target="$APP/$dest/${file#"$src"/}"
      fi
      mkdir -p "$(dirname "$target")"
      cp -p "$ROOT/$file" "$target"
    done < <(context_files "$src")
    (( found )) || fail "COPY $src: no such file in the build context (is it committed?)"
  done
}

# ENV lines hold KEY=value words without spaces or quotes (checked, so splitting is safe).
# Sets WORDS rather than printing them: a failure must stop this shell, not a subshell.
env_words() {
  local word
  read -r -a WORDS <<<"$1"
  for word in "${WORDS[@]}"; do
    [[ "$word" =~ ^[A-Za-z_][A-Za-z0-9_]*=[^\"\'\ ]*$ ]] || fail "ENV $word: this script only understands KEY=value without quotes"
  done
}

json_array_words() {
  node -e 'for (const word of JSON.parse(process.argv[1])) process.stdout.write(word + "\0")' "$1"
}

# ---- 2. the build stage -----------------------------------------------------------------------
say "build stage in $APP"
BUILD_ENV=()
RUNTIME_ENV=()
CMD_ARGV=()
HEALTH_ARGV=()
STOP_SIGNAL=""
stage=""
for instruction in "${EXPECTED[@]}"; do
  keyword="${instruction%% *}"
  rest="${instruction#* }"
  if [[ "$keyword" == FROM ]]; then
    stage="${rest##* AS }"
    continue
  fi
  case "$stage:$keyword" in
    build:ENV) env_words "$rest"; BUILD_ENV+=("${WORDS[@]}") ;;
    build:WORKDIR) ;;
    build:COPY)
      [[ "$rest" != --* ]] || fail "COPY $rest: flags are not reproduced here"
      note "COPY $rest"
      read -r -a copy_args <<<"$rest"
      copy_from_context "${copy_args[@]}"
      ;;
    build:RUN)
      note "RUN $rest"
      step_ms=$(now_ms)
      # A fresh build stage has no NODE_ENV; a production NODE_ENV here would skip the dev
      # dependencies that the build needs.
      (cd "$APP" && env -u NODE_ENV "${BUILD_ENV[@]}" sh -c "$rest") || fail "RUN $rest"
      note "    done in $(secs_since "$step_ms")"
      ;;
    runtime:COPY)
      [[ "$rest" =~ ^--from=build\ /app/([^ ]+)\ ([^ ]+)$ ]] || fail "COPY $rest: only COPY --from=build /app/<path> <dest> is reproduced"
      from="${BASH_REMATCH[1]}"
      dest="${BASH_REMATCH[2]}"
      [[ -e "$APP/$from" ]] || fail "COPY --from=build /app/$from: the build stage did not produce it"
      if [[ "$dest" == ./ ]]; then cp -a "$APP/$from" "$RUNTIME/"; else cp -a "$APP/$from" "$RUNTIME/$dest"; fi
      ;;
    runtime:ENV) env_words "$rest"; RUNTIME_ENV+=("${WORDS[@]}") ;;
    runtime:CMD) mapfile -d '' -t CMD_ARGV < <(json_array_words "$rest") ;;
    runtime:HEALTHCHECK)
      [[ "$rest" =~ \ CMD\ (\[.*\])$ ]] || fail "HEALTHCHECK: expected the exec form CMD [...]"
      mapfile -d '' -t HEALTH_ARGV < <(json_array_words "${BASH_REMATCH[1]}")
      ;;
    runtime:STOPSIGNAL) STOP_SIGNAL="$rest" ;;
    runtime:RUN|runtime:USER|runtime:VOLUME|runtime:EXPOSE|runtime:WORKDIR) ;;
    *) fail "$keyword in stage \"$stage\" is not reproduced by this script: teach it first" ;;
  esac
done
(( ${#CMD_ARGV[@]} )) || fail "the runtime stage has no CMD"
(( ${#HEALTH_ARGV[@]} )) || fail "the runtime stage has no HEALTHCHECK"
[[ -n "$STOP_SIGNAL" ]] || fail "the runtime stage has no STOPSIGNAL"

# The slim image has no compiler: every native module must come prebuilt.
compiled="$(find "$APP/node_modules" -type d -path '*/build/Release' -prune -print 2>/dev/null | sed "s|^$APP/||")"
[[ -z "$compiled" ]] || fail "native code was compiled during npm ci (the slim image has no compiler): $compiled"
[[ ! -e "$APP/node_modules/typescript" ]] || fail "npm prune left the dev dependencies (typescript) in place"

# ---- 3. the runtime stage ---------------------------------------------------------------------
say "runtime stage in $RUNTIME"
rm -rf "$SCRATCH/build"   # nothing may resolve back into the build stage
note "$(cd "$RUNTIME" && printf '%s ' *) ($(du -sh "$RUNTIME" | cut -f1), node_modules $(du -sh "$RUNTIME/node_modules" | cut -f1))"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[[ "$node_major" == 20 ]] || note "warning: this machine runs Node $(node -v); the image runs Node 20"

PORT="$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')"
SERVER_ENV=(
  "${RUNTIME_ENV[@]}"
  # the volumes, a free port, and loopback only (the image listens on 0.0.0.0)
  "DATA_DIR=$STATE/data" "IMAGES_DIR=$STATE/images" "LOG_DIR=$STATE/log" "PORT=$PORT" "HOST=127.0.0.1"
)
# A clean environment like the container's: only PATH (to find node) and a HOME.
(cd "$RUNTIME" && exec env -i PATH="$PATH" HOME="$SCRATCH/home" "${SERVER_ENV[@]}" "${CMD_ARGV[@]}") >"$SERVER_OUT" 2>&1 &
SERVER_PID=$!
note "started: ${CMD_ARGV[*]} (pid $SERVER_PID, port $PORT)"

# ---- 4a. the health check ---------------------------------------------------------------------
health=("${HEALTH_ARGV[@]}")
run_health() { (cd "$RUNTIME" && env -i PATH="$PATH" HOME="$SCRATCH/home" "${SERVER_ENV[@]}" "${health[@]}") >/dev/null 2>&1; }
health_ms=$(now_ms)
deadline=$(( $(date +%s) + HEALTH_TIMEOUT ))
until run_health; do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    code=0; wait "$SERVER_PID" || code=$?; SERVER_PID=""
    fail "the server exited during start-up (code $code)"
  fi
  (( $(date +%s) < deadline )) || fail "the health check did not pass within ${HEALTH_TIMEOUT}s: ${health[*]}"
  sleep 0.2
done
say "health check passed after $(secs_since "$health_ms")"

# ---- 4b. a picture through the frame API ------------------------------------------------------
picture_ms=$(now_ms)
node -e '
  const [base, timeoutSeconds] = process.argv.slice(1);
  const deadline = Date.now() + Number(timeoutSeconds) * 1000;
  const die = (message) => { console.error("FAIL: " + message); process.exit(1); };
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
  (async () => {
    const start = await fetch(base + "/operation/start", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ type: "auto" }),
    });
    const started = await start.json();
    if (start.status !== 200 || typeof started.id !== "string") die("POST /operation/start: " + start.status + " " + JSON.stringify(started));
    let status;
    do {
      if (Date.now() > deadline) die("operation " + started.id + " still pending after " + timeoutSeconds + "s");
      await sleep(200);
      status = await (await fetch(base + "/operation/status/" + started.id)).json();
    } while (status.status === "pending");
    if (status.status !== "done") die("operation " + started.id + " ended as " + JSON.stringify(status));
    const result = await fetch(base + "/operation/result/" + started.id);
    const body = JSON.parse(await result.text());
    const image = body?.response?.image;
    if (result.status !== 200 || body.status !== "done" || typeof image !== "string") die("GET /operation/result: " + result.status + " without response.image");
    const jpeg = Buffer.from(image, "base64");
    if (jpeg.toString("base64") !== image) die("response.image is not plain base64");
    if (jpeg[0] !== 0xff || jpeg[1] !== 0xd8 || jpeg.at(-2) !== 0xff || jpeg.at(-1) !== 0xd9) die("response.image is not a JPEG");
    let size = "size unknown";
    for (let i = 2; i + 9 < jpeg.length && jpeg[i] === 0xff; i += 2 + jpeg.readUInt16BE(i + 2)) {
      if (jpeg[i + 1] >= 0xc0 && jpeg[i + 1] <= 0xc2) {
        size = (jpeg[i + 1] === 0xc0 ? "baseline " : "SOF" + (jpeg[i + 1] - 0xc0) + " ") + jpeg.readUInt16BE(i + 7) + "x" + jpeg.readUInt16BE(i + 5);
        break;
      }
    }
    console.log("    operation " + started.id + ": JPEG " + size + ", " + jpeg.length + " bytes");
  })().catch((error) => die(error.message));
' "http://127.0.0.1:$PORT" "$PICTURE_TIMEOUT" || fail "no picture through the frame API"
say "picture served after $(secs_since "$picture_ms")"
ls "$STATE/log"/* >/dev/null 2>&1 || fail "nothing was written to LOG_DIR"
[[ -f "$STATE/data/options.yml" ]] || fail "DATA_DIR/options.yml was not written"
node -e '
  fetch(process.argv[1]).then(async (page) => {
    const html = await page.text();
    if (page.status !== 200 || !html.includes("app.js")) { console.error("FAIL: / is not the web page (" + page.status + ")"); process.exit(1); }
    const script = await fetch(new URL("/ui/app.js", process.argv[1]));
    if (script.status !== 200) { console.error("FAIL: /ui/app.js answered " + script.status); process.exit(1); }
  }).catch((error) => { console.error("FAIL: " + error.message); process.exit(1); });
' "http://127.0.0.1:$PORT/" || fail "the web page is not served from the image"
say "web page served"

# ---- 4c. graceful stop ------------------------------------------------------------------------
stop_ms=$(now_ms)
kill -s "${STOP_SIGNAL#SIG}" "$SERVER_PID"
deadline=$(( $(date +%s) + STOP_TIMEOUT ))
while kill -0 "$SERVER_PID" 2>/dev/null && (( $(date +%s) < deadline )); do sleep 0.1; done
kill -0 "$SERVER_PID" 2>/dev/null && fail "the server still runs ${STOP_TIMEOUT}s after $STOP_SIGNAL (docker stop would kill it)"
code=0
wait "$SERVER_PID" || code=$?
SERVER_PID=""
(( code == 0 )) || fail "the server exited with code $code after $STOP_SIGNAL"
say "stopped on $STOP_SIGNAL with code 0 after $(secs_since "$stop_ms")"

say "OK: the image's build steps, start, health check, picture and stop all work (total $(secs_since "$STARTED_MS"))"
