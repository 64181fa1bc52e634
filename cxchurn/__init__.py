"""cxchurn: churn prediction and retention driven by customer experience."""

__version__ = "0.1.0"
