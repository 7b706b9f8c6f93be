"""Tiny inventory helpers."""

from dataclasses import dataclass


@dataclass
class Item:
    name: str
    price: float
    quantity: int


def total_value(items: list[Item]) -> float:
    """Sum of price times quantity over all items."""
    return sum(


def is_prime(n: int) -> bool:
    """Whether n is a prime number."""
    if n < 2:
        return False
