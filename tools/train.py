"""Train with an mnsp_mm config: pretraining (mmpretrain scope) or fine-tuning (mmocr scope).

    python tools/train.py configs/maerec/mae_text-vit-s_8xb128-amp-coslr-20e_union14m-u.py
    python tools/train.py CONFIG --work-dir work_dirs/x --resume            # latest in work dir
    python tools/train.py CONFIG --resume work_dirs/x/iter_2000.pth
    bash tools/dist_train.sh CONFIG 8                                       # 8 GPUs (torchrun)
"""
import argparse

from mnsp_mm.apis import add_runner_args, build_runner, load_config, parse_runner_args


def parse_args():
    p = argparse.ArgumentParser(description='Train (pretrain or fine-tune) a model')
    p.add_argument('config', help='config file')
    p.add_argument('--resume', nargs='?', const='auto', default=None, metavar='CKPT',
                   help='resume: the latest checkpoint of the work dir, or the given one')
    p.add_argument('--amp', action='store_true', help='automatic mixed precision (GPU)')
    p.add_argument('--auto-scale-lr', action='store_true',
                   help='scale lr by total batch / auto_scale_lr.base_batch_size')
    add_runner_args(p)
    return parse_runner_args(p)


def main():
    args = parse_args()
    cfg = load_config(args.config, args.cfg_options, args.work_dir, args.launcher, args.amp,
                      args.resume, args.auto_scale_lr)
    build_runner(cfg).train()


if __name__ == '__main__':
    main()
