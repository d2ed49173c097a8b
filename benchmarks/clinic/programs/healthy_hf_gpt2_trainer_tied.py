"""A tiny GPT-2 (tied input/output embeddings) built from a config and trained with the transformers Trainer on synthetic arithmetic-progression sequences.

expect: healthy
trap: the Hugging Face Trainer owns the loop (AdamW, linear warmup/decay, clipping, its own zero_grad), weight tying (wte and lm_head share one Parameter), causal-LM loss with shifted labels

Held out: written for the second generalization audit (2026-11-27) before reading the rules' code.
Each sequence is start, start+d, start+2d, ... mod 32: after two tokens the rest is predictable.
Trains well: eval loss ln 32 = 3.47 -> 1.43 (the first two tokens are random: the floor is ~0.5).
"""
import tempfile

import torch
from torch.utils.data import Dataset
from transformers import GPT2Config, GPT2LMHeadModel, Trainer, TrainingArguments

torch.manual_seed(0)
V, L = 32, 16


class Progressions(Dataset):
    def __init__(self, n, seed):
        g = torch.Generator().manual_seed(seed)
        start = torch.randint(0, V, (n, 1), generator=g)
        step = torch.randint(1, 6, (n, 1), generator=g)
        self.ids = (start + step * torch.arange(L)) % V

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "labels": self.ids[i]}


def main():
    config = GPT2Config(vocab_size=V, n_positions=L, n_embd=32, n_layer=2, n_head=4,
                        tie_word_embeddings=True)
    model = GPT2LMHeadModel(config)
    assert model.lm_head.weight is model.transformer.wte.weight
    with tempfile.TemporaryDirectory() as out:
        args = TrainingArguments(output_dir=out, per_device_train_batch_size=16, learning_rate=3e-3,
                                 max_steps=160, warmup_steps=16, weight_decay=0.01, logging_steps=50,
                                 save_strategy="no", report_to=[], use_cpu=True, seed=0,
                                 disable_tqdm=True, dataloader_num_workers=0)
        trainer = Trainer(model=model, args=args, train_dataset=Progressions(2560, 1),
                          eval_dataset=Progressions(64, 2))
        trainer.train()
        metrics = trainer.evaluate()
    print(metrics)
    print(f"NNDOCTOR_METRIC eval_loss={metrics['eval_loss']:.4f} lower")


if __name__ == "__main__":
    main()
