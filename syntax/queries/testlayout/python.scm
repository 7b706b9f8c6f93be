; What Python nodes are to the test layout (kodama.syntax.testlayout): @import statements are
; hoisted into a test file's import block and de-duplicated; the block ends at the first
; @definition; a @docstring (a statement that is a lone string) may come before it; a
; @conditional last in the file may be the `if __name__ == "__main__":` guard (its condition is
; compared in Python: text predicates fail on lone surrogates), and new tests go above it.
[
  (import_statement)
  (import_from_statement)
  (future_import_statement)
] @import

[
  (function_definition)
  (class_definition)
  (decorated_definition)
] @definition

(comment) @comment

(expression_statement . (string) .) @docstring

(if_statement) @conditional
