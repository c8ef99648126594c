"""Child process: migrate the database named by ``DATABASE_URL``, build the benchmark
organisation and issue an API token. Writes ``{"token", "user", "leaves"}`` as JSON."""

import argparse

import django


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json-out", required=True)
    args = parser.parse_args()
    django.setup()
    from django.core.management import call_command

    from benchmarks.common import write_json
    from benchmarks.fixtures import api_token, build_org

    call_command("migrate", interactive=False, verbosity=0)
    org = build_org()
    write_json(
        args.json_out,
        {
            "token": api_token(org.api_user),
            "user": org.api_user.username,
            "leaves": sorted(leaf for ids in org.leaves.values() for leaf in ids),
        },
    )


if __name__ == "__main__":
    main()
