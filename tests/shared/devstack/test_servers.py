from pathlib import Path

import pytest

from shared.devstack.servers import DEFAULT_PG_PORT, ensure_stack


class TestEnsureStack:
    def test_given_urls_start_nothing(self, tmp_path: Path) -> None:
        stack = ensure_stack(
            "postgresql+asyncpg://u@db.example:5432/x",
            "redis://cache.example:6379/0",
            var_dir=tmp_path,
        )
        assert stack.postgres is None and stack.redis is None
        assert stack.started == []
        assert stack.database_url == "postgresql+asyncpg://u@db.example:5432/x"
        assert list(tmp_path.iterdir()) == []

    def test_running_embedded_servers_are_reused_not_restarted(self, database_url: str) -> None:
        # The test session already runs (or was given) its servers; a second caller on the same
        # var dir must reuse them.
        if not database_url.startswith(
            f"postgresql+asyncpg://postgres@127.0.0.1:{DEFAULT_PG_PORT}/"
        ):
            pytest.skip("the tests were given their own servers (TEST_DATABASE_URL)")
        stack = ensure_stack(None, None)
        assert stack.started == []
        assert stack.postgres is not None and stack.redis is not None
