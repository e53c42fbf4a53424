"""The study's runs: which encoders are pretrained, which recognisers are fine-tuned, seeds.

A *method* is one pretraining config. Every method's student starts from random weights and
sees the same number of images (``Profile.pretrain_iters x Profile.pretrain_batch``), as in
the official LMIM code (``main_pretrain.py --teacher_weight`` loads only the teacher). The
methods with a teacher (LMIM, MNSP and their ablations) use the finished MAE run of the same
pretraining seed as their frozen teacher; its cost is the MAE row's, reported on its own.

A *row* of the report is a fine-tuning initialisation (``scratch`` or a method) and a
fine-tuning recipe; its runs are the (pretraining seed, fine-tuning seed) pairs it gets.
Stage names of seed 0 carry no suffix (``pretrain_mae``, ``finetune_mae``); other seeds add
``_seed<s>`` (pretraining) and ``_ft<f>`` (fine-tuning).
"""
from dataclasses import dataclass, replace
from typing import Any, Dict, List, Optional, Tuple

SCRATCH = 'scratch'


@dataclass(frozen=True)
class Method:
    """One pretraining method of the study.

    Args:
        label: its name in the report.
        config: the pretraining config (``configs/demo/...``).
        teacher: it needs the MAE run of its seed as frozen teacher
            (``model.target_generator.checkpoint``).
        group: ``'main'`` (the compared methods: seeds), ``'teacher-free'`` (pixel targets),
            ``'ablation'`` (one switch off), ``'recipe'``, ``'nsp_variant'``,
            ``'attention'``, ``'lever'`` (a speed switch) or ``'budget_val'`` (the study's
            budget curve at the searched lr; these five are read on the validation split or
            by label-free diagnostics only: no fine-tuning on the test sets).
        reference: the row it is compared with in the ablation table.
        budget: its images seen as a multiple of the common budget (1 for every compared
            method; the budget rows differ, and say so in their label).
        options: extra config overrides ``((key, value), ...)`` of its pretraining (a
            recipe row: lr, mask ratio, warm-up); part of the stage's identity.
        teacher_method: the METHODS key whose run of the same seed is the frozen teacher
            (``'mae'``; a longer MAE run for the papers' protocol of a converged teacher).
    """
    label: str
    config: str
    teacher: bool
    group: str
    reference: str
    budget: int = 1
    options: Tuple[Tuple[str, Any], ...] = ()
    teacher_method: str = 'mae'


def _ablation(name: str, label: str, reference: str, group: str = 'ablation',
              teacher: bool = True) -> Method:
    return Method(label, f'configs/demo/ablations/{name}.py', teacher, group, reference)


METHODS: Dict[str, Method] = {
    'mae': Method('MAE (MAERec)', 'configs/demo/mae_pretrain.py', False, 'main', 'mae'),
    'lmim': Method('LMIM', 'configs/demo/lmim_pretrain.py', True, 'main', 'mae'),
    'mnsp': Method('MNSP', 'configs/demo/mnsp_pretrain.py', True, 'main', 'mae'),
    'lmim_pixel': _ablation('lmim_pixel-target', 'LMIM, pixel target (no teacher)', 'lmim',
                            'teacher-free', teacher=False),
    'mnsp_pixel': _ablation('mnsp_pixel-target', 'MNSP, pixel target (no teacher)', 'mnsp',
                            'teacher-free', teacher=False),
    'lmim_no_guidance': _ablation('lmim_no-guidance', 'LMIM, no guidance view', 'lmim'),
    'lmim_no_alignment': _ablation('lmim_no-alignment', 'LMIM, no [cls] alignment', 'lmim'),
    'mnsp_nsp_only': _ablation('mnsp_nsp-only', 'MNSP, NSP only', 'mnsp'),
    'mnsp_mim_only': _ablation('mnsp_mim-only', 'MNSP, MIM only', 'mnsp'),
    'mnsp_nsp_mim': _ablation('mnsp_nsp-mim', 'MNSP, NSP + MIM (no MLA)', 'mnsp'),
    'mnsp_2_scales': _ablation('mnsp_2-scales', 'MNSP, 2 scales', 'mnsp'),
    # does a longer pretraining change the picture? (the teacher of every row stays 1x)
    'mae_4x': Method('MAE, 4x the images seen', 'configs/demo/mae_pretrain.py', False,
                     'ablation', 'mae', budget=4),
}
MAE_CONFIG = 'configs/demo/mae_pretrain.py'
_LR = 'optim_wrapper.optimizer.lr'
# The MAE pretraining recipe search (issue "Where pretraining pays", docs/study.md): the
# lr, read on the validation split by the reading probe (the demo's lr 1.5e-3 is the fourth
# trial; the mask ratio and warm-up were not searched: see docs/study.md).
METHODS.update({
    f'mae_lr{tag}': Method(f'MAE, lr {tag}', MAE_CONFIG, False, 'recipe', 'mae',
                           options=((_LR, lr), ))
    # 3.75e-5: the MAE paper's rule, 1.5e-4 x batch / 256 at the demo's batch of 64
    for tag, lr in (('3.75e-5', 3.75e-5), ('1.5e-4', 1.5e-4), ('5e-4', 5e-4))})
# The budget curve: MAE with 4x and 16x the images, and LMIM / MNSP taught by the longest
# run (the papers' protocol: a converged teacher, its cost reported apart).
METHODS['mae_16x'] = Method('MAE, 16x the images seen', MAE_CONFIG, False, 'budget', 'mae',
                            budget=16)
METHODS.update({
    'lmim_t16': Method('LMIM, teacher MAE 16x', 'configs/demo/lmim_pretrain.py', True,
                       'budget', 'lmim', teacher_method='mae_16x'),
    'mnsp_t16': Method('MNSP, teacher MAE 16x', 'configs/demo/mnsp_pretrain.py', True,
                       'budget', 'mnsp', teacher_method='mae_16x'),
})
# The study's recipe search and budget curve (`make study`, docs/study.md): every method gets
# the same two pretraining lr trials (the demo's 1.5e-3 and a tenth of it; docs/study.md
# section 10 chose the tenth for MAE on the validation split), and the budget curve runs at
# that lr: MAE at 1x, 4x and 16x the images, LMIM and MNSP taught by its 16x run at 1x and
# 4x (the papers' protocol: a converged teacher, its cost reported apart). Read on the
# validation split only (the reading probe and validation fine-tunes).
SLOW = '1.5e-4'
METHODS.update({
    f'{m}_lr{SLOW}': replace(METHODS[m], label=f'{METHODS[m].label}, lr {SLOW}', group='recipe',
                             options=((_LR, float(SLOW)), ))
    for m in ('lmim', 'mnsp')})
METHODS.update({
    f'mae_lr{SLOW}_{k}x': replace(METHODS[f'mae_lr{SLOW}'], label=f'MAE, lr {SLOW}, {k}x the '
                                  'images seen', group='budget_val', budget=k)
    for k in (4, 16)})
METHODS.update({
    f'{m}_lr{SLOW}{"_4x" if k > 1 else ""}_t16': replace(
        METHODS[f'{m}_lr{SLOW}'], group='budget_val', budget=k, teacher_method=f'mae_lr{SLOW}_16x',
        label=f'{METHODS[m].label}, lr {SLOW}' + (f', {k}x the images seen' if k > 1 else '')
        + f', teacher MAE lr {SLOW} 16x')
    for m in ('lmim', 'mnsp') for k in (1, 4)})
# The NSP design variants (issue #24, docs/mnsp.md "NSP design variants"): full MNSP with one
# switch of its NSP design changed; compared with MNSP and MNSP's MIM alone on the
# validation split only (the probe and validation fine-tunes: no test-split rows).
METHODS.update({
    f'mnsp_{key}': _ablation(f'mnsp_{name}', f'MNSP, {what}', 'mnsp', 'nsp_variant')
    for key, name, what in (
        ('mim_no_context', 'mim-no-context', 'MIM decoder without the coarse context'),
        ('nsp_residual', 'nsp-residual', 'NSP predicts the residual over the coarser scale'),
        ('nsp_mask_queries', 'nsp-mask-queries', 'NSP queries are mask tokens + positions'),
        ('nsp_ramp', 'nsp-ramp', 'NSP ramped in after MIM (weight 0 -> 1 over 50-75%)'),
        ('mla_stop_grad', 'mla-stop-grad', 'MLA with a stop-gradient on the full-scale [cls]'))})
# The attention claim (issue #24, docs/mnsp.md "The attention claim, measured"): NSP alone,
# MIM alone and full MNSP at 16x the images seen, the budget at which MAE's attention became
# local (0.50 of a uniform row's distance); the teacher stays MAE 1x, so only the budget
# differs from the demo-budget rows.
METHODS.update({
    f'{m}_16x': replace(METHODS[m], label=f'{METHODS[m].label}, 16x the images seen',
                        group='attention', budget=16)
    for m in ('mnsp_nsp_only', 'mnsp_mim_only', 'mnsp')})
# The speed levers (issue #23, docs/performance.md): MAE pretrained with the channels-last
# conv stem, and with it under bf16 autocast too; read on the validation split against MAE
# (does the faster step learn the same encoder?), no test-split rows.
CHANNELS_LAST = (('model.backbone.stem_channels_last', True), )
BF16 = (('optim_wrapper.type', 'BF16OptimWrapper'), )
METHODS.update({
    'mae_cl': replace(METHODS['mae'], label='MAE, channels-last stem', group='lever',
                      options=CHANNELS_LAST),
    'mae_cl_bf16': replace(METHODS['mae'], label='MAE, channels-last stem, bf16 autocast',
                           group='lever', options=CHANNELS_LAST + BF16)})
FINETUNE = 'configs/demo/finetune.py'


@dataclass(frozen=True)
class Recipe:
    """A fine-tuning recipe: an extra row, an initialisation fine-tuned another way.

    Args:
        description: what differs, as the report says it.
        config: the fine-tuning config.
        steps: multiple of ``Profile.finetune_iters``.
        labels: fine-tune on the first N labeled crops only (None: all of them).
        options: extra config overrides ``((key, value), ...)`` (lr, warm-up).
        reinit: encoder parts put back to their random initialisation before fine-tuning
            (:func:`mnsp_mm.analysis.reinit.part_keys` names).
        split: ``'test'`` (the eight test sets) or ``'val'`` (the validation split, for
            every choice made by looking at results).
    """
    description: str
    config: str = FINETUNE
    steps: int = 1
    labels: Optional[int] = None
    options: Tuple[Tuple[str, Any], ...] = ()
    reinit: Tuple[str, ...] = ()
    split: str = 'test'


_WARM = 'param_scheduler.0.end'
RECIPES = {
    'layer_decay': Recipe('fine-tuned with layer decay 0.75',
                          'configs/demo/finetune_layer-decay.py'),
    'long': Recipe('fine-tuned with 2x the steps', steps=2),
    # the label curve
    **{f'labels{n // 1000}k': Recipe(f'fine-tuned on {n:,} labels', labels=n) for n in (1000, 3000)},
    # validation split: the cause of the loss under fine-tuning, and the recipe for a
    # pretrained init (every recipe also runs from scratch: the same trials for both)
    'val': Recipe('validation split', split='val'),
    **{f'val_reinit_{part}': Recipe(f'validation split, {part} re-initialised', split='val',
                                    reinit=(part, ))
       for part in ('stem', 'stem_norms', 'norms', 'blocks')},
    **{f'val_lr{tag}': Recipe(f'validation split, lr {lr:g}', split='val',
                              options=((_LR, lr), ))
       for tag, lr in (('5e-4', 5e-4), ('6e-3', 6e-3))},
    # does the pretrained init only leave the blank plateau later (its CTC loss starts to
    # fall ~150 steps after scratch's and still falls at the end)? 3x the steps for both
    **{f'val_long{k}': Recipe(f'validation split, {k}x the steps', steps=k, split='val')
       for k in (3, 6)},
    # the stream-growth hypothesis: the pretrained blocks' writes scaled down (analysis/
    # reinit.py, writes*<a>); at a = 0.125 the stream RMS after each block is the random
    # encoder's within 15% (encoder_scales, docs/study.md), 0.25 is the dose between
    **{f'val_writes{a:g}': Recipe(f'validation split, block writes x{a:g}', split='val',
                                  reinit=(f'writes*{a:g}', )) for a in (0.125, 0.25)},
    # the same, at 3x the steps: the pretrained init with its stream put back to random
    # weights' RMS (a = 0.25 for the 4x and 16x encoders), where it leaves the plateau
    **{f'val_long3_writes{a:g}': Recipe(f'validation split, 3x the steps, block writes x{a:g}',
                                        steps=3, split='val', reinit=(f'writes*{a:g}', ))
       for a in (0.125, 0.25)},
    # the label curve on the validation split, at the common steps and at 3x (where a
    # pretrained init has left the plateau: docs/study.md)
    **{f'val_labels{n // 1000}k': Recipe(f'validation split, {n:,} labels', labels=n,
                                         split='val') for n in (1000, 3000)},
    **{f'val_long3_labels{n // 1000}k': Recipe(f'validation split, 3x the steps, {n:,} labels',
                                               steps=3, labels=n, split='val')
       for n in (1000, 3000)},
    # few labels, where the small-data SSL papers see their gains: the pretrained init with
    # its stream put back to random weights' RMS, at 3x the steps (scratch: val_long3_labels*)
    **{f'val_long3_labels{n // 1000}k_writes0.25': Recipe(
        f'validation split, 3x the steps, {n:,} labels, block writes x0.25', steps=3,
        labels=n, split='val', reinit=('writes*0.25', )) for n in (1000, 3000)},
    # the test sets, in the treatments the validation split chose (3x the steps, block writes
    # scaled back; scratch at 3x the steps: `long3`): MNSP's robustness claim per category
    # (issue #24) and the confirmation of the validation split's best row (issue #22), read
    # once, not tuned on
    'long3': Recipe('fine-tuned with 3x the steps', steps=3),
    # the speed levers on the fine-tune (the stem's switch, and bf16 autocast)
    'val_cl': Recipe('validation split, channels-last stem', split='val', options=CHANNELS_LAST),
    'val_cl_bf16': Recipe('validation split, channels-last stem, bf16 autocast', split='val',
                          options=CHANNELS_LAST + BF16),
    # (x0.125: MAE 1x's factor, for the encoders of the demo budget)
    **{f'long3_writes{a:g}': Recipe(f'fine-tuned with 3x the steps, block writes x{a:g}',
                                    steps=3, reinit=(f'writes*{a:g}', )) for a in (0.125, 0.25)},
}


@dataclass(frozen=True)
class PretrainRun:
    method: str
    seed: int = 0

    @property
    def stage(self) -> str:
        return f'pretrain_{self.method}' + (f'_seed{self.seed}' if self.seed else '')

    @property
    def teacher_stage(self) -> Optional[str]:
        """The stage of the frozen teacher (MAE of the same seed), or None."""
        method = METHODS[self.method]
        return PretrainRun(method.teacher_method, self.seed).stage if method.teacher else None


@dataclass(frozen=True)
class FinetuneRun:
    init: str               # 'scratch' or a METHODS key
    pretrain_seed: int = 0  # which pretraining run of ``init``
    seed: int = 0           # the fine-tuning seed
    recipe: str = ''        # '' (the common recipe) or a RECIPES key

    @property
    def row(self) -> str:
        """The report row it belongs to: ``init`` or ``init:recipe``."""
        return self.init + (f':{self.recipe}' if self.recipe else '')

    @property
    def stage(self) -> str:
        return (f'finetune_{self.init}' + (f'_{self.recipe}' if self.recipe else '')
                + (f'_seed{self.pretrain_seed}' if self.pretrain_seed else '')
                + (f'_ft{self.seed}' if self.seed else ''))

    @property
    def pretrain(self) -> Optional[PretrainRun]:
        return None if self.init == SCRATCH else PretrainRun(self.init, self.pretrain_seed)

    @property
    def recipe_spec(self) -> Recipe:
        return RECIPES[self.recipe] if self.recipe else Recipe('')

    @property
    def config(self) -> str:
        return self.recipe_spec.config

    def iters(self, finetune_iters: int) -> int:
        """Its fine-tuning steps, given the profile's."""
        return finetune_iters * self.recipe_spec.steps


def row_label(row: str) -> str:
    """Display name of a report row (``scratch``, a method, or ``method:recipe``)."""
    init, _, recipe = row.partition(':')
    label = 'scratch' if init == SCRATCH else METHODS[init].label
    return f'{label}, {RECIPES[recipe].description}' if recipe else label


def row_group(row: str) -> str:
    """``main`` for scratch and the main methods; the method's group otherwise."""
    init, _, recipe = row.partition(':')
    if recipe:
        return 'validation' if RECIPES[recipe].split == 'val' else 'ablation'
    return 'main' if init == SCRATCH else METHODS[init].group


# method groups chosen on the validation split: no fine-tuning run on the test sets
VALIDATION_ONLY = ('recipe', 'nsp_variant', 'attention', 'lever', 'budget_val')


def build_plan(methods: Tuple[str, ...], pretrain_seeds: int, finetune_seeds: int,
               recipes: Tuple[tuple, ...] = (), recipe_seeds: int = 1
               ) -> Tuple[List[PretrainRun], List[FinetuneRun]]:
    """Every pretraining and fine-tuning run of a profile, in the order they should start.

    The main methods get ``pretrain_seeds`` pretraining seeds; scratch and each main
    method's seed-0 encoder get ``finetune_seeds`` fine-tuning seeds, the encoders of the
    other pretraining seeds one. Teacher-free rows and ablations get one of each; the
    ``VALIDATION_ONLY`` groups (recipe search, NSP variants) one pretraining run and no
    test-split fine-tune. Recipes ``(init, recipe)`` are extra rows, ``recipe_seeds``
    fine-tuning seeds on the seed-0 encoder (or from scratch); ``(init, recipe, seeds)``
    gives one row its own number of seeds.

    Raises:
        ValueError: an unknown method or recipe, a method with a teacher but no ``mae``, or
            seed counts below 1, naming the profile field.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f'Profile.methods: unknown {unknown}; known {sorted(METHODS)}')
    rows = [(e[0], e[1], e[2] if len(e) == 3 else recipe_seeds) if len(e) in (2, 3) else None
            for e in recipes]
    bad = [e for e, row in zip(recipes, rows) if row is None or row[1] not in RECIPES or (
        row[0] != SCRATCH and row[0] not in methods) or row[2] < 1]
    if bad:
        raise ValueError(f'Profile.recipes: {bad} are not (init, recipe) or (init, recipe, '
                         f'seeds >= 1) with init scratch or one of Profile.methods and a recipe '
                         f'of {sorted(RECIPES)}')
    if pretrain_seeds < 1 or finetune_seeds < 1:
        raise ValueError(f'Profile.pretrain_seeds={pretrain_seeds} and finetune_seeds='
                         f'{finetune_seeds} must be at least 1')
    for m in methods:
        if METHODS[m].teacher and METHODS[m].teacher_method not in methods:
            raise ValueError(f'Profile.methods={methods}: {m} needs its teacher '
                             f'{METHODS[m].teacher_method}')
    seeds = {m: range(pretrain_seeds if METHODS[m].group == 'main' else 1) for m in methods}
    # the teachers first (the longest first), then the main rows, then the others
    teachers = {METHODS[m].teacher_method for m in methods if METHODS[m].teacher}
    order = sorted(methods, key=lambda m: (m not in teachers, -METHODS[m].budget * (
        m in teachers), METHODS[m].group != 'main'))
    pretrain = [PretrainRun(m, s) for s in range(pretrain_seeds) for m in order if s in seeds[m]]
    finetune = [FinetuneRun(SCRATCH, 0, f) for f in range(finetune_seeds)]
    for m in order:
        if METHODS[m].group in VALIDATION_ONLY:  # read by the probe (and recipes) only
            continue
        for s in seeds[m]:
            ft_seeds = finetune_seeds if s == 0 and METHODS[m].group == 'main' else 1
            finetune += [FinetuneRun(m, s, f) for f in range(ft_seeds)]
    finetune += [FinetuneRun(i, 0, f, r) for i, r, n in rows for f in range(n)]
    return pretrain, finetune
