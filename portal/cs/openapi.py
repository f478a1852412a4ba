"""OpenAPI description of POST /api/v1/cs/usage (cs/api.py), registered into the app's one document."""
from portal.cs.api import MAX_BODY, USAGE_WRITE
from portal.cs.services.usage import FEATURE, MAX_AGE_DAYS, MAX_COUNT, MAX_ROWS
from portal.web import openapi

MB = MAX_BODY // 1024 // 1024

SCHEMAS = {
    "UsageRow": {
        "type": "object", "required": ["cnpj", "day", "feature", "count"],
        "properties": {
            "cnpj": {"type": "string", "description": "CNPJ de uma conta cadastrada, com ou sem pontuação."},
            "day": {"type": "string", "format": "date",
                    "description": f"Dia do uso (aaaa-mm-dd), no horário de Brasília: não pode estar no futuro nem "
                                   f"passar de {MAX_AGE_DAYS} dias atrás."},
            "feature": {"type": "string", "pattern": FEATURE.pattern,
                        "description": "Código da funcionalidade (as funcionalidades-chave do produto contam para o "
                                       "engajamento)."},
            "count": {"type": "integer", "minimum": 0, "maximum": MAX_COUNT,
                      "description": "Quantidade de usos no dia (um texto só com dígitos também é aceito). Reenviar "
                                     "a mesma conta, dia e funcionalidade substitui a quantidade."},
        },
    },
    "UsageIn": {
        "type": "object", "required": ["rows"],
        "description": "As linhas de uso. Uma lista sem o objeto em volta também é aceita.",
        "properties": {"rows": {"type": "array", "minItems": 1, "maxItems": MAX_ROWS,
                                "items": {"$ref": "#/components/schemas/UsageRow"}}},
        "example": {"rows": [{"cnpj": "11.222.333/0001-81", "day": "2026-03-15", "feature": "relatorio_economia",
                              "count": 12}]},
    },
    "UsageResult": {
        "type": "object", "required": ["status", "received", "created", "replaced"],
        "properties": {"status": {"type": "string", "enum": ["ok"]}, "received": {"type": "integer"},
                       "created": {"type": "integer"}, "replaced": {"type": "integer"}},
        "example": {"status": "ok", "received": 1, "created": 1, "replaced": 0},
    },
    "UsageValidationError": {
        "type": "object", "required": ["error", "message", "errors"],
        "properties": {"error": {"type": "string"}, "message": {"type": "string"},
                       "errors": {"type": "object", "additionalProperties": {"type": "string"},
                                  "description": "\"rows\" ou \"rows[i]\" ou \"rows[i].campo\" → motivo."}},
        "example": {"error": "Dados inválidos",
                    "message": "Nenhuma linha foi gravada: corrija as linhas indicadas em errors e reenvie.",
                    "errors": {"rows[0].cnpj": "Nenhuma conta com este CNPJ."}},
    },
}

PATHS = {
    "/api/v1/cs/usage": {"post": {
        "operationId": "postUsage",
        "summary": "Enviar métricas de uso (sucesso do cliente)",
        "description": "Quantas vezes cada conta usou cada funcionalidade por dia; alimenta o engajamento e a nota "
                       "de saúde. Usa os mesmos clientes de API da entrada de leads, com o escopo `cs:usage:write`. Todas as linhas são "
                       "verificadas antes: uma linha inválida responde 422 e nada é gravado. Corpo em JSON "
                       f"(Content-Type: application/json), até {MB} MB e {MAX_ROWS} linhas.",
        **openapi.secured(USAGE_WRITE),
        "requestBody": openapi.body("UsageIn"),
        "responses": {
            "200": openapi.answer("Linhas gravadas (novas e substituídas).", "UsageResult"),
            "400": openapi.error("JSON malformado.", "JSON malformado: Expecting value…"),
            "401": {**openapi.error("Token ausente, inválido ou revogado. Nada foi gravado.",
                                    "Token de API inválido ou revogado."),
                    "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "example": 'Bearer realm="portal"'}}},
            "403": openapi.scope_error(USAGE_WRITE),
            "413": openapi.error(f"Corpo acima de {MB} MB.", f"O corpo passa do limite de {MB} MB."),
            "415": openapi.error("Content-Type não é application/json (ou +json).",
                                 "Envie o corpo como JSON (Content-Type: application/json)."),
            "422": openapi.answer("Alguma linha inválida (ou nenhuma linha): nada foi gravado.", "UsageValidationError"),
            "429": {**openapi.error("Limite de requisições do cliente de API excedido (o do cliente, ou "
                                    "API_CLIENT_RATE_LIMIT: padrão 600 por minuto, somando todos os endpoints).",
                                    "Você fez muitas tentativas em pouco tempo. Aguarde um minuto e tente de novo."),
                    "headers": {"Retry-After": {"schema": {"type": "integer"}, "example": 42}}},
        },
    }},
}

openapi.register(PATHS, SCHEMAS)
