import json
import os
import subprocess
import sys

from click.testing import CliRunner

from indexer.cli import main
from tests.conftest import ROOT


def test_every_command_has_help():
    runner = CliRunner()
    assert main.help
    for name, command in main.commands.items():
        assert command.help and command.help.strip(), f"kb {name} has no help"
        result = runner.invoke(main, [name, "--help"], obj={})
        assert result.exit_code == 0, result.output
        assert "Usage:" in result.output


def kb_env(settings):
    return {**os.environ, "KB_CONTENT_DIR": str(settings.content_dir), "KB_DATA_DIR": str(settings.data_dir),
            "KB_MODEL": "hashing"}


def run_kb(args, env):
    return subprocess.run([sys.executable, "-m", "indexer.cli", *args], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_index_json_summary_then_search_json(world):
    settings, _ = world
    env = kb_env(settings)
    first = run_kb(["index", "--json"], env)
    assert first.returncode == 0, first.stderr
    summary = json.loads(first.stdout)
    assert set(summary) == {"added", "updated", "removed", "unchanged", "skipped", "embedded", "cached", "seconds"}
    assert summary["added"] == 4 and summary["embedded"] > 0
    second = json.loads(run_kb(["index", "--json"], env).stdout)
    assert second["embedded"] == 0 and second["unchanged"] == 4
    found = run_kb(["search", "terraform state lock", "--json"], env)
    page = json.loads(found.stdout)
    assert {"query", "total", "took_ms", "results", "facets", "did_you_mean"} <= set(page)
    assert page["results"][0]["id"] == "forum/terraform-state-lock"


def test_bad_setting_is_one_line_and_nonzero(world):
    settings, _ = world
    result = run_kb(["stats"], {**kb_env(settings), "KB_TOP_K": "abc"})
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "KB_TOP_K" in lines[0]


def test_missing_content_folder_is_one_line(world, tmp_path):
    settings, _ = world
    result = run_kb(["index"], {**kb_env(settings), "KB_CONTENT_DIR": str(tmp_path / "missing")})
    assert result.returncode == 1
    assert "KB_CONTENT_DIR" in result.stderr.strip().splitlines()[-1]


def test_search_before_indexing_says_what_to_do(world):
    settings, _ = world
    result = run_kb(["search", "feedback"], kb_env(settings))
    assert result.returncode == 1 and "make index" in result.stderr


def test_skipped_files_make_exit_status_2(world):
    settings, _ = world
    (settings.content_dir / "sessions" / "broken.md").write_text("---\ntitle: [unclosed\n---\nbody", encoding="utf-8")
    result = run_kb(["index"], kb_env(settings))
    assert result.returncode == 2
    assert "sessions/broken.md" in result.stdout


def test_stats_is_an_aligned_table_and_search_prints_plain_text(indexed):
    settings, _ = indexed
    env = kb_env(settings)
    stats = run_kb(["stats"], env).stdout.splitlines()
    assert stats[0].split() == ["status", "ok"] and "{" not in "".join(stats)
    assert all(line[16:18] == "  " and line[18] != " " for line in stats)  # the values in one column
    values = {line[:18].strip(): line[18:].strip() for line in stats if line[:18].strip()}
    assert values["documents"] == "4" and values["model"] == "hashing"
    found = run_kb(["search", "feedback situation"], env).stdout  # piped: no terminal codes
    assert "&#" not in found and "&quot;" not in found and "\x1b" not in found and "[" in found


def test_a_snippet_is_plain_text_marked_for_a_terminal_or_a_pipe():
    from indexer.cli import plain_snippet

    snippet = "Don&#x27;t <mark>feedback</mark> &amp; <mark>SBI</mark>"
    assert plain_snippet(snippet, terminal=False) == "Don't [feedback] & [SBI]"
    assert plain_snippet(snippet, terminal=True) == "Don't \x1b[1mfeedback\x1b[0m & \x1b[1mSBI\x1b[0m"
    assert plain_snippet("<mark>" + "lang " * 60 + "</mark>", terminal=True).endswith("…\x1b[0m")


def test_an_index_run_without_a_terminal_says_what_it_will_do_then_every_tenth(caplog):
    import logging

    from indexer.cli import IndexProgress

    progress = IndexProgress(terminal=False, rate=10.0)
    with caplog.at_level(logging.INFO, logger="kb.index"):
        progress(0, 200, 50, 12)
        for done in range(20, 201, 20):
            progress(done, 200, 50, 12)
    lines = [record.getMessage() for record in caplog.records]
    assert lines[0] == "indexing 12 documents: 200 passages to embed, 50 from the cache, about 20 s"
    assert len(lines) == 11 and lines[1].startswith("embedded 20 of 200 passages (10%), ")
    assert lines[-1].startswith("embedded 200 of 200 passages (100%), 0 s left")
