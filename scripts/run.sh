#!/usr/bin/env bash
# Start the Huey worker in the background and gunicorn in the foreground; stop both together.
set -euo pipefail
port=${1:-8000}
py=.venv/bin/python
$py manage.py run_huey --quiet &
worker=$!
trap 'kill $worker 2>/dev/null || true' EXIT INT TERM
echo
echo "快响 kuaixiang: http://localhost:${port}/   (API docs: http://localhost:${port}/api/v1/docs)"
echo
# Sync workers, as measured by `make bench`: steadier p99 than gthread on two cores (benchmarks/README.md).
exec_args=(--bind "0.0.0.0:${port}" --workers "${WEB_CONCURRENCY:-4}" --worker-class sync --access-logfile - kuaixiang.wsgi:application)
.venv/bin/gunicorn "${exec_args[@]}"
