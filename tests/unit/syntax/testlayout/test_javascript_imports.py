"""Tests for kodama.syntax.testlayout.javascript_imports: reading, writing and de-duplicating
import lines."""

from __future__ import annotations

from kodama.syntax.testlayout.javascript_imports import (
    JsStyle,
    import_line,
    missing_imports,
    parse_import,
)


def test_parse_esm_and_commonjs_lines() -> None:
    esm = parse_import("import React, { useState as s, type T } from 'react';")
    assert esm is not None
    assert (esm.esm, esm.src, esm.default, esm.named) == (
        True, "react", "React", (("useState", "s"), ("T", "T"))
    )
    namespace = parse_import('import * as path from "node:path"')
    assert namespace is not None and namespace.namespace == "path" and namespace.semi == ""
    cjs = parse_import("const { a, b: c } = require('./x').default;")
    assert cjs is not None
    assert (cjs.esm, cjs.named, cjs.tail, cjs.prefix) == (
        False, (("a", "a"), ("b", "c")), ".default", "const "
    )
    assert parse_import("const x = 1;") is None
    assert parse_import("import('./lazy');") is None


def test_missing_imports_keep_only_unbound_names() -> None:
    existing = ["import { a } from './m';", "import './setup';"]
    candidates = ["import { a, b } from './m';", "import './setup';", "import './other';",
                  "weird line", "weird  line"]
    assert missing_imports(candidates, existing) == [
        "import { b } from './m';", "import './other';", "weird line",
    ]


def test_import_line_follows_the_style() -> None:
    assert import_line(JsStyle(True, '"', False), "* as ns", "./m") == 'import * as ns from "./m"'
    assert import_line(JsStyle(False, "'", True), "* as ns", "./m") == "const ns = require('./m');"
