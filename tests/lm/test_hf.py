"""The language-model adapters of artifactlab.lm.hf: a tiny GPT-2 from a config, a run folder."""

from __future__ import annotations

import shutil

import lm_fixtures
import numpy as np
import pytest
import torch

from artifactlab.data.corpus_index import CorpusIndex
from artifactlab.errors import InputError
from artifactlab.lm.hf import load_hf_model, load_run_model

NO_GPU = (
    "--device: cuda was asked for but no CUDA GPU is visible "
    "(torch.cuda.is_available() is False) (use --device cpu or auto)"
)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    return lm_fixtures.build_world(tmp_path_factory.mktemp("lm"))


@pytest.fixture(scope="module")
def lm(world):
    return load_hf_model(world.model, device="cpu", batch=3)


@pytest.fixture(scope="module")
def index(world):
    return CorpusIndex.load(world.index)


def _one_line(err: pytest.ExceptionInfo) -> str:
    message = err.value.message
    assert "\n" not in message, message
    return message


def test_logits_are_the_last_positions_on_the_cpu(lm):
    ids = torch.randint(0, lm.vocab_size, (7, 4), generator=torch.Generator().manual_seed(0))
    out = lm(ids)
    assert out.shape == (7, lm.vocab_size) and out.dtype == torch.float32
    assert out.device.type == "cpu" and not lm.model.training
    with torch.inference_mode():
        expected = lm.model(input_ids=ids).logits[:, -1, :]
    torch.testing.assert_close(out, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(lm(ids.numpy()), out)  # numpy in, same logits
    assert lm.describe() == {
        "kind": "hf",
        "path": str(lm.name),
        "vocab_size": lm.vocab_size,
        "window": 16,
        "device": "cpu",
    }


def test_a_context_longer_than_the_window_is_refused(lm):
    assert lm.window == 16 and lm.window_source == "config.n_positions"
    assert lm(torch.zeros((2, 16), dtype=torch.int64)).shape == (2, lm.vocab_size)
    with pytest.raises(InputError) as err:
        lm(torch.zeros((1, 17), dtype=torch.int64))
    message = _one_line(err)
    assert message.startswith("--context-length: 17 tokens is longer than the window")
    assert "16 positions, config.n_positions" in message


def test_token_ids_outside_the_vocabulary_are_refused(lm):
    with pytest.raises(InputError, match="outside"):
        lm(torch.full((1, 2), lm.vocab_size, dtype=torch.int64))


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is visible")
def test_cuda_without_a_gpu_and_auto(world):
    with pytest.raises(InputError) as err:
        load_hf_model(world.model, device="cuda")
    assert _one_line(err) == NO_GPU
    assert load_hf_model(world.model, device="auto").device.type == "cpu"


def test_missing_or_invalid_folders(world, tmp_path):
    with pytest.raises(InputError) as err:
        load_hf_model(tmp_path / "absent", device="cpu")
    assert "is not a folder" in _one_line(err)
    with pytest.raises(InputError) as err:
        load_hf_model(tmp_path, device="cpu")
    assert "holds no tokenizer that transformers can load" in _one_line(err)
    only_tokenizer = tmp_path / "tokenizer_only"
    only_tokenizer.mkdir()
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(world.model / name, only_tokenizer)
    with pytest.raises(InputError) as err:
        load_hf_model(only_tokenizer, device="cpu")
    assert "holds no causal language model" in _one_line(err)


def test_a_model_whose_output_size_is_not_its_tokenizers(world, lm, tmp_path):
    folder = tmp_path / "bigger"
    lm_fixtures.tiny_gpt2(lm.vocab_size + 1).save_pretrained(folder)
    for name in ("tokenizer.json", "tokenizer_config.json"):
        shutil.copy(world.model / name, folder)
    with pytest.raises(InputError) as err:
        load_hf_model(folder, device="cpu")
    assert f"has {lm.vocab_size + 1} output tokens but its tokenizer has {lm.vocab_size}" in (
        _one_line(err)
    )


def test_the_index_tokenizer_must_be_the_models(lm, index, tmp_path):
    assert lm.index_map(index) is None
    lines = [line + "\n" for line in lm_fixtures.sentences(50, seed=1)] + ["a zebra .\n"]
    other = lm_fixtures.index_of(lines, tmp_path / "other")
    with pytest.raises(InputError) as err:
        lm.index_map(other)
    message = _one_line(err)
    assert "its tokenizer does not match the index's tokenizer.json" in message
    assert "token strings differ, e.g." in message
    bare = CorpusIndex.build(np.array([0, 1, 2]), tmp_path / "bare", vocab_size=lm.vocab_size)
    with pytest.raises(InputError, match="built without a tokenizer"):
        lm.index_map(bare)


def test_a_run_folder_is_mapped_to_the_index_by_token_string(world, index, tmp_path):
    run = load_run_model(lm_fixtures.build_run(world), device="cpu")
    assert run.window == 2 and run.kind == "run"
    mapping = run.index_map(index)
    vocab = index.load_tokenizer().get_vocab()
    assert mapping.tolist() == [vocab[t] for t in run.tokens]
    assert "<unk>" not in run.tokens  # the index's unused <unk> is allowed
    ids = torch.tensor([[0, 1], [2, 3]])
    logits = run(ids)
    assert logits.shape == (2, run.vocab_size) and logits.dtype == torch.float32
    with pytest.raises(InputError, match="longer than the window"):
        run(torch.zeros((1, 3), dtype=torch.int64))
    no_bird = [ln + "\n" for ln in lm_fixtures.sentences(300) if "bird" not in ln]
    with pytest.raises(InputError) as err:
        run.index_map(lm_fixtures.index_of(no_bird, tmp_path / "no_bird"))
    assert f"1 of the run's {run.vocab_size} tokens are not in the index's tokenizer" in (
        _one_line(err)
    )
    assert "'bird'" in err.value.message
    zebra = [ln + "\n" for ln in lm_fixtures.sentences(30)] + ["a zebra sat .\n"]
    with pytest.raises(InputError) as err:
        run.index_map(lm_fixtures.index_of(zebra, tmp_path / "zebra"))
    assert "1 tokens that occur in the corpus are not in the run's vocabulary (e.g. 'zebra')" in (
        _one_line(err)
    )
