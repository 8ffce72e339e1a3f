"""A vision-language captioner loaded with transformers from a local folder.

Supported: image-to-text captioning models that ``AutoModelForImageTextToText``
loads and whose processor takes an image (and optionally a text prefix) —
e.g. BLIP (``Salesforce/blip-image-captioning-*``) or GIT.  Chat-style
instruction models that need a chat template are not wired up.

Nothing is downloaded: the folder must already hold the model
(``local_files_only=True``).  Decoding is greedy with a token limit and the
torch seed fixed, so the same keyframes give the same caption.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ffmpeg_bridge.analysis.features import WeightsUnavailableError, hf_weight_files, hf_weights_sha256

from .base import Captioner, context_sentence

__all__ = ["HFCaptioner", "LAYOUT"]

LAYOUT = (
    "Expected a folder written by transformers' save_pretrained for both the model and its "
    "processor: config.json, the weights (model.safetensors, or pytorch_model.bin, or shards "
    "with their index), the processor files (processor_config.json and/or "
    "preprocessor_config.json) and the tokenizer files (tokenizer.json or vocab.txt, "
    "tokenizer_config.json). On a machine with Hugging Face Hub access, create one with\n"
    "    from transformers import AutoModelForImageTextToText, AutoProcessor\n"
    "    name = 'Salesforce/blip-image-captioning-base'\n"
    "    AutoModelForImageTextToText.from_pretrained(name).save_pretrained(DIR)\n"
    "    AutoProcessor.from_pretrained(name).save_pretrained(DIR)\n"
    "copy DIR here and pass 'hf:DIR'."
)


class HFCaptioner(Captioner):
    """Captions the segment's middle keyframe with a local transformers model.

    One keyframe, because a caption is one short description of the segment
    (every caption costs bits) and the middle keyframe is the one closest to
    the whole segment's content.  ``prompt`` is an optional text prefix for
    conditional captioning (BLIP: "a picture of").
    """

    name = "hf"

    def __init__(self, path: str | Path, *, max_new_tokens: int = 30, prompt: str | None = None,
                 model_id: str | None = None, device: str = "cpu"):
        folder = Path(path).expanduser()
        if not folder.is_dir():
            raise WeightsUnavailableError(f"captioner model folder {str(folder)!r} does not exist. {LAYOUT}")
        if not (folder / "config.json").is_file() or not hf_weight_files(folder):
            raise WeightsUnavailableError(
                f"captioner model folder {str(folder)!r} lacks config.json or weight files. {LAYOUT}")
        if isinstance(max_new_tokens, bool) or int(max_new_tokens) != max_new_tokens or max_new_tokens < 1:
            raise ValueError(f"max_new_tokens must be a positive int, not {max_new_tokens!r}")
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        self.sha256 = hf_weights_sha256(folder)
        self.model_id = model_id or f"hf:{folder.resolve().name}"
        self.max_new_tokens = int(max_new_tokens)
        self.prompt = prompt
        self.device = torch.device(device)
        try:
            self.processor = AutoProcessor.from_pretrained(folder, local_files_only=True)
        except (OSError, ValueError) as e:
            raise WeightsUnavailableError(f"cannot load the processor from {str(folder)!r}: {e}. {LAYOUT}") from e
        try:
            self.model = AutoModelForImageTextToText.from_pretrained(folder, local_files_only=True)
        except ValueError as e:  # transformers' answer for a model type it cannot map
            raise ValueError(f"{str(folder)!r} is not an image-to-text model that "
                             f"AutoModelForImageTextToText can load: {e}") from e
        self.model.to(self.device).eval()

    def _caption(self, frames: np.ndarray, context: dict) -> str:
        import torch

        image = frames[len(frames) // 2]
        kwargs = {"images": [image], "return_tensors": "pt"}
        if self.prompt:
            kwargs["text"] = [self.prompt]
        inputs = self.processor(**kwargs).to(self.device)
        torch.manual_seed(0)  # greedy decoding draws no random numbers; this guards any model that does
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens,
                                      do_sample=False, num_beams=1)
        ids = out[0]
        prompt_ids = inputs.get("input_ids")
        if prompt_ids is not None and len(ids) >= prompt_ids.shape[1] and \
                torch.equal(ids[:prompt_ids.shape[1]].cpu(), prompt_ids[0].cpu()):
            ids = ids[prompt_ids.shape[1]:]  # decoder-only models echo their prompt
        text = " ".join(self.processor.batch_decode(ids[None], skip_special_tokens=True)[0].split())
        second = context_sentence(context)
        if not text:
            raise RuntimeError(f"{self.model_id} produced an empty caption")
        text = text[0].upper() + text[1:]
        if text[-1] not in ".!?":
            text += "."
        return f"{text} {second}" if second else text
