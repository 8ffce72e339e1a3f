"""CMVC-LIC, the learned keyframe codec (keyframe codec id 0x0003, spec 10.2).

Importing this package imports neither torch nor numpy: `payload` (the header
syntax) is pure construct, and the model modules import torch when used.
Entry point: `cmvc_format.lic.codec.load_codec()`.
"""
