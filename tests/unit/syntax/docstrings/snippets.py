"""Sample files in every language with their expected targets, and helpers for the docstring
tests."""

from __future__ import annotations

from kodama.syntax.docstrings import Target, apply, render, target_at, targets, validate

# For every language: a realistic snippet and, in source order, every target it has as
# (kind, name, parameters, returns_value, docstring).
SNIPPETS: dict[str, tuple[str, list[tuple[str, str, tuple[str, ...], bool, str | None]]]] = {
    "python": (
        '''"""Shapes."""

import math


class Circle:
    """A circle.

    Attributes:
        radius: Its radius.
    """

    def __init__(self, radius: float) -> None:
        self.radius = radius

    @property
    def area(self):
        return math.pi * self.radius ** 2


def scale(shape, factor=2, *rest, strict: bool = False, **options):
    """Scale a shape."""
    if factor <= 0:
        raise ValueError(f"bad factor {factor}")
    return shape


def log(message):
    print(message)
''',
        [
            ("class", "Circle", (), False, "A circle.\n\nAttributes:\n    radius: Its radius."),
            ("method", "__init__", ("radius",), False, None),
            ("method", "area", (), True, None),
            ("function", "scale", ("shape", "factor", "rest", "strict", "options"), True,
             "Scale a shape."),
            ("function", "log", ("message",), False, None),
        ],
    ),
    "javascript": (
        '''import { clamp } from "./math.js";

/**
 * Add two numbers.
 * @param {number} a
 */
export function add(a, b = 0) {
  return a + b;
}

class Counter {
  constructor(start) {
    this.value = start;
  }

  increment(step, ...more) {
    this.value += step;
  }
}

const double = (x) => x * 2;
''',
        [
            ("function", "add", ("a", "b"), True, "Add two numbers.\n@param {number} a"),
            ("class", "Counter", (), False, None),
            ("method", "constructor", ("start",), False, None),
            ("method", "increment", ("step", "more"), False, None),
            ("function", "double", ("x",), True, None),
        ],
    ),
    "typescript": (
        '''export interface Point {
  x: number;
  y: number;
}

// Distance between two points.
export function distance(a: Point, b?: Point): number {
  const other = b ?? { x: 0, y: 0 };
  return Math.hypot(a.x - other.x, a.y - other.y);
}

export class Logger {
  log(message: string, ...args: unknown[]): void {
    console.log(message, ...args);
  }
}
''',
        [
            ("class", "Point", (), False, None),
            ("function", "distance", ("a", "b"), True, "Distance between two points."),
            ("class", "Logger", (), False, None),
            ("method", "log", ("message", "args"), False, None),
        ],
    ),
    "go": (
        '''package shapes

import "math"

// Circle is a round shape.
type Circle struct {
	Radius float64
}

// Area returns the area of c.
func (c Circle) Area() float64 {
	return math.Pi * c.Radius * c.Radius
}

func Scale(c *Circle, factor float64, tags ...string) {
	c.Radius *= factor
}
''',
        [
            ("class", "Circle", (), False, "Circle is a round shape."),
            ("method", "Area", (), True, "Area returns the area of c."),
            ("function", "Scale", ("c", "factor", "tags"), False, None),
        ],
    ),
    "rust": (
        '''use std::fmt;

/// A point in the plane.
#[derive(Debug, Clone)]
pub struct Point {
    x: f64,
    y: f64,
}

impl Point {
    pub fn new(x: f64, y: f64) -> Self {
        Point { x, y }
    }

    /// Move the point.
    pub fn shift(&mut self, dx: f64, mut dy: f64) {
        dy += 0.0;
        self.x += dx;
        self.y += dy;
    }
}

pub enum Shape {
    Dot(Point),
}
''',
        [
            ("class", "Point", (), False, "A point in the plane."),
            ("method", "new", ("x", "y"), True, None),
            ("method", "shift", ("dx", "dy"), False, "Move the point."),
            ("class", "Shape", (), False, None),
        ],
    ),
    "java": (
        '''package shapes;

/** A rectangle. */
public class Rect {
    private final int width;

    public Rect(int width) {
        this.width = width;
    }

    /**
     * The area.
     */
    @Override
    public int area(int height) {
        return width * height;
    }

    public void print(String... labels) throws java.io.IOException {
        System.out.println(labels);
    }
}
''',
        [
            ("class", "Rect", (), False, "A rectangle."),
            ("method", "Rect", ("width",), False, None),
            ("method", "area", ("height",), True, "The area."),
            ("method", "print", ("labels",), False, None),
        ],
    ),
    "c": (
        '''#include <stdio.h>

/**
 * A 2D vector.
 */
struct vec {
    double x, y;
};

/** Sum of the first n values. */
static int sum(const int *values, int n) {
    int total = 0;
    for (int i = 0; i < n; i++) total += values[i];
    return total;
}

void print_all(char **lines, int count) {
    for (int i = 0; i < count; i++) puts(lines[i]);
}
''',
        [
            ("class", "vec", (), False, "A 2D vector."),
            ("function", "sum", ("values", "n"), True, "Sum of the first n values."),
            ("function", "print_all", ("lines", "count"), False, None),
        ],
    ),
    "cpp": (
        '''#include <string>

namespace geo {

/// A named place.
class Place {
public:
    explicit Place(const std::string& name) : name_(name) {}

    /// Its name.
    const std::string& name() const { return name_; }

    void rename(const std::string& name, bool force = false) {
        if (!force && name.empty()) throw std::invalid_argument("empty");
        name_ = name;
    }

private:
    std::string name_;
};

}  // namespace geo
''',
        [
            ("class", "Place", (), False, "A named place."),
            ("method", "Place", ("name",), False, None),
            ("method", "name", (), True, "Its name."),
            ("method", "rename", ("name", "force"), False, None),
        ],
    ),
}


def summary(target: Target) -> tuple[str, str, tuple[str, ...], bool, str | None]:
    """What :data:`SNIPPETS` lists of a target."""
    return (target.kind, target.name, target.parameters, target.returns_value, target.docstring)


def only(language: str, text: str, name: str, kind: str | None = None) -> Target:
    """The one target of *text* called *name* (of *kind*, when given)."""
    found = [t for t in targets(language, text) if t.name == name and kind in (None, t.kind)]
    assert len(found) == 1, found
    return found[0]


def documented(language: str, text: str, name: str, body: str) -> str:
    """*text* with *body* rendered for the target *name*; checked to be valid."""
    edit = render(only(language, text, name), text, body)
    assert validate(language, text, edit)
    return apply(text, edit)


def name_at(language: str, text: str, needle: str) -> str | None:
    """The name of the target at the first occurrence of *needle* in *text*."""
    target = target_at(language, text, text.index(needle))
    return None if target is None else target.name
