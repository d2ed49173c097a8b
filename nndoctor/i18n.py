"""Messages in English and Chinese (the guide nndoctor implements is Chinese). Codes never change.

What is translated: the report's headings and labels, every code's title and explanation
(``what``), every remedy's title, every finding's summary (nndoctor.messages: the rule's sentence
with this run's numbers, kept as a message id and parameters beside the English text) and the
notes about the watch. A remedy title is a template with fields
(``Lower the learning rate (to {suggested_lr})``); the rendered English title is matched against
its template to recover the fields, which then fill the Chinese template, so a report loaded
from JSON translates too. The JSON report's text is always English (its ``message``/``params``
fields let a reader translate it).

The language: ``lang`` where a function takes it, else the ``NNDOCTOR_LANG`` environment variable
(``zh``, ``zh_CN.UTF-8``... all mean Chinese), else English.
"""
from __future__ import annotations

import os
import re
from functools import lru_cache

LANGS = ("en", "zh")


def get_lang(lang: str | None = None) -> str:
    """``en`` or ``zh``: the argument, else ``NNDOCTOR_LANG``, else English. Unknown values are refused."""
    raw = lang if lang else os.environ.get("NNDOCTOR_LANG", "")
    raw = (raw or "en").strip().lower().replace("-", "_")
    base = raw.split(".")[0].split("_")[0]
    if base in LANGS:
        return base
    if lang:  # an explicit bad value is an error; a bad environment value falls back to English
        raise ValueError(f"unknown language {lang!r}; nndoctor speaks: {', '.join(LANGS)}")
    return "en"


# --- the report's own words --------------------------------------------------------------------
UI: dict[str, dict[str, str]] = {
    "title": {"en": "nndoctor report", "zh": "nndoctor 诊断报告"},
    "healthy": {"en": "healthy: no problem found", "zh": "健康：未发现问题"},
    "problems": {"en": "{n} problem(s) found", "zh": "发现 {n} 个问题"},
    "steps_line": {"en": "{steps} steps, {backward} backward passes",
                   "zh": "{steps} 步，{backward} 次反向传播"},
    "findings": {"en": "Findings", "zh": "诊断结果"},
    "no_findings": {"en": "No findings.", "zh": "没有诊断结果。"},
    "plots": {"en": "Evidence in plots", "zh": "证据图表"},
    "step": {"en": "step", "zh": "步"},
    "backward pass": {"en": "backward pass", "zh": "反向传播次数"},
    "where": {"en": "where", "zh": "位置"},
    "evidence": {"en": "evidence", "zh": "证据"},
    "remedies": {"en": "remedies (best first)", "zh": "解决方法（按推荐顺序）"},
    "copy": {"en": "copy", "zh": "复制"},
    "copied": {"en": "copied", "zh": "已复制"},
    "summary": {"en": "what this run showed", "zh": "本次运行的具体情况"},
    "explanation": {"en": "what it means", "zh": "含义"},
    "notes": {"en": "Notes", "zh": "备注"},
    "repairs": {"en": "Repairs (repair mode)", "zh": "修复（修复模式）"},
    "fix_permanent": {"en": "the code change that makes it permanent", "zh": "让修复永久生效的代码修改"},
    "fix_to_make": {"en": "the code change to make", "zh": "需要做的代码修改"},
    "internal_errors": {"en": "nndoctor internal errors (training was not affected)",
                        "zh": "nndoctor 内部错误（训练未受影响）"},
    "explain_hint": {"en": "`nndoctor explain CODE` tells more about a code.",
                     "zh": "`nndoctor explain CODE --lang zh` 可查看诊断代码的详细说明。"},
    "loss_title": {"en": "Loss and learning rate", "zh": "损失与学习率"},
    "loss_caption": {"en": "Training loss (mean per bin), validation losses, the learning rate (right axis, "
                           "dotted) and the step at which each finding was established (vertical lines).",
                     "zh": "训练损失（每个区间的均值）、验证损失、学习率（右轴，点线），以及每个诊断结果被确认时的步数（竖线）。"},
    "loss": {"en": "loss", "zh": "损失"},
    "lr": {"en": "learning rate", "zh": "学习率"},
    "grad_title": {"en": "Gradient norm per layer", "zh": "各层梯度范数"},
    "grad_caption": {"en": "‖gradient‖ of each layer over the steps (log colour scale; input layer at the top, "
                           "output at the bottom). Vanishing gradients: the top rows are dark; exploding: "
                           "the colour climbs over time.",
                     "zh": "各层梯度范数随训练步数的变化（对数色标；上方为输入层，下方为输出层）。"
                           "梯度消失：上方几行颜色很暗；梯度爆炸：颜色随时间越来越亮。"},
    "ratio_title": {"en": "Update / weight ratio per layer", "zh": "各层更新量/权重比"},
    "ratio_caption": {"en": "‖Δw‖ / ‖w‖ of each optimizer step, per layer (log scale). Around 1e-3 is typical; "
                            "the dashed lines mark 1e-4 (too low) and 1e-2 (too high).",
                      "zh": "每次优化器更新中各层的 ‖Δw‖/‖w‖（对数坐标）。1e-3 左右较为常见；虚线标出 1e-4（过低）与 1e-2（过高）。"},
    "dead_title": {"en": "Dead ReLU units per layer", "zh": "各层死亡 ReLU 单元比例"},
    "dead_caption": {"en": "Share of units that were never positive in a sampled window of batches "
                           "(0 = all alive, 1 = all dead).",
                     "zh": "在抽样的若干批次中从未输出正值的单元比例（0 = 全部存活，1 = 全部死亡）。"},
    "sat_title": {"en": "Saturated sigmoid/tanh outputs per layer", "zh": "各层 Sigmoid/Tanh 饱和比例"},
    "sat_caption": {"en": "Share of outputs in the flat tails (|tanh| > 0.99, sigmoid < 0.01 or > 0.99), per sample.",
                    "zh": "每次抽样中处于饱和区（|tanh| > 0.99，sigmoid < 0.01 或 > 0.99）的输出比例。"},
    "no_signals": {"en": "No signals were recorded for this report (plots need a watched run).",
                   "zh": "此报告没有记录信号（图表需要一次被监测的训练）。"},
    "layers_shown": {"en": "{shown} of {total} layers shown, evenly spaced through depth",
                     "zh": "共 {total} 层，按深度均匀显示其中 {shown} 层"},
    "run": {"en": "run", "zh": "运行"},
    "script": {"en": "script", "zh": "脚本"},
    "started": {"en": "started", "zh": "开始时间"},
    "versions": {"en": "versions", "zh": "版本"},
    "severity.error": {"en": "ERROR", "zh": "错误"},
    "severity.warning": {"en": "WARNING", "zh": "警告"},
    "severity.info": {"en": "INFO", "zh": "提示"},
    "live_title": {"en": "nndoctor (live)", "zh": "nndoctor（实时）"},
    "findings_so_far": {"en": "findings so far", "zh": "目前的诊断结果"},
    "none_yet": {"en": "none yet", "zh": "暂无"},
    "backward_n": {"en": "{n} backward", "zh": "{n} 次反向传播"},
    "best": {"en": "best", "zh": "最佳"},
    "steps_label": {"en": "steps", "zh": "步数"},
    "backward_label": {"en": "backward passes", "zh": "反向传播次数"},
    "compare_title": {"en": "nndoctor: two runs compared", "zh": "nndoctor：两次运行对比"},
    "appeared": {"en": "appeared", "zh": "新出现"},
    "cleared": {"en": "cleared", "zh": "已消除"},
    "persisting": {"en": "in both", "zh": "两次都有"},
    "final_loss": {"en": "final loss", "zh": "最终损失"},
    "best_loss": {"en": "best loss", "zh": "最佳损失"},
    "code": {"en": "code", "zh": "代码"},
    "what_it_means": {"en": "What it means:", "zh": "含义："},
    "why_it_breaks": {"en": "Why it breaks training:", "zh": "为什么会破坏训练（英文）："},
    "evidence_carried": {"en": "Evidence a finding carries:", "zh": "诊断结果携带的证据："},
    "traps": {"en": "Healthy patterns that do NOT raise it:", "zh": "不会触发此诊断的健康情形（英文）："},
    "thresholds": {"en": "Thresholds and why:", "zh": "阈值及其理由（英文）："},
    "remedies_explain": {"en": "Remedies (best first):", "zh": "解决方法（按推荐顺序）："},
    "guide": {"en": "guide", "zh": "指南"},
}


def t(key: str, lang: str | None = None, **fields) -> str:
    lang = get_lang(lang)
    entry = UI[key]
    text = entry.get(lang) or entry["en"]
    return text.format(**fields) if fields else text


# --- the catalogue ------------------------------------------------------------------------------
CODE_ZH: dict[str, tuple[str, str]] = {
    "non-finite": (
        "损失、梯度、参数或激活值中出现 NaN 或 Inf",
        "出现了 NaN 或 Inf（数值溢出）。nndoctor 给出首次出现的步数和来源：输入批次、第一个由有限输入得到非有限输出的模块、"
        "由有限输出算出的损失、反向传播（前向有限而梯度非有限），或优化器更新（梯度有限而参数变为非有限）。"),
    "exploding-gradient": (
        "梯度范数成数量级增长（梯度爆炸）",
        "全局梯度范数上升两个数量级以上：要么稳定地高于训练初期的水平，要么相对近期水平突然激增，"
        "同时损失没有改善，或训练最终出现 NaN/Inf。"),
    "vanishing-gradient": (
        "梯度从输出层到输入层逐层变小（梯度消失）",
        "各层的相对梯度 ‖g‖/‖w‖ 从输出层到输入层稳定下降三个数量级以上，靠近输入的前几层几乎学不到东西。"),
    "optimizer-step-missing": (
        "计算了梯度，但参数从未改变",
        "反向传播在运行，梯度不为零，但没有任何参数发生变化：从未调用 optimizer.step()、学习率为 0，"
        "或者手写的更新把结果赋给了新张量而不是参数本身（`p = p - lr * p.grad`）。"),
    "gradient-not-zeroed": (
        "梯度在优化器步之间不断累积（zero_grad() 没有清零它们）",
        "在相邻两次优化器更新之间，参数的 .grad 从未被重置（置为 None 或清零），于是每一步都应用了过去所有梯度之和。"),
    "broken-gradient-flow": (
        "优化器中的参数收不到梯度：计算图被切断（反向传播断链）",
        "优化器要训练、且 requires_grad 的参数无法从损失的计算图到达：被 .detach()、.numpy()/.item() 来回转换、"
        "torch.tensor(...) 重新包装或 torch.no_grad() 切断了。"),
    "parameter-not-optimized": (
        "参数有梯度，但不属于任何优化器",
        "参数需要梯度，也从损失得到了梯度，但没有任何优化器持有它们，所以它们永远不会被学习。常见原因：层保存在 Python 列表里"
        "（model.parameters() 看不到）、优化器只用模型的一部分构建、在创建优化器之后才添加的层。"),
    "dead-relu": (
        "某层的大部分 ReLU 单元对所有输入都输出 0（神经元死亡）",
        "在某个 ReLU 层中，很大比例的单元（特征，或卷积的通道）对见过的每个样本都输出 0。这样的单元梯度为零，永远无法恢复。"),
    "saturated-activation": (
        "Sigmoid/Tanh 单元处于饱和区",
        "某个 sigmoid 或 tanh 层的大部分输出落在平坦的饱和区（|tanh| > 0.99，sigmoid < 0.01 或 > 0.99），"
        "那里的导数不到最大值的 4%。"),
    "poor-initialization": (
        "初始化时前向信号随深度坍缩或爆炸（权重初始化不当）",
        "在第一个批次上，进入各层的信号尺度（RMS）逐层稳定地缩小或增大若干数量级；或者某个隐藏层的权重比其激活函数"
        "能承受的大好几倍，把激活推入饱和区。"),
    "unnormalized-input": (
        "输入特征远离单位尺度，或各特征尺度相差数个数量级（数据未归一化）",
        "网络第一层接收的特征典型幅值远大于 1（例如原始 0-255 像素），或者不同特征的幅值相差数个数量级（例如 0.01 与 1000 并存）。"),
    "loss-mismatch": (
        "损失函数与任务或模型输出不匹配（损失函数选择错误）",
        "所用的损失函数不是任务和模型输出所需要的：CrossEntropyLoss 接收了概率（softmax 被应用了两次）、NLLLoss 接收了原始分数、"
        "BCEWithLogitsLoss 接收了 sigmoid 输出、BCELoss 接收的不是 sigmoid 输出、对类别标签使用回归损失、"
        "对多热（多标签）目标使用交叉熵，或只有一个输出单元却用 softmax。"),
    "target-shape-mismatch": (
        "预测与目标的形状不同，被静默广播",
        "损失把形状不同的预测和目标组合在一起，广播成了更大的张量，例如 [N, 1] 的输出对 [N] 的目标会得到 [N, N] 的矩阵，"
        "即每个预测与每个目标两两相减。"),
    "learning-rate-too-high": (
        "学习率过高：损失发散或震荡而没有进展",
        "损失升到远高于其最佳值的位置，或者来回震荡始终低不过起点，同时每次更新都让权重改变其自身大小的很大一部分。"),
    "learning-rate-too-low": (
        "学习率过低：损失下降缓慢",
        "损失稳定但非常缓慢地下降，每次更新只让权重改变其自身大小的极小一部分，而学习率并没有被衰减过；"
        "或者调度器在损失收敛之前就把学习率衰减殆尽（下降三个数量级，持续大半个训练过程）。"),
    "batch-size-too-small": (
        "批量过小：梯度噪声占主导",
        "梯度噪声尺度 B_noise = tr(Σ)/|G|²（梯度中噪声与信号相当时的批量大小）远大于当前批量，且损失的进展没有超出其噪声；"
        "或者 BatchNorm 归一化所用的数值太少，其统计量基本是噪声。"),
    "out-of-memory": (
        "运行时内存不足",
        "在被监测的运行中，一次内存分配失败（CUDA 或 CPU 内存不足）。"),
    "overfitting": (
        "验证损失上升而训练损失仍在下降（过拟合）",
        "验证损失达到最小值后连续多次评估都在上升，而训练损失继续下降：模型在记忆训练集。"),
    "train-mode-off": (
        "模型在 eval 模式下训练",
        "训练的前向传播（之后有反向传播）是在模型处于 eval 模式时运行的，因此 Dropout 被关闭，"
        "BatchNorm 使用的是累计的运行统计量而不是当前批次的统计量。"),
    "loss-not-decreasing": (
        "损失不下降（未找到具体原因）",
        "经过许多步之后，损失并没有明显低于起点，且没有任何具体诊断能解释。常见原因：标签与输入不对应、输入被替换成常量、目标本身是噪声。"),
}

REMEDY_ZH: dict[str, str] = {
    "clip-grad-norm": "裁剪梯度范数（max_norm={max_norm}）",
    "lower-lr": "降低学习率（降到 {suggested_lr}）",
    "weight-decay": "加入权重衰减（L2 正则化）",
    "use-lstm-gru": "用门控循环单元（LSTM/GRU）代替普通 RNN",
    "add-normalization": "在层与层之间加入归一化层（BatchNorm/LayerNorm）",
    "relu-family": "用 ReLU/LeakyReLU/ELU 代替 {activation}",
    "residual": "加入残差（跳跃）连接",
    "he-init": "按激活函数初始化权重（ReLU 用 He/Kaiming，tanh/sigmoid 用 Xavier）",
    "check-data-finite": "删除或填补数据中的 NaN/Inf",
    "safe-log": "在 logits 上用数值稳定的运算计算损失（避免 log(0)）",
    "safe-sqrt": "让 sqrt/norm/pow 远离 0（它们在 0 处的梯度为无穷大）",
    "autograd-backward": "修正 `{function}` 手写的 backward，或让 autograd 自动求导",
    "fp32-loss": "用 float32 计算损失",
    "detect-anomaly-once": "用异常检测模式确认出错的运算（较慢：只开一步）",
    "call-step": "在 loss.backward() 之后调用 optimizer.step()",
    "use-optimizer": "原地更新参数（或使用 torch.optim 优化器）",
    "nonzero-lr": "给优化器一个非零的学习率",
    "zero-grad": "每一步重置梯度：调用 optimizer.zero_grad()",
    "zero-grad-right-object": "对正在训练的优化器（或模型）调用 zero_grad()",
    "remove-detach": "让前向传播留在计算图中（不要 detach/numpy/item/torch.tensor）",
    "remove-no-grad": "不要在 torch.no_grad() 下运行需要训练的模块",
    "freeze-explicitly": "如果这些参数本就应保持不变，请显式冻结它们",
    "module-list": "用 nn.ModuleList/ModuleDict 注册子模块，而不是 Python 列表",
    "optimizer-all-params": "用所有可训练参数构建优化器",
    "create-optimizer-after-model": "在模型完全构建之后再创建优化器",
    "leaky-relu": "在 {where} 中使用 LeakyReLU/ELU：输入为负的单元仍然有梯度",
    "fix-negative-bias": "重置把预激活值推向负数的偏置",
    "init-for-activation": "按激活函数初始化权重：{init_title}",
    "lsuv": "在真实批次上把每层输出方差缩放到 1（LSUV，Mishkin & Matas 2016）",
    "normalize-before-activation": "对预激活值做归一化（在 {activation} 之前加 BatchNorm/LayerNorm）",
    "standardize-inputs": "用训练集统计量标准化输入",
    "scale-images": "把图像缩放到 [0, 1]（再按通道归一化，可选）",
    "input-batchnorm": "让模型自己归一化输入（第一层用 BatchNorm）",
    "ce-on-logits": "给 CrossEntropyLoss 原始 logits：去掉它前面的 softmax",
    "bce-with-logits": "对原始输出使用 BCEWithLogitsLoss（前面不要 sigmoid）",
    "cross-entropy": "单标签分类使用 CrossEntropyLoss 与类别索引目标",
    "nll-after-log-softmax": "NLLLoss 需要对数概率：先做 log_softmax（或改用 CrossEntropyLoss）",
    "multilabel-bce": "多标签目标：每个标签一个独立的 sigmoid（BCEWithLogitsLoss）",
    "two-logits-or-bce": "单个输出单元需要 sigmoid（BCEWithLogitsLoss），而不是 softmax",
    "regression-loss": "实数目标使用回归损失（MSELoss/HuberLoss）",
    "match-shapes": "在计算损失之前让预测与目标形状一致",
    "raise-lr": "提高学习率（提到 {suggested_lr}）",
    "lr-range-test": "用学习率范围测试（LR range test）找到合适的学习率",
    "warmup-scheduler": "先预热学习率，再衰减（OneCycleLR / 余弦退火）",
    "adaptive-optimizer": "使用自适应优化器（Adam/AdamW），对学习率的尺度不那么敏感",
    "schedule-per-epoch": "按调度器参数所假定的频率调用它（StepLR 每个 epoch 调用一次）",
    "safe-forward": "让 forward 中自己的运算在 `{enters}` 之前保持有限（除法加 epsilon，log/sqrt 之前 clamp）",
    "larger-batch": "使用更大的批量（或在 {k} 个批次上累积梯度）",
    "batch-ramp": "在训练中逐步增大批量（前期小，后期大）",
    "groupnorm-small-batch": "批量很小时，用 GroupNorm/LayerNorm 代替 BatchNorm",
    "fit-batch": "使用放得下的批量大小：{suggested_batch}",
    "mixed-precision": "使用混合精度训练（激活内存约减半）",
    "activation-checkpointing": "在反向传播时重新计算激活值，而不是保存它们",
    "early-stopping": "在最佳验证损失处停止（早停），并保留那个检查点",
    "dropout": "在层与层之间加入 Dropout",
    "smaller-model": "使用更小的模型（更少或更窄的层），或更多数据/数据增强",
    "model-train": "训练前把模型切回训练模式（model.train()）",
    "check-labels": "检查输入与标签是否仍然一一对应（一起打乱）",
    "overfit-one-batch": "检查模型能否在单个批次上把损失降到接近 0",
}


def code_title(code: str, lang: str | None = None) -> str:
    from .diagnoses import REGISTRY

    if get_lang(lang) == "zh" and code in CODE_ZH:
        return CODE_ZH[code][0]
    d = REGISTRY.get(code)
    return d.title if d else code


def code_what(code: str, lang: str | None = None) -> str:
    from .diagnoses import REGISTRY

    if get_lang(lang) == "zh" and code in CODE_ZH:
        return CODE_ZH[code][1]
    d = REGISTRY.get(code)
    return d.what if d else ""


@lru_cache(maxsize=None)
def _template_regex(template: str) -> re.Pattern:
    parts = re.split(r"\{(\w+)\}", template)
    rx, seen = "", set()
    for i, part in enumerate(parts):
        if i % 2 == 0:
            rx += re.escape(part)
        elif part in seen:
            rx += f"(?P={part})"
        else:
            seen.add(part)
            rx += f"(?P<{part}>.*?)"
    return re.compile(rx + r"\Z", re.S)


def remedy_title(remedy_id: str, title: str, lang: str | None = None) -> str:
    """The title of a rendered remedy in ``lang``: the English title's fields (read back through its
    template) put into the Chinese template; the English title where no translation fits."""
    if get_lang(lang) != "zh" or remedy_id not in REMEDY_ZH:
        return title
    from .remedies import CATALOGUE

    doc = CATALOGUE.get(remedy_id)
    if doc is None:
        return title
    values = {"model": "model", "optimizer": "optimizer", **{k: str(v) for k, v in doc.defaults.items()}}
    m = _template_regex(doc.title).match(title)
    if m is None:
        return title
    values.update(m.groupdict())
    try:
        return REMEDY_ZH[remedy_id].format(**values)
    except (KeyError, IndexError):
        return title


# --- notes about the watch itself (plain English strings in the report; matched back like remedy titles)
NOTES_ZH: dict[str, str] = {
    "the model has no parameters: there is nothing to train or watch": "模型没有参数：没有可训练或可监测的内容",
    "no parameter of the model requires grad (everything is frozen)": "模型的参数都不需要梯度（全部被冻结）",
    "{optimizer} holds none of the watched model's parameters": "{optimizer} 不持有被监测模型的任何参数",
    "nndoctor stopped watching after {n} internal errors": "nndoctor 在出现 {n} 个内部错误后停止了监测",
    "stopped the script after {n} optimizer steps (--max-steps)": "在 {n} 次优化器更新后停止了脚本（--max-steps）",
}


def note(text: str, lang: str | None = None) -> str:
    """A note of the report in ``lang``; the English text where no translation fits."""
    if get_lang(lang) != "zh":
        return text
    for template, zh in NOTES_ZH.items():
        m = _template_regex(template).match(text)
        if m is not None:
            return zh.format(**m.groupdict())
    return text
