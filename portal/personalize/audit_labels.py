"""pt-BR names of what personalization writes to the audit log (shown on Auditoria; see automation.subjects)."""
from portal.automation.subjects import RecordType, lifecycle_labels, register_audit_actions
from portal.personalize.contracts import PAYMENT_METHODS
from portal.personalize.models import BASES
from portal.web.filters import datetime_br

P = "/personalizacao"


def _unit(unit) -> str:
    return f"{unit.development.name} — {unit.tower.name} {unit.number}" if unit is not None else ""



register_audit_actions(
    {**lifecycle_labels("window", "Janela de personalização", True),
     **lifecycle_labels("finish_category", "Categoria do catálogo", True),
     **lifecycle_labels("finish_item", "Item do catálogo"),
     **lifecycle_labels("finish_option", "Opção de acabamento", True),
     "finish_item.retired": "Item do catálogo retirado", "finish_item.restored": "Item do catálogo reativado",
     "finish_option.retired": "Opção de acabamento retirada",
     "finish_option.restored": "Opção de acabamento reativada",
     "finish_option.replaced": "Opção de acabamento substituída", "finish_photo.added": "Foto de opção incluída",
     "finish_photo.deleted": "Foto de opção excluída",
     "question.closed": "Dúvida encerrada", "question.reopened": "Dúvida reaberta",
     "appointment.slots_created": "Horários de atendimento publicados",
     "appointment.slot_updated": "Horário de atendimento alterado",
     "appointment.slot_cancelled": "Horário de atendimento cancelado",
     "appointment.settings": "Regras de agendamento alteradas", "appointment.booked": "Atendimento agendado",
     "appointment.rescheduled": "Atendimento remarcado", "appointment.cancelled": "Atendimento cancelado",
     "appointment.attended": "Comprador compareceu ao atendimento",
     "appointment.no_show": "Comprador faltou ao atendimento",
     "contract_template.saved": "Modelo de contrato salvo", "payment_options.saved": "Formas de pagamento salvas",
     "selection.payment_chosen": "Forma de pagamento escolhida", "selection.submitted": "Personalização enviada",
     "selection.reopened": "Personalização reaberta",
     "selection.changed_on_behalf": "Escolha alterada pela equipe em nome do comprador",
     "contract.requested": "Contrato solicitado", "contract.sent": "Contrato enviado para assinatura",
     "contract.signed": "Contrato assinado por todos", "contract.signer_signed": "Signatário assinou",
     "contract.refused": "Assinatura recusada", "contract.cancelled": "Assinatura cancelada",
     "contract.expired": "Prazo de assinatura encerrado",
     "contract.invitation_resent": "Convite de assinatura reenviado",
     "contract.staff_signer_changed": "Signatário da empresa trocado",
     "contract.otp_sent": "Código de assinatura enviado", "contract.otp_failed": "Código de assinatura errado",
     "contract.signer_locked": "Signatário bloqueado (códigos errados)",
     "contract.signer_unlocked": "Signatário desbloqueado",
     "buyer.invited": "Comprador convidado", "buyer.updated": "Comprador alterado",
     "buyer.profile_updated": "Cadastro do comprador atualizado", "buyer.unit_linked": "Comprador vinculado à unidade",
     "buyer.unit_unlinked": "Comprador desvinculado da unidade",
     "buyer.link_requested": "Pedido de vínculo enviado ao comprador",
     "buyer.link_declined": "Comprador recusou o vínculo", "buyer_field.created": "Campo do cadastro criado",
     "buyer_field.updated": "Campo do cadastro alterado", "buyers.exported": "Compradores exportados (LGPD)",
     "buyers.imported": "Compradores importados (CSV)"},
    records={"Category": RecordType("Categoria do catálogo",
                                    url=lambda c: f"{P}/empreendimentos/{c.development_id}/catalogo"),
             "Item": RecordType("Item do catálogo", url=lambda i: f"{P}/catalogo/itens/{i.id}"),
             "Option": RecordType("Opção de acabamento", url=lambda o: f"{P}/catalogo/opcoes/{o.id}"),
             "AppointmentSlot": RecordType("Horário de atendimento", title=lambda s: datetime_br(s.starts_at),
                                           url=lambda s: f"{P}/empreendimentos/{s.development_id}/atendimentos"),
             "ContractTemplate": RecordType("Modelo de contrato", title=lambda t: f"versão {t.version}",
                                            url=lambda t: f"{P}/empreendimentos/{t.development_id}/contrato"),
             "Contract": RecordType("Contrato", title=lambda c: _unit(c.selection.unit) if c.selection else "",
                                    url=lambda c: f"{P}/unidades/{c.selection.unit_id}/contrato"
                                    if c.selection else None),
             "BuyerProfileField": RecordType("Campo do cadastro de compradores", title=lambda f: f.label,
                                             url=lambda f: f"{P}/compradores/campos")},
    details={"opens_at": "Abre em", "closes_at": "Fecha em", "unit_id": "Unidade", "slot_id": "Horário",
             "from_slot": "Horário anterior", "to_slot": "Horário novo", "skipped": "Ignorados",
             "appointments": "Atendimentos afetados", "cutoff_hours": "Antecedência mínima (horas)",
             "starts_at": "Início", "capacity": "Vagas", "version": "Versão", "methods": "Formas de pagamento",
             "selection_id": "Personalização", "photo_id": "Foto", "size": "Tamanho (bytes)",
             "content_type": "Tipo do arquivo", "item": "Item", "option": "Opção", "on_behalf": "Pela equipe",
             "basis": "Base de cálculo", "replaced_by": "Substituída por", "standard": "Era a opção padrão",
             "signers": "Signatários", "previous": "Anterior", "current": "Atual", "signer": "Signatário",
             "attempts": "Tentativas", "contract_id": "Contrato", "provider": "Provedor", "sha256": "SHA-256",
             "kind": "Tipo", "purpose": "Finalidade", "development_id": "Empreendimento", "price_cents": "Preço",
             "invitations": "Convites", "date_from": "De", "date_to": "Até", "item_id": "Item",
             "tower_id": "Torre", "typology_id": "Tipologia", "categories": "Categorias",
             "typologies": "Quantidade por tipologia"},
    formats={"selection.payment_chosen": {"method": PAYMENT_METHODS},
             "payment_options.saved": {"methods": PAYMENT_METHODS},
             "selection.submitted": {"total_cents": "brl"},
             "finish_item.created": {"basis": BASES}, "finish_item.updated": {"basis": BASES},
             "finish_option.updated": {"price_cents": ("change", "brl")}},
    refs={"unit_id": "Unit", "replaced_by": "Option", "development_id": "Development", "item_id": "Item",
          "slot_id": "AppointmentSlot", "from_slot": "AppointmentSlot", "to_slot": "AppointmentSlot",
          "selection_id": "Selection", "contract_id": "Contract", "tower_id": "Tower", "typology_id": "Typology"},
)
