"""Tests for kodama.syntax.testlayout.javascript: where JS/TS tests go, and merging them."""

from __future__ import annotations

import json
from pathlib import Path

from kodama.syntax.analysis import parses
from kodama.syntax.testlayout import TestPlan, apply_edits, merge, merge_edits, plan_tests

from .repo import dedent, make


# ---------------------------------------------------------------------------- JS / TS layout
def test_jest_commonjs_colocated(tmp_path: Path) -> None:
    make(tmp_path, {
        "package.json": json.dumps({"devDependencies": {"jest": "^29"}}),
        "src/math.js": "function add(a, b) { return a + b; }\nmodule.exports = { add };\n",
        "src/util.js": "module.exports = {};\n",
        "src/util.test.js": "const { x } = require('./util');\ntest('x', () => {});\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "src/math.js", "javascript", "add")
    assert plan.framework == "jest"
    assert plan.path == tmp_path.resolve() / "src/math.test.js"
    assert plan.module == "./math"
    assert plan.imports == ("const { add } = require('./math');",)
    assert plan.header == "const { add } = require('./math');\n"
    assert "CommonJS" in plan.style_hint


def test_vitest_typescript_in_tests_folder(tmp_path: Path) -> None:
    make(tmp_path, {
        "package.json": json.dumps({"type": "module", "devDependencies": {"vitest": "^1"}}),
        "src/lib/math.ts": "export function add(a: number, b: number): number {\n"
                           "  return a + b;\n}\n",
        "src/__tests__/util.test.ts": 'import { describe, it, expect } from "vitest";\n'
                                      'import { util } from "../util";\n',
    })
    plan = plan_tests(tmp_path, tmp_path / "src/lib/math.ts", "typescript", "add")
    assert plan.framework == "vitest"
    assert plan.path == tmp_path.resolve() / "src/__tests__/math.test.ts"
    assert plan.module == "../lib/math"
    assert plan.imports == (
        'import { describe, expect, it } from "vitest";',
        'import { add } from "../lib/math";',
    )


def test_tsx_spec_naming_and_default_export(tmp_path: Path) -> None:
    make(tmp_path, {
        "package.json": json.dumps({"devDependencies": {"jest": "^29"}}),
        "src/Button.tsx": "export default function Button() {\n  return <button />;\n}\n",
        "src/Card.tsx": "export const Card = () => null;\n",
        "src/Card.spec.tsx": "import { Card } from './Card';\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "src/Button.tsx", "tsx", "Button")
    assert plan.path == tmp_path.resolve() / "src/Button.spec.tsx"
    assert plan.language == "tsx"
    assert plan.imports == ("import Button from './Button';",)


def test_esm_with_extensions_in_a_test_folder_with_mocha(tmp_path: Path) -> None:
    make(tmp_path, {
        "package.json": json.dumps({"type": "module", "devDependencies": {"mocha": "^10"}}),
        "src/math.js": "export function add(a, b) { return a + b; }\n",
        "src/util.js": "export const x = 1;\n",
        "test/util.test.js": "import assert from 'node:assert/strict';\n"
                             "import { x } from '../src/util.js';\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "src/math.js", "javascript", "add")
    assert plan.framework == "mocha"
    assert plan.path == tmp_path.resolve() / "test/math.test.js"
    assert plan.module == "../src/math.js"
    assert plan.imports == (
        "import assert from 'node:assert/strict';",
        "import { add } from '../src/math.js';",
    )


def test_typescript_esm_uses_js_extension_when_tests_do(tmp_path: Path) -> None:
    make(tmp_path, {
        "package.json": json.dumps({"type": "module", "devDependencies": {"jest": "^29"}}),
        "src/math.ts": "export const add = (a: number, b: number) => a + b;\n",
        "src/util.test.ts": "import { x } from './util.js';\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "src/math.ts", "typescript", "add")
    assert plan.module == "./math.js"
    assert plan.path.name == "math.test.ts"


def test_mocha_chai_commonjs_default(tmp_path: Path) -> None:
    make(tmp_path, {
        "package.json": json.dumps({"devDependencies": {"mocha": "^10", "chai": "^4"}}),
        "lib/parse.js": "module.exports = function parse(s) { return s; };\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "lib/parse.js", "javascript", "parse")
    assert plan.path == tmp_path.resolve() / "test/parse.test.js"
    assert plan.imports == (
        "const { expect } = require('chai');",
        "const parse = require('../lib/parse');",
    )
    assert "chai" in plan.style_hint


def test_node_test_runner(tmp_path: Path) -> None:
    make(tmp_path, {
        "package.json": json.dumps({"type": "module", "scripts": {"test": "node --test"}}),
        "index.mjs": "export function hello() { return 'hi'; }\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "index.mjs", "javascript", "hello")
    assert plan.framework == "node:test"
    assert plan.path == tmp_path.resolve() / "index.test.mjs"
    assert plan.imports == (
        "import { describe, it } from 'node:test';",
        "import assert from 'node:assert/strict';",
        "import { hello } from './index.mjs';",
    )



# ---------------------------------------------------------------------------- merging JS / TS
def js_plan(tmp_path: Path) -> TestPlan:
    make(tmp_path, {
        "package.json": json.dumps({"devDependencies": {"vitest": "^1"}}),
        "src/math.js": "export function add(a, b) { return a + b; }\n"
                       "export function sub(a, b) { return a - b; }\n",
    })
    return plan_tests(tmp_path, tmp_path / "src/math.js", "javascript", "add")


def test_merge_js_new_file(tmp_path: Path) -> None:
    plan = js_plan(tmp_path)
    assert plan.path.name == "math.test.js"
    generated = dedent("""
        import { describe, it, expect } from 'vitest';
        import { add } from '../src/math';

        describe('add', () => {
          it('adds', () => {
            expect(add(1, 2)).toBe(3);
          });
        });
    """)
    text = merge(plan, None, generated)
    assert text == dedent("""
        import { describe, expect, it } from 'vitest';

        import { add } from './math';

        describe('add', () => {
          it('adds', () => {
            expect(add(1, 2)).toBe(3);
          });
        });
    """)
    assert parses("javascript", text)


def test_merge_js_existing_file(tmp_path: Path) -> None:
    plan = js_plan(tmp_path)
    existing = dedent("""
        import { describe, expect, it } from 'vitest';
        import { add } from './math';

        describe('add', () => {
          it('adds', () => expect(add(1, 1)).toBe(2));
        });
    """)
    generated = dedent("""
        import { add, sub } from './math';
        import { vi } from 'vitest';

        describe('sub', () => {
          it('subtracts', () => expect(sub(2, 1)).toBe(1));
        });
    """)
    result = merge_edits(plan, existing, generated)
    assert result.text == dedent("""
        import { describe, expect, it } from 'vitest';
        import { add } from './math';
        import { sub } from './math';
        import { vi } from 'vitest';

        describe('add', () => {
          it('adds', () => expect(add(1, 1)).toBe(2));
        });

        describe('sub', () => {
          it('subtracts', () => expect(sub(2, 1)).toBe(1));
        });
    """)
    assert parses("javascript", result.text)
    assert apply_edits(existing, result.edits) == result.text


def test_merge_js_commonjs_dedupe(tmp_path: Path) -> None:
    make(tmp_path, {
        "package.json": json.dumps({"devDependencies": {"jest": "^29"}}),
        "math.js": "module.exports = { add: (a, b) => a + b, sub: (a, b) => a - b };\n",
    })
    plan = plan_tests(tmp_path, tmp_path / "math.js", "javascript", "add")
    existing = "'use strict';\n\nconst { add } = require('./math');\n\ntest('a', () => {});\n"
    generated = "const { add, sub: minus } = require('./math');\n\ntest('b', () => minus(1, 1));\n"
    text = merge(plan, existing, generated)
    assert text == ("'use strict';\n\nconst { add } = require('./math');\n"
                    "const { sub: minus } = require('./math');\n\ntest('a', () => {});\n\n"
                    "test('b', () => minus(1, 1));\n")
    assert parses("javascript", text)

