"""The guidance view's pixel ops: imgaug 0.4.0's augmenters redone with OpenCV / NumPy.

Each function applies one op, with its parameters already drawn, to one ``(H, W, 3)`` uint8
RGB image and returns a uint8 image (``rotate`` may return a larger one, as imgaug's
``fit_output=True``). :mod:`mnsp_mm.datasets.guidance` draws the parameters. Written here
because imgaug spends most of an image's time outside the pixel work (its per-call batch,
random-state and dtype machinery, and scikit-image's per-pixel triangle search in
``PiecewiseAffine``): the arithmetic below is imgaug's (same kernels, lookup tables,
matrices, border modes and rounding), tested against imgaug op by op in
``tests/test_guidance_aug.py``. Where imgaug calls OpenCV the result is identical; the
piecewise-affine warp (scikit-image there, ``cv2.remap`` here) agrees within a few grey levels
at edges (OpenCV's bilinear weights are quantised to 1/32 of a pixel).
"""
from functools import lru_cache
from typing import Optional, Tuple

import cv2
import numpy as np
from scipy.spatial import Delaunay

_CENTRE = 127  # imgaug's int(centre) of the uint8 range


def linear_contrast(img: np.ndarray, alpha: float) -> np.ndarray:
    """``iaa.LinearContrast``: ``127 + alpha * (v - 127)``, clipped and truncated to uint8."""
    table = _CENTRE + np.float32(alpha) * (np.arange(256, dtype=np.float32) - _CENTRE)
    return cv2.LUT(img, np.clip(table, 0, 255).astype(np.uint8))


def gaussian_blur(img: np.ndarray, sigma: float) -> np.ndarray:
    """``iaa.GaussianBlur``: OpenCV's kernel of imgaug's size, reflect-101 border."""
    if sigma <= 1e-3:  # imgaug's eps: no blur
        return img
    k = int(max(3.3 * sigma if sigma < 3 else 2.9 * sigma if sigma < 5 else 2.6 * sigma, 5))
    k += 1 - k % 2
    return cv2.GaussianBlur(img, (k, k), sigmaX=float(sigma), sigmaY=float(sigma),
                            borderType=cv2.BORDER_REFLECT_101)


def _resize_back(img: np.ndarray, h: int, w: int) -> np.ndarray:
    """``ia.imresize_single_image(img, (h, w))``: area when growing, else bilinear."""
    if img.shape[:2] == (h, w):
        return img
    grow = h > img.shape[0] or w > img.shape[1]
    return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA if grow else cv2.INTER_LINEAR)


def crop(img: np.ndarray, top: int, right: int, bottom: int, left: int) -> np.ndarray:
    """``iaa.Crop(px=..., keep_size=True)``: crop the sides (pixels), resize back to H x W.

    Like imgaug, a crop that would leave less than one row or column is reduced.
    """
    h, w = img.shape[:2]
    if h - top - bottom < 1:
        top, bottom = _regain(h, top, bottom)
    if w - left - right < 1:
        right, left = _regain(w, right, left)  # imgaug gives the odd pixel to the right
    return _resize_back(img[top:h - bottom, left:w - right], h, w)


def _regain(size: int, a: int, b: int) -> Tuple[int, int]:
    """imgaug's ``_crop_prevent_zero_size`` for one axis (``a`` top or right, ``b`` bottom or
    left): give back just enough of the crop to keep one pixel, ``a`` first."""
    regain = abs(size - a - b) + 1
    ra = rb = regain // 2
    ra += int(ra + rb < regain)
    if ra > a:
        rb, ra = rb + ra - a, a
    elif rb > b:
        ra, rb = ra + rb - b, b
    return a - ra, b - rb


def sharpen(img: np.ndarray, alpha: float, lightness: float) -> np.ndarray:
    """``iaa.Sharpen``: the 3x3 kernel ``(1 - alpha) * identity + alpha * [[-1]*3,
    [-1, 8 + lightness, -1], [-1]*3]``, OpenCV ``filter2D`` per channel."""
    kernel = np.full((3, 3), -1.0)
    kernel[1, 1] = 8 + float(lightness)
    identity = np.zeros((3, 3))
    identity[1, 1] = 1
    return cv2.filter2D(img, -1, (1 - float(alpha)) * identity + float(alpha) * kernel)


def rotate(img: np.ndarray, degrees: float, fit_output: bool = True) -> np.ndarray:
    """``iaa.Rotate(fit_output=...)``: about the image centre, bilinear, black border.

    With ``fit_output`` the canvas grows to hold the whole rotated image (imgaug's
    ``_compute_affine_warp_output_shape``), so the output is larger than the input.
    """
    h, w = img.shape[:2]
    cx, cy = w / 2.0 - 0.5, h / 2.0 - 0.5
    r = np.deg2rad(float(degrees))
    c, s = np.cos(r), np.sin(r)
    # translate the centre to the origin, rotate, translate back (imgaug's matrix chain)
    m = np.array([[c, -s, cx - c * cx + s * cy], [s, c, cy - s * cx - c * cy], [0, 0, 1]])
    out_h, out_w = h, w
    if fit_output:
        corners = np.array([[0, 0, 1], [0, h - 1, 1], [w - 1, h - 1, 1], [w - 1, 0, 1]]) @ m.T
        lo, hi = corners[:, :2].min(0), corners[:, :2].max(0)
        out_w, out_h = (int(v) for v in np.ceil(hi - lo + 1))
        m[:2, 2] -= lo
    if np.abs(np.eye(3) - m).mean() <= 1e-4:  # imgaug skips near-identity warps
        return img
    return cv2.warpAffine(img, m[:2], (out_w, out_h), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0))


def _grid(h: int, w: int, rows: int, cols: int) -> np.ndarray:
    """imgaug's control points: ``linspace(0, H, rows) x linspace(0, W, cols)`` as (x, y),
    row-major, (rows*cols, 2)."""
    xx, yy = np.meshgrid(np.linspace(0, w, cols), np.linspace(0, h, rows))
    return np.stack([xx.ravel(), yy.ravel()], 1)


@lru_cache(maxsize=256)
def _cell_diagonals(h: int, w: int, rows: int, cols: int) -> Optional[np.ndarray]:
    """(rows-1, cols-1) bool, True where a cell is split along its top-left/bottom-right
    diagonal, in scipy's Delaunay triangulation of the grid: the one scikit-image's
    ``PiecewiseAffineTransform`` (behind imgaug's ``PiecewiseAffine``) builds. A grid's cells
    are co-circular, so the diagonal is qhull's choice, taken as it is. ``None`` if some
    triangle is not half a cell (not seen for any grid imgaug draws; then
    :func:`_map_by_search` applies)."""
    r, c = np.divmod(Delaunay(_grid(h, w, rows, cols)).simplices, cols)
    i, j = r.min(1), c.min(1)
    if not (((r.max(1) - i) == 1).all() and ((c.max(1) - j) == 1).all()):
        return None
    has_tl = ((r == i[:, None]) & (c == j[:, None])).any(1)
    has_br = ((r == i[:, None] + 1) & (c == j[:, None] + 1)).any(1)
    diag = np.zeros((rows - 1, cols - 1), bool)
    diag[i, j] = has_tl & has_br  # both halves of a TL-BR split hold TL and BR
    return diag


def _map_by_cells(h: int, w: int, diag: np.ndarray, dest: np.ndarray) -> np.ndarray:
    """Each pixel's source (x, y), (H, W, 2), from the moved corners ``dest`` (rows, cols, 2).

    Written out because the grid is regular (the per-pixel triangle search scikit-image
    runs is most of imgaug's cost): in a cell with local coordinates (u, v) in [0, 1]^2, the
    piecewise-affine map over its two triangles is ``TL + u (TR - TL) + v (BL - TL) + c K``
    with ``K = TL - TR - BL + BR`` and ``c = min(u, v)`` for a TL-BR diagonal,
    ``max(u + v - 1, 0)`` for a TR-BL one (the barycentric interpolation, rearranged),
    computed block by block on each cell's pixels.
    """
    rows, cols = dest.shape[:2]
    fy = np.arange(h, dtype=np.float32) * np.float32((rows - 1) / h)
    fx = np.arange(w, dtype=np.float32) * np.float32((cols - 1) / w)
    i, j = np.minimum(fy.astype(np.int32), rows - 2), np.minimum(fx.astype(np.int32), cols - 2)
    v, u = (fy - i).astype(np.float32), (fx - j).astype(np.float32)
    ys, xs = np.searchsorted(i, np.arange(rows)), np.searchsorted(j, np.arange(cols))
    tl, tr, bl, br = dest[:-1, :-1], dest[:-1, 1:], dest[1:, :-1], dest[1:, 1:]
    eu, ev, k = tr - tl, bl - tl, tl - tr - bl + br
    out = np.empty((h, w, 2), np.float32)
    for a in range(rows - 1):
        vb = v[ys[a]:ys[a + 1], None, None]
        for b in range(cols - 1):
            ub = u[None, xs[b]:xs[b + 1], None]
            c = np.minimum(ub, vb) if diag[a, b] else np.maximum(ub + vb - 1, 0)
            out[ys[a]:ys[a + 1], xs[b]:xs[b + 1]] = (tl[a, b] + ub * eu[a, b] + vb * ev[a, b]
                                                     + c * k[a, b])
    return out


def _map_by_search(h: int, w: int, src: np.ndarray, dest: np.ndarray) -> np.ndarray:
    """The same map through scipy's triangle search, as scikit-image computes it."""
    tri = Delaunay(src)
    py, px = np.mgrid[0:h, 0:w]
    pts = np.stack([px.ravel(), py.ravel()], 1).astype(np.float64)
    simplex = tri.find_simplex(pts)
    t = tri.transform[simplex]  # (N, 3, 2): barycentric transform of each pixel's triangle
    b = np.einsum('nij,nj->ni', t[:, :2], pts - t[:, 2])
    weights = np.concatenate([b, 1 - b.sum(1, keepdims=True)], 1)
    mapped = np.einsum('nk,nkc->nc', weights, dest[tri.simplices[simplex]])
    return mapped.reshape(h, w, 2).astype(np.float32)


def piecewise_affine(img: np.ndarray, rows: int, cols: int, jitter: np.ndarray) -> np.ndarray:
    """``iaa.PiecewiseAffine``: move a ``rows x cols`` control grid, warp piecewise-affinely.

    Args:
        rows, cols: control points per axis, on ``linspace(0, H)`` x ``linspace(0, W)``.
        jitter: (rows*cols, 2) displacements as fractions of (H, W), (y, x) per point in
            row-major order (imgaug's ``absolute_scale=False``).

    The border replicates the edge pixels (the official ``mode='edge'``).
    """
    h, w = img.shape[:2]
    rows, cols = int(rows), int(cols)
    if not np.any(jitter > 0) or h <= 1 or w <= 1:  # imgaug returns the image unchanged
        return img
    src = _grid(h, w, rows, cols)
    dest = src + jitter[:, ::-1].astype(np.float64) * (w, h)
    dest = np.clip(dest, 0, (w - 1, h - 1))  # imgaug keeps the points inside the image
    diag = _cell_diagonals(h, w, rows, cols)
    maps = (_map_by_search(h, w, src, dest) if diag is None else
            _map_by_cells(h, w, diag, dest.astype(np.float32).reshape(rows, cols, 2)))
    return cv2.remap(img, maps, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _order_points(pts: np.ndarray) -> np.ndarray:
    """imgaug's corner order: top-left, top-right, bottom-right, bottom-left."""
    out = np.zeros((4, 2), np.float32)
    s, d = pts.sum(1), np.diff(pts, axis=1)
    out[0], out[2] = pts[np.argmin(s)], pts[np.argmax(s)]
    out[1], out[3] = pts[np.argmin(d)], pts[np.argmax(d)]
    return out


def _length(v: np.ndarray) -> float:
    return np.sqrt(v[0]**2 + v[1]**2)  # float32, as imgaug (an exact int() cut-off depends on it)


def _spread(pts: np.ndarray, axis: int) -> int:
    """imgaug's loop: move the quadrilateral's opposite sides apart along ``axis`` (in place)
    until its shorter edge across is >= 2 px; returns the longer edge's length as int."""
    tl, tr, br, bl = pts  # views into pts
    low, high = ((tl, bl), (tr, br)) if axis == 0 else ((tl, tr), (bl, br))
    while True:
        lengths = [_length(a - b) for a, b in zip(high, low)]  # top / bottom or right / left
        shortest = int(min(lengths))
        if shortest >= 2:
            return int(max(lengths))
        step = (2 - shortest) / 2
        for p in low:
            p[axis] -= step
        for p in high:
            p[axis] += step


def perspective(img: np.ndarray, jitter: np.ndarray) -> np.ndarray:
    """``iaa.PerspectiveTransform(keep_size=True)``: warp a jittered quadrilateral to a
    rectangle (black border, imgaug's default), then resize back to H x W.

    Args:
        jitter: (4, 2) normal draws; ``|jitter| mod 1`` moves each corner inwards, as
            fractions of (W, H) (imgaug's point construction).
    """
    h, w = img.shape[:2]
    pts = np.mod(np.abs(np.asarray(jitter, np.float32)), 1)
    pts[1, 0], pts[2, 0] = 1 - pts[1, 0], 1 - pts[2, 0]
    pts[2, 1], pts[3, 1] = 1 - pts[2, 1], 1 - pts[3, 1]
    pts = _order_points(pts * np.float32((w, h)))
    max_w, max_h = _spread(pts, 0), _spread(pts, 1)
    dst = np.float32([[0, 0], [max_w, 0], [max_w, max_h], [0, max_h]])
    m = cv2.getPerspectiveTransform(pts, dst)
    warped = cv2.warpPerspective(img, m, (max_w, max_h), borderMode=cv2.BORDER_CONSTANT,
                                 borderValue=(0, 0, 0))
    return _resize_back(warped, h, w)


def solarize(img: np.ndarray, threshold: float, above: bool) -> np.ndarray:
    """``iaa.Solarize`` / ``Invert`` with a threshold: ``255 - v`` for ``v >= int(threshold)``
    (``above``) or for ``v < int(threshold)`` (not ``above``)."""
    table = np.arange(256, dtype=np.uint8)
    t = int(threshold)
    if above:
        table[t:] = 255 - table[t:]
    else:
        table[:t] = 255 - table[:t]
    return cv2.LUT(img, table)


def grayscale(img: np.ndarray, alpha: float) -> np.ndarray:
    """``iaa.Grayscale``: blend the image with its OpenCV grey version by ``alpha``."""
    if alpha <= 1e-3:  # imgaug's eps
        return img
    gray = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_RGB2GRAY), cv2.COLOR_GRAY2RGB)
    if alpha >= 1 - 1e-3:
        return gray
    bg = img.astype(np.float32)
    return np.round(bg + np.float32(alpha) * (gray.astype(np.float32) - bg)).astype(np.uint8)
