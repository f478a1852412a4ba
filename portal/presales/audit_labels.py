"""pt-BR names of what pre-sales writes to the audit log (shown on Auditoria; see automation.subjects)."""
from portal.automation.subjects import RecordType, lifecycle_labels, register_audit_actions

CONFIG = "/pre-vendas/config/"
SETTINGS = ("created", "updated", "deactivated", "deleted")  # what presales.services.settings audits

register_audit_actions(
    {**lifecycle_labels("channel", "Canal", verbs=SETTINGS), **lifecycle_labels("media", "Mídia", True, SETTINGS),
     **lifecycle_labels("loss_reason", "Motivo de perda", verbs=SETTINGS),
     **lifecycle_labels("custom_field", "Campo personalizado", verbs=SETTINGS),
     "custom_field.moved": "Campo personalizado reordenado",
     "pipeline.updated": "Funil alterado", "pipeline.deleted": "Funil excluído",
     "pipeline.stages_reordered": "Etapas do funil reordenadas", "stage.deleted": "Etapa excluída",
     "stage.moved": "Etapa reordenada", "presales_settings.updated": "Configurações da pré-venda alteradas",
     "campaign.launched": "Campanha de oferta ativa disparada", "queue.moved": "Fila reordenada",
     "queue_member.added": "Membro incluído na fila", "queue_member.removed": "Membro retirado da fila",
     "queue_member.weight": "Peso do membro da fila alterado", "queue_member.paused": "Membro da fila pausado",
     "queue_member.resumed": "Membro da fila retomado", "queue_member.moved": "Membro da fila reordenado",
     "lead.forced": "Lead criado apesar de duplicado", "lead.lost": "Lead perdido",
     "lead.exported": "Leads exportados (CSV)"},
    records={"Channel": RecordType("Canal", url=lambda o: CONFIG), "Media": RecordType("Mídia", url=lambda o: CONFIG),
             "LossReason": RecordType("Motivo de perda", url=lambda o: CONFIG),
             "CustomField": RecordType("Campo personalizado", title=lambda f: f.label, url=lambda o: CONFIG),
             "Pipeline": RecordType("Funil", url=lambda p: f"{CONFIG}funis/{p.id}"),
             "Stage": RecordType("Etapa", url=lambda s: f"{CONFIG}funis/{s.pipeline_id}"),
             "PresalesSettings": RecordType("Configurações da pré-venda", title=lambda s: "", url=lambda s: CONFIG),
             "Campaign": RecordType("Campanha", url=lambda c: f"/pre-vendas/campanhas/{c.id}"),
             "Queue": RecordType("Fila", url=lambda q: f"{CONFIG}filas/{q.id}")},
    details={"position": "Posição", "order": "Nova ordem", "member": "Membro", "weight": "Peso", "old": "Antes",
             "new": "Depois", "leads": "Leads", "keys": "Chaves", "key": "Chave", "label": "Nome",
             "pipeline_id": "Funil", "force_reason": "Motivo",
             # the filters of a leads export (presales.queries.LeadFilters)
             "filters.development": "Empreendimento", "filters.channel": "Canal", "filters.media": "Mídia",
             "filters.owner": "Responsável", "filters.team": "Equipe", "filters.stage": "Etapa", "filters.q": "Busca",
             "filters.created_from": "Criados desde", "filters.created_to": "Criados até", "filters.status": "Situação",
             "filters.loss_reason": "Motivo de perda", "filters.negotiating": "Em negociação"},
    formats={"lead.exported": {"filters.status": {"open": "Em aberto", "won": "Ganho", "lost": "Perdido"},
                               "filters.negotiating": {1: "Sim"}}},
    refs={"filters.development": "Development", "filters.channel": "Channel", "filters.media": "Media",
          "filters.owner": "User", "filters.team": "Team", "filters.stage": "Stage", "filters.loss_reason": "LossReason"},
)
