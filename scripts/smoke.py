"""End-to-end smoke run against a real, running Portal (`portal run`: web + worker as processes).

Walks the product as its people do, through the same pages and form posts the templates present:
the demo buyer chooses finishes and submits, picks a payment method, the worker renders the contract,
staff send it for signature, every signer signs with the one-time code read from the outbox, staff
countersign, the worker seals the final PDF (its PAdES signature is validated here against the instance's
certificate), and an admin generates one PDF report.

Standard library and the project's runtime dependencies only (it runs in the plain-install venv):
    python scripts/smoke.py --base-url http://127.0.0.1:5000 --instance-dir /path/to/instance
Prints each step with its duration; exits 1 with a precise message at the first failure.
"""
import argparse
import email
import email.policy
import glob
import html
import http.cookiejar
import io
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import warnings
from html.parser import HTMLParser

# pyHanko imports cryptography's DSA support, which warns on every run; the noise would bury the step lines
warnings.filterwarnings("ignore", message="DSA is deprecated")

PASSWORD = "portal123"  # every demo user's (portal/web/demo.py)
BUYERS = ("cliente@demo.portal", "cliente2@demo.portal")  # co-buyers of the first unit of the first development
STAFF = "personalizacao@demo.portal"
ADMIN = "admin@demo.portal"
REPORT_KEY = "personalize.values"  # "Valores contratados": lists the unit this run just signed


class SmokeFailure(Exception):
    pass


def fail(message: str):
    raise SmokeFailure(message)


# ---- HTML -----------------------------------------------------------------------------------------------

class Forms(HTMLParser):
    """Every <form> of a page with its action, method and fields (what a browser would post)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self._form, self._select, self._textarea = [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            self._form = {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(), "fields": []}
            self.forms.append(self._form)
        elif self._form is None:
            return
        elif tag == "input" and a.get("name"):
            self._form["fields"].append({"tag": "input", "type": (a.get("type") or "text").lower(),
                                         "name": a["name"], "value": a.get("value") or "",
                                         "checked": "checked" in a})
        elif tag == "select" and a.get("name"):
            self._select = {"tag": "select", "name": a["name"], "options": [], "selected": None}
            self._form["fields"].append(self._select)
        elif tag == "option" and self._select is not None:
            self._select["options"].append(a.get("value") or "")
            if "selected" in a:
                self._select["selected"] = a.get("value") or ""
        elif tag == "textarea" and a.get("name"):
            self._textarea = {"tag": "textarea", "name": a["name"], "value": ""}
            self._form["fields"].append(self._textarea)

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea["value"] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms_of(page: str) -> list[dict]:
    parser = Forms()
    parser.feed(page)
    return parser.forms


def form_with_action(page: str, pattern: str, what: str) -> dict:
    for form in forms_of(page):
        if re.search(pattern, form["action"]):
            return form
    fail(f"{what}: no form posting to {pattern!r} on the page (flash: {flash_text(page)!r})")


def default_values(form: dict) -> dict:
    """What the browser would submit untouched: checked radios/checkboxes, selected options, text values."""
    out = {}
    for f in form["fields"]:
        if f["tag"] == "select":
            value = f["selected"] if f["selected"] is not None else (f["options"][0] if f["options"] else "")
            out[f["name"]] = value
        elif f["tag"] == "textarea":
            out[f["name"]] = f["value"]
        elif f["type"] in ("radio", "checkbox"):
            if f["checked"]:
                out[f["name"]] = f["value"] or "on"
        elif f["type"] not in ("submit", "button", "file", "reset", "image"):
            out[f["name"]] = f["value"]
    return out


def offered_text(page: str, channel: str) -> str | None:
    """The text beside a channel radio on the signing page (where the code will be sent)."""
    match = re.search(rf'name="channel" value="{channel}"[^>]*>(.*?)</label>', page, re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(1)).split()) if match else None


def csrf_of(page: str) -> str:
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page) or \
        re.search(r'<meta name="csrf-token" content="([^"]+)"', page)
    if not match:
        fail("no CSRF token on the page")
    return html.unescape(match.group(1))


def flash_text(page: str) -> str:
    found = re.findall(r'class="(?:flash[^"]*|error[^"]*)"[^>]*>(.*?)</', page, re.S)
    return " | ".join(" ".join(re.sub(r"<[^>]+>", "", f).split()) for f in found)[:400]


# ---- HTTP -----------------------------------------------------------------------------------------------

class Response:
    def __init__(self, status, url, body, headers):
        self.status, self.url, self.body, self.headers = status, url, body, headers

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


class Browser:
    """One person's session: a cookie jar, redirects followed (302/303 → GET, as browsers do)."""

    def __init__(self, base_url: str, who: str):
        self.base, self.who = base_url.rstrip("/"), who
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def request(self, method: str, path: str, data: dict | bytes | None = None, headers: dict | None = None,
                expect: tuple = (200,)) -> Response:
        """`data`: a dict is posted as a form (urlencoded); bytes as they are, with the caller's Content-Type."""
        url = path if path.startswith("http") else self.base + path
        body = urllib.parse.urlencode(data, doseq=True).encode() if isinstance(data, dict) else data
        req = urllib.request.Request(url, data=body, method=method, headers={
            "User-Agent": "portal-smoke/1", "Accept": "text/html,application/pdf,*/*",
            **({"Content-Type": "application/x-www-form-urlencoded"} if isinstance(data, dict) else {}),
            **(headers or {})})
        try:
            with self.opener.open(req, timeout=60) as resp:
                result = Response(resp.status, resp.url, resp.read(), resp.headers)
        except urllib.error.HTTPError as exc:
            result = Response(exc.code, exc.url, exc.read(), exc.headers)
        except (OSError, urllib.error.URLError) as exc:
            fail(f"{self.who}: {method} {path}: no answer from the server ({exc})")
        if expect and result.status not in expect:
            detail = flash_text(result.text) if "html" in (result.headers.get("Content-Type") or "") else ""
            fail(f"{self.who}: {method} {path} answered {result.status} (expected {'/'.join(map(str, expect))})"
                 + (f": {detail}" if detail else ""))
        return result

    def upload(self, path: str, fields: dict, file_field: str, filename: str, content: bytes, **kw) -> Response:
        """A multipart/form-data POST, as a browser sends a form with a file input."""
        boundary = "smoke" + os.urandom(12).hex()
        parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode()
                 for k, v in fields.items()]
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{file_field}"; filename="{filename}"\r\n'
                     f"Content-Type: application/pdf\r\n\r\n".encode() + content + b"\r\n")
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request("POST", path, body, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
                            **kw)

    def get(self, path, **kw) -> Response:
        return self.request("GET", path, **kw)

    def post(self, path, data, **kw) -> Response:
        return self.request("POST", path, data, **kw)

    def login(self, email_address: str) -> Response:
        page = self.get("/login").text
        form = form_with_action(page, r".*", "login page")
        data = default_values(form)
        data.update({"email": email_address, "password": PASSWORD, "csrf_token": csrf_of(page)})
        data.pop("remember", None)
        resp = self.post("/login", data)
        if urllib.parse.urlparse(resp.url).path.rstrip("/") == "/login":
            fail(f"login as {email_address} refused: {flash_text(resp.text) or 'back on /login'}")
        return resp


def poll(what: str, deadline_s: float, check, interval: float = 0.5):
    """Call check() until it returns something truthy; fail naming `what` (and the last state) at the deadline."""
    end = time.monotonic() + deadline_s
    last = None
    while True:
        value, last = check()
        if value:
            return value
        if time.monotonic() > end:
            fail(f"{what}: not done after {deadline_s:.0f} s (last seen: {last})")
        time.sleep(interval)


# ---- outbox ---------------------------------------------------------------------------------------------

def outbox_files(outbox: str) -> set[str]:
    return set(glob.glob(os.path.join(outbox, "*.eml")) + glob.glob(os.path.join(outbox, "*.json")))


def read_code(path: str, recipient: str) -> str | None:
    """The 6-digit signature code in one outbox message addressed to `recipient`, if it is one."""
    try:
        if path.endswith(".eml"):
            with open(path, "rb") as fh:
                msg = email.message_from_binary_file(fh, policy=email.policy.default)
            if recipient.lower() not in str(msg["To"] or "").lower():
                return None
            part = msg.get_body(preferencelist=("plain",))
            text = f"{msg['Subject']}\n{part.get_content() if part else ''}"
        else:
            with open(path, encoding="utf-8") as fh:
                payload = json.load(fh)
            if not str(payload.get("to") or "").endswith(recipient):  # SMS: the phone's last digits
                return None
            text = payload.get("message") or ""
    except (OSError, ValueError):
        return None  # still being written
    if "código para assinar" not in text and "Código de assinatura" not in text:
        return None
    match = re.search(r"\b(\d{6})\b", text)
    return match.group(1) if match else None


# ---- the steps ------------------------------------------------------------------------------------------

class Smoke:
    def __init__(self, base_url: str, instance_dir: str):
        self.base, self.instance = base_url.rstrip("/"), instance_dir
        self.outbox = os.path.join(instance_dir, "outbox")
        self.people: dict[str, Browser] = {}
        self.unit_id = None

    def person(self, email_address: str) -> Browser:
        if email_address not in self.people:
            browser = Browser(self.base, email_address)
            browser.login(email_address)
            self.people[email_address] = browser
        return self.people[email_address]

    def contract_page(self, who: str) -> str:
        return self.person(who).get(f"/personalizacao/unidades/{self.unit_id}/contrato").text

    def job_error(self, func_part: str) -> str | None:
        """How a job whose function name contains `func_part` failed, from admin → Tarefas: listed as failed, or
        waiting for a retry (jobs of this run are enqueued to run at once, so a scheduled one is a retry)."""
        page = self.person(ADMIN).get("/admin/tarefas").text
        for section in re.split(r"<h3>", page)[1:]:
            label = section.split("</h3>", 1)[0]
            if not label.startswith(("Com falha", "Agendadas")):
                continue
            for func, error in re.findall(r'<td>([\w.]+)</td><td class="error wrap">([^<]*)</td>', section):
                if func_part in func:
                    why = html.unescape(error.strip()) or "no error text on the page; see the server log"
                    return f"{func} failed ({label.strip()}): {why}"
        return None

    # 1 -----------------------------------------------------------------------------------------------
    def buyer_submits(self):
        buyer = self.person(BUYERS[0])
        page = buyer.get("/")  # the role's home: a buyer lands in their portal
        match = re.search(r'action="/personalizacao/unidades/(\d+)/salvar"', page.text)
        if not match:
            fail(f"buyer portal ({page.url}) shows no choices form: {flash_text(page.text)!r}")
        self.unit_id = int(match.group(1))
        form = form_with_action(page.text, rf"/unidades/{self.unit_id}/salvar$", "buyer portal")
        items: dict[str, list[str]] = {}
        for f in form["fields"]:
            if f["tag"] == "input" and f["type"] == "radio" and re.fullmatch(r"item-\d+", f["name"]):
                items.setdefault(f["name"], []).append(f["value"])
        open_items = set(re.findall(r'<fieldset class="pz-item" id="(item-\d+)"[^>]*hx-post=', page.text))
        if not open_items:
            fail("buyer portal: no item is open for choosing (is the demo window open?)")
        choices = {}
        for n, name in enumerate(sorted(items)):
            if name in open_items:  # a non-standard option, varied per item, so the total really changes
                options = items[name]
                choices[name] = options[(n % (len(options) - 1)) + 1] if len(options) > 1 else options[0]
        # The page posts each radio change with htmx (a fragment back); do that for the first two items…
        for name in sorted(choices)[:2]:
            item_id = name.split("-")[1]
            resp = buyer.post(f"/personalizacao/unidades/{self.unit_id}/itens/{item_id}",
                              {name: choices[name], "csrf_token": csrf_of(page.text)},
                              headers={"HX-Request": "true", "X-CSRFToken": csrf_of(page.text)})
            if f'value="{choices[name]}" checked' not in resp.text:
                fail(f"htmx choice of {name}: the answered fragment does not show option {choices[name]} chosen")
        # …then "Revisar e enviar": the whole form, as the page's submit button posts it.
        data = default_values(form)
        data.update(choices)
        data["next"] = "review"
        review = buyer.post(f"/personalizacao/unidades/{self.unit_id}/salvar", data)
        if not urllib.parse.urlparse(review.url).path.endswith("/revisar"):
            fail(f"saving the choices did not lead to the review page (at {review.url}): {flash_text(review.text)!r}")
        if "Falta escolher" in review.text:
            fail(f"review page: {flash_text(review.text)}")
        confirm = form_with_action(review.text, rf"/unidades/{self.unit_id}/enviar$", "review page")
        done = buyer.post(f"/personalizacao/unidades/{self.unit_id}/enviar", default_values(confirm))
        if "Personalização enviada" not in done.text:
            fail(f"submitting the choices: no confirmation on {done.url}: {flash_text(done.text)!r}")
        return f"unit {self.unit_id}, {len(choices)} items chosen, submitted"

    # 2 -----------------------------------------------------------------------------------------------
    def payment_and_contract(self):
        buyer = self.person(BUYERS[0])
        page = self.contract_page(BUYERS[0])
        form = form_with_action(page, rf"/unidades/{self.unit_id}/pagamento$", "contract page (payment)")
        methods = [f["value"] for f in form["fields"] if f["tag"] == "input" and f["name"] == "method"]
        if not methods:
            fail("contract page: no payment method offered")
        data = default_values(form)
        data.update({"method": "boleto" if "boleto" in methods else methods[0], "installments": "1"})
        resp = buyer.post(f"/personalizacao/unidades/{self.unit_id}/pagamento", data)
        if "Forma de pagamento registrada" not in resp.text:
            fail(f"payment choice not confirmed: {flash_text(resp.text)!r}")

        def rendered():
            text = self.contract_page(BUYERS[0])
            link = re.search(rf'href="(/personalizacao/unidades/{self.unit_id}/contrato/\d+\.pdf)"', text)
            state = re.search(r"Situação: <strong>([^<]+)</strong>", text)
            if state and state.group(1) == "Falhou":
                fail("the worker failed to render the contract (status 'Falhou')")
            return (link.group(1) if link else None), (state.group(1) if state else "no contract yet")
        pdf_path = poll("the worker rendering the contract", 120, rendered)
        pdf = buyer.get(pdf_path).body
        if not pdf.startswith(b"%PDF-"):
            fail(f"contract {pdf_path} is not a PDF")
        return f"contract rendered by the worker ({len(pdf)} bytes)"

    # 3 -----------------------------------------------------------------------------------------------
    def staff_sends(self):
        staff = self.person(STAFF)
        page = self.contract_page(STAFF)
        form = form_with_action(page, rf"/unidades/{self.unit_id}/assinatura/enviar$", "staff contract page")
        resp = staff.post(form["action"], default_values(form))
        if "Contrato enviado para assinatura" not in resp.text:
            fail(f"sending for signature: {flash_text(resp.text)!r}")
        return "envelope sent (built-in provider)"

    def sign_as(self, who: str, channel: str):
        signer = self.person(who)
        page = signer.get(f"/personalizacao/unidades/{self.unit_id}/assinar").text
        code_form = form_with_action(page, rf"/unidades/{self.unit_id}/assinar/codigo$", f"{who}: signing page")
        offered = {f["value"]: f for f in code_form["fields"] if f["tag"] == "input" and f["name"] == "channel"}
        if channel not in offered:
            fail(f"{who}: signing page does not offer the code by {channel} (offers {sorted(offered)})")
        before = outbox_files(self.outbox)
        data = default_values(code_form)
        data["channel"] = channel
        resp = signer.post(code_form["action"], data)
        if "Enviamos um código" not in resp.text:
            fail(f"{who}: asking for a code by {channel}: {flash_text(resp.text)!r}")
        # e-mail: addressed to the login; SMS: to the phone the page shows masked ("terminado em 0011")
        recipient = who
        if channel == "sms":
            tail = re.search(r"terminado em (\d{4})", offered_text(page, channel) or "")
            if not tail:
                fail(f"{who}: the signing page does not say which phone gets the SMS code")
            recipient = tail.group(1)

        def arrived():
            for path in sorted(outbox_files(self.outbox) - before):
                code = read_code(path, recipient)
                if code:
                    return (code, os.path.basename(path)), None
            return None, f"{len(outbox_files(self.outbox) - before)} new outbox file(s), none with the code"
        code, source = poll(f"{who}: the code by {channel} reaching the outbox ({self.outbox})", 60, arrived)
        page = resp.text
        sign_form = form_with_action(page, rf"/unidades/{self.unit_id}/assinar$", f"{who}: signing page")
        data = default_values(sign_form)
        data.update({"accept": "1", "code": code})
        done = signer.post(sign_form["action"], data)
        if "Contrato assinado!" not in done.text:
            fail(f"{who}: signing with the code from {source}: {flash_text(done.text)!r}")
        return source

    def everyone_signs(self):
        used = []
        for who, channel in ((BUYERS[0], "email"), (BUYERS[1], "sms"), (STAFF, "email")):
            used.append(f"{who} by {channel} ({self.sign_as(who, channel)})")
        return "signed: " + "; ".join(used)

    # 4 -----------------------------------------------------------------------------------------------
    def signed_pdf_valid(self):
        buyer = self.person(BUYERS[0])
        path = f"/personalizacao/unidades/{self.unit_id}/contrato-assinado.pdf"

        def finished():
            resp = buyer.get(path, expect=(200, 404))
            if resp.status == 200:
                return resp.body, None
            error = self.job_error("finalize")
            if error:  # a finishing job that fails even once is the defect this run exists for
                fail(f"the worker's job {error}; the envelope stays open")
            page = self.contract_page(BUYERS[0])
            state = re.search(r'id="assinatura".*?<span class="pill[^"]*">([^<]+)</span>', page, re.S)
            return None, f"envelope '{state.group(1) if state else '?'}', signed PDF answers 404"
        pdf = poll("the worker finishing the envelope (evidence page + PAdES seal)", 90, finished, interval=1)
        if not pdf.startswith(b"%PDF-"):
            fail("the signed contract download is not a PDF")
        from pyhanko.keys import load_cert_from_pemder
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.validation import validate_pdf_signature
        from pyhanko.sign.validation.status import SignatureCoverageLevel
        from pyhanko_certvalidator import ValidationContext
        cert_path = os.path.join(self.instance, "signing", "company-cert.pem")
        if not os.path.isfile(cert_path):
            fail(f"no instance certificate at {cert_path}")
        signatures = PdfFileReader(io.BytesIO(pdf)).embedded_signatures
        if len(signatures) != 1:
            fail(f"the signed PDF carries {len(signatures)} signatures (expected 1)")
        status = validate_pdf_signature(signatures[0], ValidationContext(
            trust_roots=[load_cert_from_pemder(cert_path)], allow_fetching=False))
        if not (status.intact and status.valid and status.trusted):
            fail(f"signature check failed: intact={status.intact} valid={status.valid} trusted={status.trusted}"
                 f" ({status.summary()})")
        if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
            fail(f"the signature does not cover the whole file ({status.coverage})")
        # The same check must notice one changed byte, or it proves nothing.
        tampered = bytearray(pdf)
        start, length = (int(v) for v in list(signatures[0].sig_object["/ByteRange"])[:2])
        tampered[start + length // 2] ^= 0x01
        status_bad = validate_pdf_signature(PdfFileReader(io.BytesIO(bytes(tampered)), strict=False)
                                            .embedded_signatures[0],
                                            ValidationContext(trust_roots=[load_cert_from_pemder(cert_path)],
                                                              allow_fetching=False))
        if status_bad.intact:
            fail("the signature check still says 'intact' after one byte of the signed PDF was changed")
        # …and the portal's public /verificar says the same as pyHanko, for the file and for the changed copy.
        public = Browser(self.base, "anonymous visitor")
        for content, expected in ((pdf, "Assinatura válida"), (bytes(tampered), "Assinatura inválida")):
            page = public.get("/personalizacao/verificar").text
            answer = public.upload("/personalizacao/verificar", {"csrf_token": csrf_of(page)}, "pdf",
                                   "contrato.pdf", content).text
            if expected not in answer:
                fail(f"/personalizacao/verificar does not answer {expected!r} for the "
                     f"{'signed' if content is pdf else 'changed'} PDF: {flash_text(answer)!r}")
        return (f"signed PDF {len(pdf)} bytes, signature {status.summary()}, covers the entire file; "
                "a changed byte breaks it; /verificar agrees")

    # 5 -----------------------------------------------------------------------------------------------
    def report_pdf(self):
        admin = self.person(ADMIN)
        index = admin.get("/relatorios/").text
        keys = re.findall(r'href="/relatorios/([\w.]+)"', index)
        if not keys:
            fail("Relatórios: no report listed for the admin")
        key = REPORT_KEY if REPORT_KEY in keys else keys[0]
        page = admin.get(f"/relatorios/{key}").text
        title = html.unescape(re.search(r"<h1>([^<]+)</h1>", page).group(1)).strip()
        form = form_with_action(page, rf"/relatorios/{re.escape(key)}$", f"report {key}")
        data = default_values(form)
        data["format"] = "pdf"
        resp = admin.post(form["action"], data)
        run = re.search(r"/relatorios/execucoes/(\d+)", resp.url)
        if not run:
            fail(f"report {key}: the request did not lead to its run page ({resp.url}): {flash_text(resp.text)!r}")
        run_path = run.group(0)

        def done():
            text = admin.get(run_path).text
            if re.search(r'class="pill pill-bad"', text):
                fail(f"report {key} failed in the worker: {flash_text(text)!r}")
            link = re.search(rf'href="({run_path}/arquivo)"', text)
            state = re.search(r'<span class="pill[^"]*">([^<]+)</span>', text)
            return (link.group(1) if link else None), (state.group(1) if state else "?")
        file_path = poll(f"the worker rendering report {key}", 120, done)
        pdf = admin.get(file_path).body
        if not pdf.startswith(b"%PDF-") or len(pdf) < 2000:
            fail(f"report {key}: the download is not a PDF of a plausible size ({len(pdf)} bytes)")
        from pyhanko.pdf_utils.reader import PdfFileReader
        meta_title = str(PdfFileReader(io.BytesIO(pdf)).document_meta_view.title or "")
        if title not in meta_title:
            fail(f"report {key}: PDF title {meta_title!r} does not name the report {title!r}")
        checked = "title in the metadata"
        try:
            from pypdf import PdfReader
        except ImportError:
            pass  # not a runtime dependency (yet): the metadata check above stands alone
        else:
            text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text() or ""
            if title not in text:
                fail(f"report {key}: the first page does not show the title {title!r}")
            checked += " and on page 1"
        return f"'{title}' PDF {len(pdf)} bytes ({checked})"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--instance-dir", required=True, help="the server's PORTAL_INSTANCE_DIR (outbox, signing/)")
    args = parser.parse_args(argv)
    smoke = Smoke(args.base_url, args.instance_dir)
    steps = [
        ("buyer chooses, reviews and submits", smoke.buyer_submits),
        ("payment choice + contract rendered by the worker", smoke.payment_and_contract),
        ("staff send the contract for signature", smoke.staff_sends),
        ("every signer signs with the code from the outbox", smoke.everyone_signs),
        ("worker seals the envelope; signed PDF signature valid", smoke.signed_pdf_valid),
        ("admin generates a PDF report", smoke.report_pdf),
    ]
    started = time.monotonic()
    for n, (name, step) in enumerate(steps, 1):
        t0 = time.monotonic()
        try:
            detail = step()
        except SmokeFailure as exc:
            print(f"[smoke.py] step {n} FAILED after {time.monotonic() - t0:.1f} s: {name}: {exc}", flush=True)
            return 1
        except Exception as exc:  # a page the script did not expect: say where, keep the trace
            import traceback
            traceback.print_exc()
            print(f"[smoke.py] step {n} FAILED after {time.monotonic() - t0:.1f} s: {name}: unexpected "
                  f"{type(exc).__name__}: {exc}", flush=True)
            return 1
        print(f"[smoke.py] step {n} ok ({time.monotonic() - t0:.1f} s): {name} — {detail}", flush=True)
    print(f"[smoke.py] all {len(steps)} steps ok in {time.monotonic() - started:.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
