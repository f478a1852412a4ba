"""Password rules: which passwords may be set, and the hash check a login makes when it has no account."""
import secrets
import threading
from functools import lru_cache

from flask import current_app
from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn

from portal.errors import ServiceError

MAX_LENGTH = 128
_ZXCVBN_MAX_LENGTH = 72  # zxcvbn refuses longer input; the first 72 characters carry the pattern anyway
# zxcvbn stores the user inputs of a call in a module-level dictionary: two threads scoring at once would
# score one password against the other's names.
_zxcvbn_lock = threading.Lock()


def problem(password: str, user_inputs=(), *, allow_weak: bool = False) -> str | None:
    """Why `password` may not be set (pt-BR, for the form), or None. `user_inputs` are the person's own
    words (name, e-mail): a password built on them counts as guessable. `allow_weak` skips the score only."""
    password = password or ""
    min_length = current_app.config["PASSWORD_MIN_LENGTH"]
    if len(password) < min_length:
        return f"A senha precisa ter ao menos {min_length} caracteres."
    if len(password) > MAX_LENGTH:
        return f"A senha pode ter no máximo {MAX_LENGTH} caracteres."
    if allow_weak:
        return None
    words = [w for value in (*user_inputs, current_app.config["COMPANY_NAME"]) if value
             for w in {str(value), *str(value).replace("@", " ").replace(".", " ").split()}]
    with _zxcvbn_lock:
        score = zxcvbn(password[:_ZXCVBN_MAX_LENGTH], user_inputs=words)["score"]
    if score < current_app.config["PASSWORD_MIN_SCORE"]:
        return ("Senha fácil de adivinhar (comum, sequência, data ou parecida com seu nome ou e-mail). "
                "Use uma frase com palavras pouco óbvias, por exemplo.")
    return None


def validate(password: str, user_inputs=(), *, allow_weak: bool = False) -> None:
    message = problem(password, user_inputs, allow_weak=allow_weak)
    if message:
        raise ServiceError({"password": message})


@lru_cache(maxsize=4)
def _dummy_hash(method: str) -> str:
    return generate_password_hash(secrets.token_urlsafe(16), method=method)


def check_without_account(password: str) -> bool:
    """What a login with an unknown e-mail (or an account with no password yet) pays: one hash check with
    the configured method and cost, so the answer's timing does not tell whether the account exists."""
    check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password or "")
    return False
