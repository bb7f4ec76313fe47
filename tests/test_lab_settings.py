"""tools/lab_settings.py makes JupyterLab open MyST Markdown as notebooks."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("lab_settings", ROOT / "tools" / "lab_settings.py")
lab_settings = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lab_settings)


def test_overrides_open_markdown_with_jupytext_and_keep_other_settings(tmp_path: Path) -> None:
    path = tmp_path / "share" / "jupyter" / "lab" / "settings" / "overrides.json"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps({"@jupyterlab/apputils-extension:themes": {"theme": "Dark"}}))
    lab_settings.write_overrides(tmp_path)
    settings = json.loads(path.read_text())
    viewers = settings["@jupyterlab/docmanager-extension:plugin"]["defaultViewers"]
    assert viewers["markdown"] == "Jupytext Notebook"
    assert settings["@jupyterlab/apputils-extension:themes"] == {"theme": "Dark"}


def test_overrides_turn_off_news_and_update_checks_with_values_the_schema_accepts(
        tmp_path: Path) -> None:
    import sys

    path = lab_settings.write_overrides(tmp_path)
    notification = json.loads(path.read_text())["@jupyterlab/apputils-extension:notification"]
    assert notification == {"fetchNews": "false", "checkForUpdates": False}
    schema = json.loads((Path(sys.prefix) / "share" / "jupyter" / "lab" / "schemas" / "@jupyterlab"
                         / "apputils-extension" / "notification.json").read_text())
    assert {"const": "false", "title": "Never"} in schema["properties"]["fetchNews"]["oneOf"]
    assert schema["properties"]["checkForUpdates"]["type"] == "boolean"


def test_the_viewer_name_is_the_one_jupytext_registers() -> None:
    import sys

    labextension = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "jupyterlab-jupytext"
    bundle = "".join(p.read_text(errors="ignore") for p in labextension.rglob("*.js"))
    assert 'FACTORY="Jupytext Notebook"' in bundle
