"""LMIM's guidance view on one core: CPU ms per crop per ``TextGuidanceAug`` preset and for
the official imgaug pipeline, and the dataloader workers per GPU that each implies."""
import math
import time

import cv2
import numpy as np
import torch

from ..datasets.guidance import PRESETS, TextGuidanceAug, resolve_preset
from ..datasets.guidance_reference import imgaug_pipeline
from ..synth import preset, render_sample


def bench_guidance(crops: int, gpu_step_s: float, gpu_batch: int, passes: int = 3) -> dict:
    """LMIM's guidance view on one core: ms per crop per preset, and the imgaug reference.

    Crops from the synthetic renderer (32x128) and the same crops at 64x256 (bicubic); each
    row is the best of ``passes`` passes over the crops (numpy / torch seeded per pass), in
    this process with one torch and one OpenCV thread, timed in process CPU time (what a
    dataloader worker on its own core spends; other processes on a shared machine do not
    count). ``workers_per_gpu`` = ``ceil(gpu_batch * s per crop / gpu_step_s)``: worker
    processes that keep one GPU fed.
    """
    small = [render_sample(i, preset('default')).image for i in range(crops)]
    sizes = {'32x128': small,
             '64x256': [cv2.resize(x, (256, 64), interpolation=cv2.INTER_CUBIC) for x in small]}
    runs = {name: (lambda t: lambda img: t(dict(img=img))['img'])(TextGuidanceAug(preset=name))
            for name in PRESETS}
    runs['official, imgaug (reference)'] = imgaug_pipeline(resolve_preset('official', {}))
    threads, cv_threads = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    rows = []
    try:
        for size, imgs in sizes.items():
            for name, run in runs.items():
                best = math.inf
                for k in range(passes):
                    np.random.seed(k)
                    torch.manual_seed(k)
                    start = time.process_time()
                    for img in imgs:
                        run(img)
                    best = min(best, (time.process_time() - start) / len(imgs))
                rows.append(dict(preset=name, size=size, ms_per_crop=1e3 * best,
                                 workers_per_gpu=math.ceil(gpu_batch * best / gpu_step_s)))
    finally:
        torch.set_num_threads(threads)
        cv2.setNumThreads(cv_threads)
    return dict(crops=crops, passes=passes, gpu_step_s=gpu_step_s, gpu_batch=gpu_batch,
                rows=rows)
