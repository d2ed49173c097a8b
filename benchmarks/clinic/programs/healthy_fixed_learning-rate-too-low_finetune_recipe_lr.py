"""Fixed twin: from-scratch digits MLP with a fine-tuning-style schedule and a from-scratch AdamW lr 1e-3.

expect: healthy
trap: the rest of the training arguments still look like a transformer fine-tuning recipe (10% warmup, linear
      decay to 0, weight decay 0.01), the LR ends near zero and the training loss reaches ~0.005 while the eval
      loss stays ~0.1; none of that is a problem: the decay is deliberate and eval loss does not rise.

Fixed twin of faulty_learning-rate-too-low_finetune_recipe_lr.py: identical except that learning_rate is 1e-3
instead of the 2e-5 copied from a BERT fine-tuning recipe. The 64-256-256-10 GELU MLP trains from random init
with AdamW, 10% warmup, linear decay, batch 32, 630 steps. Measured when run: train loss 1.10 (steps 1-105
mean, includes warmup) -> 0.0055, eval_loss 0.099 -> 0.097 -> 0.099 at epochs 5/10/15, val_acc 0.973 (faulty
version: 0.820).
"""
from dataclasses import dataclass
from typing import Dict, List

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

torch.set_num_threads(1)
torch.manual_seed(0)
np.random.seed(0)


@dataclass
class TrainingArguments:
    # recipe: run_glue.py defaults for bert-base fine-tuning
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    per_device_train_batch_size: int = 32
    num_train_epochs: int = 15
    logging_steps: int = 105
    seed: int = 0


class TrainerCallback:
    def on_log(self, args: TrainingArguments, state: Dict, logs: Dict[str, float]): pass
    def on_evaluate(self, args: TrainingArguments, state: Dict, metrics: Dict[str, float]): pass


class PrinterCallback(TrainerCallback):
    def on_log(self, args, state, logs):
        print(f"step {state['global_step']:4d}  loss {logs['loss']:.4f}  lr {logs['learning_rate']:.2e}")

    def on_evaluate(self, args, state, metrics):
        print(f"  eval @ epoch {state['epoch']}: {metrics}")


class DigitsMLP(nn.Module):
    def __init__(self, hidden=256):
        super().__init__()
        self.fc1 = nn.Linear(64, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.classifier = nn.Linear(hidden, 10)

    def forward(self, pixel_values, labels=None):
        h = F.gelu(self.fc2(F.gelu(self.fc1(pixel_values))))
        logits = self.classifier(h)
        out = {"logits": logits}
        if labels is not None:
            out["loss"] = F.cross_entropy(logits, labels)
        return out


class Trainer:
    def __init__(self, model, args: TrainingArguments, train_dataset, eval_dataset, callbacks: List[TrainerCallback]):
        self.model, self.args = model, args
        self.train_dataset, self.eval_dataset = train_dataset, eval_dataset
        self.callbacks = callbacks
        self.state = {"global_step": 0, "epoch": 0}

    def create_optimizer_and_scheduler(self, num_training_steps):
        decay = [p for n, p in self.model.named_parameters() if not n.endswith("bias")]
        no_decay = [p for n, p in self.model.named_parameters() if n.endswith("bias")]
        self.optimizer = torch.optim.AdamW(
            [{"params": decay, "weight_decay": self.args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
            lr=self.args.learning_rate)
        warmup = int(self.args.warmup_ratio * num_training_steps)

        def lr_lambda(step):
            if step < warmup:
                return (step + 1) / warmup
            return max(0.0, (num_training_steps - step) / max(1, num_training_steps - warmup))
        self.lr_scheduler = torch.optim.lr_scheduler.LambdaLR(self.optimizer, lr_lambda)

    @torch.no_grad()
    def evaluate(self):
        self.model.eval()
        x, y = self.eval_dataset.tensors
        out = self.model(x, labels=y)
        self.model.train()
        metrics = {"eval_loss": round(out["loss"].item(), 4),
                   "eval_accuracy": round((out["logits"].argmax(-1) == y).float().mean().item(), 4)}
        for cb in self.callbacks:
            cb.on_evaluate(self.args, self.state, metrics)
        return metrics

    def train(self):
        g = torch.Generator().manual_seed(self.args.seed)
        loader = torch.utils.data.DataLoader(self.train_dataset, batch_size=self.args.per_device_train_batch_size,
                                             shuffle=True, generator=g)
        self.create_optimizer_and_scheduler(len(loader) * self.args.num_train_epochs)
        self.model.train()
        running = []
        metrics = {}
        for epoch in range(self.args.num_train_epochs):
            self.state["epoch"] = epoch
            for x, y in loader:
                loss = self.model(x, labels=y)["loss"]
                loss.backward()
                self.optimizer.step()
                self.lr_scheduler.step()
                self.optimizer.zero_grad()
                self.state["global_step"] += 1
                running.append(loss.item())
                if self.state["global_step"] % self.args.logging_steps == 0:
                    logs = {"loss": float(np.mean(running)), "learning_rate": self.lr_scheduler.get_last_lr()[0]}
                    running = []
                    for cb in self.callbacks:
                        cb.on_log(self.args, self.state, logs)
            if epoch % 5 == 4:
                metrics = self.evaluate()
        return metrics


def main():
    args = TrainingArguments()
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    X_tr, X_va, y_tr, y_va = train_test_split(X, y, test_size=0.25, stratify=y, random_state=args.seed)
    mu, sd = X_tr.mean(0), X_tr.std(0)
    sd[sd < 1e-3] = 1.0
    X_tr, X_va = (X_tr - mu) / sd, (X_va - mu) / sd
    f = lambda a: torch.tensor(a, dtype=torch.float32)
    train_ds = torch.utils.data.TensorDataset(f(X_tr), torch.tensor(y_tr))
    eval_ds = torch.utils.data.TensorDataset(f(X_va), torch.tensor(y_va))

    trainer = Trainer(DigitsMLP(), args, train_ds, eval_ds, [PrinterCallback()])
    metrics = trainer.train()
    print(f"NNDOCTOR_METRIC val_acc={metrics['eval_accuracy']:.4f} higher")


if __name__ == "__main__":
    main()
