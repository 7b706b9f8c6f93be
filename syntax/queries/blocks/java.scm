; Block bodies (@block) and the tokens that open one at the end of a line (@opener).
[
  (block)
  (class_body)
  (interface_body)
  (enum_body)
  (constructor_body)
  (switch_block)
] @block

"{" @opener
(switch_block_statement_group ":" @opener)
