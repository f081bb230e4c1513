"""Synthetic single-lead ECG in microvolts, sample by sample, for the strap simulator.

Each beat is a sum of Gaussian waves (P, Q, R, S, T) at fixed offsets from the R peak —
the shape idea of McSharry et al., "A dynamical model for generating synthetic
electrocardiogram signals", IEEE TBME 50(3), 2003, without the ODE. RR intervals vary
slightly (seeded), plus baseline wander and white noise. It is a test signal, not
physiology: no claim that a clinical algorithm would find it realistic.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

#: (offset from R peak s, width s, amplitude as a fraction of the R wave)
_WAVES = (
    (-0.20, 0.025, 0.12),  # P
    (-0.035, 0.010, -0.12),  # Q
    (0.0, 0.012, 1.0),  # R
    (0.035, 0.012, -0.25),  # S
    (0.26, 0.055, 0.30),  # T
)


class SyntheticEcg:
    def __init__(
        self,
        fs_hz: float = 130.0,
        *,
        hr_bpm: float = 70.0,
        r_amplitude_uv: float = 1200.0,
        rr_jitter: float = 0.03,
        noise_uv: float = 15.0,
        seed: int = 0,
    ) -> None:
        self.fs_hz = fs_hz
        self.hr_bpm = hr_bpm
        self.r_uv = r_amplitude_uv
        self.rr_jitter = rr_jitter
        self.noise_uv = noise_uv
        # Separate streams so the signal does not depend on how it is chunked.
        self._rr_rng = np.random.default_rng([seed, 1])
        self._noise_rng = np.random.default_rng([seed, 2])
        self._index = 0
        self._beats: list[float] = [0.3]

    def _beats_until(self, t: float) -> None:
        while self._beats[-1] < t + 1.0:
            rr = 60.0 / self.hr_bpm * (1 + self._rr_rng.normal(0, self.rr_jitter))
            self._beats.append(self._beats[-1] + max(rr, 0.25))

    def next(self, n: int) -> npt.NDArray[np.int32]:
        """The next ``n`` samples (continuing where the last call ended)."""
        t = (self._index + np.arange(n)) / self.fs_hz
        self._index += n
        self._beats_until(float(t[-1]))
        first = float(t[0])
        self._beats = [b for b in self._beats if b > first - 2.0] or self._beats[-1:]
        signal = np.zeros(n)
        for beat in self._beats:
            for offset, width, amp in _WAVES:
                signal += amp * np.exp(-0.5 * ((t - beat - offset) / width) ** 2)
        signal *= self.r_uv
        signal += 60.0 * np.sin(2 * np.pi * 0.25 * t)  # breathing baseline wander
        signal += self._noise_rng.normal(0, self.noise_uv, n)
        return np.round(signal).astype(np.int32)
