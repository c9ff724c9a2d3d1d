"""trainmon: a terminal monitor for Hugging Face Trainer training runs."""

__version__ = "0.1.0"
