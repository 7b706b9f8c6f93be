; Block bodies (@block) and the tokens that open one at the end of a line (@opener).
[
  (block)
  (field_declaration_list)
  (interface_type)
] @block

"{" @opener
(expression_case ":" @opener)
(type_case ":" @opener)
(default_case ":" @opener)
(communication_case ":" @opener)
