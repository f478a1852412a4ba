"""Benchmark: the worker's peak memory when it makes the versions of a large option photo.

    .venv/bin/python bench/image_bomb.py [WxH[:MODE] ...]   # default 6324x6324:RGBA (40 MP, the limit) and
                                                            # 10000x10000:RGBA (100 MP, the issue's case)

Each size runs in a fresh process (SQLite + embedded Redis in a temp dir): a throwaway app (migrations), the
test development, a PNG of that size written straight to the photos folder as if it had been uploaded
before the upload check existed, its row, the `make_photo_versions` job enqueued and run by the portal's
burst RQ worker (a SimpleWorker: the job runs in that process). Printed per size: the process's peak RSS
(VmHWM from /proc: unlike ru_maxrss it is not inherited from the parent across exec) before the job and after
it, the job's result and the row's status/error. The PNG itself is built in the parent, so its cost is not
counted.
"""
import io
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def png(width: int, height: int, mode: str) -> bytes:
    """A flat PNG: tiny on disk, width × height × 4 bytes once decoded in RGBA (the worker's costliest path)."""
    from PIL import Image
    out = io.BytesIO()
    Image.new(mode, (width, height), (200, 120, 40, 255)[:len(mode)] if mode != "1" else 1).save(out, "PNG")
    return out.getvalue()


def peak_mb() -> float:
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def child(path: str) -> None:
    tmp = tempfile.mkdtemp(prefix="bench-image-")
    os.environ["PORTAL_INSTANCE_DIR"] = os.path.join(tmp, "instance")
    os.environ.setdefault("SECRET_KEY", "bench")
    sys.path.insert(0, ROOT)
    from portal import create_app, jobs
    from portal.dbtypes import utcnow
    from portal.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db", "RATELIMIT_ENABLED": False,
                      "JOB_RETRY_INTERVALS": []})
    with app.app_context():
        from flask_migrate import upgrade
        upgrade()
        from rq.job import Job

        from portal.personalize.jobs import make_photo_versions
        from portal.personalize.models import OptionPhoto
        from portal.personalize.services import photos
        from tests.personalize.world import build_world
        from worker import make_worker

        option = build_world(utcnow())["options"]["porcelanato"]
        data = open(path, "rb").read()
        photo = OptionPhoto(option_id=option.id, development_id=option.development_id, stored_name="bench",
                            original_name="big.png", content_type="image/png", size_bytes=len(data),
                            status="pending")
        db.session.add(photo)
        db.session.commit()
        photos.original_path(photo).write_bytes(data)
        jobs.get_redis().flushdb()
        before = peak_mb()
        jobs.enqueue(make_photo_versions, photo.id, job_id="bench-photo", retry=False)
        make_worker(app, queues=("low", "default")).work(burst=True, logging_level="WARNING")
        job = Job.fetch("bench-photo", connection=jobs.get_redis())
        db.session.expire_all()
        row = db.session.get(OptionPhoto, photo.id)
        print(json.dumps({"before_mb": before,
                          "peak_mb": peak_mb(),
                          "job": str(job.get_status()), "result": job.return_value(),
                          "status": row.status, "error": row.error}))


def main(sizes: list[str]) -> None:
    for size in sizes:
        dims, _, mode = size.partition(":")
        width, height = (int(v) for v in dims.lower().split("x"))
        with tempfile.NamedTemporaryFile(suffix=".png") as f:
            f.write(png(width, height, mode or "RGBA"))
            f.flush()
            kb = os.path.getsize(f.name) // 1024
            out = subprocess.run([sys.executable, __file__, "--child", f.name], capture_output=True, text=True,
                                 cwd=ROOT, timeout=600)
        lines = [line for line in out.stdout.splitlines() if line.startswith("{")]
        if not lines:
            print(f"{size}: child failed\n{out.stderr[-2000:]}")
            continue
        r = json.loads(lines[-1])
        print(f"{width}x{height} {mode or 'RGBA'} ({width * height / 1e6:.0f} MP, {kb} KB PNG): worker peak "
              f"{r['peak_mb']:.0f} MB (before the job {r['before_mb']:.0f} MB); job {r['job']} → {r['result']}; row {r['status']}"
              f"{' — ' + r['error'] if r['error'] else ''}")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(sys.argv[2])
    else:
        main(sys.argv[1:] or ["6324x6324:RGBA", "10000x10000:RGBA"])
