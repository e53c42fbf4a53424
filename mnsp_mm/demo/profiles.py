"""The demo's profiles (sizes and budgets), what its crops say, its test sets and configs."""
from dataclasses import dataclass
from pathlib import Path
from typing import List

REPO = Path(__file__).resolve().parents[2]  # the checkout: configs/ and tools/ live there


@dataclass(frozen=True)
class Profile:
    """Sizes and budgets of one demo profile (crops, iterations, batch sizes)."""
    pool: int              # unlabeled crops for pretraining
    train: int             # labeled crops for fine-tuning (the low-label regime)
    test: int              # crops per test set
    pretrain_batch: int
    mae_iters: int
    lmim_iters: int
    mnsp_iters: int
    finetune_batch: int
    finetune_iters: int
    attention_images: int  # crops drawn and measured per encoder


PROFILES = {
    'quick': Profile(pool=512, train=256, test=32, pretrain_batch=32,
                     mae_iters=20, lmim_iters=6, mnsp_iters=6, finetune_batch=32,
                     finetune_iters=20, attention_images=4),
    # 30,000 labels: on a validation split of its own (OOV words, seed 777) the CTC recogniser
    # from scratch read 64% of regular crops after 1,400 steps (README, "The demo")
    'default': Profile(pool=10000, train=30000, test=300, pretrain_batch=64,
                       mae_iters=1000, lmim_iters=200, mnsp_iters=200, finetune_batch=32,
                       finetune_iters=1400, attention_images=16),
}
# What the crops say (mnsp_mm/synth/text.py): words of the training vocabulary (wordfreq's
# most frequent English words; a tenth is held out), random letter/digit strings and numbers
# of 2-10 characters, drawn in mixed case; labels are lower case (36 classes, the alphabet
# benchmarks score on). Thousands of distinct labels: a recogniser has to read, it cannot
# recall a word list.
TEXT = dict(text_kinds='word=0.7,alnum=0.15,digits=0.15', min_len=2, max_len=10,
            fold_labels=True, vocab='train')
# Test crops: out of vocabulary (held-out words, random strings, numbers; the headline) and
# an in-vocabulary share of training-vocabulary words (``train_word``), scored apart.
TEST_TEXT = dict(TEXT, text_kinds='word=0.45,alnum=0.15,digits=0.1,train_word=0.3',
                 vocab='test')
LONG_TEXT = dict(TEST_TEXT, text_kinds='compound=0.55,alnum=0.15,train_word=0.3', min_len=11,
                 max_len=16)
POOL_PRESET = 'default'   # the unlabeled pool mixes every distortion
TRAIN_PRESET = 'default'  # so does the labeled set; both use the training fonts only
# Test-set name -> (renderer preset, draw with every training font instead of the preset's
# few), in table order. held_out_fonts uses fonts that no training or pretraining crop uses.
TEST_SETS = {name: (name, name not in ('unusual_fonts', 'held_out_fonts'))
             for name in ('regular', 'curved', 'rotated', 'perspective', 'low_res',
                          'long_words', 'unusual_fonts', 'held_out_fonts')}
PRETRAIN = ('mae', 'lmim', 'mnsp')
INITS = ('scratch', ) + PRETRAIN
LABELS = {'scratch': 'scratch', 'mae': 'MAE (MAERec)', 'lmim': 'LMIM', 'mnsp': 'MNSP'}
CONFIGS = {'mae': 'configs/demo/mae_pretrain.py', 'lmim': 'configs/demo/lmim_pretrain.py',
           'mnsp': 'configs/demo/mnsp_pretrain.py', 'finetune': 'configs/demo/finetune.py',
           'finetune_pretrained': 'configs/demo/finetune_pretrained.py'}
ATTENTION_SCALES = ('8x32', '16x64', '32x128')


def finetune_config(init: str) -> str:
    """Key in CONFIGS of the fine-tuning config: layer-wise lr decay for pretrained encoders."""
    return 'finetune' if init == 'scratch' else 'finetune_pretrained'


def warmup_cosine(iters: int) -> List[dict]:
    """Linear warm-up over the first 10% of ``iters``, then cosine decay to 1e-5 x lr."""
    warm = max(1, iters // 10)
    return [dict(type='LinearLR', start_factor=0.1, by_epoch=False, begin=0, end=warm),
            dict(type='CosineAnnealingLR', T_max=max(1, iters - warm), eta_min_ratio=1e-2,
                 by_epoch=False, begin=warm, end=iters)]


def run_options(iters: int, seed: int) -> dict:
    """Config overrides every training stage shares: budget, schedule, checkpoints, seed."""
    return {'train_cfg.max_iters': iters,
            'param_scheduler': warmup_cosine(iters),
            # a checkpoint every quarter: an interrupted stage loses at most a quarter
            'default_hooks.checkpoint.interval': max(1, iters // 4),
            'default_hooks.checkpoint.max_keep_ckpts': 1,
            'default_hooks.logger.interval': max(1, iters // 20),
            'randomness.seed': seed}
