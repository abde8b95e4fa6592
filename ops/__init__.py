"""What an operator or a developer runs around the services — never what a request or a
job runs: the `kpp` command line (`python -m ops.cli`: migrate, seed, serve, worker, up),
`make up`'s supervisor and demo feed, the embedded PostgreSQL/Valkey, the start-up checks
and the migration commands.

It sits above ``services/`` (it starts them, loads their seeds, creates the first admin
through the gateway's accounts) and above ``shared/``; nothing in ``shared/`` or
``services/`` imports it (tests/spine/test_layering.py). Issue 16.
"""
