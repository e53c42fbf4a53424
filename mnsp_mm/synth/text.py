"""What the synthetic crops say: the character set, the vocabulary and its split, text kinds.

The vocabulary is the most frequent English words of ``wordfreq`` (its ``best`` list: web,
subtitles, news, books and Wikipedia), kept when they are plain ASCII letters of 2 or more.
A frequency-ranked list is what scene text looks like (common words), it is large (tens of
thousands of words, so a recogniser cannot learn the vocabulary by heart) and it is pinned
with the package version, so the word list is the same on every machine.

Every word belongs to one **split** for good: ``test`` when its SHA-1 hash falls in the first
:data:`TEST_PERCENT` percent, else ``train``. The split depends on the word alone, not on the
list's order or length, so test words can never become training labels. Training and
pretraining crops draw from ``train``, the out-of-vocabulary test crops from ``test``.
"""
import functools
import hashlib
import re
from typing import Callable, Dict, Mapping, Optional, Tuple

import numpy as np

# MMOCR's dicts/english_digits_symbols.txt, in its order (it has no space, ^, {, | or }).
CHARSET = ('0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'
           '!"#$%&\'()*+,-./:;<=>?@[\\]_`~')
ALNUM = CHARSET[:62]
LOWER_ALNUM = CHARSET[:36]  # MMOCR's dicts/lower_english_digits.txt

VOCAB_SOURCE_SIZE = 60000  # most frequent wordfreq entries looked at
TEST_PERCENT = 10          # share of the vocabulary held out for the test sets
VOCAB_SPLITS = ('train', 'test', 'all')
_WORD_RE = re.compile('[a-z]{2,}')

_CONTRACTIONS = ("it's", "don't", "can't", "i'm", "we're", "you'll", "won't", "isn't",
                 "let's", "o'clock", "that's", "they've", "she'd", "rock'n'roll")

# Each template is filled by _symbol_word with the keys below (w/v words, W/V capitalised).
_SYMBOL_TEMPLATES = (
    "{c}", "{w}'s", "${i}.{cents:02d}", "{i}%", "#{d}", "{w}-{v}", "{h}:{cents:02d}",
    "{d}/{m}/{y}", "{w}@{v}.com", "www.{w}.{tld}", "({w})", "{w}{p}", '"{W}"', "{W}&{V}",
    "{i}+{d}={j}", "{k3}-{k4}", "{w}_{v}", "[{w}]", "<{W}>", "*{w}*", "~{w}", "@{w}",
    "{W}\\{V}", "`{w}`", "{w}/{v}", "{i}x{d}", "{w}.{tld}", "{d},{k3}", "No.{d}", "{W}?!",
    "{w};", "e-{w}", "{i}.{d}kg", "-{i}", "{d}'{m}\"",
)
_TLDS = ('com', 'org', 'net', 'io', 'uk', 'de')
_TEXT_TRIES = 20


def word_split(word: str) -> str:
    """``'test'`` or ``'train'``: the split of ``word``, from its SHA-1 hash alone."""
    bucket = int(hashlib.sha1(word.lower().encode('utf-8')).hexdigest()[:8], 16) % 100
    return 'test' if bucket < TEST_PERCENT else 'train'


@functools.lru_cache(maxsize=None)
def _source_words() -> Tuple[str, ...]:
    try:
        from wordfreq import top_n_list  # deferred: loads its frequency tables (~0.5 s)
    except ImportError as err:
        raise ImportError('the synthetic renderer needs the word list of the `wordfreq` '
                          'package (requirements/runtime.txt): pip install wordfreq') from err
    seen, words = set(), []
    for word in top_n_list('en', VOCAB_SOURCE_SIZE, wordlist='best'):
        if _WORD_RE.fullmatch(word) and word not in seen:
            seen.add(word)
            words.append(word)
    return tuple(words)


@functools.lru_cache(maxsize=None)
def vocabulary(split: str = 'train') -> Tuple[str, ...]:
    """The lower-case words of ``split`` (``train``, ``test`` or ``all``), most frequent first.

    Raises:
        ValueError: naming an unknown split.
    """
    if split not in VOCAB_SPLITS:
        raise ValueError(f'vocab split {split!r} is not one of {VOCAB_SPLITS}')
    words = _source_words()
    return words if split == 'all' else tuple(w for w in words if word_split(w) == split)


# ----------------------------------------------------------------------------- text kinds

def pick(rng: np.random.Generator, weights: Mapping[str, float]) -> str:
    """A key of ``weights`` drawn with probability proportional to its weight."""
    keys = list(weights)
    p = np.array([weights[k] for k in keys], np.float64)
    return keys[rng.choice(len(keys), p=p / p.sum())]


def _word(rng: np.random.Generator, cfg, split: Optional[str] = None) -> str:
    words = vocabulary(split or cfg.vocab)
    return words[rng.integers(len(words))]


def _random_case(rng: np.random.Generator, text: str) -> str:
    style = rng.choice(4, p=[0.45, 0.3, 0.2, 0.05])
    if style == 3:
        flips = rng.random(len(text)) < 0.5
        return ''.join(c.upper() if f else c for c, f in zip(text, flips))
    return (text, text.capitalize(), text.upper())[style]


def _dictionary_word(rng: np.random.Generator, cfg) -> str:
    return _random_case(rng, _word(rng, cfg))


def _train_word(rng: np.random.Generator, cfg) -> str:
    return _random_case(rng, _word(rng, cfg, 'train'))


def _digits(rng: np.random.Generator, cfg) -> str:
    return ''.join(map(str, rng.integers(0, 10, rng.integers(1, 9))))


def _symbol_word(rng: np.random.Generator, cfg) -> str:
    ints = rng.integers([1, 1, 0, 1, 1, 1990, 0, 100, 1000], [1000, 32, 100, 13, 1000, 2031,
                                                               24, 1000, 10000])
    values = dict(zip(('i', 'd', 'cents', 'm', 'j', 'y', 'h', 'k3', 'k4'), ints.tolist()))
    w, v = _word(rng, cfg), _word(rng, cfg)
    values.update(w=w, v=v, W=w.capitalize(), V=v.capitalize(),
                  c=_CONTRACTIONS[rng.integers(len(_CONTRACTIONS))],
                  p='.,!?:;'[rng.integers(6)], tld=_TLDS[rng.integers(len(_TLDS))])
    return _SYMBOL_TEMPLATES[rng.integers(len(_SYMBOL_TEMPLATES))].format(**values)


def _compound(rng: np.random.Generator, cfg) -> str:
    target = rng.integers(cfg.min_len, cfg.max_len + 1)
    sep = ('', '-', '.', '_', '/')[rng.integers(5)]
    camel = sep == '' or rng.random() < 0.3
    parts = []
    while len(sep.join(parts)) < target:
        word = _word(rng, cfg)
        parts.append(word.capitalize() if camel and parts else word)
    text = sep.join(parts)[:cfg.max_len].rstrip(sep)  # no separator dangling at the cut
    return text if camel else _random_case(rng, text)


def _random_from(chars: str) -> Callable[[np.random.Generator, object], str]:
    def draw(rng: np.random.Generator, cfg) -> str:
        idx = rng.integers(0, len(chars), rng.integers(cfg.min_len, cfg.max_len + 1))
        return ''.join(chars[i] for i in idx)
    return draw


_random_chars = _random_from(CHARSET)
_TEXT_KINDS: Dict[str, Callable] = {
    'word': _dictionary_word, 'digits': _digits, 'symbol': _symbol_word,
    'compound': _compound, 'random': _random_chars, 'alnum': _random_from(ALNUM),
    'train_word': _train_word}
TEXT_KINDS = tuple(_TEXT_KINDS)


def parse_text_kinds(text: str) -> Dict[str, float]:
    """``'word=0.85,digits=0.15'`` -> ``{'word': 0.85, 'digits': 0.15}`` (weights > 0).

    Raises:
        ValueError: naming the bad item (an unknown kind, a missing or non-positive weight).
    """
    kinds = {}
    for item in filter(None, (part.strip() for part in str(text).split(','))):
        kind, _, weight = item.partition('=')
        try:
            value = float(weight)
        except ValueError:
            value = float('nan')
        if kind not in _TEXT_KINDS or not value > 0:
            raise ValueError(f'text kinds: bad item {item!r} in {text!r}; expected KIND=WEIGHT '
                             f'with KIND in {TEXT_KINDS} and WEIGHT > 0')
        kinds[kind] = value
    if not kinds:
        raise ValueError(f'text kinds: none given in {text!r}')
    return kinds


def drawn_text(rng: np.random.Generator, cfg) -> str:
    """The text to draw: a kind from ``cfg.text_kinds``, ``cfg.min_len <= len <= max_len``.

    A generator whose text misses the length bounds is redrawn; after a few misses the
    text falls back to random characters of a length within the bounds. ``cfg.lowercase``
    lower-cases what is drawn.

    Returns:
        A string of characters from :data:`CHARSET` (no spaces).
    """
    for _ in range(_TEXT_TRIES):
        text = _TEXT_KINDS[pick(rng, cfg.text_kinds)](rng, cfg)
        if cfg.min_len <= len(text) <= cfg.max_len:
            break
    else:
        text = _random_chars(rng, cfg)
    return text.lower() if cfg.lowercase else text


def label_of(text: str, cfg) -> str:
    """The label of a crop showing ``text``: lower-cased when ``cfg.fold_labels``."""
    return text.lower() if cfg.fold_labels else text


def random_text(rng: np.random.Generator, cfg) -> str:
    """The label of a random crop of ``cfg`` (:func:`drawn_text`, then :func:`label_of`)."""
    return label_of(drawn_text(rng, cfg), cfg)
