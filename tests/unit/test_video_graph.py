from __future__ import annotations

from pathlib import Path

from smm_runtime.contracts import BrandedVideoSpec
from video_graph import LocalInputs, command, frame_count

BASE = {"duration_s": 5.01, "background": {"color": "#1E3A8A"}, "title": "T",
        "font": "s3://assets-bucket/f.ttf"}


def _cmd(inputs: LocalInputs, **overrides: object) -> list[str]:
    spec = BrandedVideoSpec.model_validate({**BASE, **overrides})
    return command(spec, inputs, Path("/work/out.mp4"), "ffmpeg")


def _file_inputs(argv: list[str]) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv)
            if arg == "-i" and argv[i + 1].startswith("/")]


def test_every_file_input_is_opened_with_the_file_protocol_only() -> None:
    argv = _cmd(LocalInputs(title_card=Path("/w/t.tga"), logo=Path("/w/l.tga"),
                            music=Path("/w/m.mp3")))
    files = _file_inputs(argv)
    assert files == ["/w/t.tga", "/w/l.tga", "/w/m.mp3"]
    for path in files:
        i = argv.index(path)
        window = argv[max(0, i - 12):i]
        assert "-protocol_whitelist" in window
        assert window[window.index("-protocol_whitelist") + 1] == "file"


def test_output_is_vertical_h264_aac_faststart_with_frame_exact_duration() -> None:
    argv = _cmd(LocalInputs(title_card=Path("/w/t.tga")))
    joined = " ".join(argv)
    assert "color=c=0x1E3A8A:s=1080x1920:r=30" in joined
    assert argv[argv.index("-vcodec") + 1] == "libx264"
    assert argv[argv.index("-acodec") + 1] == "aac"
    assert argv[argv.index("-movflags") + 1] == "+faststart"
    assert argv[argv.index("-t") + 1] == str(frame_count(5.01) / 30)
    assert argv[argv.index("-progress") + 1] == "pipe:1"


def test_music_fades_out_at_the_end_and_is_padded() -> None:
    argv = _cmd(LocalInputs(title_card=Path("/w/t.tga"), music=Path("/w/m.mp3")),
                duration_s=10, fade_out_s=2)
    graph = argv[argv.index("-filter_complex") + 1]
    assert "afade=duration=2.0:start_time=8.0:type=out" in graph
    assert "apad" in graph
    assert "anullsrc" not in " ".join(argv)


def test_without_music_a_silent_aac_track_is_still_written() -> None:
    argv = _cmd(LocalInputs(title_card=Path("/w/t.tga")))
    assert any(a.startswith("anullsrc=") for a in argv)


def test_background_image_is_scaled_to_fill_and_cropped() -> None:
    argv = _cmd(LocalInputs(title_card=Path("/w/t.tga"), background_image=Path("/w/bg.tga")),
                background={"image": "s3://assets-bucket/bg.png"})
    graph = argv[argv.index("-filter_complex") + 1]
    assert "force_original_aspect_ratio=increase" in graph
    assert "crop=1080:1920" in graph
    assert not any(a.startswith("color=") for a in argv)


def test_frame_count_rounds_to_whole_frames() -> None:
    assert frame_count(1.0) == 30
    assert frame_count(0.01) == 1
    assert frame_count(5.01) == 150
