"""Tiny GPT-2 trained by the real Hugging Face Trainer on CPU, on synthetic token patterns.

Random init from GPT2Config (no download; run with HF_HUB_OFFLINE=1). The data are arithmetic
progressions mod V and repeated random motifs, so the loss really falls within a few hundred steps.

Every TrainingArguments field is a flag (HfArgumentParser): --max_steps, --learning_rate,
--lr_scheduler_type, --warmup_steps, --logging_steps, --eval_strategy/--eval_steps,
--save_strategy/--save_steps, --disable_tqdm, --log_level, --include_num_input_tokens_seen, --seed,
--output_dir, ... plus the script's own flags below (--truth, model and data sizes).
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass, field

import torch
import transformers
from transformers import GPT2Config, GPT2LMHeadModel, HfArgumentParser, Trainer, TrainingArguments

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from truth_callback import TruthCallback  # noqa: E402


@dataclass
class ScriptArgs:
    truth: str = field(default="truth.jsonl", metadata={"help": "JSONL file the truth callback appends to"})
    vocab_size: int = 128
    seq_len: int = 32
    n_embd: int = 64
    n_layer: int = 2
    n_head: int = 4
    n_train: int = 1600
    n_eval: int = 128
    data_seed_offset: int = 0


class PatternDataset(torch.utils.data.Dataset):
    def __init__(self, n: int, seq_len: int, vocab: int, seed: int) -> None:
        g = torch.Generator().manual_seed(seed)
        rows = []
        for i in range(n):
            if i % 2 == 0:  # arithmetic progression mod V
                a = int(torch.randint(0, vocab, (1,), generator=g))
                d = int(torch.randint(1, 8, (1,), generator=g))
                row = [(a + d * j) % vocab for j in range(seq_len)]
            else:  # a random motif of length 3..6, repeated
                k = int(torch.randint(3, 7, (1,), generator=g))
                motif = torch.randint(0, vocab, (k,), generator=g).tolist()
                row = [motif[j % k] for j in range(seq_len)]
            rows.append(row)
        self.data = torch.tensor(rows, dtype=torch.long)

    def __len__(self) -> int:
        return len(self.data)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        x = self.data[i]
        return {"input_ids": x, "labels": x.clone()}


ARGS_KEPT = (
    "learning_rate lr_scheduler_type warmup_steps logging_steps logging_strategy eval_strategy eval_steps "
    "save_strategy save_steps max_steps num_train_epochs gradient_accumulation_steps per_device_train_batch_size "
    "per_device_eval_batch_size max_grad_norm logging_nan_inf_filter disable_tqdm log_level "
    "include_num_input_tokens_seen optim weight_decay seed output_dir"
).split()


def main() -> None:
    parser = HfArgumentParser((ScriptArgs, TrainingArguments))
    sargs, targs = parser.parse_args_into_dataclasses()
    train_ds = PatternDataset(sargs.n_train, sargs.seq_len, sargs.vocab_size, seed=1000 + sargs.data_seed_offset)
    eval_ds = PatternDataset(sargs.n_eval, sargs.seq_len, sargs.vocab_size, seed=2000 + sargs.data_seed_offset)
    torch.manual_seed(targs.seed)
    config = GPT2Config(
        vocab_size=sargs.vocab_size,
        n_positions=sargs.seq_len,
        n_embd=sargs.n_embd,
        n_layer=sargs.n_layer,
        n_head=sargs.n_head,
        bos_token_id=sargs.vocab_size - 1,
        eos_token_id=sargs.vocab_size - 1,
    )
    model = GPT2LMHeadModel(config)
    run_info = {
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "argv": sys.argv[1:],
        "script_args": asdict(sargs),
        "args": {k: getattr(targs, k) for k in ARGS_KEPT},
        "n_parameters": sum(p.numel() for p in model.parameters()),
    }
    truth = TruthCallback(sargs.truth, run_info)
    trainer = Trainer(model=model, args=targs, train_dataset=train_ds, eval_dataset=eval_ds, callbacks=[truth])
    trainer.train()
    matches = truth.records == trainer.state.log_history
    truth.write({"event": "checked", "log_history_matches": matches, "n_records": len(trainer.state.log_history)})
    if not matches:
        truth.write({"event": "final_log_history", "log_history": trainer.state.log_history})


if __name__ == "__main__":
    main()
