"""Where derived data lives in the data folder."""

from __future__ import annotations

import re
from pathlib import Path

_GENERATION = re.compile(r"^gen-(\d+)\.(faiss|json)$")


class Layout:
    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir)

    @property
    def database(self) -> Path:
        return self.root / "kb.sqlite3"

    @property
    def index_dir(self) -> Path:
        return self.root / "index"

    def generation_file(self, generation: int) -> Path:
        self.index_dir.mkdir(parents=True, exist_ok=True)
        return self.index_dir / f"gen-{generation:06d}.faiss"

    @property
    def write_lock(self) -> Path:
        return self.root / "write.lock"

    @property
    def run_lock(self) -> Path:
        return self.root / "run.lock"

    @property
    def last_run(self) -> Path:
        return self.root / "last-run.json"

    @property
    def secret_key(self) -> Path:
        return self.root / "secret_key"

    def prune_generations(self, keep: int) -> None:
        """Delete generation files older than ``keep - 1`` (the previous one may still be loading)."""
        if not self.index_dir.is_dir() or keep <= 0:
            return
        for path in self.index_dir.iterdir():
            match = _GENERATION.match(path.name)
            if match and int(match.group(1)) < keep - 1:
                path.unlink(missing_ok=True)
