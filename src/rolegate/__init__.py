"""rolegate: a self-hosted, AWS-wire-compatible STS and IAM."""

__version__ = "0.1.0"
