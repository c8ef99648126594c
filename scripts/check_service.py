"""Exit 0 when a service answers: ``check_service.py postgres URL`` or ``check_service.py redis URL``."""

import sys


def main() -> int:
    kind, url = sys.argv[1], sys.argv[2]
    try:
        if kind == "postgres":
            import psycopg

            psycopg.connect(url, connect_timeout=3).close()
        elif kind == "redis":
            import redis

            redis.Redis.from_url(url, socket_connect_timeout=3).ping()
        else:
            raise SystemExit(f"unknown service {kind}")
    except Exception as exc:  # noqa: BLE001
        print(f"{kind} unreachable at {url}: {exc}", file=sys.stderr)  # noqa: T201
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
