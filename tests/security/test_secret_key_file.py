"""The generated secret key file is never readable by others, not even for a moment, and is written once."""
import os
import stat
import threading

from portal import _secret_key


def test_generated_key_is_born_private_and_shared_by_concurrent_starts(tmp_path, monkeypatch):
    created_modes = []
    real_open = os.open

    def spy_open(path, flags, mode=0o777, *args, **kwargs):
        if str(path).endswith("secret_key") and flags & os.O_CREAT:
            created_modes.append(mode)
        return real_open(path, flags, mode, *args, **kwargs)
    monkeypatch.setattr(os, "open", spy_open)

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
    assert created_modes and set(created_modes) == {0o600}
    assert stat.S_IMODE((tmp_path / "secret_key").stat().st_mode) == 0o600
