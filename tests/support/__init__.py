"""What the tests share besides fixtures (those are in the conftest.py files): the policy
for tests that need a real service, test databases, the test-data factory and the cache
tests' tools. Kit-level helpers (free ports, a private redis-server, fresh PostgreSQL
databases) are in miniapp_testing, which the benches use too.

tests/conftest.py registers this package for pytest's assert rewriting, so an assert in a
helper reports its values as one in a test does.
"""
