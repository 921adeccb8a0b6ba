#!/usr/bin/env bash
# 20 `mcpd token create` in parallel while another process keeps taking the SQLite write lock
# (as a running daemon recording usage would) and reads continuously: every create succeeds,
# none deadlocks. On PostgreSQL: the same 20 in parallel.
source "$(dirname "$0")/common.sh" "$@"
db=(--database "$DB_URL")
expect 0 user add ada@example.com "${db[@]}"

holder_pid=
if [[ $BACKEND == sqlite ]]; then
  file=${DB_URL#sqlite://}
  python3 - "$file" "$WORK" <<'PY' &
import os, sqlite3, sys, threading, time
path, work = sys.argv[1], sys.argv[2]
stop = os.path.join(work, "stop")
reads = 0
def reader():
    global reads
    c = sqlite3.connect(path, timeout=30, isolation_level=None)
    while not os.path.exists(stop):
        c.execute("SELECT COUNT(*) FROM tokens").fetchone()
        reads += 1
reader_thread = threading.Thread(target=reader)
reader_thread.start()
w = sqlite3.connect(path, timeout=30, isolation_level=None)
holds = 0
open(os.path.join(work, "ready"), "w").close()
while not os.path.exists(stop):
    w.execute("BEGIN IMMEDIATE")
    w.execute("UPDATE users SET updated_at = updated_at WHERE id = 1")
    time.sleep(0.4)  # hold the write lock, well under mcpd's 5 s busy timeout
    w.execute("COMMIT")
    holds += 1
    time.sleep(0.05)
reader_thread.join()
with open(os.path.join(work, "holder"), "w") as f:
    f.write(f"{holds} {reads}\n")
PY
  holder_pid=$!
  for _ in $(seq 100); do [[ -f $WORK/ready ]] && break; sleep 0.1; done
  [[ -f $WORK/ready ]] || fail "lock holder did not start"
fi

pids=()
for i in $(seq 20); do
  "$MCPD" token create --user ada@example.com --name "parallel-$i" --json "${db[@]}" \
    >"$WORK/create-$i.json" 2>"$WORK/create-$i.err" &
  pids+=($!)
done
failures=0
for i in "${!pids[@]}"; do
  if ! wait "${pids[$i]}"; then
    failures=$((failures + 1))
    echo "create $((i + 1)) failed: $(cat "$WORK/create-$((i + 1)).err")" >&2
  fi
done

if [[ -n $holder_pid ]]; then
  touch "$WORK/stop"
  wait "$holder_pid" || fail "lock holder failed"
  read -r holds reads <"$WORK/holder"
  echo "lock holder: $holds write transactions, $reads reads during the run"
  (( holds >= 1 && reads >= 1 )) || fail "the holder never held the lock or never read"
fi
(( failures == 0 )) || fail "$failures of 20 parallel creates failed"

python3 - "$WORK" <<'PY' || fail "parallel create output"
import glob, json, sys
docs = [json.load(open(p)) for p in glob.glob(sys.argv[1] + "/create-*.json")]
assert len(docs) == 20, len(docs)
assert len({d["token"] for d in docs}) == 20
assert len({d["id"] for d in docs}) == 20
PY
expect 0 token list --json "${db[@]}"
json_check 'assert sorted(t["name"] for t in doc) == sorted(f"parallel-{i}" for i in range(1, 21)), doc'
echo "ok"
