"""Synthetic series: smooth waveforms, known monotone warps, the DILATE step task.

Every generator takes an ``int`` seed or a ``numpy.random.Generator`` and draws
all of its randomness from it, so results are reproducible.
"""

import numbers

import numba
import numpy as np

from ..validation import as_series


def _as_generator(rng, name="rng"):
    """A ``numpy.random.Generator`` from a Generator (returned as is) or an int seed."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral) and not isinstance(rng, (bool, np.bool_)):
        if rng < 0:
            raise ValueError(f"{name} must be a seed >= 0 or a numpy.random.Generator; got {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError(f"{name} must be an int seed or a numpy.random.Generator; got {type(rng).__name__}")


def _check_int(value, name, minimum):
    """``value`` as an int >= ``minimum``; TypeError/ValueError naming ``name`` otherwise."""
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be an int; got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}; got {value}")
    return int(value)


def _check_real(value, name, minimum=0.0):
    """``value`` as a finite float >= ``minimum``; TypeError/ValueError naming ``name``."""
    if not isinstance(value, numbers.Real) or isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be a real number; got {value!r}")
    value = float(value)
    if not np.isfinite(value) or value < minimum:
        raise ValueError(f"{name} must be a finite number >= {minimum}; got {value}")
    return value


def random_smooth_waveform(rng, n, d=1, n_sines=3, n_bumps=2, max_frequency=3.0):
    """A random smooth series: sinusoids plus Gaussian bumps, z-normalised per feature.

    On the grid ``t = linspace(0, 1, n)`` each feature is

        sum_k a_k sin(2 pi f_k t + phi_k) + sum_l b_l exp(-(t - c_l)^2 / (2 w_l^2))

    with ``f_k ~ U(0.5, max_frequency)`` cycles per series, ``a_k ~ U(0.5, 1)``,
    ``phi_k ~ U(0, 2 pi)``, ``b_l ~ N(0, 1)``, ``c_l ~ U(0, 1)`` and
    ``w_l ~ U(0.03, 0.1)``; it is then shifted and scaled to mean 0 and standard
    deviation 1.

    Parameters
    ----------
    rng : int or numpy.random.Generator
        Seed or generator.
    n : int
        Length, >= 2.
    d : int
        Number of features, >= 1.
    n_sines, n_bumps : int
        Number of sinusoids and of Gaussian bumps per feature (>= 0, not both 0).
    max_frequency : float
        Highest sinusoid frequency in cycles per series, >= 0.5.

    Returns
    -------
    numpy.ndarray, shape (n, d), float64

    Examples
    --------
    >>> x = random_smooth_waveform(0, 50, d=2)
    >>> x.shape, bool(abs(x.mean()) < 1e-12)
    ((50, 2), True)
    """
    rng = _as_generator(rng)
    n = _check_int(n, "n", 2)
    d = _check_int(d, "d", 1)
    n_sines = _check_int(n_sines, "n_sines", 0)
    n_bumps = _check_int(n_bumps, "n_bumps", 0)
    if n_sines + n_bumps == 0:
        raise ValueError("n_sines and n_bumps must not both be 0")
    max_frequency = _check_real(max_frequency, "max_frequency", 0.5)
    return _njit_waveform(n, *_waveform_params(rng, d, n_sines, n_bumps, max_frequency))


def _waveform_params(rng, d, n_sines, n_bumps, max_frequency):
    """The random parameters of :func:`random_smooth_waveform`, drawn in a fixed order."""
    freq = rng.uniform(0.5, max_frequency, size=(d, n_sines))
    amp = rng.uniform(0.5, 1.0, size=(d, n_sines))
    phase = rng.uniform(0.0, 2.0 * np.pi, size=(d, n_sines))
    height = rng.standard_normal(size=(d, n_bumps))
    centre = rng.uniform(0.0, 1.0, size=(d, n_bumps))
    width = rng.uniform(0.03, 0.1, size=(d, n_bumps))
    return freq, amp, phase, height, centre, width


@numba.njit(cache=True, nogil=True)
def _njit_waveform(n, freq, amp, phase, height, centre, width):
    """The waveform of :func:`random_smooth_waveform` from its parameters, z-normalised per feature: (n, d)."""
    d = freq.shape[0]
    x = np.empty((n, d))
    step = 1.0 / (n - 1)
    for f in range(d):
        total = 0.0
        for i in range(n):
            t = i * step
            v = 0.0
            for k in range(freq.shape[1]):
                v += amp[f, k] * np.sin(2.0 * np.pi * freq[f, k] * t + phase[f, k])
            for k in range(height.shape[1]):
                v += height[f, k] * np.exp(-((t - centre[f, k]) ** 2) / (2.0 * width[f, k] ** 2))
            x[i, f] = v
            total += v
        mean = total / n
        spread = 0.0
        for i in range(n):
            x[i, f] -= mean
            spread += x[i, f] * x[i, f]
        std = np.sqrt(spread / n)
        if std > 1e-12:  # a flat feature (possible only for tiny n) is left centred rather than divided by 0
            for i in range(n):
                x[i, f] /= std
    return x


def random_monotone_warp(rng, n, m, strength=1.0, n_components=3):
    """A random smooth, strictly increasing warp from m output samples onto [0, n - 1].

    On ``u = linspace(0, 1, m)`` a random log-speed curve
    ``g(u) = sum_k a_k sin(2 pi f_k u + phi_k)`` (``a_k ~ N(0, 1/K)``,
    ``f_k ~ U(0.25, 2)``, ``phi_k ~ U(0, 2 pi)``, ``K = n_components``) gives the
    speed ``v = exp(strength * g) > 0``; its cumulative trapezoid integral,
    rescaled to end at ``n - 1``, is the warp. So ``warp[0] == 0``,
    ``warp[-1] == n - 1`` exactly, and ``warp`` is strictly increasing.
    ``strength=0`` gives the linear map ``linspace(0, n - 1, m)``.

    Parameters
    ----------
    rng : int or numpy.random.Generator
        Seed or generator.
    n : int
        Length of the source series, >= 2.
    m : int
        Number of output samples, >= 2.
    strength : float
        Standard-deviation scale of the log-speed, >= 0.
    n_components : int
        Number of sinusoids in the log-speed curve, >= 1.

    Returns
    -------
    numpy.ndarray, shape (m,), float64
        ``warp[j]``: the fractional position in the source series of output sample j.

    Examples
    --------
    >>> w = random_monotone_warp(0, 10, 20)
    >>> float(w[0]), float(w[-1]), bool((w[1:] > w[:-1]).all())
    (0.0, 9.0, True)
    """
    rng = _as_generator(rng)
    n = _check_int(n, "n", 2)
    m = _check_int(m, "m", 2)
    strength = _check_real(strength, "strength")
    n_components = _check_int(n_components, "n_components", 1)
    return _njit_warp(n, m, strength, *_warp_params(rng, n_components))


def _warp_params(rng, n_components):
    """The random parameters of :func:`random_monotone_warp`, drawn in a fixed order."""
    amp = rng.standard_normal(n_components) / np.sqrt(n_components)
    freq = rng.uniform(0.25, 2.0, n_components)
    phase = rng.uniform(0.0, 2.0 * np.pi, n_components)
    return amp, freq, phase


@numba.njit(cache=True, nogil=True)
def _njit_warp(n, m, strength, amp, freq, phase):
    """The warp of :func:`random_monotone_warp` from its parameters: (m,) positions in [0, n - 1]."""
    log_speed = np.empty(m)
    step = 1.0 / (m - 1)
    total = 0.0
    for j in range(m):
        u = j * step
        v = 0.0
        for k in range(amp.shape[0]):
            v += amp[k] * np.sin(2.0 * np.pi * freq[k] * u + phase[k])
        log_speed[j] = v
        total += v
    mean = total / m
    warp = np.empty(m)
    warp[0] = 0.0
    previous = np.exp(strength * (log_speed[0] - mean))
    for j in range(1, m):
        speed = np.exp(strength * (log_speed[j] - mean))
        warp[j] = warp[j - 1] + 0.5 * (speed + previous)
        previous = speed
    scale = (n - 1) / warp[m - 1]
    for j in range(m - 1):
        warp[j] *= scale
    warp[m - 1] = n - 1.0
    return warp


def resample(x, positions):
    """Linear interpolation of a series at fractional positions.

    Parameters
    ----------
    x : array_like, shape (n,) or (n, d)
        The series, n >= 2.
    positions : array_like, shape (m,)
        Positions in ``[0, n - 1]``.

    Returns
    -------
    numpy.ndarray, shape (m, d), float64
        ``out[j] = (1 - t) x[i] + t x[i + 1]`` with ``i = min(floor(p_j), n - 2)``,
        ``t = p_j - i``; ``out[j] == x[p_j]`` exactly at integer positions.

    Examples
    --------
    >>> resample([0.0, 10.0, 20.0], [0.0, 0.5, 2.0]).ravel().tolist()
    [0.0, 5.0, 20.0]
    """
    x = as_series(x, "x")
    n = x.shape[0]
    if n < 2:
        raise ValueError(f"x must have at least 2 samples; got {n}")
    positions = np.asarray(positions, dtype=np.float64)
    if positions.ndim != 1 or positions.size == 0:
        raise ValueError(f"positions must be a non-empty 1-D array; got shape {positions.shape}")
    if not (np.isfinite(positions).all() and positions.min() >= 0.0 and positions.max() <= n - 1):
        raise ValueError(f"positions must be finite and within [0, {n - 1}]")
    return _njit_resample(x, positions)


@numba.njit(cache=True, nogil=True)
def _njit_resample(x, positions):
    """:func:`resample` on validated input: (m, d)."""
    n, d = x.shape
    out = np.empty((positions.shape[0], d))
    for j in range(positions.shape[0]):
        left = min(int(np.floor(positions[j])), n - 2)
        frac = positions[j] - left
        for f in range(d):
            out[j, f] = (1.0 - frac) * x[left, f] + frac * x[left + 1, f]
    return out


def synthetic_warp_pair(rng, n=100, m=None, d=1, noise=0.05, warp_strength=1.0):
    """A pair (x, y) where y is x warped by a known monotone map, plus noise.

    ``x = random_smooth_waveform(rng, n, d)``,
    ``warp = random_monotone_warp(rng, n, m, warp_strength)`` and
    ``y = resample(x, warp) + noise * N(0, 1)``: output sample ``y[j]`` is x read
    at fractional index ``warp[j]`` (linear interpolation between
    ``x[floor(warp[j])]`` and the next sample). x has no noise.

    Parameters
    ----------
    rng : int or numpy.random.Generator
        Seed or generator.
    n : int
        Length of x, >= 2.
    m : int or None
        Length of y, >= 2; None means ``m = n``.
    d : int
        Number of features.
    noise : float
        Standard deviation of the Gaussian noise added to y, >= 0 (x has unit variance).
    warp_strength : float
        ``strength`` of :func:`random_monotone_warp`; 0 means no warp.

    Returns
    -------
    x : numpy.ndarray, shape (n, d)
    y : numpy.ndarray, shape (m, d)
    warp : numpy.ndarray, shape (m,)
        Strictly increasing positions into x, ``warp[0] == 0``, ``warp[-1] == n - 1``.

    Examples
    --------
    >>> x, y, warp = synthetic_warp_pair(7, n=80, m=60, d=2, noise=0.0)
    >>> x.shape, y.shape, warp.shape
    ((80, 2), (60, 2), (60,))
    >>> bool(np.allclose(y[-1], x[-1]))
    True
    """
    rng = _as_generator(rng)
    n = _check_int(n, "n", 2)
    m = n if m is None else _check_int(m, "m", 2)
    d = _check_int(d, "d", 1)
    noise = _check_real(noise, "noise")
    warp_strength = _check_real(warp_strength, "strength")
    return _warp_pair(rng, n, m, d, noise, warp_strength)


_SINES, _BUMPS, _MAX_FREQUENCY, _WARP_COMPONENTS = 3, 2, 3.0, 3
"""The defaults of :func:`random_smooth_waveform` and :func:`random_monotone_warp` that pair generators use."""


def _warp_pair(rng, n, m, d, noise, warp_strength):
    """:func:`synthetic_warp_pair` on checked arguments."""
    x = _njit_waveform(n, *_waveform_params(rng, d, _SINES, _BUMPS, _MAX_FREQUENCY))
    warp = _njit_warp(n, m, warp_strength, *_warp_params(rng, _WARP_COMPONENTS))
    y = _njit_resample(x, warp)
    if noise > 0.0:
        y += noise * rng.standard_normal(y.shape)
    return x, y, warp


def draw_warp_pair(rng, n_range, m_range, d, noise, warp_strength):
    """A pair of :func:`synthetic_warp_pair`'s model with random lengths, from two calls to ``rng``.

    The same distributions as ``synthetic_warp_pair(rng, n, m, d, noise,
    warp_strength)`` with ``n`` and ``m`` drawn uniformly from inclusive
    ranges, but every uniform number (lengths and parameters) comes from one
    ``rng.random`` call and every normal one (bump heights, warp amplitudes,
    noise) from one ``rng.standard_normal`` call, and the arithmetic runs in
    one compiled kernel: a pair of length ~100 costs ~10 us instead of ~200,
    which is what lets an environment draw a fresh pair at every reset.

    Parameters
    ----------
    rng : numpy.random.Generator
    n_range : (int, int)
        Inclusive range of n, low >= 2 (checked by the caller).
    m_range : (int, int) or None
        Inclusive range of m; None means m = n.
    d : int
    noise, warp_strength : float

    Returns
    -------
    x : numpy.ndarray (n, d)
    y : numpy.ndarray (m, d)

    Examples
    --------
    >>> x, y = draw_warp_pair(np.random.default_rng(0), (50, 60), None, 2, 0.05, 1.0)
    >>> x.shape == y.shape, 50 <= len(x) <= 60
    (True, True)
    """
    uniforms = 2 + d * (3 * _SINES + 2 * _BUMPS) + 2 * _WARP_COMPONENTS
    u = rng.random(uniforms)
    n = min(n_range[0] + int(u[0] * (n_range[1] - n_range[0] + 1)), n_range[1])
    m = n if m_range is None else min(m_range[0] + int(u[1] * (m_range[1] - m_range[0] + 1)), m_range[1])
    z = rng.standard_normal(d * _BUMPS + _WARP_COMPONENTS + (m * d if noise > 0.0 else 0))
    return _njit_pair_from_draws(n, m, d, u[2:], z, noise, warp_strength, _MAX_FREQUENCY)


@numba.njit(cache=True, nogil=True)
def _njit_pair_from_draws(n, m, d, u, z, noise, warp_strength, max_frequency):
    """``(x, y)`` of :func:`draw_warp_pair` from its uniform ``u`` and normal ``z`` numbers."""
    ns, nb, nc = _SINES, _BUMPS, _WARP_COMPONENTS
    freq = np.empty((d, ns))
    amp = np.empty((d, ns))
    phase = np.empty((d, ns))
    height = np.empty((d, nb))
    centre = np.empty((d, nb))
    width = np.empty((d, nb))
    a = 0
    for f in range(d):
        for k in range(ns):
            freq[f, k] = 0.5 + (max_frequency - 0.5) * u[a]
            amp[f, k] = 0.5 + 0.5 * u[a + 1]
            phase[f, k] = 2.0 * np.pi * u[a + 2]
            a += 3
        for k in range(nb):
            centre[f, k] = u[a]
            width[f, k] = 0.03 + 0.07 * u[a + 1]
            height[f, k] = z[f * nb + k]
            a += 2
    warp_amp = np.empty(nc)
    warp_freq = np.empty(nc)
    warp_phase = np.empty(nc)
    for k in range(nc):
        warp_freq[k] = 0.25 + 1.75 * u[a]
        warp_phase[k] = 2.0 * np.pi * u[a + 1]
        warp_amp[k] = z[d * nb + k] / np.sqrt(nc)
        a += 2
    x = _njit_waveform(n, freq, amp, phase, height, centre, width)
    warp = _njit_warp(n, m, warp_strength, warp_amp, warp_freq, warp_phase)
    y = _njit_resample(x, warp)
    if noise > 0.0:
        offset = d * nb + nc
        for j in range(m):
            for f in range(d):
                y[j, f] += noise * z[offset + j * d + f]
    return x, y


def synthetic_step_task(n_series, seed, input_length=20, output_length=20, noise=0.01):
    """The synthetic step forecasting task of DILATE (Le Guen and Thome, NeurIPS 2019).

    Each series of length ``L = input_length + output_length`` starts as noise
    ``noise * U(0, 1)`` (uniform, as in the authors' code). With ``h = input_length // 2``:

    * a first peak of amplitude ``a1 ~ U(0, 1)`` at ``t1 ~ U{1, ..., h}``;
    * a second peak of amplitude ``a2 ~ U(0, 1)`` at ``t2 ~ U{h, ..., input_length - 2}``;
    * from ``t3 = t2 + |t2 - t1| + U{-3, ..., 3}`` (clipped to ``[0, L]``) on, a step
      of height ``a2 - a1`` is added.

    The first ``input_length`` values are the input, the rest the target. The
    defaults reproduce the paper's setting (peaks in 1..10 and 10..18, step
    usually inside the 20-step target, noise 0.01); the paper uses 500 train
    and 500 test series.

    Parameters
    ----------
    n_series : int
        Number of series N, >= 1.
    seed : int or numpy.random.Generator
        Seed or generator.
    input_length : int
        Input length, >= 4.
    output_length : int
        Target length, >= 1.
    noise : float
        Scale of the uniform background noise, >= 0.

    Returns
    -------
    inputs : numpy.ndarray, shape (N, input_length, 1), float64
    targets : numpy.ndarray, shape (N, output_length, 1), float64

    Examples
    --------
    >>> inputs, targets = synthetic_step_task(8, seed=0)
    >>> inputs.shape, targets.shape
    ((8, 20, 1), (8, 20, 1))
    """
    rng = _as_generator(seed, "seed")
    n_series = _check_int(n_series, "n_series", 1)
    input_length = _check_int(input_length, "input_length", 4)
    output_length = _check_int(output_length, "output_length", 1)
    noise = _check_real(noise, "noise")
    total = input_length + output_length
    half = input_length // 2
    series = noise * rng.random((n_series, total))
    t1 = rng.integers(1, half + 1, n_series)
    t2 = rng.integers(half, input_length - 1, n_series)
    a1 = rng.random(n_series)
    a2 = rng.random(n_series)
    t3 = np.clip(t2 + np.abs(t2 - t1) + rng.integers(-3, 4, n_series), 0, total)
    rows = np.arange(n_series)
    series[rows, t1] += a1
    series[rows, t2] += a2
    series += np.where(np.arange(total) >= t3[:, None], (a2 - a1)[:, None], 0.0)
    return series[:, :input_length, None].copy(), series[:, input_length:, None].copy()
