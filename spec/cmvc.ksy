meta:
  id: cmvc
  title: CMVC bitstream, version 1 (Cross-Modality Video Coding)
  file-extension: cmvc
  license: CC0-1.0
  ks-version: '0.11'
  endian: be
doc: |
  The byte layout of a CMVC version 1 stream, as defined by spec/CMVC.md.
  Written by hand, field for field from the spec's tables; the "spec N.N"
  references below are sections of spec/CMVC.md, which is normative: where
  this file and the spec disagree, the spec wins.

  All integers are unsigned and big-endian unless marked signed (spec 2).
  Offsets are byte positions counted from the first byte of the signature.
  A stream is an 8-byte signature followed by chunks (spec 3): HEAD first,
  CEND last (spec 3.3). Bytes after CEND are not part of the stream; readers
  ignore them (spec 6.3). So `chunks` stops at CEND and does not require the
  end of the file there.

  What this description does not check, and a conforming parser must:
  - the CRC-32 of every chunk (spec 3.2): Kaitai Struct cannot compute it
    (see `chunk.crc32`);
  - chunk order and counts (spec 3.3), segment tiling (spec 5.1) and the
    seek index's agreement with the segments (spec 6.1);
  - value rules: reserved values and bits, versions (spec 4.1), the limits
    of spec 8, that text is valid UTF-8;
  - zstd decompression of captions and motion data (spec 5.3, 5.4), which
    Kaitai Struct does not have: `capt_body.text` and `motn_body.records`
    exist only for uncompressed data.
doc-ref: spec/CMVC.md

seq:
  - id: signature
    contents: [0x8b, "CMV", 0x0d, 0x0a, 0x1a, 0x0a]
    doc: |
      spec 3.1 -- 0x8B (high bit set: detects transfers that strip the 8th
      bit), "CMV", CR LF (detects CR LF -> LF), SUB 0x1A (stops DOS `type`),
      LF (detects LF -> CR LF).
  - id: chunks
    type: chunk
    repeat: until
    repeat-until: _.type == "CEND" or _io.eof
    doc: |
      spec 3.2, 3.3 -- every chunk up to and including CEND. Bytes after
      CEND (spec 6.3) are not parsed. A file that ends before CEND is
      truncated (spec 9, TruncatedError).

instances:
  footer_type:
    pos: _io.size - 20
    size: 4
    if: _io.size >= 28
    doc: spec 6.2 -- the four bytes where the footer's chunk type must be.
  has_footer:
    value: _io.size >= 28 and footer_type == [0x43, 0x45, 0x4e, 0x44]
    doc: |
      spec 6.2 -- true when the last 20 bytes of the file start with "CEND".
      With bytes after CEND (spec 6.3) the footer is hidden: this is then
      normally false, and a reader finds CEND and the index only by walking
      `chunks`. (It may be true by accident, when the trailing bytes end
      with something that looks like a CEND chunk: a reader has no way to
      tell without walking the stream.)
  footer:
    pos: _io.size - 20
    type: chunk
    if: has_footer
    doc: |
      spec 6.2 -- CEND, whose body is exactly 8 bytes, is always the last
      20 bytes of a stream (8-byte chunk head, body, CRC), so a reader with
      random access reads it without scanning. Only valid when the stream
      has no bytes after CEND (spec 6.3). A reader must check the CRC before
      trusting it.
  seek_index:
    pos: footer.body.as<cend_body>.index_offset
    type: chunk
    if: has_footer and footer.body.as<cend_body>.index_offset != 0
    doc: |
      spec 6.1, 6.2 -- the sidx chunk that the footer's index_offset points
      at (0: the stream has no index). Only valid when the stream has no
      bytes after CEND (see `footer`). A reader must check that an intact
      sidx chunk is there and that it ends right where CEND starts.

types:
  chunk:
    doc: spec 3.2 -- type b(32) | length u(32) | body b(8 x length) | crc u(32).
    seq:
      - id: type
        type: str
        size: 4
        encoding: ASCII
        doc: |
          spec 3.2, 10.1 -- four ASCII letters (A-Z, a-z). Bit 5 of the first
          byte is the ancillary bit: clear (upper case) = critical, a reader
          must refuse a critical type it does not know; set (lower case) =
          ancillary, a reader skips an ancillary type it does not know.
      - id: length
        type: u4
        doc: spec 3.2, 8 -- byte length of body, at most 2^26 (64 MiB).
      - id: body
        size: length
        type:
          switch-on: type
          cases:
            '"HEAD"': head_body
            '"ZDIC"': zdic_body
            '"SEGM"': segm_body
            '"KFRM"': kfrm_body
            '"CAPT"': capt_body
            '"MOTN"': motn_body
            '"GENP"': genp_body
            '"sidx"': sidx_body
            '"CEND"': cend_body
        doc: spec 10.1 -- chunk types not registered there stay raw bytes.
      - id: crc32
        type: u4
        doc: |
          spec 3.2 -- CRC-32 of ISO 3309 / ITU-T V.42 / zlib / PNG (polynomial
          0x04C11DB7 reflected, initial value and final XOR 0xFFFFFFFF) over
          the 4 type bytes followed by the body; the length is not covered.
          Kaitai Struct cannot compute it: a parser must check it itself
          (spec 9, ChecksumError).
    instances:
      is_critical:
        value: type.substring(0, 1) >= "A" and type.substring(0, 1) <= "Z"
        doc: |
          spec 3.2 -- bit 5 (0x20) of the first type byte is clear. For the
          letters a chunk type is made of, that is "the first letter is
          upper case", which is how it is written here (Kaitai Struct 0.11
          cannot take the bytes of a string when compiling to Python).
      is_ancillary:
        value: not is_critical
        doc: spec 3.2 -- bit 5 of the first type byte is set (lower case).

  # --- spec 4: stream-level chunks -------------------------------------------

  head_body:
    doc: spec 4.2 -- HEAD, the stream header; the first chunk, exactly once.
    seq:
      - id: write_version
        type: u2
        doc: spec 4.1 -- the revision of the spec the writer followed; 1.
      - id: read_version
        type: u2
        doc: |
          spec 4.1 -- the oldest reader revision that can decode the stream;
          1. A reader of revision R refuses read_version > R, and checks it
          before any other field. 0, or more than write_version, is invalid.
      - id: width
        type: u2
        doc: spec 4.2 -- picture width in luma samples, >= 1 (width x height <= 2^26, spec 8).
      - id: height
        type: u2
        doc: spec 4.2 -- picture height in luma samples, >= 1.
      - id: frame_rate_num
        type: u4
        doc: spec 4.2 -- frame rate as a rational, both terms >= 1.
      - id: frame_rate_den
        type: u4
      - id: time_base_num
        type: u4
        doc: spec 4.2 -- time base as a rational, both terms >= 1.
      - id: time_base_den
        type: u4
      - id: frame_count
        type: u4
        doc: spec 4.2 -- frames in the stream; 0xFFFFFFFF = unknown when the header was written.
      - id: pixel_format
        type: u1
        enum: pixel_format
        doc: spec 4.2, 10.7 -- 5-255 reserved.
      - id: chroma_location
        type: u1
        doc: |
          spec 4.2 -- 0 unspecified, 1 left, 2 center, 3 top-left, 4 top,
          5 bottom-left, 6 bottom (H.273 / FFmpeg AVChromaLocation);
          7-255 reserved.
      - id: color_primaries
        type: u1
        doc: spec 4.2 -- ITU-T H.273 ColourPrimaries.
      - id: transfer_characteristics
        type: u1
        doc: spec 4.2 -- ITU-T H.273 TransferCharacteristics.
      - id: matrix_coefficients
        type: u1
        doc: spec 4.2 -- ITU-T H.273 MatrixCoefficients.
      - id: color_range
        type: u1
        enum: color_range
        doc: spec 4.2 -- 3-255 reserved.
      - id: flags
        type: u1
        doc: spec 4.2 -- bits 7-4 reserved (must be 0); bits 3-0 unused (written 0, ignored).
      - id: len_encoder_name
        type: u1
      - id: encoder_name
        type: str
        size: len_encoder_name
        encoding: UTF-8
        doc: spec 4.2 -- str8, the name of the writing software.
      - id: len_encoder_version
        type: u1
      - id: encoder_version
        type: str
        size: len_encoder_version
        encoding: UTF-8
        doc: spec 4.2 -- str8, its version.
      - id: model_count
        type: u1
        doc: spec 4.2 -- entries in the model table.
      - id: models
        type: model
        repeat: expr
        repeat-expr: model_count
        doc: spec 4.3 -- the model table; other chunks refer to a model by its position (0-based).
      - id: extension
        size-eos: true
        doc: |
          spec 3.2, 4.1 -- later revisions may append fields here; a reader
          ignores the bytes it does not know. Empty in version 1.
    instances:
      frame_count_known:
        value: frame_count != 0xffffffff
        doc: spec 4.2
      reserved_flags:
        value: flags & 0xf0
        doc: spec 4.2 -- must be 0 (FieldError otherwise).

  model:
    doc: spec 4.3 -- one entry of the model table.
    seq:
      - id: role
        type: u1
        enum: model_role
        doc: spec 4.3, 10.3 -- 0 is invalid; roles a reader does not know are ignored.
      - id: len_model_id
        type: u1
      - id: model_id
        type: str
        size: len_model_id
        encoding: UTF-8
        doc: spec 4.3 -- str8, a stable name, non-empty.
      - id: sha256
        size: 32
        doc: spec 4.3 -- b(256), SHA-256 of the weights file as published.

  zdic_body:
    doc: |
      spec 4.4 -- ZDIC, a zstd dictionary for captions; zero or more, after
      HEAD and before the first SEGM (spec 3.3).
    seq:
      - id: dictionary_id
        type: u4
        doc: |
          spec 4.4 -- >= 1, unique in the stream. 1-32767 are kept for
          dictionaries published with the spec (10.8); writers choose
          >= 32768 for their own.
      - id: data
        size-eos: true
        doc: spec 4.4, 8 -- a zstd dictionary (zstd format or raw content), 1 to 2^20 bytes.

  # --- spec 5: segments ------------------------------------------------------

  segm_body:
    doc: |
      spec 5.1 -- SEGM, a segment header. The payload chunks (KFRM, CAPT,
      MOTN, GENP) and ancillary chunks that follow it, up to the next SEGM,
      sidx or CEND, belong to this segment (spec 3.3).
    seq:
      - id: segment_index
        type: u4
        doc: spec 5.1 -- 0 for the first segment, then +1 each.
      - id: first_frame
        type: u4
        doc: spec 5.1 -- first frame of the segment; where the previous segment ends.
      - id: frame_count
        type: u4
        doc: spec 5.1, 8 -- frames in the segment, 1 to 2^20.
      - id: mode
        type: u1
        enum: mode
        doc: spec 5.1, 10.4 -- 0 and 3-255 reserved.
      - id: flags
        type: u1
        doc: spec 5.1 -- bit 0 scene_cut; bits 7-1 unused (written 0, ignored).
      - id: keyframe_count
        type: u2
        doc: spec 5.1, 8 -- 0 to 4096.
      - id: keyframes
        type: u4
        repeat: expr
        repeat-expr: keyframe_count
        doc: |
          spec 5.1 -- positions of the keyframes, as offsets from
          first_frame, strictly increasing, each < frame_count. Keyframe
          number k (KFRM.keyframe_number) is keyframes[k].
      - id: extension
        size-eos: true
        doc: |
          spec 3.2, 4.1 -- later revisions may append fields here; a reader
          ignores the bytes it does not know. Empty in version 1.
    instances:
      scene_cut:
        value: (flags & 0x01) != 0
        doc: spec 5.1 -- the segment starts at a scene cut.

  kfrm_body:
    doc: spec 5.2 -- KFRM, the coded picture of one keyframe of the segment.
    seq:
      - id: keyframe_number
        type: u2
        doc: spec 5.2 -- which keyframe of the segment (index into segm_body.keyframes).
      - id: codec
        type: u2
        enum: codec
        doc: spec 5.2, 10.2 -- 0 is invalid.
      - id: width
        type: u2
        doc: spec 5.2 -- coded picture width, >= 1.
      - id: height
        type: u2
        doc: spec 5.2 -- coded picture height, >= 1 (width x height <= 2^26).
      - id: flags
        type: u1
        doc: spec 5.2 -- bit 0 random_access; bits 7-1 reserved (must be 0).
      - id: ref_count
        type: u1
        doc: |
          spec 5.2, 8 -- 0 to 8. 0 when random_access is set; at least 1
          when it is not.
      - id: refs
        type: ref
        repeat: expr
        repeat-expr: ref_count
        doc: spec 5.2 -- earlier payloads this one is predicted from.
      - id: data
        size-eos: true
        doc: spec 5.2, 10.2 -- the coded picture, in the codec's syntax.
    instances:
      random_access:
        value: (flags & 0x01) != 0
        doc: spec 5.2 -- decodable on its own.
      reserved_flags:
        value: flags & 0xfe
        doc: spec 5.2 -- must be 0 (FieldError otherwise).

  ref:
    doc: |
      spec 5.2 -- a reference to an earlier payload: a smaller segment
      index, or the same segment and a smaller keyframe number.
    seq:
      - id: segment_index
        type: u4
      - id: keyframe_number
        type: u2

  capt_body:
    doc: spec 5.3 -- CAPT, a caption of the segment (a segment may carry several).
    seq:
      - id: kind
        type: u1
        enum: caption_kind
        doc: spec 5.3, 10.5 -- 2-255 reserved (kept, ignored).
      - id: compression
        type: u1
        enum: caption_compression
        doc: spec 5.3, 10.5 -- 3-255 reserved.
      - id: dictionary_id
        type: u4
        doc: |
          spec 5.3 -- the ZDIC (or published dictionary) used when
          compression = zstd_dict (2), else 0.
      - id: text_length
        type: u4
        doc: spec 5.3, 8 -- byte length of the UTF-8 text (once decompressed), <= 2^20.
      - id: data
        size-eos: true
        doc: |
          spec 5.3 -- compression none: the text, exactly text_length bytes.
          zstd / zstd_dict: one zstd frame (RFC 8878) that decompresses to
          exactly text_length bytes; a reader stops after text_length + 1
          bytes whatever the frame header claims.
    instances:
      text:
        value: data.to_s("UTF-8")
        if: compression == caption_compression::none
        doc: spec 5.3 -- the text of an uncompressed caption (Kaitai Struct has no zstd).

  motn_body:
    doc: spec 5.4 -- MOTN, motion parameters of the segment, one record per frame.
    seq:
      - id: model
        type: u1
        enum: motion_model
        doc: spec 5.4, 10.6 -- 0 reserved; a reader ignores a MOTN of an unknown model.
      - id: coding
        type: u1
        enum: motion_coding
        doc: spec 5.4, 10.6 -- 2-255 reserved.
      - id: values_per_record
        type: u1
        doc: spec 5.4, 8 -- 1 to 16 (4 for global_similarity).
      - id: record_count
        type: u4
        doc: spec 5.4 -- equals the segment's frame_count.
      - id: data
        size-eos: true
        doc: |
          spec 5.4 -- s(16)[record_count x values_per_record], record after
          record. coding raw: the values themselves; zstd: one zstd frame
          holding them (decompressed size known in advance, at most 2^24
          bytes, spec 8).
    instances:
      records:
        pos: 7
        type: motion_record
        repeat: expr
        repeat-expr: record_count
        if: coding == motion_coding::raw
        doc: |
          spec 5.4 -- the records of raw-coded data (`data` starts at byte 7
          of the body); Kaitai Struct has no zstd.

  motion_record:
    doc: spec 5.4 -- the values of one frame; for global_similarity tx, ty, zoom, rotation.
    seq:
      - id: values
        type: s2
        repeat: expr
        repeat-expr: _parent.values_per_record

  genp_body:
    doc: spec 5.5 -- GENP, what a generative decode of the segment needs to be reproducible.
    seq:
      - id: generator_model
        type: u1
        doc: spec 5.5 -- index into the model table (spec 4.3), or 255 = not named.
      - id: seed
        type: u8
        doc: spec 5.5 -- random seed of the generator.
      - id: steps
        type: u2
        doc: spec 5.5 -- sampling steps (0 = the generator's default).
      - id: guidance_milli
        type: u4
        doc: spec 5.5 -- guidance scale x 1000 (0 = default).
      - id: len_scheduler
        type: u1
      - id: scheduler
        type: str
        size: len_scheduler
        encoding: UTF-8
        doc: spec 5.5 -- str8, scheduler name, e.g. "ddim"; empty = default.
      - id: param_count
        type: u1
      - id: params
        type: param
        repeat: expr
        repeat-expr: param_count
        doc: spec 5.5 -- further settings.
      - id: trailing
        size-eos: true
        valid:
          expr: _.length == 0
        doc: |
          spec 5.5 -- the body ends after the last param (FieldError
          otherwise): unlike HEAD and SEGM, GENP is not extensible.
    instances:
      has_generator_model:
        value: generator_model != 255
        doc: spec 5.5

  param:
    doc: spec 5.5 -- one generator setting.
    seq:
      - id: len_key
        type: u1
      - id: key
        type: str
        size: len_key
        encoding: UTF-8
        doc: spec 5.5 -- str8.
      - id: len_value
        type: u2
      - id: value
        type: str
        size: len_value
        encoding: UTF-8
        doc: spec 5.5 -- str16.

  # --- spec 6: seek index and end --------------------------------------------

  sidx_body:
    doc: |
      spec 6.1 -- sidx, the seek index (ancillary): at most one, after the
      last segment, right before CEND. The body length must be
      4 + 20 x entry_count (SeekIndexError otherwise).
    seq:
      - id: entry_count
        type: u4
        doc: spec 6.1, 8 -- the number of segments, <= 2^24.
      - id: entries
        type: entry
        repeat: expr
        repeat-expr: entry_count
        doc: spec 6.1 -- one per segment, in order.

  entry:
    doc: spec 6.1 -- one seek index entry (20 bytes).
    seq:
      - id: offset
        type: u8
        doc: spec 6.1 -- offset of the segment's SEGM chunk.
      - id: first_frame
        type: u4
        doc: spec 6.1 -- as in its SEGM.
      - id: frame_count
        type: u4
        doc: spec 6.1 -- as in its SEGM.
      - id: rap_segment
        type: u4
        doc: |
          spec 6.1 -- the segment at which to start decoding keyframes to
          reconstruct this one: itself if none of its payloads references
          an earlier segment, else the smallest rap_segment among the
          segments they reference.

  cend_body:
    doc: spec 6.2 -- CEND, end of stream; the last chunk, exactly once. The body is exactly 8 bytes.
    seq:
      - id: index_offset
        type: u8
        doc: spec 6.2 -- offset of the sidx chunk, or 0 if the stream has none.

# --- spec 10: registries ------------------------------------------------------
# Values outside these lists are reserved (refused) or, where the spec says
# so, kept and ignored; Kaitai Struct leaves them as plain integers.
enums:
  pixel_format:
    0: yuv420p
    1: yuv422p
    2: yuv444p
    3:
      id: gray
      doc: spec 10.7 -- 8-bit gray (FFmpeg "gray").
    4: rgb24
  color_range:
    0: unspecified
    1:
      id: limited
      doc: spec 4.2 -- "tv".
    2:
      id: full
      doc: spec 4.2 -- "pc".
  model_role:
    1: keyframe_codec
    2:
      id: interpolator
      doc: spec 10.3 -- IT2V.
    3:
      id: text_to_video
      doc: spec 10.3 -- TT2V generator.
    4: captioner
    5:
      id: keyframe_selector
      doc: spec 10.3 -- feature extractor.
    6: motion_estimator
  mode:
    1:
      id: tt2v
      doc: spec 10.4 -- text (content caption) + text (motion caption) to video.
    2:
      id: it2v
      doc: spec 10.4 -- keyframe images + motion to video by interpolation.
  codec:
    0x0001:
      id: raw
      doc: spec 10.2 -- uncompressed 8-bit samples in the stream's pixel_format; always random-access.
    0x0002:
      id: av1
      doc: spec 10.2 -- AV1 low-overhead bitstream format, one temporal unit per payload.
    0x0003:
      id: cmvc_lic
      doc: spec 10.2.1 -- the CMVC learned image codec (own payload header of 12 bytes, 17 for a predicted payload).
    0x0004:
      id: av1_lr
      doc: |
        spec 10.2.2 -- AV1 with learned restoration: a 7-byte payload header, then
        an AV1 temporal unit as in codec 0x0002.
        0x0005-0x7FFF are reserved for registration, 0x8000-0xFFFF private use.
  caption_kind:
    0: content
    1: motion
  caption_compression:
    0: none
    1: zstd
    2:
      id: zstd_dict
      doc: spec 5.3 -- zstd with the dictionary capt_body.dictionary_id.
  motion_model:
    1:
      id: global_similarity
      doc: |
        spec 5.4 -- 4 values per record: tx, ty (1/16 luma sample),
        zoom (log2 of the scale, units of 2^-12), rotation (2^-13 radian).
  motion_coding:
    0:
      id: raw
      doc: spec 10.6 -- raw s(16) values.
    1:
      id: zstd
      doc: spec 10.6 -- one zstd frame holding the raw values.
