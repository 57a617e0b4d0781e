#!/usr/bin/env bash
# Benchmarks are not run here (scripts/bench runs them): they must build, building only the engine,
# and the benchmark scripts must at least parse.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo bench --locked --no-run -p vmbar-engine
bash -n scripts/bench benches/baseline.sh
python3 -c "import ast, sys; [ast.parse(open(f).read(), f) for f in sys.argv[1:]]" benches/compare.py benches/report.py
echo "bench build: engine benches built; scripts parse"
