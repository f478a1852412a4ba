"""The one OpenAPI 3.0 document of /api/v1 (served at /api/v1/openapi.json).

Each package that serves an endpoint under /api/v1 registers its own paths, schemas and security schemes
here when it is imported (pre-sales in presales/openapi.py, customer success in cs/openapi.py): the
document never imports a module to describe it, and a disabled module leaves no stale path behind.
tests/runtime/test_web_sw_openapi.py checks that every /api/v1 route of the app is documented.
"""
from copy import deepcopy

_PATHS: dict = {}
_SCHEMAS: dict = {
    "Error": {
        "type": "object", "required": ["error", "message"],
        "properties": {"error": {"type": "string"}, "message": {"type": "string"}},
    },
    "ScopeError": {
        "type": "object", "required": ["error", "message", "scope"],
        "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                       "scope": {"type": "string", "description": "O escopo que falta ao token."}},
    },
}
_SECURITY: dict = {
    "bearerAuth": {"type": "http", "scheme": "bearer",
                   "description": "Authorization: Bearer pk_… — o token de um cliente de API. Cada token só faz o que "
                                  "seus escopos permitem; a operação diz o escopo que exige em `x-scopes` (OpenAPI "
                                  "3.0 só lista escopos em esquemas oauth2). Sem o escopo: 403 com o escopo que falta "
                                  "em `scope`. Token na URL (`?token=`): 400, nunca aceito."},
}


def register(paths: dict, schemas: dict | None = None, security_schemes: dict | None = None) -> None:
    _PATHS.update(paths)
    _SCHEMAS.update(schemas or {})
    _SECURITY.update(security_schemes or {})


def secured(scope: str, *, bearer: bool = True) -> dict:
    """The security of an operation an API client calls with `scope` (bearer token, or — bearer=False — a
    credential the path itself carries)."""
    return {"security": [{"bearerAuth": []}] if bearer else [], "x-scopes": [scope]}


def scope_error(scope: str) -> dict:
    """The documented 403 of an operation that needs `scope`."""
    return {"description": f"O token é válido, mas não tem o escopo {scope}. Nada foi gravado.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ScopeError"},
                                             "example": {"error": "Escopo insuficiente", "scope": scope,
                                                         "message": f"Este token não tem o escopo {scope}, "
                                                                    "exigido aqui. …"}}}}


def body(schema: str) -> dict:
    """A required JSON request body of a component schema."""
    return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def answer(description: str, schema: str) -> dict:
    """A documented JSON answer of a component schema."""
    return {"description": description,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}}}


def error(description: str, example_message: str) -> dict:
    """A documented error answer with the {"error", "message"} body every /api/v1 endpoint but one uses."""
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/Error"},
        "example": {"error": "…", "message": example_message}}}}


def document(server_url: str = "") -> dict:
    security = deepcopy(_SECURITY)
    scopes = sorted({scope for item in _PATHS.values() for op in item.values() for scope in op.get("x-scopes", ())})
    security["bearerAuth"]["x-scopes"] = scopes
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Portal — API",
            "version": "1.1.0",
            "description": "Envio de leads e de métricas de uso por sistemas parceiros, e o retorno do CRM de "
                           "vendas. Cada sistema recebe um token (cliente de API) com os escopos que precisa em Config. "
                           "pré-vendas → Clientes de API, ou por `portal api-token create NOME --scope ESCOPO`, e um "
                           "limite de requisições só seu (API_CLIENT_RATE_LIMIT, padrão 600 por minuto); o CRM de vendas assina com "
                           "SALES_CRM_SECRET. Mensagens de erro em português.",
        },
        "servers": [{"url": server_url or "/"}],
        "paths": deepcopy(_PATHS),
        "components": {"securitySchemes": security, "schemas": deepcopy(_SCHEMAS)},
        "security": [{"bearerAuth": []}],
    }
