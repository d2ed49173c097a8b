"""The summaries' templates: message id -> (English, Chinese).

The English template renders exactly the sentence the rule wrote before messages existed (the JSON
report's ``summary``); the Chinese one must use the same parameter names (tests/test_i18n.py checks
both, and that every id a rule uses is here). Ids are the code, or ``code.variant`` for a rule with
several sentences; fragments (parts of a sentence passed as parameters) are messages too.
"""
from __future__ import annotations

MESSAGES: dict[str, tuple[str, str | None]] = {
    # -- shared fragments ---------------------------------------------------------------------
    "activation-before": ("the activation before {layer}", "{layer} 之前的激活"),
    "resolved": ("(resolved by step {step}) {summary}", "（到第 {step} 步已解决）{summary}"),

    # -- non-finite ----------------------------------------------------------------------------
    "non-finite": ("NaN/Inf first appeared at step {step} {place}.", "NaN/Inf 首次出现在第 {step} 步，{place}。"),
    "non-finite.in-input": ("in the input batch", "位于输入批次中"),
    "non-finite.in-forward-of": ("in the forward pass of `{module}` ({type})", "位于 `{module}`（{type}）的前向传播中"),
    "non-finite.in-forward": ("in the forward pass", "位于前向传播中"),
    "non-finite.in-parameters-of": ("in the parameters of `{module}`", "位于 `{module}` 的参数中"),
    "non-finite.in-parameter": ("in a parameter", "位于某个参数中"),
    "non-finite.in-loss": ("in the loss computed from finite model outputs", "位于由有限的模型输出计算出的损失中"),
    "non-finite.in-backward-at": ("in the backward pass, first at `{module}`", "位于反向传播中，最先出现在 `{module}`"),
    "non-finite.in-backward": ("in the backward pass", "位于反向传播中"),
    "non-finite.in-update-of": ("in the optimizer update of `{module}`", "位于 `{module}` 的优化器更新中"),
    "non-finite.in-update": ("in the optimizer update", "位于优化器更新中"),
    "non-finite.in-unknown": ("", "位置未知"),
    "non-finite.amp-skips": ("GradScaler skips every step: the gradients are non-finite even with loss scale "
                            "{scale:.3g} ({skipped} of {steps} steps skipped).",
                            "GradScaler 跳过了每一步：即使损失缩放系数降到 {scale:.3g}，梯度仍为 NaN/Inf"
                            "（{steps} 步中跳过了 {skipped} 步）。"),

    # -- exploding-gradient --------------------------------------------------------------------
    "exploding-gradient.grew": ("Gradient norm grew {growth:.3g}x (from {base:.3g} to {peak:.3g}){then}.",
                                "梯度范数增长了 {growth:.3g} 倍（从 {base:.3g} 增至 {peak:.3g}）{then}。"),
    "exploding-gradient.burst": ("Gradient norm exploded {n} time to over 100x its running level (peak {peak:.3g}, "
                                 "first at step {first}){then}.",
                                 "梯度范数发生了 {n} 次爆炸，超过其近期水平的 100 倍（峰值 {peak:.3g}，"
                                 "出现在第 {first} 步）{then}。"),
    "exploding-gradient.bursts": ("Gradient norm exploded {n} times to over 100x its running level (peak {peak:.3g}, "
                                  "first at step {first}){then}.",
                                  "梯度范数发生了 {n} 次爆炸，超过其近期水平的 100 倍（峰值 {peak:.3g}，"
                                  "首次出现在第 {first} 步）{then}。"),
    "exploding-gradient.then-non-finite": (" and then became non-finite", "，随后变为 NaN/Inf"),
    "exploding-gradient.while-loss-flat": (" while the loss did not improve", "，而损失没有改善"),
    "exploding-gradient.and-loss-flat": (" and the loss did not improve", "，且损失没有改善"),

    # -- vanishing-gradient --------------------------------------------------------------------
    "vanishing-gradient": ("The relative gradient of {first} is {ratio:.2g}x that of {last}: it shrinks {decay:.1f} "
                           "orders of magnitude over {n} layers toward the input{acts}.",
                           "{first} 的相对梯度只有 {last} 的 {ratio:.2g} 倍：朝输入方向经过 {n} 层缩小了 "
                           "{decay:.1f} 个数量级{acts}。"),
    "vanishing-gradient.activations": (" (activations: {acts})", "（激活函数：{acts}）"),

    # -- dead-relu / saturated-activation / poor-initialization ----------------------------------
    "dead-relu": ("Dead ReLU units ({how}): {desc} never fire on the {examples} examples observed, so they get "
                  "no gradient.",
                  "死亡 ReLU 单元（{how}）：{desc} 在观察到的 {examples} 个样本上从未激活，因此得不到任何梯度。"),
    "dead-relu.at-init": ("already at initialization", "初始化时就已如此"),
    "dead-relu.since": ("since step {step}", "从第 {step} 步起"),
    "dead-relu.layer": ("{layer} {share:.0%} of {units}", "{layer} 的 {units} 个单元中有 {share:.0%}"),
    "saturated-activation": ("Saturated activations: {desc} of outputs sit in the flat tails, where the derivative "
                             "is ~0, so little gradient flows back through them.",
                             "激活函数饱和：{desc} 的输出落在平坦的饱和区，那里的导数约为 0，几乎没有梯度能反向传过它们。"),
    "saturated-activation.layer": ("{layer} {share:.0%}", "{layer} 有 {share:.0%}"),
    "poor-initialization.depth": ("At initialization the forward signal {way} through depth: the RMS entering {first} "
                                  "is {rms_first:.3g} and entering {last} {rms_last:.3g} ({decades:.1f} decades over "
                                  "{n} layers).",
                                  "初始化时前向信号随深度{way}：进入 {first} 的 RMS 为 {rms_first:.3g}，进入 {last} "
                                  "的为 {rms_last:.3g}（{n} 层间相差 {decades:.1f} 个数量级）。"),
    "poor-initialization.depth-varying": ("At initialization the part of the signal that varies with the input "
                                          "fades through depth: its RMS about the batch mean is {c_first:.3g} "
                                          "entering {first} and {c_last:.3g} entering {last} ({decades:.1f} decades "
                                          "over {n} layers), under weights {factor:.1f}x smaller than the {init} "
                                          "init asks for.",
                                          "初始化时随输入变化的那部分信号随深度逐层消失：其相对批均值的 RMS 在进入 "
                                          "{first} 时为 {c_first:.3g}，进入 {last} 时为 {c_last:.3g}（{n} 层间相差 "
                                          "{decades:.1f} 个数量级），而权重比 {init} 初始化所需的小 {factor:.1f} 倍。"),
    "poor-initialization.collapses": ("collapses", "逐层坍缩"),
    "poor-initialization.blows-up": ("blows up", "逐层爆炸"),
    "poor-initialization.weights": ("At initialization the weights of {layer} have std {std:.3g}, {factor:.1f}x the "
                                    "{init} std {rec:.3g} for the {act} that follows, which starts {sat:.0%} "
                                    "saturated.",
                                    "初始化时 {layer} 的权重标准差为 {std:.3g}，是其后 {act} 所需的 {init} 初始化标准差 "
                                    "{rec:.3g} 的 {factor:.1f} 倍，该 {act} 一开始就有 {sat:.0%} 处于饱和区。"),

    # -- optimizer-step-missing / gradient-not-zeroed --------------------------------------------
    "optimizer-step-missing.no-change": ("{optimizer}.step() is called but no parameter changes.",
                                         "{optimizer}.step() 被调用了，但没有任何参数发生变化。"),
    "optimizer-step-missing.no-change-lr0": ("{optimizer}.step() is called but no parameter changes (learning rate "
                                             "is 0).",
                                             "{optimizer}.step() 被调用了，但没有任何参数发生变化（学习率为 0）。"),
    "optimizer-step-missing.gradients-gone": ("{optimizer}.step() finds no gradient although backward() reaches its "
                                              "parameters: the gradients are reset between backward() and step() "
                                              "(zero_grad() in the wrong place?).",
                                              "反向传播能到达 {optimizer} 的参数，但 {optimizer}.step() 找不到任何梯度："
                                              "梯度在 backward() 与 step() 之间被清零了（zero_grad() 的位置放错了？）。"),
    "optimizer-step-missing.never": ("{backward} backward passes and not one optimizer step: the parameters never "
                                     "changed.",
                                     "{backward} 次反向传播，却没有一次优化器更新：参数从未改变。"),
    "optimizer-step-missing.never-reset": ("{backward} backward passes and not one optimizer step: the parameters "
                                           "never changed although gradients were reset {resets} times (zero_grad() "
                                           "is called, step() is not).",
                                           "{backward} 次反向传播，却没有一次优化器更新：梯度被清零了 {resets} 次，"
                                           "参数却从未改变（调用了 zero_grad()，却没有调用 step()）。"),
    "gradient-not-zeroed.never": ("Gradients of {optimizer} are never reset between optimizer steps (zero_grad() is "
                                  "missing or called on another object): each step applies the sum of all past "
                                  "gradients.",
                                  "{optimizer} 的梯度在两次优化器更新之间从未被清零（缺少 zero_grad()，或者对别的对象"
                                  "调用了它）：每一步应用的都是过去所有梯度之和。"),
    "gradient-not-zeroed.some": ("Gradients of {optimizer} were not reset in {missed} of {intervals} step intervals.",
                                 "在 {intervals} 个更新间隔中，有 {missed} 个间隔里 {optimizer} 的梯度没有被清零。"),
    "gradient-not-zeroed.manual": ("The parameters are updated by hand (no optimizer step), but their .grad is not "
                                   "reset between updates in {missed} of {intervals} update intervals: each update "
                                   "applies the sum of all past gradients (set p.grad = None after the update).",
                                   "参数由手写代码更新（没有优化器的 step），但在 {intervals} 个更新间隔中有 {missed} "
                                   "个没有清零 .grad：每次更新应用的都是过去所有梯度之和（更新后设 p.grad = None）。"),

    # -- broken-gradient-flow / parameter-not-optimized ------------------------------------------
    "list-and-more": ("{shown} and {more} more", "{shown} 等（另有 {more} 个）"),
    "broken-gradient-flow.no-history": ("The loss has no autograd history (it does not require grad): it was "
                                        "computed from values taken out of the graph (.item(), .numpy(), .detach(), "
                                        "torch.tensor(...)).",
                                        "损失没有自动求导历史（它不需要梯度）：它是由已脱离计算图的值算出来的"
                                        "（.item()、.numpy()、.detach()、torch.tensor(...)）。"),
    "broken-gradient-flow.no-grad-one": ("{modules} ran under torch.no_grad() although the optimizer trains it: no "
                                         "gradient reaches its parameters.",
                                         "{modules} 在 torch.no_grad() 下运行，而优化器要训练它：没有梯度能到达它的参数。"),
    "broken-gradient-flow.no-grad-many": ("{modules} ran under torch.no_grad() although the optimizer trains them: "
                                          "no gradient reaches their parameters.",
                                          "{modules} 在 torch.no_grad() 下运行，而优化器要训练它们：没有梯度能到达它们的参数。"),
    "broken-gradient-flow.downstream": ("; `{module}` receives an input with no autograd history",
                                        "；`{module}` 收到的输入没有自动求导历史"),
    "broken-gradient-flow.new-leaf": ("; the loss was built from a new leaf tensor (torch.tensor(..., "
                                      "requires_grad=True)?)",
                                      "；损失是由一个新建的叶子张量构成的（torch.tensor(..., requires_grad=True)？）"),
    "broken-gradient-flow.cut-one": ("The output of {modules} never reaches the loss: the graph is cut after it{how}.",
                                     "{modules} 的输出始终到达不了损失：计算图在它之后被切断了{how}。"),
    "broken-gradient-flow.cut-many": ("The output of {modules} never reaches the loss: the graph is cut after "
                                      "them{how}.",
                                      "{modules} 的输出始终到达不了损失：计算图在它们之后被切断了{how}。"),
    "broken-gradient-flow.unused-output-one": ("The output of {modules} is computed but reaches none of the {walks} "
                                               "losses analysed, so its parameters get no gradient (fine if that part "
                                               "of the loss is switched on later).",
                                               "{modules} 的输出被计算出来，但在分析的 {walks} 个损失中一个也没有用到它，"
                                               "因此它的参数得不到梯度（如果这部分损失稍后才启用，则没有问题）。"),
    "broken-gradient-flow.unused-output-many": ("The output of {modules} is computed but reaches none of the {walks} "
                                                "losses analysed, so their parameters get no gradient (fine if that "
                                                "part of the loss is switched on later).",
                                                "{modules} 的输出被计算出来，但在分析的 {walks} 个损失中一个也没有用到它们，"
                                                "因此它们的参数得不到梯度（如果这部分损失稍后才启用，则没有问题）。"),
    "parameter-not-optimized.stray": ("{params} (nn.Parameter of no module) receive gradients but are in no "
                                      "optimizer, and nothing updates them: they never learn.",
                                      "{params}（不属于任何模块的 nn.Parameter）得到梯度，但不在任何优化器中，也没有被手动更新："
                                      "它们永远学不到东西。"),
    "broken-gradient-flow.loose-cut": ("{tensors} (tensors of no module, {share:.0%} of what the optimizers train) "
                                       "require grad and are in an optimizer, but none of the {walks} backward passes "
                                       "analysed reached them: they get no gradient (is the graph cut before them, "
                                       "by .detach(), .numpy() or torch.tensor(...), or are they unused?).",
                                       "{tensors}（不属于任何模块的张量，占优化器所训练参数的 {share:.0%}）需要梯度且在优化器中，"
                                       "但分析的 {walks} 次反向传播都没有到达它们：它们得不到梯度（计算图是否在它们之后被 "
                                       ".detach()、.numpy() 或 torch.tensor(...) 切断，或者它们没有被使用？）。"),
    "broken-gradient-flow.unused-parameters": ("Parameters of {modules} get no gradient although the module's output "
                                               "reaches the loss (are they used in forward()?).",
                                               "{modules} 的输出能到达损失，但其参数得不到梯度（forward() 中用到它们了吗？）。"),
    "broken-gradient-flow.did-not-run-one": ("{modules} did not run in the {walks} backward passes analysed, so it got "
                                             "no gradient (fine for a conditional branch).",
                                             "在分析的 {walks} 次反向传播中 {modules} 没有运行，因此得不到梯度"
                                             "（如果是条件分支，则没有问题）。"),
    "broken-gradient-flow.did-not-run-many": ("{modules} did not run in the {walks} backward passes analysed, so they "
                                              "got no gradient (fine for a conditional branch).",
                                              "在分析的 {walks} 次反向传播中 {modules} 都没有运行，因此得不到梯度"
                                              "（如果是条件分支，则没有问题）。"),
    "parameter-not-optimized.joined-later": ("{modules} received gradients but were in no optimizer until a later "
                                             "training phase (after step {step}); freezing them explicitly until then "
                                             "saves compute.",
                                             "{modules} 收到了梯度，但直到之后的训练阶段（第 {step} 步之后）才加入优化器；"
                                             "在此之前显式冻结它们可以节省计算。"),
    "parameter-not-optimized.unregistered-one": ("{modules} is not registered in the model (kept in a plain Python "
                                                 "list/dict or as a plain tensor attribute), so model.parameters() and "
                                                 "the optimizer miss it: they get gradients but never learn.",
                                                 "{modules} 没有注册到模型中（放在普通的 Python 列表/字典里，或是普通张量属性），"
                                                 "因此 model.parameters() 和优化器都看不到它：参数有梯度，却永远学不到东西。"),
    "parameter-not-optimized.unregistered-many": ("{modules} are not registered in the model (kept in a plain Python "
                                                  "list/dict or as a plain tensor attribute), so model.parameters() and "
                                                  "the optimizer miss them: they get gradients but never learn.",
                                                  "{modules} 没有注册到模型中（放在普通的 Python 列表/字典里，或是普通张量属性），"
                                                  "因此 model.parameters() 和优化器都看不到它们：参数有梯度，却永远学不到东西。"),
    "parameter-not-optimized.none": ("No optimizer holds any parameter of the model, yet they receive gradients.",
                                     "没有任何优化器持有模型的参数，而这些参数却在接收梯度。"),
    "parameter-not-optimized.some": ("{modules} ({share:.0%} of the model's trainable parameters) receive gradients "
                                     "but are in no optimizer, so they never learn.",
                                     "{modules}（占模型可训练参数的 {share:.0%}）收到了梯度，但不在任何优化器中，"
                                     "因此永远学不到东西。"),
    "parameter-not-optimized.aux-train": ("{modules} (a module no optimizer holds, in train mode) receive gradients "
                                          "every step but never learn.",
                                          "{modules}（处于训练模式，但没有任何优化器持有）每一步都收到梯度，却从不学习。"),
    "parameter-not-optimized.aux-eval": ("{modules} (a model no optimizer trains, in eval mode) receive gradients that "
                                         "are never used: requires_grad_(False) would save compute.",
                                         "{modules}（处于 eval 模式，没有任何优化器训练它）收到的梯度从未被使用："
                                         "调用 requires_grad_(False) 可以节省计算。"),

    # -- unnormalized-input --------------------------------------------------------------------
    "unnormalized-input": ("Unnormalized input to {layer}: {reasons}.", "{layer} 的输入没有归一化：{reasons}。"),
    "unnormalized-input.scale": ("typical feature magnitude {typical:.3g} (unit scale is ~1)",
                                 "特征的典型幅值为 {typical:.3g}（单位尺度约为 1）"),
    "unnormalized-input.spread": ("feature scales (root mean squares) span {spread:.1f} decades ({low:.3g} to {high:.3g})",
                                  "各特征的尺度（均方根）跨越 {spread:.1f} 个数量级（从 {low:.3g} 到 {high:.3g}）"),

    # -- learning rate, batch size, memory -------------------------------------------------------
    "learning-rate-too-high": ("Learning rate too high for {optimizer} (lr={lr:g}): {what}{ratio}.",
                               "{optimizer} 的学习率过高（lr={lr:g}）：{what}{ratio}。"),
    "learning-rate-too-high.diverges": ("the loss diverges: its smoothed value fell to {best:.4g} and is now {end:.4g}",
                                        "损失发散：其平滑值曾降到 {best:.4g}，现在却是 {end:.4g}"),
    "learning-rate-too-high.oscillates": ("the loss oscillates without progress (median {start:.4g} at the start, "
                                          "{end:.4g} now, step-to-step noise {noise:.3g})",
                                          "损失来回震荡而没有进展（开始时中位数为 {start:.4g}，现在为 {end:.4g}，"
                                          "步间噪声 {noise:.3g}）"),
    "learning-rate-too-high.climbs": ("the loss climbs back: its median fell to {best:.4g} and is now {end:.4g} "
                                      "(the latest losses rank above the best ones, z = {z:.1f})",
                                      "损失回升：其中位数曾降到 {best:.4g}，现在为 {end:.4g}"
                                      "（最近的损失在秩上高于最好的那段，z = {z:.1f}）"),
    "learning-rate-too-high.jump": ("the first updates moved the weights by {ratio:.2g} of their norm and the loss "
                                    "jumped from {loss0:.4g} to {peak:.4g}",
                                    "最初几次更新就让权重改变了其范数的 {ratio:.2g}，损失从 {loss0:.4g} 跳到 {peak:.4g}"),
    "learning-rate-too-high.kills-units": ("ReLU units in {layers} that were alive at the start died from step "
                                           "{step} on, under updates this large",
                                           "{layers} 中开始时还活着的 ReLU 单元从第 {step} 步起在这么大的更新下死亡"),
    "learning-rate-too-high.update-ratio": ("; each update moves the weights by {ratio:.2g} of their norm (healthy "
                                            "~{healthy:g})",
                                            "；每次更新让权重改变其范数的 {ratio:.2g}（健康值约为 {healthy:g}）"),
    "learning-rate-too-low": ("Learning rate too low for {optimizer} (lr={lr:g}): {why}, and the loss went only from "
                              "{start:.4g} to {end:.4g} in {steps} steps.",
                              "{optimizer} 的学习率过低（lr={lr:g}）：{why}；{steps} 步内损失只从 {start:.4g} 降到 "
                              "{end:.4g}。"),
    "learning-rate-too-low.tiny-updates": ("each update moves the weights by {ratio:.2g} of their norm (healthy "
                                           "~{healthy:g})",
                                           "每次更新只让权重改变其范数的 {ratio:.2g}（健康值约为 {healthy:g}）"),
    "learning-rate-too-low.linear": ("the loss falls as fast in the second half of the run as in the first ({last:.3g} "
                                     "vs {first:.3g}): it is descending in a straight line and has not begun to level "
                                     "off",
                                     "损失在后半程下降得和前半程一样快（{last:.3g} 对 {first:.3g}）：它仍在直线下降，"
                                     "还没有开始趋于平缓"),
    "learning-rate-too-low.decayed": ("Learning rate decayed away for {optimizer}: the schedule brought the LR from "
                                      "{lr_max:g} to {lr:g} ({decades:.0f} decades) by step {since}, and it has "
                                      "stayed below {floor:g} of its maximum for {share:.0%} of the run while the "
                                      "loss went only from {start:.4g} to {end:.4g}: the run stopped learning "
                                      "before it converged (a scheduler stepped per batch instead of per epoch?).",
                                      "{optimizer} 的学习率被衰减殆尽：调度器在第 {since} 步前把学习率从 {lr_max:g} "
                                      "降到 {lr:g}（{decades:.0f} 个数量级），此后 {share:.0%} 的训练时间都低于其最大值的 "
                                      "{floor:g}，而损失只从 {start:.4g} 降到 {end:.4g}：训练在收敛之前就停止了学习"
                                      "（是否把按轮调用的调度器放在了每个批次里？）。"),
    "batch-size-too-small.batchnorm": ("BatchNorm over too few values: {layers} normalize each channel over {values} "
                                       "value(s) per batch, so the batch statistics are mostly noise (relative error "
                                       "of the variance > 50%).",
                                       "BatchNorm 归一化所用的数值太少：{layers} 在每个批次中对每个通道只用 {values} "
                                       "个数值做归一化，批次统计量基本是噪声（方差的相对误差 > 50%）。"),
    "batch-size-too-small.noise": ("Batch too small: the gradient noise scale is ~{noise_scale} examples against a "
                                   "batch of {batch}, so each step's gradient is mostly noise, and the loss has "
                                   "stopped improving at {loss:.4g} (step-to-step noise {noise:.3g}, start "
                                   "{start:.4g}).",
                                   "批大小过小：梯度噪声尺度约为 {noise_scale} 个样本，而批大小只有 {batch}，每一步的"
                                   "梯度主要是噪声；损失停在 {loss:.4g} 不再改善（步间噪声 {noise:.3g}，起始值 "
                                   "{start:.4g}）。"),
    "out-of-memory": ("Out of memory at step {step} with a batch of {batch}{allocation}{fit}",
                      "第 {step} 步内存不足，批大小为 {batch}{allocation}{fit}"),
    "out-of-memory.allocation": (" (a {mib:.0f} MiB allocation failed)", "（一次 {mib:.0f} MiB 的内存分配失败）"),
    "out-of-memory.fits": ("; a batch of {batch} should fit ({how}).", "；批大小为 {batch} 时应能放下（{how}）。"),
    "out-of-memory.end": (".", "。"),
    "out-of-memory.basis-completed": ("the largest batch that completed in this run", "本次运行中成功完成的最大批次"),
    "out-of-memory.basis-measured": ("measured: activations per example vs the memory free",
                                     "实测：每个样本的激活内存与可用内存之比"),
    "out-of-memory.basis-estimated": ("estimated: half the failing batch (no batch completed to measure)",
                                      "估计：失败批次的一半（没有成功完成的批次可供测量）"),

    # -- loss-mismatch ---------------------------------------------------------------------------
    "loss-mismatch": ("Loss mismatch at `{site}`: {what}.", "`{site}` 处的损失函数不匹配：{what}。"),
    "loss-mismatch.died": ("The run died in the loss: {what}.", "运行在计算损失时崩溃：{what}。"),
    "loss-mismatch.ce-one-unit": ("cross-entropy over a single output unit: softmax over one class is always 1, so the "
                                  "loss is always 0 and nothing is learned",
                                  "对单个输出单元做交叉熵：只有一个类别的 softmax 恒为 1，损失恒为 0，什么也学不到"),
    "loss-mismatch.ce-multi-hot": ("cross-entropy with multi-hot targets (several labels per example): softmax makes "
                                   "the labels compete; multi-label needs one sigmoid per label",
                                   "交叉熵配上多热目标（每个样本有多个标签）：softmax 让各标签互相竞争；"
                                   "多标签任务需要每个标签一个独立的 sigmoid"),
    "loss-mismatch.ce-float-targets": ("cross-entropy with float targets that are not class probabilities (rows do "
                                       "not sum to 1): regression targets need a regression loss",
                                       "交叉熵配上不是类别概率的浮点目标（每行之和不为 1）：回归目标需要回归损失"),
    "loss-mismatch.output-of": ("the output of a {fn}", "{fn} 的输出"),
    "loss-mismatch.probabilities": ("probabilities (rows sum to 1)", "概率（每行之和为 1）"),
    "loss-mismatch.ce-on-probabilities": ("CrossEntropyLoss is given {how}, but it applies log_softmax itself: the "
                                          "softmax is applied twice, which squashes the logits and the gradients",
                                          "CrossEntropyLoss 接收的是 {how}，但它自己会做 log_softmax：softmax 被应用了两次，"
                                          "logits 和梯度都被压扁了"),
    "loss-mismatch.nll-one-unit": ("NLL over a single output unit: the loss cannot teach anything",
                                   "对单个输出单元做 NLL：这个损失学不到任何东西"),
    "loss-mismatch.nll-on-probabilities": ("NLLLoss is given probabilities, not log-probabilities: it then minimizes "
                                           "-p (bounded, with tiny gradients)",
                                           "NLLLoss 接收的是概率而不是对数概率：它实际在最小化 -p（有界，梯度极小）"),
    "loss-mismatch.a-leaf": ("a leaf", "叶子张量"),
    "loss-mismatch.nll-on-scores": ("NLLLoss is given raw scores (produced by {producer}, max {max:.3g} > 0): NLL "
                                    "expects log-probabilities, so the loss is unbounded below and the scores grow "
                                    "without limit",
                                    "NLLLoss 接收的是原始分数（由 {producer} 产生，最大值 {max:.3g} > 0）：NLL 需要"
                                    "对数概率，因此损失没有下界，分数会无限增长"),
    "loss-mismatch.softmax-one-unit": ("a softmax over a single output unit is always 1 (its log always 0): the "
                                       "prediction is constant and its gradient is zero",
                                       "对单个输出单元做 softmax 恒为 1（其对数恒为 0）：预测是常数，梯度为零"),
    "loss-mismatch.bce-targets": ("binary cross-entropy with targets outside [0, 1] ({low:.3g} to {high:.3g}): class "
                                  "indices need CrossEntropyLoss",
                                  "二元交叉熵的目标超出 [0, 1]（从 {low:.3g} 到 {high:.3g}）：类别索引需要 CrossEntropyLoss"),
    "loss-mismatch.bce-not-sigmoid": ("BCELoss is given values produced by {producer}, not by a sigmoid: use "
                                      "BCEWithLogitsLoss on the raw outputs (clamping kills the gradient outside "
                                      "[0, 1])",
                                      "BCELoss 接收的值由 {producer} 产生，而不是 sigmoid：请对原始输出使用 "
                                      "BCEWithLogitsLoss（截断会让 [0, 1] 之外的梯度为零）"),
    "loss-mismatch.bce-logits-on-probabilities": ("BCEWithLogitsLoss is given the output of a {fn}: it applies a "
                                                  "sigmoid itself, so the sigmoid is applied twice and predictions are "
                                                  "confined to [0.5, 0.73]",
                                                  "BCEWithLogitsLoss 接收的是 {fn} 的输出：它自己会做 sigmoid，"
                                                  "于是 sigmoid 被应用了两次，预测被限制在 [0.5, 0.73] 之内"),
    "loss-mismatch.bce-logits-targets": ("BCEWithLogitsLoss with targets outside [0, 1] ({low:.3g} to {high:.3g}): "
                                         "class indices need CrossEntropyLoss",
                                         "BCEWithLogitsLoss 的目标超出 [0, 1]（从 {low:.3g} 到 {high:.3g}）："
                                         "类别索引需要 CrossEntropyLoss"),
    "loss-mismatch.kl-input": ("kl_div's input must be log-probabilities (log_softmax), not probabilities or raw "
                               "scores",
                               "kl_div 的输入必须是对数概率（log_softmax），而不是概率或原始分数"),
    "loss-mismatch.regression-one-hot": ("a regression loss ({fn}) on one-hot class targets: single-label "
                                         "classification calls for CrossEntropyLoss on logits",
                                         "对独热类别目标使用回归损失（{fn}）：单标签分类应对 logits 使用 CrossEntropyLoss"),
    "loss-mismatch.regression-binary": ("a regression loss ({fn}) on binary 0/1 labels: binary classification calls "
                                        "for BCEWithLogitsLoss on a logit",
                                        "对 0/1 二值标签使用回归损失（{fn}）：二分类应对 logit 使用 BCEWithLogitsLoss"),
    "loss-mismatch.regression-indices": ("a regression loss ({fn}) on what look like class indices 0..{last}: "
                                         "predicting a class as a number imposes an order and distances between "
                                         "classes; use CrossEntropyLoss with one logit per class",
                                         "对看起来是类别索引（0..{last}）的目标使用回归损失（{fn}）：把类别当作数值来预测，"
                                         "会在类别之间强加顺序和距离；请使用每类一个 logit 的 CrossEntropyLoss"),
    "loss-mismatch.index-out-of-bounds": ("a class index in the targets is >= the number of output units (or "
                                          "negative): labels and the output layer disagree on the number of classes",
                                          "目标中的类别索引 >= 输出单元数（或为负）：标签与输出层对类别数的理解不一致"),
    "loss-mismatch.bce-out-of-range": ("binary_cross_entropy was given values outside [0, 1] (raw scores): use "
                                       "BCEWithLogitsLoss",
                                       "binary_cross_entropy 接收到了 [0, 1] 之外的值（原始分数）：请使用 BCEWithLogitsLoss"),

    # -- target-shape-mismatch -------------------------------------------------------------------
    "target-shape-mismatch": ("Shape mismatch in {fn} at `{site}`: {what}.", "`{site}` 处 {fn} 的形状不匹配：{what}。"),
    "target-shape-mismatch.broadcast": ("prediction {pred} and target {target} broadcast to {shape}: every prediction "
                                        "is compared with every target",
                                        "预测 {pred} 与目标 {target} 被广播成 {shape}：每个预测都与每个目标作比较"),
    "target-shape-mismatch.target-repeated": ("target {target} is broadcast over the prediction {pred}: one target "
                                              "value is repeated over several outputs",
                                              "目标 {target} 被广播到预测 {pred} 上：同一个目标值被重复用于多个输出"),
    "target-shape-mismatch.graph": ("Shape mismatch in the loss at `{site}`: the prediction {pred} is combined ({op}) "
                                    "with a target of another shape into {shape}, so every prediction is compared "
                                    "with every target.",
                                    "`{site}` 处损失中的形状不匹配：预测 {pred} 与另一形状的目标经 {op} 运算合成了 "
                                    "{shape}，于是每个预测都与每个目标作比较。"),
    "target-shape-mismatch.died": ("The run died in the loss: prediction and target shapes differ.",
                                   "运行在计算损失时崩溃：预测与目标的形状不同。"),

    # -- overfitting / train-mode-off / loss-not-decreasing --------------------------------------
    "overfitting": ("Overfitting: the validation loss ({label}) was lowest at step {step} ({best:.4g}) and is now "
                    "{now:.4g} (+{rise:.0%}), while the training loss fell from {train_then:.4g} to {train_now:.4g}.",
                    "过拟合：验证损失（{label}）在第 {step} 步最低（{best:.4g}），现在为 {now:.4g}（+{rise:.0%}），"
                    "而训练损失从 {train_then:.4g} 降到了 {train_now:.4g}。"),
    "train-mode-off.whole-run": ("The model has been in eval mode for the whole run: {modules} behave as at inference "
                                 "(dropout off, BatchNorm on running statistics).",
                                 "模型在整个运行期间都处于 eval 模式：{modules} 的行为和推理时一样"
                                 "（Dropout 关闭，BatchNorm 使用运行统计量）。"),
    "train-mode-off.since": ("The model trains in eval mode since about step {step} (model.eval() without "
                             "model.train() after it): {modules} behave as at inference (dropout off, BatchNorm on "
                             "running statistics).",
                             "大约从第 {step} 步起，模型在 eval 模式下训练（调用了 model.eval() 之后没有再调用 "
                             "model.train()）：{modules} 的行为和推理时一样（Dropout 关闭，BatchNorm 使用运行统计量）。"),
    "loss-not-decreasing.prior": ("The loss is no better than predicting the targets' frequencies: {fn} went from "
                                  "{start:.4g} to {end:.4g} in {steps} steps, and a constant prediction of the "
                                  "label frequencies (the mean target) scores {null:.4g}: the model has learned at most "
                                  "the prior, nothing from the inputs (labels out of line with the inputs, or inputs "
                                  "it cannot use?).",
                                  "损失并不比按目标频率做预测更好：{fn} 在 {steps} 步内从 {start:.4g} 降到 {end:.4g}，"
                                  "而按标签频率（目标均值）给出常数预测的损失是 {null:.4g}：模型至多学到了先验，"
                                  "没有从输入中学到任何东西（标签与输入是否对不上，或者输入无法被模型利用？）。"),
    "loss-not-decreasing.uphill": ("The loss is not decreasing because the optimizer climbs it: {start:.4g} at the "
                                   "start, {end:.4g} after {steps} steps ({change:+.1%}), and {up} of {m} sampled "
                                   "updates point along the gradient instead of against it (a hand-written optimizer "
                                   "or update with its sign turned over: p += lr * p.grad).",
                                   "损失不下降，因为优化器在沿梯度方向爬升：开始时为 {start:.4g}，{steps} 步后为 "
                                   "{end:.4g}（{change:+.1%}），抽样的 {m} 次更新中有 {up} 次与梯度同向而不是反向"
                                   "（手写的优化器或更新把符号写反了：p += lr * p.grad）。"),
    "loss-not-decreasing.moving": ("The loss rose from {start:.4g} to {end:.4g} in {steps} steps ({change:+.1%}) "
                                   "while {down} of {m} sampled updates went downhill on their own batch: a loss "
                                   "that rises anyway measures something that changes during the run (value targets "
                                   "that grow with the returns in reinforcement learning, a loss weight annealed up, "
                                   "a curriculum), or steps that overshoot (see learning-rate-too-high).",
                                   "损失在 {steps} 步内从 {start:.4g} 升到 {end:.4g}（{change:+.1%}），而抽样的 {m} "
                                   "次更新中有 {down} 次在各自的批次上是下降方向：损失仍然上升，说明它所衡量的东西"
                                   "在训练中变化（强化学习中随回报增长的价值目标、逐渐加大的损失权重、课程学习），"
                                   "或者步长过大越过了极小值（见 learning-rate-too-high）。"),
    "loss-not-decreasing": ("The loss is not decreasing: {start:.4g} at the start, {end:.4g} after {steps} steps "
                            "({change:+.1%}), with no specific cause found.",
                            "损失不下降：开始时为 {start:.4g}，{steps} 步后为 {end:.4g}（{change:+.1%}），"
                            "且没有找到具体原因。"),
}
