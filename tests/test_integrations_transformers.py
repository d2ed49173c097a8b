"""nndoctor inside a real transformers.Trainer, on tiny models built from a config (no download):
the Trainer's normal machinery (gradient accumulation, warmup, max_grad_norm clipping, evaluation
under no_grad, accelerate's optimizer wrapper) stays quiet; a learning rate far too high is found
and reaches the Trainer's logs."""
import pytest
import torch

transformers = pytest.importorskip("transformers")

from nndoctor.integrations.transformers import DoctorCallback  # noqa: E402
from nndoctor.probes import tap  # noqa: E402


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: threads only add contention on a shared machine
    yield
    torch.set_num_threads(n)


class _DS(torch.utils.data.Dataset):
    def __init__(self, ids, labels):
        self.ids, self.labels = ids, labels

    def __len__(self):
        return len(self.ids)

    def __getitem__(self, i):
        return {"input_ids": self.ids[i], "attention_mask": torch.ones_like(self.ids[i]), "labels": self.labels[i]}


def _data(lm=False, n=512):
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(1, 100, (n, 16), generator=g)
    if lm:  # a learnable sequence task: the next token is the current one + 1
        ids = (ids[:, :1] + torch.arange(16)) % 100
        return _DS(ids[: n - 128], ids[: n - 128]), _DS(ids[n - 128:], ids[n - 128:])
    labels = (ids[:, 0] >= 50).long()
    return _DS(ids[: n - 128], labels[: n - 128]), _DS(ids[n - 128:], labels[n - 128:])


def _train(model, lm=False, lr=1e-3, accum=1, steps=120, logs=None):
    torch.manual_seed(0)
    train, val = _data(lm)
    args = transformers.TrainingArguments(
        output_dir="/tmp/nndoctor-hf-test", per_device_train_batch_size=16, per_device_eval_batch_size=64,
        learning_rate=lr, max_steps=steps, warmup_steps=10, gradient_accumulation_steps=accum, logging_steps=20,
        eval_strategy="steps", eval_steps=40, save_strategy="no", report_to="none", use_cpu=True, seed=0,
        disable_tqdm=True)
    cb = DoctorCallback(verbose=False)
    cbs = [cb]
    if logs is not None:
        class Keep(transformers.TrainerCallback):
            def on_log(self, args, state, control, logs=None, **kw):
                kept.append(dict(logs or {}))
        kept = logs
        cbs.append(Keep())
    transformers.Trainer(model=model, args=args, train_dataset=train, eval_dataset=val, callbacks=cbs).train()
    assert tap.active_count() == 0, "the doctor must be closed when train() ends"
    return cb.report


def _bert():
    torch.manual_seed(0)
    cfg = transformers.BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                                  intermediate_size=64, max_position_embeddings=32, num_labels=2)
    return transformers.BertForSequenceClassification(cfg)


def _gpt2():
    torch.manual_seed(0)
    cfg = transformers.GPT2Config(vocab_size=100, n_embd=32, n_layer=2, n_head=2, n_positions=32)
    return transformers.GPT2LMHeadModel(cfg)


def _alarms(report):
    return [(f.code, f.severity, f.summary) for f in report.findings if f.severity != "info"]


def test_healthy_bert_with_accumulation_warmup_clipping_and_eval_is_quiet():
    r = _train(_bert(), accum=2)
    assert r.steps == 120 and r.backward_passes == 240
    assert _alarms(r) == [] and r.internal_errors == []
    assert r.findings == []  # not even a resolved one


def test_healthy_gpt2_language_model_is_quiet():
    r = _train(_gpt2(), lm=True, steps=80)
    assert r.steps == 80
    assert _alarms(r) == [] and r.internal_errors == []


def test_learning_rate_far_too_high_is_found_and_counted_in_the_logs():
    logs = []
    r = _train(_bert(), lr=10.0, logs=logs)
    assert "learning-rate-too-high" in r.codes
    assert r.get("learning-rate-too-high").severity in ("warning", "error")
    assert logs and max(l.get("nndoctor/warnings", 0) + l.get("nndoctor/errors", 0) for l in logs) >= 1


def test_nndoctor_run_on_an_unmodified_trainer_script(tmp_path):
    from nndoctor.runner import run_script

    path = tmp_path / "train_hf.py"
    path.write_text('''
import torch, transformers
torch.manual_seed(0)
cfg = transformers.BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                              intermediate_size=64, max_position_embeddings=32, num_labels=2)
model = transformers.BertForSequenceClassification(cfg)
g = torch.Generator().manual_seed(0)
ids = torch.randint(1, 100, (384, 16), generator=g)
data = [{"input_ids": i, "labels": int(i[0] >= 50)} for i in ids]
args = transformers.TrainingArguments(output_dir="/tmp/nndoctor-hf-run", per_device_train_batch_size=16,
    learning_rate=1e-3, max_steps=60, warmup_steps=10, save_strategy="no", report_to="none", use_cpu=True,
    disable_tqdm=True, logging_steps=1000)
transformers.Trainer(model=model, args=args, train_dataset=data).train()
''')
    code, r = run_script(str(path), [], quiet=True)
    assert code == 0
    assert r.steps == 60 and r.backward_passes == 60
    assert [f.code for f in r.findings if f.severity != "info"] == [] and r.internal_errors == []
