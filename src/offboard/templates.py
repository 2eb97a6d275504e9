"""The Jinja environment over a project's `runbooks/` folder: workflows, texts, SQL, rules."""

from __future__ import annotations

from typing import Any

import jinja2

from offboard.errors import OffboardError
from offboard.project import Project


def environment(project: Project) -> jinja2.Environment:
    """Strict: a missing value is an error, never an empty string in a text sent to someone."""
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(project.runbooks_dir),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render(project: Project, template: str, context: dict[str, Any]) -> str:
    try:
        return environment(project).get_template(template).render(context)
    except jinja2.TemplateNotFound:
        raise OffboardError(f"template runbooks/{template} not found") from None
    except jinja2.UndefinedError as error:
        raise OffboardError(f"runbooks/{template}: {error.message}") from None
    except jinja2.TemplateSyntaxError as error:
        raise OffboardError(f"runbooks/{template} line {error.lineno}: {error.message}") from None
