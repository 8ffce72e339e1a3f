"""Learned restoration of decoded AV1 keyframes (keyframe codec 0x0004,
`av1-lr`, spec/CMVC.md 10.2.2): the payload is an AV1 temporal unit as in
codec 0x0002 behind a small header naming the restoration network, and the
decoder runs that network on every decoded picture.

Importing this package imports neither torch nor av: `payload` is pure
construct, `network` and `model` import torch and are loaded on use.
"""
