"""The generated secret key file is never readable by others, not even for a moment, and is written once."""
import os
import stat
import threading

from portal import _secret_key


def test_generated_key_is_born_private_and_shared_by_concurrent_starts(tmp_path, monkeypatch):
    published = []
    real_link = os.link

    def spy_link(src, dst, *args, **kwargs):  # what appears under the key's name: its mode and length then
        published.append((stat.S_IMODE(os.stat(src).st_mode), os.path.getsize(src)))
        return real_link(src, dst, *args, **kwargs)
    monkeypatch.setattr(os, "link", spy_link)

    keys = []
    barrier = threading.Barrier(4)

    def start():
        barrier.wait()
        keys.append(_secret_key(str(tmp_path)))
    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(keys)) == 1 and len(keys[0]) == 64
    assert published and set(published) == {(0o600, 64)}  # born private and whole
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
