"""A tiny language-model world built from configs for the tests of :mod:`artifactlab.lm`.

A generated corpus of short sentences, a whitespace tokenizer trained on it (saved as a
Hugging Face tokenizer folder), a one-layer GPT-2 trained briefly on the corpus windows
(so it is confident after ``sat``, ``ran`` and ``slept``), the corpus index built with that
tokenizer, and, on request, one of the project's own run folders trained on the corpus's
3-token windows. Nothing is downloaded. Built once per test session.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

SUBJECTS = ("the cat", "the dog", "a bird")
VERBS = ("sat on", "ran under", "slept near")
OBJECTS = ("the mat", "the rug", "a box")
#: tokens per training window of the GPT-2 (its window is 16 positions)
WINDOW = 8

_WORLDS: dict[str, World] = {}


@dataclass(frozen=True)
class World:
    """Paths of the tiny world, and the corpus as token ids."""

    root: Path
    corpus: Path
    model: Path
    index: Path
    ids: list[int]


def sentences(n: int, seed: int = 0) -> list[str]:
    """``n`` lines ``SUBJECT VERB OBJECT .`` drawn with a seeded generator."""
    rng = random.Random(seed)
    return [f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} ." for _ in range(n)]


def hf_tokenizer(tokenizer):
    """A ``tokenizers`` tokenizer wrapped for ``transformers`` (``<unk>`` its unknown token)."""
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=tokenizer, unk_token="<unk>")


def tiny_gpt2(vocab_size: int, n_positions: int = 16, seed: int = 0):
    """A one-layer GPT-2 from a config, initialised with ``seed``."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(seed)
    config = GPT2Config(
        n_layer=1,
        n_head=2,
        n_embd=32,
        n_positions=n_positions,
        vocab_size=vocab_size,
        bos_token_id=None,
        eos_token_id=None,
    )
    return GPT2LMHeadModel(config)


def train_briefly(model, ids: list[int], steps: int = 60, seed: int = 0) -> None:
    """A few dozen Adam steps of next-token loss on random corpus windows."""
    import torch

    data = torch.tensor(ids, dtype=torch.int64)
    starts = torch.arange(len(ids) - WINDOW)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    model.train()
    for _ in range(steps):
        pick = starts[torch.randint(len(starts), (32,), generator=gen)]
        batch = data[pick[:, None] + torch.arange(WINDOW)]
        loss = model(input_ids=batch, labels=batch).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()


def build_world(root: Path) -> World:
    """The corpus, the HF model folder and the corpus index under ``root`` (once a session)."""
    if "hf" in _WORLDS:
        return _WORLDS["hf"]
    from artifactlab.data.corpus_index import CorpusIndex
    from artifactlab.data.text import tokenize_corpus, train_tokenizer

    corpus = root / "corpus.txt"
    lines = [line + "\n" for line in sentences(300)]
    corpus.write_text("".join(lines), encoding="utf-8")
    model_dir = root / "model"
    hf_tokenizer(train_tokenizer("whitespace", lines)).save_pretrained(model_dir)
    tokenized = tokenize_corpus(corpus, str(model_dir))
    ids = tokenized.ids.astype(int).tolist()
    model = tiny_gpt2(tokenized.info["vocab_size"])
    train_briefly(model, ids)
    model.save_pretrained(model_dir)
    index = root / "index"
    CorpusIndex.build(
        tokenized.ids,
        index,
        vocab_size=tokenized.info["vocab_size"],
        tokenizer=tokenized.tokenizer,
        tokenizer_info=tokenized.info,
    )
    _WORLDS["hf"] = World(root, corpus, model_dir, index, ids)
    return _WORLDS["hf"]


def build_run(world: World, n: int = 3) -> Path:
    """A run folder (``artifactlab train``) on the corpus's ``n``-token windows, as words."""
    if "run" in _WORLDS:
        return _WORLDS["run"].root
    from typer.testing import CliRunner

    from artifactlab.cli import app

    words = world.corpus.read_text(encoding="utf-8").split()
    tuples = world.root / "windows.tsv"
    rows = ["\t".join(words[i : i + n]) for i in range(len(words) - n + 1)]
    tuples.write_text("\n".join(rows) + "\n", encoding="utf-8")
    run = world.root / "run"
    args = ["train", "--data", tuples, "--out", run, "--d-model", "16", "--n-heads", "2"]
    res = CliRunner().invoke(app, [str(a) for a in [*args, "--max-steps", "150", "--quiet"]])
    assert res.exit_code == 0, res.output
    _WORLDS["run"] = World(run, world.corpus, run, world.index, world.ids)
    return run


def index_of(lines: list[str], folder: Path):
    """A corpus index of ``lines`` with a whitespace tokenizer trained on them alone."""
    from artifactlab.data.corpus_index import CorpusIndex
    from artifactlab.data.text import encode, train_tokenizer, vocab_size_of

    tokenizer = train_tokenizer("whitespace", lines)
    info = {"kind": "whitespace", "source": "whitespace", "vocab_size": vocab_size_of(tokenizer)}
    return CorpusIndex.build(
        encode(tokenizer, lines),
        folder,
        vocab_size=info["vocab_size"],
        tokenizer=tokenizer,
        tokenizer_info=info,
    )
