; What JavaScript / TypeScript nodes are to the test layout (kodama.syntax.testlayout): an
; @import statement, or a @declaration that is an import when its whole text is one
; `const x = require('m')` line (that test reads the text, with the pattern that also takes
; the line apart); a file's import block ends at the first @definition (or test call, found by
; its text); missing imports go after a @prologue (comments, `#!`, directives) when the file
; has no imports.
(import_statement) @import

[
  (lexical_declaration)
  (variable_declaration)
] @declaration

[
  (function_declaration)
  (class_declaration)
  (generator_function_declaration)
] @definition

[
  (comment)
  (hash_bang_line)
] @prologue

(expression_statement . (string) .) @prologue
