"""The FFmpeg command lines, built without running FFmpeg."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.render_video.audio_graph import command as audio_command
from functions.render_video.audio_graph import total_samples
from functions.render_video.finalize_graph import (
    concat_list,
    contact_sheet_command,
    join_command,
)
from functions.render_video.segment_graph import SceneAssets, SegmentAssets
from functions.render_video.segment_graph import command as segment_command
from functions.render_video.stills import Placed
from orchestrator.render.resolve import resolve
from orchestrator.render.segments import window
from smm_runtime.contract.kinds import AudioRequest, SegmentRequest, VoiceOverTrack
from smm_runtime.contract.video_spec import MusicBed, VideoSpec
from tests.factories import brand_kit, scene, spec


def _segment(start: int, end: int, **overrides: object) -> tuple[list[str], SegmentRequest]:
    tl = resolve(VideoSpec.model_validate(spec(**overrides)), brand_kit())
    req = SegmentRequest(
        preset="9:16",
        width=1080,
        height=1920,
        crf=21,
        start_frame=start,
        end_frame=end,
        timeline=window(tl, start, end),
        bucket="out-bucket",
    )
    return segment_command(req, _assets(req), Path("/w/out.mp4"), "ffmpeg"), req


def _assets(req: SegmentRequest) -> SegmentAssets:
    scenes = {
        s.index: SceneAssets(
            background=Path(f"/w/bg{s.index}.tga"),
            texts=[
                Placed(Path(f"/w/t{s.index}{j}.tga"), 10, 20, 100, 50)
                for j, _ in enumerate(s.texts)
            ],
        )
        for s in req.timeline.scenes
    }
    return SegmentAssets(scenes=scenes, logo=Placed(Path("/w/logo.tga"), 0, 0, 200, 200))


def _file_inputs(argv: list[str]) -> list[int]:
    return [i for i, a in enumerate(argv) if a == "-i" and argv[i + 1].startswith("/")]


def test_every_file_input_is_opened_with_the_file_protocol_only() -> None:
    argv, _ = _segment(0, 105)
    indexes = _file_inputs(argv)
    assert len(indexes) >= 3
    for i in indexes:
        window_args = argv[max(0, i - 8) : i]
        assert "-protocol_whitelist" in window_args
        assert window_args[window_args.index("-protocol_whitelist") + 1] == "file"


def test_segment_emits_exactly_its_frames_with_absolute_timestamps() -> None:
    argv, _ = _segment(30, 75)
    graph = argv[argv.index("-filter_complex") + 1]
    assert argv[argv.index("-frames:v") + 1] == "45"
    assert "setpts=N+30" in graph  # every stream sits on the absolute timeline
    assert "trim=end_frame=45" in graph
    assert argv[argv.index("-vcodec") + 1] == "libx264"
    assert "-an" in argv


def test_the_crossfade_is_an_alpha_fade_at_the_absolute_scene_start() -> None:
    argv, _ = _segment(30, 75)
    graph = argv[argv.index("-filter_complex") + 1]
    assert "fade=alpha=1:duration=0.500000:start_time=1.500000:type=in" in graph


def test_segments_of_one_render_share_encoder_settings() -> None:
    a, _ = _segment(0, 52)
    b, _ = _segment(52, 105)

    def settings(argv: list[str]) -> list[str]:
        keys = ["-vcodec", "-preset", "-crf", "-pix_fmt", "-g", "-r", "-profile:v"]
        return [argv[argv.index(k) + 1] for k in keys]

    assert settings(a) == settings(b)


def test_qa_frame_code_uses_absolute_time() -> None:
    argv, _ = _segment(52, 105, qa_frame_code=True)
    graph = argv[argv.index("-filter_complex") + 1]
    assert "floor(t*30+0.5)" in graph
    assert graph.count("drawbox") == 13


def test_audio_is_exactly_the_video_length_and_ducks_under_the_voice() -> None:
    req = AudioRequest(
        total_frames=105,
        music=MusicBed(uri="s3://assets-bucket/m.mp3"),
        voiceover=VoiceOverTrack(
            uri="s3://assets-bucket/v.mp3", start_frame=30, volume=1.0, duck_music=True
        ),
        bucket="out-bucket",
    )
    argv = audio_command(req, Path("/w/m.mp3"), Path("/w/v.mp3"), Path("/w/a.m4a"), "ffmpeg")
    graph = argv[argv.index("-filter_complex") + 1]
    assert total_samples(req) == 168_000
    assert "atrim=end_sample=168000" in graph
    assert "sidechaincompress" in graph
    assert "adelay=all=1:delays=48000S" in graph  # in samples: exact at every frame rate


def test_without_a_voice_nothing_is_ducked() -> None:
    req = AudioRequest(
        total_frames=60, music=MusicBed(uri="s3://assets-bucket/m.mp3"), bucket="out-bucket"
    )
    argv = audio_command(req, Path("/w/m.mp3"), None, Path("/w/a.m4a"), "ffmpeg")
    assert "sidechaincompress" not in " ".join(argv)


def test_concat_list_refuses_anything_but_local_bare_names() -> None:
    assert concat_list([("seg_0000.mp4", 14), ("seg_0001.mp4", 30)], 30).splitlines()[1:] == [
        "file 'seg_0000.mp4'",
        "duration 0.466666667",
        "file 'seg_0001.mp4'",
        "duration 1.000000000",
    ]
    for bad in ("/etc/passwd", "../x.mp4", "a'b.mp4", ".hidden"):
        with pytest.raises(ValueError):
            concat_list([(bad, 1)], 30)


def test_join_copies_streams_in_safe_mode_and_writes_faststart() -> None:
    argv = join_command("ffmpeg", Path("/w/list"), Path("/w/a.m4a"), Path("/w/o.mp4"), 3.5)
    assert argv[argv.index("-safe") + 1] == "1"
    assert argv[argv.index("-c") + 1] == "copy"
    assert argv[argv.index("-movflags") + 1] == "+faststart"


def test_a_scene_background_outside_the_window_is_not_an_input() -> None:
    argv, req = _segment(
        0,
        40,
        scenes=[
            scene(2),
            scene(2, background={"type": "image", "uri": "s3://assets-bucket/photo.jpg"}),
        ],
    )
    assert [s.index for s in req.timeline.scenes] == [0]
    assert "/w/bg1.tga" not in argv


def test_threads_are_set_only_when_asked_and_leave_the_stream_format_alone() -> None:
    req = _segment(0, 105)[1]
    assets = _assets(req)
    auto = segment_command(req, assets, Path("/w/out.mp4"), "ffmpeg")
    one = segment_command(req, assets, Path("/w/out.mp4"), "ffmpeg", threads=1)
    assert "-threads" not in auto and "-filter_complex_threads" not in auto
    # The whole process's budget: the encoder, the filter graph and each input's decoder.
    inputs = [i for i, a in enumerate(one) if a == "-i"]
    assert inputs and all(one[i - 2 : i] == ["-threads", "1"] for i in inputs)
    assert one[one.index("-filter_complex_threads") + 1] == "1"
    assert one.count("-threads") == len(inputs) + 1  # and x264's, among the output options
    budget = {"-threads", "-filter_complex_threads"}
    stripped = [
        a for i, a in enumerate(one) if a not in budget and (i == 0 or one[i - 1] not in budget)
    ]
    assert stripped == auto  # nothing else changes: the segments still join by stream copy


def test_the_contact_sheet_seeks_each_still_and_tiles_them_in_rows_of_four() -> None:
    argv = contact_sheet_command(
        "ffmpeg", Path("/w/final.mp4"), [0.5, 2.0, 3.5, 5.0, 6.5], Path("/w/sheet.jpg")
    )
    seeks = [argv[i + 1] for i, a in enumerate(argv) if a == "-ss"]
    assert seeks == ["0.500", "2.000", "3.500", "5.000", "6.500"]
    assert argv.count("-protocol_whitelist") == 5  # every input: local files only
    graph = argv[argv.index("-filter_complex") + 1]
    assert "concat=n=5" in graph and "tile=4x2" in graph
    assert argv[-1] == "/w/sheet.jpg" and argv[argv.index("-frames:v") + 1] == "1"
    with pytest.raises(ValueError):
        contact_sheet_command("ffmpeg", Path("/w/final.mp4"), [], Path("/w/sheet.jpg"))


def test_the_sheet_shows_each_scenes_middle_and_at_most_twelve() -> None:
    from orchestrator.render.video import sheet_frames
    from smm_runtime.contract.kinds import MAX_SHEET_FRAMES

    two = resolve(VideoSpec.model_validate(spec()), brand_kit())
    middles = sheet_frames(two)
    assert middles == [s.start_frame + s.frames // 2 for s in two.scenes]
    many = resolve(
        VideoSpec.model_validate(spec(scenes=[scene(duration_s=1) for _ in range(30)])), brand_kit()
    )
    picked = sheet_frames(many)
    assert len(picked) == MAX_SHEET_FRAMES and picked == sorted(picked)
    assert picked[0] == many.scenes[0].start_frame + many.scenes[0].frames // 2


def test_a_sheet_frame_outside_the_video_is_refused_naming_the_field() -> None:
    from pydantic import ValidationError

    from smm_runtime.contract.basetypes import S3Object
    from smm_runtime.contract.kinds import FinalizeRequest

    obj = S3Object(bucket="out-bucket", key="renders/x/vertical.mp4")
    base = {
        "preset": "9:16",
        "total_frames": 60,
        "segments": [obj],
        "segment_frames": [60],
        "output": obj,
        "poster": obj,
        "contact_sheet": obj,
    }
    assert FinalizeRequest.model_validate({**base, "sheet_frames": [0, 59]}).sheet_frames
    with pytest.raises(ValidationError, match="sheet_frames"):
        FinalizeRequest.model_validate({**base, "sheet_frames": [60]})
