"""The publishing workflow is valid and runs the Makefile targets that exist."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "publish.yml"


def load_workflow() -> dict:
    # YAML 1.1 reads the key `on` as True; normalise it back.
    data = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    if True in data:
        data["on"] = data.pop(True)
    return data


def steps(job: dict) -> list[dict]:
    return job.get("steps", [])


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    return set(re.findall(r"^([A-Za-z][\w-]*):", text, flags=re.MULTILINE))


def test_workflow_passes_the_github_workflow_schema() -> None:
    linter = Path(sys.executable).with_name("check-jsonschema")
    assert linter.exists() or shutil.which("check-jsonschema"), "check-jsonschema is not installed"
    result = subprocess.run(
        [str(linter), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_workflow_runs_on_push_to_main() -> None:
    assert load_workflow()["on"]["push"]["branches"] == ["main"]


def test_workflow_make_targets_exist() -> None:
    commands = [s["run"] for job in load_workflow()["jobs"].values() for s in steps(job)
                if "run" in s]
    used = {target for cmd in commands for target in re.findall(r"\bmake\s+([\w-]+)", cmd)}
    assert "test" in used, "the workflow must run `make test` (the README's test command)"
    assert used <= makefile_targets(), f"unknown Makefile targets: {used - makefile_targets()}"


def test_workflow_publishes_the_built_site_with_the_official_pages_actions() -> None:
    jobs = load_workflow()["jobs"]
    uses = {s["uses"].split("@")[0]: s for job in jobs.values() for s in steps(job) if "uses" in s}
    assert uses["actions/upload-pages-artifact"]["with"]["path"] == "_build/html"
    assert "actions/deploy-pages" in uses
    deploy = next(job for job in jobs.values()
                  if any(s.get("uses", "").startswith("actions/deploy-pages") for s in steps(job)))
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    build = jobs[deploy["needs"]]
    order = [s.get("uses", s.get("run", "")) for s in steps(build)]
    test_at = next(i for i, s in enumerate(order) if "make test" in s)
    upload_at = next(i for i, s in enumerate(order) if "upload-pages-artifact" in s)
    assert test_at < upload_at, "the site must be tested before it is uploaded"


def test_workflow_caches_pip_npm_and_executed_notebooks() -> None:
    uses = {s["uses"].split("@")[0]: s for job in load_workflow()["jobs"].values()
            for s in steps(job) if "uses" in s}
    assert uses["actions/setup-python"]["with"]["cache"] == "pip"
    assert uses["actions/setup-python"]["with"]["python-version"] == "3.11"
    assert uses["actions/setup-node"]["with"]["cache"] == "npm"
    cached = uses["actions/cache"]["with"]["path"].split()
    assert cached == ["_build/.jupyter_cache", "_build/.convlab-stamp"]


def test_make_publish_uses_ghp_import_on_the_built_site() -> None:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = text.split("\npublish:", 1)[1].split("\n\n", 1)[0]
    assert "ghp-import" in recipe and "_build/html" in recipe and "gh-pages" in recipe
