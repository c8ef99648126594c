#!/usr/bin/env bash
# Exit 0 when PostgreSQL answers at $1.
exec .venv/bin/python scripts/check_service.py postgres "$1" 2>/dev/null
