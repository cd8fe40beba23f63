"""Capture of unmodified openai / litellm client calls (see :mod:`.session`)."""

from textgrad_lab.llm.capture.hooks import LIBRARIES
from textgrad_lab.llm.capture.messages import CapturedRequest, CaptureError
from textgrad_lab.llm.capture.session import (
    CAPTURED_OP,
    Capture,
    CapturedCallFailed,
    capture,
    no_capture,
)

__all__ = [
    "CAPTURED_OP",
    "LIBRARIES",
    "Capture",
    "CaptureError",
    "CapturedCallFailed",
    "CapturedRequest",
    "capture",
    "no_capture",
]
