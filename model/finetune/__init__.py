"""Fine-tuning the model on the user's repository (``kodama fine-tune``). The rooms:

* :mod:`.pipeline` — the stages of a run, in order, and :mod:`.run` what they share;
* :mod:`.data` — the repository's trainable files, their split, the examples, packing
  (with :mod:`.secrets` and :mod:`.dedup` deciding what is never trained on);
* :mod:`.dataset` — the prepared dataset of a run, kept as data for ``--resume``;
* :mod:`.planning`, :mod:`.batches`, :mod:`.train` — sizing the run, the loss on batches,
  the training loop;
* :mod:`.adapter` — the model made trainable, and what was learned saved and applied;
* :mod:`.holes` and :mod:`.report` — the before/after measure, the install rule, the report;
* :mod:`.store` (with :mod:`.adapter_versions` and :mod:`.durable_files`) — the installed
  adapters, atomic installs and rollbacks; :mod:`.export` — adapters for inference servers.
"""
