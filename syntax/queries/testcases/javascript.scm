; Test cases and suites in a JavaScript / TypeScript test file (kodama.syntax.testcases): a
; call of `it`/`test` (a @case) or `describe`/`suite`/`context` (a @suite), also as `it.skip`
; and the like, whose first argument is a literal @title.
(call_expression
  function: [
    (identifier) @name
    (member_expression object: (identifier) @name)
  ]
  arguments: (arguments . [(string) (template_string)] @title)
  (#any-of? @name "it" "test")) @case

(call_expression
  function: [
    (identifier) @name
    (member_expression object: (identifier) @name)
  ]
  arguments: (arguments . [(string) (template_string)] @title)
  (#any-of? @name "describe" "suite" "context")) @suite
