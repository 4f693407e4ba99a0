"""The commands that say what is installed: ``list`` (plugins, interventions with their
parameters, backends and aliases, tasks) and ``data`` (which datasets are present; fetch them)."""
from __future__ import annotations

import argparse

from tom_harness.api.errors import UsageError


def cmd_list(args: argparse.Namespace) -> int:
    from tom_harness.host.plugin_host import get_host
    from tom_harness.lmeval.tasks import TaskCatalog

    host = get_host(args.plugins)
    what = args.what
    if what in ("all", "plugins"):
        print("Plugins:")
        for name in host.plugin_names():
            print(f"  {name}")
        for f in host.failures:
            print(f"  {f.name}  [FAILED: {f.error}]")
    if what in ("all", "interventions"):
        print("Interventions:")
        for name in sorted(host.interventions):
            cls = host.interventions[name]
            print(f"  {name}  ({cls.kind}; from {host.intervention_plugin.get(name, '?')})  {cls.description}")
            if cls.requirements_text():
                print(f"      {cls.requirements_text()}")
            for p in cls.params:
                flag = " [replicate]" if p.replicate else ""
                print(f"      {p.name}: {p.describe_type()} = {p.default!r}{flag}  {p.help}")
    if what in ("all", "models"):
        print("Model backends (--model):")
        for name, backend in sorted(host.backends.items()):
            print(f"  {name}  {backend.description}  (from {backend.plugin})")
        print("Model aliases (--model_args pretrained=...):")
        for name, alias in sorted(host.model_aliases.items()):
            print(f"  {name}  {alias.description}  (from {alias.plugin})")
    if what in ("all", "tasks"):
        catalog = TaskCatalog.from_sources(host.task_sources, args.include_path or [])
        catalog.with_defaults = bool(args.lm_eval_tasks)
        tm = catalog.manager
        groups = set(tm.all_groups)
        print("Tasks (groups marked *):")
        for name in catalog.names():
            if name.startswith("_"):
                continue
            print(f"  {name}{' *' if name in groups else ''}")
    return 0


def cli_data_list(args) -> int:
    """``tom-harness data list``: one line per dataset with its state and location. ``args``:
    ``data_dir`` (str | None; default: each dataset in the first data root that has it),
    ``verify`` (bool, optional: hash every present file). Returns the exit code."""
    from tom_harness.data.status import data_status

    rows = data_status(getattr(args, "data_dir", None), verify=bool(getattr(args, "verify", False)))
    width = max(len(r["name"]) for r in rows)
    for r in rows:
        detail = f"{r['present']}/{r['files']} files"
        if r["corrupt"]:
            detail += f", corrupt: {', '.join(r['corrupt'][:3])}"
        if r.get("unverified"):
            detail += f", {len(r['unverified'])} unverified (not in the registry): {', '.join(r['unverified'][:3])}"
        print(f"{r['name']:<{width}}  {r['status']:<10}  {detail:<24}  {r['path']}")
    missing = [r["name"] for r in rows if r["status"] != "ok"]
    if missing:
        print(f"\nget missing data with: tom-harness data fetch {' '.join(missing)}")
    return 0


def cli_data_fetch(args) -> int:
    """``tom-harness data fetch NAME... [--data_dir D] [--base_url URL]``. ``args``: ``names``
    (one or more registry names, or ``all``), ``data_dir`` (default: the first data root),
    ``base_url`` (a mirror laid out like the data directory), ``quiet``. Unknown names are a
    UsageError (exit 2); a file that fails its pinned sha256 a DataMissingError naming it."""
    from tom_harness.data.download import fetch

    paths = fetch(getattr(args, "names", []), getattr(args, "data_dir", None),
                  getattr(args, "base_url", None), progress=not getattr(args, "quiet", False))
    print(f"{len(paths)} file(s) present and verified")
    return 0


def cmd_data(args: argparse.Namespace) -> int:
    if args.data_command == "list":
        return cli_data_list(args)
    if args.data_command == "fetch":
        from tom_harness.spec.option_checks import check_url

        check_url(args.base_url)
        return cli_data_fetch(args)
    raise UsageError("usage: tom-harness data {list,fetch} ...")
