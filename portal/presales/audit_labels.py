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
             "pipeline_id": "Funil", "force_reason": "Motivo"},
)
