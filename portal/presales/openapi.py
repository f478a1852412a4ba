"""OpenAPI 3.0 description of the pre-sales endpoints (lead intake, RD Station, the sales-CRM webhook), written
by hand to say exactly what the views do; registered into the app's one document (portal/web/openapi.py).

tests/presales/test_api.py checks the two against each other: the schema's example posts to 201, every
documented status code is produced by a real request, and the limits here are the ones api.py enforces;
tests/runtime/test_web_sw_openapi.py checks that every /api/v1 route of the app is documented and that the
examples are accepted on the demo data (the development they name is one `portal demo` creates).
"""
from copy import deepcopy

from portal.presales.api import LEADS_WRITE, MAX_BODY, MAX_WEBHOOK_LEADS, RDSTATION
from portal.presales.services.intake import MAX_MESSAGE
from portal.web import openapi
from portal.web.openapi import error as _error

LEAD_NUMBER = {"type": "string", "pattern": r"^L-\d{6,}$", "example": "L-000123"}
FIELD_ERRORS = {"type": "object", "additionalProperties": {"type": "string"},
                "description": "Campo → mensagem em português. Campos possíveis: name, email, phone, contact "
                               "(nem e-mail nem telefone), development, channel, media, message, extra, "
                               "leads, pipeline, e qualquer campo desconhecido.",
                "example": {"email": "E-mail inválido.", "development": "Empreendimento desconhecido: x."}}


COMMON_ERRORS = {
    "400": _error("JSON malformado, ou o corpo não é um objeto JSON.", "JSON malformado: Expecting value…"),
    "401": {**_error("Token ausente, inválido ou revogado. Nada foi gravado.", "Token de API inválido."),
            "headers": {"WWW-Authenticate": {"schema": {"type": "string"}, "example": 'Bearer realm="portal"'}}},
    "413": _error(f"Corpo acima de {MAX_BODY // 1024} KB (pelo Content-Length ou pelo tamanho real).",
                  f"O corpo passa do limite de {MAX_BODY // 1024} KB."),
    "415": _error("Content-Type não é application/json (ou +json).",
                  "Envie o corpo como JSON (Content-Type: application/json)."),
    "422": {"description": "Dados inválidos: um mapa campo → mensagem. Nada foi gravado.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ValidationError"}}}},
    "429": {**_error("Limite de requisições do cliente de API excedido (o do cliente, ou API_CLIENT_RATE_LIMIT: "
                     "padrão 600 por minuto, somando todos os endpoints). Tente de novo depois de Retry-After "
                     "segundos.", "Você fez muitas tentativas em pouco tempo. Aguarde um minuto e tente de novo."),
            "headers": {"Retry-After": {"schema": {"type": "integer"}, "example": 42}}},
}
QUERY_TOKEN_REFUSED = _error("Token no parâmetro `token` da URL: nunca aceito (URLs ficam em logs). A mensagem "
                             "indica o cabeçalho Authorization ou o endereço secreto do webhook.",
                             "Token na URL não é aceito (URLs ficam gravadas em logs). …")

# A development `portal demo` creates, and a person its sample leads do not already hold (or the answer is 200).
LEAD_EXAMPLE = {"name": "Marina Albuquerque", "email": "marina.albuquerque@exemplo.com.br",
                "phone": "+55 11 97654-3210", "development": "jardim-das-acacias", "channel": "api", "media": "google",
                "message": "Gostaria de agendar uma visita.", "extra": {"utm_campaign": "lancamento"}}

SCHEMAS = {
    "LeadIn": {
        "type": "object",
        "description": "Um contato. Informe e-mail ou telefone (ou os dois). Campos fora desta lista são "
                     "recusados (422); use `extra` para dados livres.",
        "additionalProperties": False,
        "required": ["name"],
        "anyOf": [{"required": ["email"]}, {"required": ["phone"]}],
        "properties": {
            "name": {"type": "string", "maxLength": 160, "description": "Nome (espaços repetidos são unidos)."},
            "email": {"type": "string", "format": "email", "nullable": True,
                      "description": "Guardado em minúsculas, sem espaços."},
            "phone": {"type": "string", "nullable": True,
                      "description": "Qualquer formato brasileiro ou internacional; guardado em E.164 "
                                     "(+5511987654321)."},
            "development": {"type": "string", "nullable": True,
                            "description": "Slug do empreendimento (ou seu id numérico)."},
            "channel": {"type": "string", "default": "api", "nullable": True,
                        "description": "Slug de um canal de entrada ativo: site, api, portal, email, rdstation, "
                                       "manual, whatsapp, ou outro cadastrado."},
            "media": {"type": "string", "nullable": True,
                      "description": "Slug ou nome de uma mídia cadastrada (google, instagram, facebook, outdoor, "
                                     "indicacao, portal-imobiliario, outros…)."},
            "message": {"type": "string", "maxLength": MAX_MESSAGE, "nullable": True},
            "extra": {"type": "object", "additionalProperties": True, "nullable": True,
                      "description": "Dados livres guardados com o lead. A chave `api_client` é preenchida pelo "
                                     "Portal com o nome do cliente de API."},
        },
        "example": LEAD_EXAMPLE,
    },
    "LeadCreated": {
        "type": "object", "required": ["number", "status", "owner"], "additionalProperties": False,
        "properties": {"number": LEAD_NUMBER, "status": {"type": "string", "enum": ["created"]},
                       "owner": {"type": "string", "nullable": True,
                                 "description": "Nome do responsável; null enquanto o lead aguarda ou é "
                                                "oferecido numa fila online."}},
        "example": {"number": "L-000123", "status": "created", "owner": "Bruna Corretora"},
    },
    "LeadDuplicate": {
        "type": "object", "required": ["number", "status"], "additionalProperties": False,
        "description": "O contato já tem um lead aberto (ou fechado há poucos dias): nenhum lead novo; a entrada "
                       "vira uma reentrada no lead existente, cujo responsável é avisado.",
        "properties": {"number": LEAD_NUMBER, "status": {"type": "string", "enum": ["duplicate"]}},
        "example": {"number": "L-000098", "status": "duplicate"},
    },
    "ValidationError": {
        "type": "object", "required": ["error", "message", "errors"],
        "properties": {"error": {"type": "string"}, "message": {"type": "string"}, "errors": FIELD_ERRORS},
        "example": {"error": "Dados inválidos", "message": "Revise os campos indicados em errors.",
                    "errors": {"contact": "Informe e-mail ou telefone."}},
    },
    "RDStationLead": {
        "type": "object", "additionalProperties": True,
        "description": "Um contato no formato do webhook de conversão do RD Station Marketing. Nome ausente → "
                       "o e-mail. Telefone: mobile_phone, senão personal_phone; um telefone inválido é ignorado "
                       "(com aviso em warnings) quando há e-mail. Identificador de conversão: "
                       "conversion_identifier ou last_conversion.content.identificador — se for o slug de um "
                       "empreendimento (ou contiver um como palavras inteiras), o lead vai para ele; senão vale o "
                       "parâmetro development da URL. Origem: traffic_source ou "
                       "last_conversion.conversion_origin.source → mídia pelo slug ou nome, ou uma mídia cujo "
                       "slug aparece na origem (\"Busca Paga | Google\" → google), senão outros.",
        "properties": {
            "name": {"type": "string"}, "email": {"type": "string"},
            "personal_phone": {"type": "string"}, "mobile_phone": {"type": "string"},
            "conversion_identifier": {"type": "string"}, "traffic_source": {"type": "string"},
            "last_conversion": {"type": "object", "properties": {
                "content": {"type": "object", "properties": {"identificador": {"type": "string"},
                                                            "mensagem": {"type": "string"}}},
                "conversion_origin": {"type": "object", "properties": {"source": {"type": "string"},
                                                                      "medium": {"type": "string"},
                                                                      "campaign": {"type": "string"}}}}},
            "first_conversion": {"type": "object"},
        },
    },
    "RDStationPayload": {
        "type": "object", "required": ["leads"],
        "properties": {"leads": {"type": "array", "minItems": 1, "maxItems": MAX_WEBHOOK_LEADS,
                                 "items": {"$ref": "#/components/schemas/RDStationLead"}}},
        "example": {"leads": [{"name": "Helena Castro", "email": "helena.castro@exemplo.com.br",
                               "personal_phone": "(11) 97654-3211",
                               "last_conversion": {"content": {"identificador": "jardim-das-acacias"},
                                                   "conversion_origin": {"source": "Instagram"}}}]},
    },
    "RDStationResult": {
        "type": "object", "required": ["received", "created", "duplicate", "invalid", "results"],
        "properties": {
            "received": {"type": "integer"}, "created": {"type": "integer"}, "duplicate": {"type": "integer"},
            "invalid": {"type": "integer"},
            "results": {"type": "array", "items": {
                "type": "object", "required": ["index", "status"],
                "properties": {"index": {"type": "integer"},
                               "status": {"type": "string", "enum": ["created", "duplicate", "invalid"]},
                               "email": {"type": "string", "nullable": True},
                               "number": LEAD_NUMBER, "errors": FIELD_ERRORS,
                               "warnings": {"type": "object", "additionalProperties": {"type": "string"}}}}},
        },
    },
    "SalesStatusIn": {
        "type": "object", "required": ["id"], "anyOf": [{"required": ["external_id"]}, {"required": ["number"]}],
        "description": "Uma mudança de situação no CRM de vendas. O lead é achado pelo external_id (o id que o CRM "
                       "respondeu no envio) ou pelo número do Portal.",
        "properties": {
            "id": {"type": "string", "description": "Id do evento no CRM: cada id é aplicado uma só vez."},
            "external_id": {"type": "string"}, "number": LEAD_NUMBER,
            "status": {"type": "string", "maxLength": 60, "description": "Situação no CRM (texto livre)."},
            "value_cents": {"type": "integer", "minimum": 0, "nullable": True,
                            "description": "Valor negociado em centavos."},
        },
        "example": {"id": "evt-1001", "number": "L-000001", "status": "Proposta aceita", "value_cents": 45000000},
    },
    "SalesStatusResult": {
        "type": "object", "required": ["status", "number"],
        "properties": {"status": {"type": "string", "enum": ["updated", "duplicate"],
                                  "description": "duplicate: este id de evento já foi aplicado; nada mudou."},
                       "number": LEAD_NUMBER},
        "example": {"status": "updated", "number": "L-000001"},
    },
    "SalesStatusError": {
        "type": "object", "required": ["error"], "properties": {"error": {"type": "string"}},
        "example": {"error": "Assinatura inválida."},
    },
}


def _webhook_error(description: str, example: str) -> dict:
    return {"description": description, "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/SalesStatusError"}, "example": {"error": example}}}}


JSON_BODY_NOTE = (f"Corpo em JSON (Content-Type: application/json), até {MAX_BODY // 1024} KB. Se a resposta não "
                  "for 2xx, nada foi gravado.")

RD_DESCRIPTION = ("Cada contato de `leads` passa pela entrada de leads com o canal rdstation, um a um: um contato "
                  "inválido não impede os outros e aparece em results com seus erros (a resposta é 200 mesmo assim, "
                  "pois reenviar não corrige dados). Uma falha inesperada responde 500 sem gravar nada, e o reenvio "
                  "do RD entrega tudo de novo.")
DEVELOPMENT_PARAMETER = {"name": "development", "in": "query", "required": False, "schema": {"type": "string"},
                         "description": "Empreendimento (slug) dos contatos cujo identificador de conversão não "
                                        "indica um."}
RD_RESPONSES = {
    "200": {"description": "Resultado de cada contato.", "content": {"application/json": {
        "schema": {"$ref": "#/components/schemas/RDStationResult"}}}},
    **{code: deepcopy(COMMON_ERRORS[code]) for code in ("400", "413", "415", "429")},
    "422": {"description": f"Sem a lista `leads`, vazia, ou com mais de {MAX_WEBHOOK_LEADS} contatos.",
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ValidationError"}}}},
}

PATHS = {
    "/api/v1/leads": {"post": {
        "operationId": "createLead",
        "summary": "Registrar um lead",
        "description": "Cria um lead e o distribui pela fila que cobre seu empreendimento e canal, ou — se o "
                       "e-mail ou o telefone já pertencem a um lead aberto — registra uma reentrada nesse lead "
                       "e responde 200 com o número dele. Escopo: `leads:write`. " + JSON_BODY_NOTE,
        **openapi.secured(LEADS_WRITE),
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/LeadIn"}}}},
        "responses": {
            "201": {"description": "Lead criado.", "content": {"application/json": {
                "schema": {"$ref": "#/components/schemas/LeadCreated"}}}},
            "200": {"description": "Contato duplicado: reentrada no lead existente.", "content": {
                "application/json": {"schema": {"$ref": "#/components/schemas/LeadDuplicate"}}}},
            **COMMON_ERRORS,
            "400": {**deepcopy(COMMON_ERRORS["400"]), "description": "JSON malformado, o corpo não é um objeto "
                                                                     "JSON, ou token na URL (`?token=`)."},
            "403": openapi.scope_error(LEADS_WRITE),
        },
    }},
    "/api/v1/webhooks/rdstation/{secret}": {"post": {
        "operationId": "rdstationWebhook",
        "summary": "Webhook de conversão do RD Station Marketing",
        "description": RD_DESCRIPTION + " O RD Station só aceita uma URL: cada cliente de API com o escopo "
                       "`webhooks:rdstation` recebe um endereço secreto, mostrado uma vez e trocável em Config. "
                       "pré-vendas → Clientes de API (o anterior deixa de valer na hora). " + JSON_BODY_NOTE,
        **openapi.secured(RDSTATION, bearer=False),
        "parameters": [{"name": "secret", "in": "path", "required": True, "schema": {"type": "string"},
                        "description": "O segredo do endereço do webhook (whk_…). Nunca o token de API."},
                       DEVELOPMENT_PARAMETER],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/RDStationPayload"}}}},
        "responses": {
            **RD_RESPONSES,
            "404": _error("Segredo desconhecido, trocado, ou de um cliente revogado. Nada foi gravado.",
                          "Endereço de webhook desconhecido ou substituído. …"),
        },
    }},
    "/api/v1/webhooks/rdstation": {"post": {
        "operationId": "rdstationWebhookBearer",
        "summary": "Webhook do RD Station com o token no cabeçalho",
        "description": RD_DESCRIPTION + " Para quem envia o cabeçalho Authorization; o token no parâmetro `token` "
                       "da URL é recusado (400). Escopo: `webhooks:rdstation`. " + JSON_BODY_NOTE,
        **openapi.secured(RDSTATION),
        "parameters": [DEVELOPMENT_PARAMETER],
        "requestBody": {"required": True, "content": {"application/json": {
            "schema": {"$ref": "#/components/schemas/RDStationPayload"}}}},
        "responses": {
            **RD_RESPONSES,
            "400": {**deepcopy(COMMON_ERRORS["400"]), "description": "JSON malformado, ou token na URL."},
            **{code: deepcopy(COMMON_ERRORS[code]) for code in ("401",)},
            "403": openapi.scope_error(RDSTATION),
        },
    }},
    "/api/v1/webhooks/sales-status": {"post": {
        "operationId": "salesStatusWebhook",
        "summary": "Webhook do CRM de vendas: situação de um lead enviado",
        "description": "O CRM de vendas avisa mudanças de situação (e o valor negociado) de um lead que o Portal "
                       "lhe enviou. Assinado como o envio: X-Portal-Timestamp (segundos Unix) e X-Portal-Signature "
                       "= \"sha256=\" + HMAC-SHA256(SALES_CRM_SECRET, timestamp + \".\" + corpo bruto), com "
                       "tolerância de SALES_CRM_TOLERANCE_SECONDS (padrão 300 s). Cada id de evento é aplicado "
                       "uma vez; o reenvio responde duplicate. Erros respondem {\"error\": mensagem}.",
        "security": [{"salesCrmSignature": [], "salesCrmTimestamp": []}],
        "requestBody": openapi.body("SalesStatusIn"),
        "responses": {
            "200": openapi.answer("Situação aplicada, ou evento já aplicado antes.", "SalesStatusResult"),
            "400": _webhook_error("JSON malformado.", "JSON malformado."),
            "401": _webhook_error("Assinatura ausente, inválida, ou timestamp fora da tolerância (ou "
                                  "SALES_CRM_SECRET não configurado). Nada foi gravado.", "Assinatura inválida."),
            "404": _webhook_error("Nenhum lead com este external_id ou número.", "Lead não encontrado."),
            "422": _webhook_error("Sem id do evento, sem external_id e number, ou value_cents que não é um "
                                  "inteiro ≥ 0.", "Informe id do evento e external_id ou number do lead."),
            "429": _error("Mais de 120 requisições por minuto.",
                          "Você fez muitas tentativas em pouco tempo. Aguarde um minuto e tente de novo."),
        },
    }},
    "/api/v1/openapi.json": {"get": {
        "operationId": "openapi",
        "summary": "Este documento",
        "security": [],
        "responses": {"200": {"description": "Documento OpenAPI 3.0.", "content": {
            "application/json": {"schema": {"type": "object"}}}}},
    }},
}


openapi.register(PATHS, SCHEMAS, {
    "salesCrmSignature": {"type": "apiKey", "in": "header", "name": "X-Portal-Signature",
                          "description": "sha256=<HMAC-SHA256 hex de timestamp + \".\" + corpo, com "
                                         "SALES_CRM_SECRET>. Só no webhook do CRM de vendas."},
    "salesCrmTimestamp": {"type": "apiKey", "in": "header", "name": "X-Portal-Timestamp",
                          "description": "Segundos Unix do envio, assinados junto com o corpo."},
})


def document(server_url: str = "") -> dict:
    """The app's whole /api/v1 document (what /api/v1/openapi.json serves)."""
    return openapi.document(server_url)
