"""carriersim: a simulator of the UPS, FedEx, USPS and DHL package-tracking APIs."""

__version__ = "0.1.0"
