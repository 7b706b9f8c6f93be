; Block bodies (@block) and the tokens that open one at the end of a line (@opener).
[
  (statement_block)
  (class_body)
  (switch_body)
  (interface_body)
  (enum_body)
] @block

"{" @opener
(switch_case ":" @opener)
(switch_default ":" @opener)
