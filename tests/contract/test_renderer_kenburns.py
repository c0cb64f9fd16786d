"""The Ken Burns renderer passes the ClipRenderer contract."""

from __future__ import annotations

import pytest
from tests.contract.renderer_contract import ClipRendererContract

from videogen_adapters.ffmpeg.kenburns import KenBurnsClipRenderer


class TestKenBurnsContract(ClipRendererContract):
    @pytest.fixture
    def renderer(self) -> KenBurnsClipRenderer:
        return KenBurnsClipRenderer()


class TestKenBurnsContainContract(ClipRendererContract):
    """The blurred-contain fit fulfils the same contract."""

    @pytest.fixture
    def renderer(self) -> KenBurnsClipRenderer:
        return KenBurnsClipRenderer(fit="contain", resample="bilinear")
