from portal.errors import ServiceError


def apply_errors(form, exc: ServiceError) -> None:
    """Show a service's field errors next to the form's fields (unknown fields go to the form)."""
    for field, message in exc.errors.items():
        target = getattr(form, field, None)
        if target is not None and hasattr(target, "errors"):
            target.errors = list(target.errors) + [message]
        else:
            form.form_errors.append(message)
