"""Planning soundtrack pieces and cutting their encodes at AAC frames (pure)."""

from __future__ import annotations

import itertools

import pytest
from pydantic import ValidationError

from functions.render_video.audio_pieces import (
    ENCODER_ROLL,
    AdtsError,
    Window,
    adts_frames,
    kept_frames,
    window,
)
from smm_runtime.contract.basetypes import S3Object
from smm_runtime.contract.kinds import AudioRequest, FinalizeRequest
from smm_runtime.contract.soundtrack import AAC_FRAME, AUDIO_RATE, piece_bounds


def adts(payload: bytes) -> bytes:
    """One ADTS frame (7-byte header, no CRC) around ``payload``."""
    length = 7 + len(payload)
    return (
        bytes(
            [
                0xFF,
                0xF1,
                0x4C,
                0x80 | (length >> 11),
                (length >> 3) & 0xFF,
                ((length & 7) << 5) | 0x1F,
                0xFC,
            ]
        )
        + payload
    )


def test_pieces_cover_the_timeline_on_aac_frames() -> None:
    total = 10 * 60 * AUDIO_RATE
    pieces = piece_bounds(total, 30)
    assert len(pieces) == 20
    assert pieces[0].start_sample == 0 and pieces[-1].end_sample == total
    for before, after in itertools.pairwise(pieces):
        assert before.end_sample == after.start_sample  # no gap, no overlap
        assert after.start_sample % AAC_FRAME == 0
    # Every piece but the last is the same length: no function's work grows with the video.
    assert {p.end_sample - p.start_sample for p in pieces[:-1]} == {1406 * AAC_FRAME}


def test_a_short_tail_joins_the_piece_before_it() -> None:
    step = 46 * AAC_FRAME  # about one second
    assert [(p.start_sample, p.end_sample) for p in piece_bounds(2 * step + 100, 1)] == [
        (0, step),
        (step, 2 * step + 100),
    ]
    assert len(piece_bounds(AUDIO_RATE // 2, 30)) == 1


def test_a_window_warms_up_before_the_piece_and_cools_down_past_it() -> None:
    total = 60 * AUDIO_RATE
    first = window(0, 47_104, total)
    assert first == Window(0, 0, 47_104 + ENCODER_ROLL, 47_104 + ENCODER_ROLL + 24_000)
    middle = window(471_040, 942_080, total)
    assert middle.encode_from == 471_040 - ENCODER_ROLL
    assert middle.encode_from - middle.mix_from == 3 * AUDIO_RATE
    last = window(2_826_240, total, total)
    assert (last.encode_to, last.mix_to) == (total, total)  # the end is encoded as a whole mix's


def test_adts_frames_are_split_at_their_headers_and_garbage_is_refused() -> None:
    stream = adts(b"a" * 10) + adts(b"b" * 300) + adts(b"")
    assert [len(f) for f in adts_frames(stream)] == [17, 307, 7]
    with pytest.raises(AdtsError, match="no ADTS frame header at byte 17"):
        adts_frames(adts(b"a" * 10) + b"RIFF....")
    with pytest.raises(AdtsError, match="runs past the end"):
        adts_frames(adts(b"a" * 10)[:-1])


def test_a_piece_keeps_the_frames_that_code_its_own_samples() -> None:
    frames = [adts(bytes([n])) for n in range(12)]
    # A middle piece of four frames encoded from two frames before it: packet 0 is the
    # encoder's priming and packets 1-2 the roll, so packets 3-6 code the piece.
    start = 10 * AAC_FRAME
    kept = kept_frames(frames, start, start + 4 * AAC_FRAME, 100_000, start - ENCODER_ROLL)
    assert [f[-1] for f in adts_frames(kept)] == [3, 4, 5, 6]
    # The first piece keeps the priming; the last keeps everything to the encoder's end.
    assert [f[-1] for f in adts_frames(kept_frames(frames, 0, 4 * AAC_FRAME, 99_999, 0))] == [
        0,
        1,
        2,
        3,
        4,
    ]
    tail = kept_frames(frames, start, 99_999, 99_999, start - ENCODER_ROLL)
    assert [f[-1] for f in adts_frames(tail)] == list(range(3, 12))
    with pytest.raises(ValueError, match="1024-sample frame"):
        kept_frames(frames, start + 1, start + 4 * AAC_FRAME, 100_000, start - ENCODER_ROLL)


def _request(**piece: int) -> AudioRequest:
    return AudioRequest.model_validate(
        {
            "total_frames": 300,  # 480,000 samples
            "music": {"uri": "s3://assets-bucket/m.mp3"},
            "bucket": "out-bucket",
            "piece": piece,
        }
    )


def test_a_piece_that_is_not_a_stretch_of_the_timeline_names_the_field() -> None:
    assert _request(start_sample=AAC_FRAME, end_sample=480_000).piece is not None
    for bad, field in (
        ({"start_sample": 1000, "end_sample": 2048}, "piece.start_sample"),
        ({"start_sample": 0, "end_sample": 5000}, "piece.end_sample"),
        ({"start_sample": 0, "end_sample": 480_001}, "piece"),
        ({"start_sample": 4096, "end_sample": 4096}, "piece"),
    ):
        with pytest.raises(ValidationError) as err:
            _request(**bad)
        assert field in str(err.value).replace("\n", " ").replace("piece\n  ", "piece.")


def test_finalize_takes_the_soundtrack_whole_or_in_pieces_not_both() -> None:
    def obj(key: str) -> dict[str, str]:
        return {"bucket": "out-bucket", "key": key}

    base = {
        "preset": "9:16",
        "total_frames": 30,
        "segments": [obj("s.mp4")],
        "segment_frames": [30],
        "output": obj("o.mp4"),
        "poster": obj("p.jpg"),
    }
    request = FinalizeRequest.model_validate({**base, "audio_pieces": [obj("a.aac")]})
    assert request.audio_pieces == [S3Object(bucket="out-bucket", key="a.aac")]
    with pytest.raises(ValidationError, match="audio_pieces: give the soundtrack whole"):
        FinalizeRequest.model_validate({**base, "audio": obj("a.m4a"), "audio_pieces": [obj("b")]})
