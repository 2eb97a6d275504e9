"""The Jinja environment over a project's `runbooks/` folder: workflows, texts, rules, modules."""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any, Mapping

import jinja2

from offboard.errors import OffboardError
from offboard.project import Project


def environment(project: Project) -> jinja2.Environment:
    """Strict: a missing value is an error, never an empty string in a text sent to someone."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(project.runbooks_dir),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )
    env.filters["py"] = python_literal
    env.filters["oneline"] = lambda text: " ".join(str(text).split())
    return env


def python_literal(value: Any, level: int = 0) -> str:
    """`value` as Python source, for the rendered modules: strings always double-quoted with
    every special character escaped, mappings sorted with one item per line (indented one
    level past `level`), so two customers' modules differ line by line only in their values."""
    inner, outer = "    " * (level + 1), "    " * level
    if isinstance(value, Mapping):
        items = "".join(f"{inner}{python_literal(key)}: {python_literal(item, level + 1)},\n" for key, item in sorted(value.items()))
        return f"{{\n{items}{outer}}}" if items else "{}"
    if isinstance(value, (list, tuple)):
        items = "".join(f"{inner}{python_literal(item, level + 1)},\n" for item in value)
        return f"[\n{items}{outer}]" if items else "[]"
    if isinstance(value, (str, PurePath)):
        return json.dumps(str(value), ensure_ascii=False)  # a JSON string with its escapes is a Python string literal
    if value is None or isinstance(value, (bool, int)):
        return repr(value)
    raise TypeError(f"no Python literal for {type(value).__name__}")


def render(project: Project, template: str, context: dict[str, Any]) -> str:
    try:
        return environment(project).get_template(template).render(context)
    except jinja2.TemplateNotFound:
        raise OffboardError(f"template runbooks/{template} not found") from None
    except jinja2.UndefinedError as error:
        raise OffboardError(f"runbooks/{template}: {error.message}") from None
    except jinja2.TemplateSyntaxError as error:
        raise OffboardError(f"runbooks/{template} line {error.lineno}: {error.message}") from None
