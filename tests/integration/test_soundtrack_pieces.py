"""A soundtrack mixed in pieces by separate functions is the soundtrack mixed whole: the same
samples before encoding, and after encoding and joining no click, no gap, no drift.

Real FFmpeg on a 16-second timeline in pieces of 4 s, so that the last pieces' inputs are
seeked: the music in every container the audio role accepts (FLAC, MP3 at a constant and a
variable bit rate, raw AAC, M4A, Ogg, WAV), at 44.1 kHz so that the resampler's phase is on
trial too; a mono voice-over at 22.05 kHz that starts inside the second piece and ducks the
music; fades at both ends.
"""

from __future__ import annotations

import array
import subprocess
from pathlib import Path

import ffmpeg
import pytest

from functions.render_video.audio_graph import audio_stream, command
from functions.render_video.audio_pieces import adts_frames, kept_frames, window
from functions.render_video.finalize_graph import concat_list, join_command
from smm_runtime.contract.kinds import AudioRequest, VoiceOverTrack
from smm_runtime.contract.soundtrack import AudioPiece, piece_bounds, total_samples
from smm_runtime.contract.video_spec import MusicBed
from smm_runtime.media_tools import ffmpeg_binary
from tests.integration.conftest import left_channel

pytestmark = pytest.mark.integration

FPS = 25
FRAMES = 16 * FPS
PIECE_S = 4.0


def _make(path: Path, *args: str) -> Path:
    subprocess.run([ffmpeg_binary(), "-v", "error", "-y", *args, str(path)], check=True)
    return path


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("soundtrack")
    pad = (
        "sine=frequency=220:duration=20[a];sine=frequency=277:duration=20[b];"
        "[a][b]amix=inputs=2,volume=3,aresample=44100"
    )
    noisy = f"{pad},volume=0.5[p];anoisesrc=d=20:a=0.05[n];[p][n]amix"
    return {
        "flac": _make(work / "music.flac", "-filter_complex", pad, "-ac", "2"),
        "mp3": _make(work / "music.mp3", "-filter_complex", pad, "-ac", "2", "-b:a", "128k"),
        # Noise makes LAME's variable bit rate vary; its Xing header is what a seek could
        # trust and must not.
        "vbr.mp3": _make(work / "vbr.mp3", "-filter_complex", noisy, "-ac", "2", "-q:a", "4"),
        "aac": _make(work / "music.aac", "-filter_complex", pad, "-ac", "2", "-f", "adts"),
        "m4a": _make(work / "music.m4a", "-filter_complex", pad, "-ac", "2"),
        "ogg": _make(work / "music.ogg", "-filter_complex", pad, "-ac", "2", "-c:a", "libopus"),
        "wav": _make(work / "music.wav", "-filter_complex", pad, "-ac", "2"),
        # A bed that ends after 6 s, before the last pieces start.
        "short.mp3": _make(work / "short.mp3", "-filter_complex", pad + ",atrim=end=6", "-ac", "2"),
        "voice": _make(
            work / "voice.mp3",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:duration=5,volume=0.6,aresample=22050",
            "-ac",
            "1",
        ),
        "video": _make(
            work / "video.mp4",
            "-f",
            "lavfi",
            "-i",
            f"color=c=navy:s=64x64:r={FPS}:d={FRAMES / FPS}",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv420p",
        ),
    }


def _request(music: str) -> AudioRequest:
    return AudioRequest(
        total_frames=FRAMES,
        fps=FPS,
        music=MusicBed(uri=f"s3://assets-bucket/m.{music}", fade_in_s=1.5, fade_out_s=2.5),
        voiceover=VoiceOverTrack(
            uri="s3://assets-bucket/v.mp3", start_frame=137, volume=1.0, duck_music=True
        ),
        bucket="out-bucket",
    )


def _pieces(req: AudioRequest) -> list[AudioPiece]:
    total = total_samples(req.total_frames, req.fps)
    pieces = piece_bounds(total, PIECE_S)
    assert len(pieces) == 4
    # The last two pieces' inputs start mid-file: they seek (or decode and drop).
    assert all(window(p.start_sample, p.end_sample, total).mix_from > 0 for p in pieces[2:])
    return pieces


@pytest.mark.parametrize(
    "music", ["flac", "mp3", "vbr.mp3", "aac", "m4a", "ogg", "wav", "short.mp3"]
)
def test_each_piece_mixes_exactly_the_samples_of_the_whole_mix(
    sources: dict[str, Path], tmp_path: Path, music: str
) -> None:
    req = _request(music)
    total = total_samples(req.total_frames, req.fps)

    def mix(span: object, name: str) -> array.array[int]:
        stream = audio_stream(req, sources[music], sources["voice"], span)  # type: ignore[arg-type]
        out = tmp_path / name
        ffmpeg.output(stream, str(out), f="s16le", acodec="pcm_s16le").run(
            cmd=ffmpeg_binary(), quiet=True, overwrite_output=True
        )
        samples = array.array("h")
        samples.frombytes(out.read_bytes())
        return samples[0::2]

    whole = mix(None, "whole.pcm")
    assert len(whole) == total
    assert max(abs(s) for s in whole[140_000:150_000]) > 1000  # the music plays at the seams
    if music == "short.mp3":  # past the bed and the voice-over (which ends by 11 s): silence
        assert max(abs(s) for s in whole[12 * 48_000 :]) == 0
    for piece in _pieces(req):
        span = window(piece.start_sample, piece.end_sample, total)
        mixed = mix(span, f"{piece.start_sample}.pcm")
        assert mixed == whole[span.encode_from : span.encode_to], piece


def test_pieces_encoded_apart_and_joined_play_like_one_encode(
    sources: dict[str, Path], tmp_path: Path
) -> None:
    req = _request("mp3")
    total = total_samples(req.total_frames, req.fps)
    binary = ffmpeg_binary()
    subprocess.run(
        command(req, sources["mp3"], sources["voice"], tmp_path / "whole.m4a", binary),
        check=True,
        capture_output=True,
    )
    pieces = _pieces(req)
    joined = b""
    for piece in pieces:
        span = window(piece.start_sample, piece.end_sample, total)
        out = tmp_path / f"{piece.start_sample}.aac"
        subprocess.run(
            command(req, sources["mp3"], sources["voice"], out, binary, span),
            check=True,
            capture_output=True,
        )
        joined += kept_frames(
            adts_frames(out.read_bytes()),
            piece.start_sample,
            piece.end_sample,
            total,
            span.encode_from,
        )
    (tmp_path / "pieces.aac").write_bytes(joined)
    (tmp_path / "video.mp4").write_bytes(sources["video"].read_bytes())
    (tmp_path / "list.ffconcat").write_text(concat_list([("video.mp4", FRAMES)], FPS))
    outputs = {}
    for name, audio in (("whole", "whole.m4a"), ("pieces", "pieces.aac")):
        outputs[name] = tmp_path / f"{name}.mp4"
        subprocess.run(
            join_command(
                binary, tmp_path / "list.ffconcat", tmp_path / audio, outputs[name], FRAMES / FPS
            ),
            check=True,
            capture_output=True,
        )
    whole, parts = left_channel(outputs["whole"]), left_channel(outputs["pieces"])
    # No gap and no drift: as many samples, in the same place (the joined stream's priming is
    # skipped by the edit list as the whole mix's is; a shift of one sample would show below).
    assert len(parts) == len(whole)
    differences = [abs(a - b) for a, b in zip(whole, parts, strict=True)]
    # Two encodes of the same signal differ by their quantisation noise only (well under 1 %
    # of full scale), at the seams as anywhere else.
    assert max(differences) < 330
    steepest = max(abs(whole[i + 1] - whole[i]) for i in range(len(whole) - 1))
    for piece in pieces[1:]:
        at = piece.start_sample
        assert max(differences[at - 512 : at + 512]) < 330, at
        # No click: the joined signal steps no further across a seam than the whole mix
        # anywhere.
        assert max(abs(parts[i + 1] - parts[i]) for i in range(at - 8, at + 8)) <= steepest, at
