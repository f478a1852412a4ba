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
}
_SECURITY: dict = {
    "bearerAuth": {"type": "http", "scheme": "bearer", "description": "Authorization: Bearer pk_…"},
}


def register(paths: dict, schemas: dict | None = None, security_schemes: dict | None = None) -> None:
    _PATHS.update(paths)
    _SCHEMAS.update(schemas or {})
    _SECURITY.update(security_schemes or {})


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
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Portal — API",
            "version": "1.1.0",
            "description": "Envio de leads e de métricas de uso por sistemas parceiros, e o retorno do CRM de "
                           "vendas. Cada sistema recebe um token (cliente de API) em Config. pré-vendas → Clientes "
                           "de API, ou por `portal api-token create NOME`; o CRM de vendas assina com "
                           "SALES_CRM_SECRET. Mensagens de erro em português.",
        },
        "servers": [{"url": server_url or "/"}],
        "paths": deepcopy(_PATHS),
        "components": {"securitySchemes": deepcopy(_SECURITY), "schemas": deepcopy(_SCHEMAS)},
        "security": [{"bearerAuth": []}],
    }
