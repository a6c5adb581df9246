"""`make bench-speech` (issue 32, not in CI): which speech model captions our voice-overs.

Two models whose weights come inside registry wheels, nothing downloaded at run time:

- Moonshine base-en: its authors' ONNX weights and runtime (PyPI `moonshine-cpp`), run by
  the transcriber of `moonshine-voice`, which also cuts the audio into timed lines.
- PocketSphinx 5 with its en-us acoustic and language model (PyPI `pocketsphinx`).

On synthesized speech (espeak-ng from Debian: two voices, two rates, sentences of the kind
a social video says) and on a real recording (the reading of Dickens that moonshine-voice
ships), each is measured for word error rate, compute per minute of speech (this process's
CPU time) and the size of what a function would carry. Three runs; medians with spreads.
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import time
import wave
from collections.abc import Callable
from pathlib import Path

import moonshine_cpp
import moonshine_voice
import numpy
from moonshine_voice.moonshine_api import ModelArch
from moonshine_voice.transcriber import Transcriber
from pocketsphinx import Decoder, get_model_path

from smm_runtime.media_tools import ffmpeg_binary
from smm_runtime.process_exit import run_and_exit
from tests.bench.results import RUNS, Figure, report

RATE = 16_000
SENTENCES = [
    "Our new summer collection is here and it is brighter than ever.",
    "Tap the link in our bio to book your free consultation today.",
    "We asked three designers how they plan a week of content.",
    "Save twenty percent on every order until Sunday night.",
    "The team spent six months building a faster checkout for you.",
    "Here are five things we learned from our first year in business.",
    "Join us live on Thursday for a walk through the new studio.",
    "Fresh bread comes out of the oven every morning at seven.",
]
VOICES = [("en-us", 165), ("en-gb", 150), ("en-us+f3", 185), ("en-gb+m3", 140)]
# The text of moonshine-voice's two_cities.wav (A Tale of Two Cities, public domain).
TWO_CITIES = (
    "It was the best of times, it was the worst of times, it was the age of wisdom, it was "
    "the age of foolishness, it was the epoch of belief, it was the epoch of incredulity, it "
    "was the season of Light, it was the season of Darkness, it was the spring of hope, it "
    "was the winter of despair, we had everything before us, we had nothing before us, we "
    "were all going direct to Heaven, we were all going direct the other way, in short, the "
    "period was so far like the present period, that some of its noisiest authorities "
    "insisted on its being received, for good or for evil, in the superlative degree of "
    "comparison only."
)

Transcribe = Callable[[Path], str]


def words(text: str) -> list[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split()


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, words in the reference): the Levenshtein
    distance over words."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, start=1):
        previous, row[0] = row[0], i
        for j, h in enumerate(hyp, start=1):
            previous, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, previous + (r != h))
    return row[-1], len(ref)


def pcm16(path: Path) -> bytes:
    """A file as 16 kHz mono signed 16-bit samples (FFmpeg from the registry wheel)."""
    argv = [ffmpeg_binary(), "-v", "error", "-i", str(path), "-ac", "1", "-ar", str(RATE)]
    return subprocess.run([*argv, "-f", "s16le", "-"], capture_output=True, check=True).stdout


def moonshine() -> tuple[Transcribe, int]:
    model = Path(moonshine_cpp.__file__).parent / "models" / "base-en"
    transcriber = Transcriber(model_path=str(model), model_arch=ModelArch.BASE)

    def transcribe(path: Path) -> str:
        samples = (numpy.frombuffer(pcm16(path), numpy.int16) / 32768).tolist()
        transcript = transcriber.transcribe_without_streaming(samples, RATE)
        return " ".join(line.text for line in transcript.lines)

    size = _size(model) + _size(Path(moonshine_cpp.__file__).parent, "libonnxruntime")
    size += _size(Path(moonshine_voice.__file__).parent, "libmoonshine")
    return transcribe, size


def sphinx() -> tuple[Transcribe, int]:
    decoder = Decoder(samprate=RATE)

    def transcribe(path: Path) -> str:
        decoder.start_utt()
        decoder.process_raw(pcm16(path), full_utt=True)
        decoder.end_utt()
        return decoder.hyp().hypstr if decoder.hyp() else ""

    return transcribe, _size(Path(get_model_path()) / "en-us")


def _size(folder: Path, prefix: str = "") -> int:
    return sum(
        p.stat().st_size for p in folder.rglob("*") if p.is_file() and p.name.startswith(prefix)
    )


def synthesize(work: Path) -> list[tuple[Path, str, float]]:
    """Every sentence in every voice: (wav, its text, seconds of speech)."""
    clips = []
    for v, (voice, speed) in enumerate(VOICES):
        for s, sentence in enumerate(SENTENCES):
            path = work / f"{v}-{s}.wav"
            subprocess.run(
                ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), sentence],
                check=True,
            )
            with wave.open(str(path)) as w:
                clips.append((path, sentence, w.getnframes() / w.getframerate()))
    return clips


def one_run(
    models: dict[str, tuple[Transcribe, int]], clips: list[tuple[Path, str, float]]
) -> list[Figure]:
    figures: list[Figure] = []
    recording = Path(moonshine_voice.get_assets_path()) / "two_cities.wav"
    with wave.open(str(recording)) as w:
        recording_s = w.getnframes() / w.getframerate()
    for name, (transcribe, size) in models.items():
        errors = total = 0
        cpu = time.process_time()
        for path, text, _ in clips:
            e, n = word_errors(text, transcribe(path))
            errors, total = errors + e, total + n
        synthetic_cpu = time.process_time() - cpu
        speech_s = sum(seconds for _, _, seconds in clips)
        cpu = time.process_time()
        real_errors, real_total = word_errors(TWO_CITIES, transcribe(recording))
        real_cpu = time.process_time() - cpu
        print(
            f"{name:>10}: synthetic speech WER {100 * errors / total:5.1f} % ({total} words, "
            f"{len(clips)} clips); recorded speech WER {100 * real_errors / real_total:5.1f} %"
            f" ({real_total} words); {60 * synthetic_cpu / speech_s:5.1f} cpu-s per minute "
            f"of speech (synthetic), {60 * real_cpu / recording_s:5.1f} (recorded); "
            f"{size / 1e6:.0f} MB of model and runtime"
        )
        figures += [
            (f"speech.{name}_wer_synthetic", 100 * errors / total, "%", "lower"),
            (f"speech.{name}_wer_recorded", 100 * real_errors / real_total, "%", "lower"),
            (
                f"speech.{name}_cpu_per_minute",
                60 * (synthetic_cpu + real_cpu) / (speech_s + recording_s),
                "cpu-s",
                "lower",
            ),
            (f"speech.{name}_size", size / 1e6, "MB", "lower"),
        ]
    return figures


def main() -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")  # one vCPU's worth, as a function has
    models = {"moonshine": moonshine(), "sphinx": sphinx()}
    with tempfile.TemporaryDirectory() as tmp:
        clips = synthesize(Path(tmp))
        print(
            f"speech models on {len(clips)} synthesized clips "
            f"({sum(c[2] for c in clips):.0f} s, espeak-ng) and one recording"
        )
        report([one_run(models, clips) for _ in range(RUNS)])


if __name__ == "__main__":
    run_and_exit(main)
