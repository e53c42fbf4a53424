"""Run a paper-scale pretraining config at tiny size (its switches kept) for one iteration."""
from mnsp_mm.apis import build_runner, load_config

TINY_ARCH = dict(embed_dims=96, num_layers=4, num_heads=3, feedforward_channels=384)
TINY_DECODER = dict(in_dims=96, embed_dims=64, depth=1, num_heads=2, ffn_dims=256)
TINY_RUNTIME = 'configs/maerec/mae_text-vit-tiny_1xb16-coslr-20iter_synth.py'


def run_one_iteration(config: str, teacher_ckpt: str, pool: str, work_dir: str):
    """Shrink the model of ``config`` and train it one iteration on the unlabeled ``pool``."""
    cfg = load_config(config, work_dir=str(work_dir))
    tiny = load_config(TINY_RUNTIME)
    model = cfg.model
    model.backbone.arch = TINY_ARCH
    teacher = model.target_generator
    for key in ('neck', 'nsp_neck'):
        if key in model:
            model[key].update(TINY_DECODER)
            if teacher.type == 'FrozenTeacher':
                model[key].out_dims = TINY_ARCH['embed_dims']
    if teacher.type == 'FrozenTeacher':
        teacher.backbone.arch = TINY_ARCH
        if teacher.get('checkpoint'):
            teacher.checkpoint = str(teacher_ckpt)
    for key in ('optim_wrapper', 'default_hooks', 'env_cfg', 'log_processor'):
        cfg[key] = tiny[key]
    cfg.param_scheduler = []
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=1)
    loader = cfg.train_dataloader
    loader.update(batch_size=4, num_workers=0, persistent_workers=False, pin_memory=False,
                  sampler=dict(type='InfiniteSampler', shuffle=True))
    loader.dataset.sources = [dict(type='lmdb', path=str(pool))]
    runner = build_runner(cfg)
    runner.train()
    return runner
