"""What several test modules share, one module a job. Fixtures are in tests/conftest.py."""
