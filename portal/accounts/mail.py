import hashlib


from portal.accounts.services import reset_token
from portal.automation.deliveries import send_template_email
from portal.web.urls import external_url


def _send_link(user, template: str, purpose: str):
    token = reset_token(user, invitation=purpose == "invitation")
    link = external_url("auth.reset", token=token)
    key = f"{purpose}:{user.id}:{hashlib.sha256(token.encode()).hexdigest()[:24]}"
    return send_template_email(to=user.email, name=user.name, template=template, key=key, subject_type="user",
                               subject_id=user.id, user=user, link=link)


def send_password_reset(user):
    return _send_link(user, "password_reset", "password-reset")


def send_invitation(user):
    return _send_link(user, "invitation", "invitation")
