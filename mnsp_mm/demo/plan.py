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
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

SCRATCH = 'scratch'


@dataclass(frozen=True)
class Method:
    """One pretraining method of the study.

    Args:
        label: its name in the report.
        config: the pretraining config (``configs/demo/...``).
        teacher: it needs the MAE run of its seed as frozen teacher
            (``model.target_generator.checkpoint``).
        group: ``'main'`` (the compared methods: seeds), ``'teacher-free'`` (pixel targets)
            or ``'ablation'`` (one switch off).
        reference: the row it is compared with in the ablation table.
        budget: its images seen as a multiple of the common budget (1 for every compared
            method; the budget ablation alone differs, and says so in its label).
    """
    label: str
    config: str
    teacher: bool
    group: str
    reference: str
    budget: int = 1


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
# Fine-tuning recipes: every row uses configs/demo/finetune.py for Profile.finetune_iters;
# a recipe is an extra row (an initialisation fine-tuned another way): key -> (config,
# description, multiple of the fine-tuning steps).
FINETUNE = 'configs/demo/finetune.py'
RECIPES = {'layer_decay': ('configs/demo/finetune_layer-decay.py', 'layer decay 0.75', 1),
           'long': (FINETUNE, '2x the steps', 2)}


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
        return PretrainRun('mae', self.seed).stage if METHODS[self.method].teacher else None


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
    def config(self) -> str:
        return RECIPES[self.recipe][0] if self.recipe else FINETUNE

    def iters(self, finetune_iters: int) -> int:
        """Its fine-tuning steps, given the profile's."""
        return finetune_iters * (RECIPES[self.recipe][2] if self.recipe else 1)


def row_label(row: str) -> str:
    """Display name of a report row (``scratch``, a method, or ``method:recipe``)."""
    init, _, recipe = row.partition(':')
    label = 'scratch' if init == SCRATCH else METHODS[init].label
    return f'{label}, fine-tuned with {RECIPES[recipe][1]}' if recipe else label


def row_group(row: str) -> str:
    """``main`` for scratch and the main methods; the method's group otherwise."""
    init, _, recipe = row.partition(':')
    if recipe:
        return 'ablation'
    return 'main' if init == SCRATCH else METHODS[init].group


def build_plan(methods: Tuple[str, ...], pretrain_seeds: int, finetune_seeds: int,
               recipes: Tuple[Tuple[str, str], ...] = ()
               ) -> Tuple[List[PretrainRun], List[FinetuneRun]]:
    """Every pretraining and fine-tuning run of a profile, in the order they should start.

    The main methods get ``pretrain_seeds`` pretraining seeds; scratch and each main
    method's seed-0 encoder get ``finetune_seeds`` fine-tuning seeds, the encoders of the
    other pretraining seeds one. Teacher-free rows and ablations get one of each. Recipes
    ``(init, recipe)`` are extra rows, one run on the seed-0 encoder (or from scratch).

    Raises:
        ValueError: an unknown method or recipe, a method with a teacher but no ``mae``, or
            seed counts below 1, naming the profile field.
    """
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        raise ValueError(f'Profile.methods: unknown {unknown}; known {sorted(METHODS)}')
    if [r for i, r in recipes if r not in RECIPES or (i != SCRATCH and i not in methods)]:
        raise ValueError(f'Profile.recipes={list(recipes)}: (init, recipe) pairs with init '
                         f'scratch or one of Profile.methods and a recipe of {sorted(RECIPES)}')
    if pretrain_seeds < 1 or finetune_seeds < 1:
        raise ValueError(f'Profile.pretrain_seeds={pretrain_seeds} and finetune_seeds='
                         f'{finetune_seeds} must be at least 1')
    if 'mae' not in methods and any(METHODS[m].teacher for m in methods):
        raise ValueError(f'Profile.methods={methods}: a method with a teacher needs mae')
    seeds = {m: range(pretrain_seeds if METHODS[m].group == 'main' else 1) for m in methods}
    # MAE first (it is every teacher), then the runs that take longest
    order = sorted(methods, key=lambda m: (m != 'mae', METHODS[m].group != 'main'))
    pretrain = [PretrainRun(m, s) for s in range(pretrain_seeds) for m in order if s in seeds[m]]
    finetune = [FinetuneRun(SCRATCH, 0, f) for f in range(finetune_seeds)]
    for m in order:
        for s in seeds[m]:
            ft_seeds = finetune_seeds if s == 0 and METHODS[m].group == 'main' else 1
            finetune += [FinetuneRun(m, s, f) for f in range(ft_seeds)]
    finetune += [FinetuneRun(i, 0, 0, r) for i, r in recipes]
    return pretrain, finetune
