"""Message templates written by admins: rendered in a Jinja sandbox with strict placeholders."""
import difflib

from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, nodes
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from portal.web import filters

FILTERS = {"brl": filters.brl, "data": filters.date_br, "data_hora": filters.datetime_br,
           "telefone": filters.phone_br, "cpf": filters.cpf_br, "numero": filters.number}


def environment(autoescape: bool = False, **extra_filters) -> SandboxedEnvironment:
    """The one sandbox for text users write: messages (plain) and contracts (HTML, autoescaped)."""
    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=autoescape, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(FILTERS, **extra_filters)
    return env


FILTER_USE = {"brl": "valores em centavos", "data": "datas", "data_hora": "datas com hora",
              "telefone": "telefones", "cpf": "CPF", "numero": "números"}
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
        raise TemplateProblem(unknown_field_message(source, context, env) or
                              "O modelo usa um campo que não existe.") from exc
    except SecurityError as exc:
        raise TemplateProblem("Uso não permitido no modelo: use só os campos da lista e os filtros do Portal.") \
            from exc
    except (TypeError, ValueError, ArithmeticError, AttributeError) as exc:
        # Python's own wording ("'str' object has no attribute 'strftime'") means nothing to the admin.
        used = sorted({f.name for f in env.parse(source or "").find_all(nodes.Filter)} & set(FILTERS))
        hint = (" Confira os filtros: " + ", ".join(f"|{name} ({FILTER_USE[name]})" for name in used) + ".") \
            if used else ""
        raise TemplateProblem("Erro ao montar a mensagem: uma expressão não vale para o valor do campo." + hint) \
            from exc


def _path(node) -> list[str] | None:
    """`contato.nome` / `contato["nome"]` as ["contato", "nome"]; None for anything else (calls, filters...)."""
    if isinstance(node, nodes.Name):
        return [node.name]
    if isinstance(node, nodes.Getattr):
        parent = _path(node.node)
        return parent + [node.attr] if parent else None
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
        parent = _path(node.node)
        return parent + [node.arg.value] if parent else None
    return None


def unknown_field_message(source: str, context: dict, env: SandboxedEnvironment = _env) -> str | None:
    """The admin's wording of Jinja's "'dict object' has no attribute 'nomee'": which placeholder is wrong and which
    ones exist at that level (closest first)."""
    tree = env.parse(source or "")
    local = {n.name for n in tree.find_all(nodes.Name) if n.ctx in ("store", "param")}
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
        path = _path(node)
        if not path or path[0] in local:
            continue
        level = context
        for depth, part in enumerate(path):
            if isinstance(level, dict) and part in level:
                level = level[part]
                continue
            if not isinstance(level, dict):
                break  # an attribute of a plain value (a string's method...): not a placeholder
            prefix = ".".join(path[:depth])
            valid = sorted(k for k in level if not k.startswith("_"))
            names = [f"{prefix}.{k}" if prefix else k for k in valid]
            wrong = ".".join(path[:depth + 1])
            close = difflib.get_close_matches(part, valid, n=1)
            hint = f" Você quis dizer {{{{ {prefix + '.' if prefix else ''}{close[0]} }}}}?" if close else ""
            where = f" em “{prefix}”" if prefix else ""
            return (f"O campo {{{{ {wrong} }}}} não existe.{hint} Campos válidos{where}: "
                    + ", ".join(names) + ".")
    return None
