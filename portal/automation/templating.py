"""Message templates written by admins: rendered in a Jinja sandbox with strict placeholders."""
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from portal.web import filters

FILTERS = {"brl": filters.brl, "data": filters.date_br, "data_hora": filters.datetime_br,
           "telefone": filters.phone_br, "cpf": filters.cpf_br, "numero": filters.number}


def environment(autoescape: bool = False, **extra_filters) -> SandboxedEnvironment:
    """The one sandbox for text users write: messages (plain) and contracts (HTML, autoescaped)."""
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=autoescape, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(FILTERS, **extra_filters)
    return env


_env = environment()


class TemplateProblem(ValueError):
    """A template that cannot be used; the message is for the admin, in pt-BR."""


def check_syntax(source: str, env: SandboxedEnvironment = _env) -> None:
    try:
        env.parse(source or "")
    except TemplateSyntaxError as exc:
        raise TemplateProblem(f"Erro de sintaxe na linha {exc.lineno}: {exc.message}") from exc


def render(source: str, context: dict, env: SandboxedEnvironment = _env) -> str:
    check_syntax(source, env)
    try:
        return env.from_string(source or "").render(**context)
    except UndefinedError as exc:
        raise TemplateProblem(f"Campo desconhecido no modelo: {exc.message}") from exc
    except SecurityError as exc:
        raise TemplateProblem(f"Uso não permitido no modelo: {exc}") from exc
    except (TypeError, ValueError, ArithmeticError, AttributeError) as exc:
        raise TemplateProblem(f"Erro ao montar a mensagem: {exc}") from exc
