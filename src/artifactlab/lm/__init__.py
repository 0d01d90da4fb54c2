"""Language models measured against their corpus: which confident continuations never occur.

:mod:`~artifactlab.lm.hf` adapts a Hugging Face causal LM (or one of the project's own
run folders) to a next-token logits function; :mod:`~artifactlab.lm.corpus_artifacts`
samples contexts, takes every continuation above ``tau`` by the exact rule of
:mod:`artifactlab.tensor.completion` and looks each up in a
:class:`~artifactlab.data.corpus_index.CorpusIndex`.

The package imports nothing itself (import a submodule), so ``import artifactlab.lm``
imports neither torch nor transformers.
"""

__all__ = ["contexts", "corpus_artifacts", "hf"]
