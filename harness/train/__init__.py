"""``tom-harness train``: fine-tune a LoRA adapter with TRL and peft, and hand it back as a matrix row.

The layer between ``cli`` and ``run``: it loads the base model through the harness's backends,
reads an ``export`` (SFT), a replay file of teacher outputs (SFT) or ``export --pairs`` (DPO),
trains with TRL, and writes an adapter folder that ``adapter:path=DIR`` evaluates, with a card
(:mod:`.card`) that says where every input came from. Adapters are cached by content hash
(:mod:`.job`), training resumes from TRL checkpoints, and the guard refuses to train on the
items of a task the adapter will be evaluated on (the card's contract: :mod:`tom_harness.api.training`).
"""
